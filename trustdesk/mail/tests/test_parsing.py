"""parse_email on hand-written .eml fixtures, the flanker MIME corpus and arbitrary bytes."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trustdesk.mail.charsets import decode_bytes
from trustdesk.mail.parsing import Address, EmailParseError, ParsedEmail, parse_email

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CORPORA = Path(__file__).resolve().parents[3].parent / "shared" / "corpora"


def parse_fixture(name: str) -> ParsedEmail:
    return parse_email((FIXTURES / name).read_bytes())


def test_plain_reply_fields() -> None:
    parsed = parse_fixture("plain_reply.eml")
    assert parsed.from_ == Address(name="Jane Döe", address="jane@example.org")
    assert parsed.to == (Address(name="Support", address="support@helpdesk.example.com"),)
    assert parsed.cc == (
        Address(name="Smith, Bob", address="bob@example.org"),
        Address(name="", address="carol@example.org"),
    )
    assert parsed.reply_to == (Address(name="", address="jane.doe@example.org"),)
    assert parsed.subject == "Re: Order №10042 still missing"
    assert parsed.message_id == "<reply-1@mail.example.org>"
    assert parsed.in_reply_to == "<ticket-42.out-7@helpdesk.example.com>"
    assert parsed.references == (
        "<ticket-42@helpdesk.example.com>",
        "<ticket-42.out-7@helpdesk.example.com>",
    )
    assert parsed.date == datetime(2025, 3, 4, 10, 15, tzinfo=timezone(timedelta(hours=1)))
    assert parsed.automated is None
    assert parsed.text == "Hi,\n\nthe parcel still hasn\u2019t arrived.\n\nThanks,\nJane"
    assert parsed.signature == "-- \nJane Döe\nExample Org"
    assert parsed.quoted == (
        "On Mon, 3 Mar 2025 at 09:00, Support <support@helpdesk.example.com> wrote:\n"
        "> Your order has shipped.\n>\n> Kind regards, Support"
    )
    assert parsed.html == ""
    assert parsed.attachments == ()
    assert parsed.defects == ()


def test_plain_reply_keeps_pipeline_headers_and_exposes_internal_ones() -> None:
    parsed = parse_fixture("plain_reply.eml")
    assert parsed.header("authentication-results") == [
        "mx.helpdesk.example.com; spf=pass smtp.mailfrom=example.org; dkim=pass header.d=example.org"
    ]
    assert parsed.internal_headers == (("X-Trustdesk-Ticket", "42"),)
    assert parsed.header("Received") == []


def test_alternative_prefers_plain_text_and_sanitises_html() -> None:
    parsed = parse_fixture("alternative_attachments.eml")
    assert parsed.text == "See the screenshot below."
    assert parsed.html == (
        '\n<p>See the <b>screenshot</b> below.</p>\n<img src="cid:shot@example.org" alt="shot">'
        '<a rel="noopener noreferrer nofollow">x</a>\n'
    )
    assert parsed.date == datetime(2025, 3, 5, 8, 0, tzinfo=UTC)


def test_inline_image_attachment_and_tnef() -> None:
    parsed = parse_fixture("alternative_attachments.eml")
    summary = [
        (a.filename, a.content_type, a.size, a.content_id, a.inline) for a in parsed.attachments
    ]
    assert summary == [
        ("attachment-1.png", "image/png", 8, "<shot@example.org>", True),
        ("invoice № 7.pdf", "application/pdf", 9, None, False),
        ("winmail.dat", "application/ms-tnef", 7, None, False),
    ]
    assert parsed.attachments[1].content == b"%PDF-1.4\n"
    assert parsed.attachments[0].content == b"\x89PNG\r\n\x1a\n"


def test_undeclared_8bit_and_unknown_charsets_fall_back() -> None:
    parsed = parse_fixture("undeclared_8bit.eml")
    assert parsed.from_ == Address(name="René", address="rene@example.org")
    assert parsed.subject == "Café order"
    assert parsed.text == "Café crème €5\n\nnaïve € 10"
    assert [(a.filename, a.content) for a in parsed.attachments] == [("note.txt", b"na\xefve \x80")]


def test_html_only_message_gets_text_from_html() -> None:
    parsed = parse_fixture("html_only.eml")
    assert parsed.text == "Hi. I am fine \u2013 thanks."
    assert parsed.quoted == (
        "On Thu, Jun 26, 2014 at 2:14 PM, Support <support@helpdesk.example.com> wrote:\n"
        "How are you?"
    )
    assert "<iframe" not in parsed.html
    assert parsed.date is None


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("dsn_bounce.eml", "bounce"),
        ("auto_reply.eml", "auto-reply"),
        ("mailing_list.eml", "list"),
        ("plain_reply.eml", None),
    ],
)
def test_automated_classification(fixture: str, expected: str | None) -> None:
    assert parse_fixture(fixture).automated == expected


def test_dsn_report_parts_are_attachments() -> None:
    parsed = parse_fixture("dsn_bounce.eml")
    assert parsed.text == (
        "I'm sorry to have to inform you that your message could not be delivered."
    )
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [
        ("delivery-status-1.bin", "message/delivery-status"),
        ("Your ticket.eml", "message/rfc822"),
    ]
    assert b"Final-Recipient: rfc822; gone@example.net" in parsed.attachments[0].content


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ("Auto-Submitted: auto-generated\n", "auto-reply"),
        ("Auto-Submitted: no\n", None),
        ("X-Auto-Response-Suppress: All\n", "auto-reply"),
        ("Precedence: junk\n", "list"),
        ("Precedence: list\n", "list"),
        ("Return-Path: <>\n", "auto-reply"),
        ("X-Failed-Recipients: a@example.org\n", "bounce"),
    ],
)
def test_automated_headers(headers: str, expected: str | None) -> None:
    raw = f"From: a@example.org\nSubject: x\n{headers}\nbody\n".encode()
    assert parse_email(raw).automated == expected


def test_mailer_daemon_sender_is_a_bounce() -> None:
    raw = b"From: MAILER-DAEMON@example.org\nSubject: failure\n\nsorry\n"
    assert parse_email(raw).automated == "bounce"


def test_encoded_words_split_inside_a_character_and_unknown_charset() -> None:
    raw = (
        b"From: x@example.org\n"
        b"Subject: =?utf-8?q?a=C3?= =?utf-8?q?=A4b?= and =?x-bogus?q?caf=E9?=\n\nhi\n"
    )
    assert parse_email(raw).subject == "aäb and café"


def test_broken_date_and_naive_date() -> None:
    assert parse_email(b"From: x@example.org\nDate: 32 Foo 99999\n\nhi").date is None
    assert parse_email(b"From: x@example.org\nDate: Tue, 4 Mar 2025 10:00:00 -0000\n\nhi").date == (
        datetime(2025, 3, 4, 10, 0, tzinfo=UTC)
    )


def test_as_json_leaves_attachment_bytes_out() -> None:
    data = parse_fixture("alternative_attachments.eml").as_json()
    assert data["attachments"][1] == {
        "filename": "invoice № 7.pdf",
        "content_type": "application/pdf",
        "size": 9,
        "content_id": None,
        "inline": False,
    }
    assert data["from"] == {"name": "Customer", "address": "customer@example.org"}


@pytest.mark.parametrize("raw", [b"", b"   \r\n\r\n", b"\r\n\r\njust a body"])
def test_not_an_email_raises_the_documented_error(raw: bytes) -> None:
    with pytest.raises(EmailParseError):
        parse_email(raw)


def test_decode_bytes_fallback_chain() -> None:
    assert decode_bytes("é".encode(), "us-ascii") == "é"
    assert decode_bytes(b"\x80", "no-such-charset") == "€"
    assert decode_bytes(b"x", "rot13") == "x"
    assert decode_bytes(b"\x81", None) == "\x81"
    assert decode_bytes("Картинка".encode()[:-1], None) == "Картинк\ufffd"


def flanker_messages() -> list[Path]:
    folder = CORPORA / "flanker" / "tests" / "fixtures" / "messages"
    return sorted(folder.rglob("*.eml")) if folder.is_dir() else []


@pytest.mark.skipif(not flanker_messages(), reason="../shared/corpora/flanker is not present")
def test_every_flanker_message_parses() -> None:
    outcomes = {path.name: parse_email(path.read_bytes()) for path in flanker_messages()}
    assert len(outcomes) == 48
    bounces = sorted(
        path.name for path in flanker_messages() if outcomes[path.name].automated == "bounce"
    )
    assert [name for name in bounces if name != "long-links.eml"] == [
        "aol.eml",
        "broken-mime.eml",
        "delayed-broken.eml",
        "delayed.eml",
        "gmail-invalid-address.eml",
        "gmail-no-dns.eml",
        "mailbox-full.eml",
        "no-mx.eml",
        "office365.eml",
        "yahoo.eml",
        "zed.eml",
    ]
    assert outcomes["disposition-notification.eml"].automated == "auto-reply"
    assert (
        outcomes["russian-attachment-yahoo.eml"]
        .attachments[0]
        .filename.startswith(
            "\u041a\u0430\u0440\u0442\u0438\u043d\u043a\u0430 \u0441 \u043e\u0447\u0435\u043d\u044c"
        )
    )


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise_anything_else(raw: bytes) -> None:
    try:
        parsed = parse_email(raw)
    except EmailParseError:
        return
    assert isinstance(parsed.text, str)


_MIME_PIECES = st.sampled_from(
    [
        b"From: a@example.org\r\n",
        b"Content-Type: multipart/mixed; boundary=x\r\n",
        b'Content-Type: text/plain; charset="utf-7"\r\n',
        b"Content-Type: text/html; charset=bogus\r\n",
        b"Content-Transfer-Encoding: base64\r\n",
        b"Content-Transfer-Encoding: quoted-printable\r\n",
        b"Content-Disposition: attachment; filename*=utf-8''%FF%FE\r\n",
        b"Subject: =?utf-8?b?w6Q?= =?bogus?q?=FF?=\r\n",
        b"Date: Mon, 99 Foo 2025\r\n",
        b"\r\n",
        b"--x\r\n",
        b"--x--\r\n",
        b"On Mon, Bob wrote:\r\n> quoted\r\n",
        b"<script>alert(1)</script>\xff\xfe\r\n",
        b"=C3=A4 ==\r\n",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_MIME_PIECES, max_size=25).map(b"".join))
def test_mime_shaped_bytes_never_raise_anything_else(raw: bytes) -> None:
    with contextlib.suppress(EmailParseError):
        parse_email(raw)


def test_regression_markup_in_display_name_keeps_the_sender_address() -> None:
    # Found by the browser XSS test: an unquoted display name full of markup made the RFC 5322
    # parser give up, and the message was quarantined for want of a sender.
    raw = (
        b'From: <svg><image id="v-146" width="500" height="500"\n'
        b' xmlns:xlink="http://www.w3.org/1999/xlink"\n'
        b' xlink:href="data:image/svg+xml;utf8,%3Csvg%20viewBox%3D%220\n'
        b" <marie@example.org>\nTo: support@example.com\nSubject: x\n\nHello\n"
    )
    parsed = parse_email(raw)
    assert parsed.from_ is not None
    assert parsed.from_.address == "marie@example.org"
