"""Authentication-Results: only trusted relays count; DMARC first, then SPF/DKIM alignment."""

from __future__ import annotations

import pytest

from trustdesk.mail.intake.authresults import Verification, verification_read

TRUSTED = ["mx.example.com"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("mx.example.com; dmarc=pass header.from=example.org", Verification(True, "dmarc=pass")),
        ("mx.example.com; spf=pass; dmarc=fail (p=reject)", Verification(False, "dmarc=fail")),
        ("mx.example.com; dmarc=none", Verification(None, "dmarc=none")),
        ("mx.example.com; spf=fail smtp.mailfrom=example.org", Verification(False, "spf=fail")),
        (
            "mx.example.com 1; spf=pass smtp.mailfrom=bounce@mail.example.org",
            Verification(None, "spf=pass"),
        ),
        (
            "mx.example.com; dkim=pass header.d=example.org; spf=neutral",
            Verification(True, "dkim=pass (aligned)"),
        ),
        (
            "MX.Example.COM; spf=pass (sender is ok) smtp.mailfrom=news@example.org",
            Verification(True, "spf=pass (aligned)"),
        ),
        ("mx.example.com; none", Verification(None, "no results")),
        ("mx.example.com;", Verification(None, "no results")),
    ],
)
def test_verdicts_from_a_trusted_relay(header: str, expected: Verification) -> None:
    assert verification_read([header], from_address="me@example.org", trusted=TRUSTED) == expected


def test_headers_from_untrusted_relays_are_ignored_even_above_the_trusted_one() -> None:
    headers = ["evil.example.net; dmarc=pass", "mx.example.com; dmarc=fail"]
    assert verification_read(headers, from_address="a@example.org", trusted=TRUSTED) == (
        Verification(False, "dmarc=fail")
    )


def test_nothing_is_trusted_by_default() -> None:
    result = verification_read(["mx.example.com; dmarc=pass"], from_address="a@b.c", trusted=[])
    assert result == Verification(None, "no trusted relay configured")


def test_no_header_from_a_trusted_relay() -> None:
    result = verification_read([], from_address="a@b.c", trusted=TRUSTED)
    assert result == Verification(None, "no Authentication-Results from a trusted relay")
