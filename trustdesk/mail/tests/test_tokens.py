from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trustdesk.mail.tokens import (
    reply_address,
    reply_token,
    reply_token_check,
    token_in_subject,
    tokens_in_addresses,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_round_trip() -> None:
    token = reply_token(ticket_id=4242, now=NOW)
    assert len(token) == 40
    check = reply_token_check(token, now=NOW)
    assert (check.ticket_id, check.reason, check.valid) == (4242, "ok", True)
    assert reply_token_check(token.upper(), now=NOW).valid


def test_every_flipped_character_is_forged_or_malformed() -> None:
    token = reply_token(ticket_id=7, now=NOW)
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    for i in range(len(token)):
        other = alphabet[(alphabet.index(token[i]) + 1) % 32]
        check = reply_token_check(token[:i] + other + token[i + 1 :], now=NOW)
        assert not check.valid
        assert check.reason in {"forged", "malformed"}


def test_stale_after_max_age(settings: object) -> None:
    settings.TRUSTDESK_REPLY_TOKEN_MAX_AGE_DAYS = 30  # type: ignore[attr-defined]
    token = reply_token(ticket_id=9, now=NOW - timedelta(days=31))
    assert reply_token_check(token, now=NOW).reason == "stale"
    assert reply_token_check(reply_token(ticket_id=9, now=NOW - timedelta(days=29)), now=NOW).valid


def test_another_secret_key_makes_it_forged(settings: object) -> None:
    token = reply_token(ticket_id=9, now=NOW)
    settings.SECRET_KEY = "another key entirely, 50 characters long........"  # type: ignore[attr-defined]
    assert reply_token_check(token, now=NOW).reason == "forged"


@pytest.mark.parametrize("junk", ["", "abc", "0" * 40, "a" * 41, "a" * 40, "!" * 40])
def test_junk_is_rejected(junk: str) -> None:
    assert not reply_token_check(junk, now=NOW).valid


@given(st.text(max_size=80))
def test_never_raises(text: str) -> None:
    reply_token_check(text)


def test_addresses_and_subjects() -> None:
    address = reply_address(base_address="support@example.com", ticket_id=12, now=NOW)
    token = reply_token(ticket_id=12, now=NOW)
    assert address == f"support+{token}@example.com"
    assert tokens_in_addresses(["Someone <x@y.z>", address.upper()]) == [token]
    assert token_in_subject(f"Re: Printer [td:{token}]") == token
    assert token_in_subject("Re: [#1234] Printer") is None
