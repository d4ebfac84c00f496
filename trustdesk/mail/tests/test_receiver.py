"""The SMTP/LMTP receiver, spoken to by the standard library's smtplib over loopback."""

from __future__ import annotations

import smtplib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection

from trustdesk.accounts.models import Team
from trustdesk.mail.models import InboundEmail, Mailbox
from trustdesk.mail.receiver import ReceiverController, address_normalize
from trustdesk.mail.testing import free_port

pytestmark = pytest.mark.django_db(transaction=True)

LIMIT = 20_000


def message(message_id: str, body: str = "Hello, my order has not arrived.") -> bytes:
    return (
        "From: Marie Curie <marie@example.org>\r\n"
        "To: support@example.com\r\n"
        "Subject: Where is my order?\r\n"
        f"Message-ID: <{message_id}>\r\n"
        "\r\n"
        f"{body}\r\n"
    ).encode()


@pytest.fixture
def receiver_factory(settings: Any, team: Team) -> Iterator[Callable[..., ReceiverController]]:
    settings.TRUSTDESK_MAX_EMAIL_BYTES = LIMIT
    settings.TRUSTDESK_INBOUND_ADDRESSES = ["Help@Desk.example"]
    Mailbox.objects.create(
        name="Sales", address="sales@example.com", host="127.0.0.1", username="u", password="p"
    )
    Mailbox.objects.create(
        name="Old", address="old@example.com", host="127.0.0.1", username="u", password="p",
        enabled=False,
    )  # fmt: skip
    started: list[ReceiverController] = []

    def start(*, lmtp: bool = False) -> ReceiverController:
        controller = ReceiverController(host="127.0.0.1", port=free_port(), lmtp=lmtp)
        controller.start()
        started.append(controller)
        return controller

    yield start
    for controller in started:
        controller.stop()


@pytest.fixture
def receiver(receiver_factory: Callable[..., ReceiverController]) -> ReceiverController:
    return receiver_factory()


def client(receiver: ReceiverController) -> smtplib.SMTP:
    return smtplib.SMTP("127.0.0.1", receiver.port, timeout=10)


def test_address_normalize_drops_the_sub_address_and_case() -> None:
    assert address_normalize("<Support+Order-42@Example.COM>") == "support@example.com"
    assert address_normalize("support@example.com") == "support@example.com"
    assert address_normalize("no-at-sign") == ""
    assert address_normalize("@example.com") == ""


def test_accepts_our_addresses_and_the_row_exists_when_250_arrives(
    receiver: ReceiverController,
) -> None:
    recipients = [
        "support@example.com",  # a team
        "Support+order-42@example.com",  # the team, sub-addressed
        "sales@example.com",  # an enabled mailbox
        "help+x@desk.example",  # TRUSTDESK_INBOUND_ADDRESSES
    ]
    raw = message("first@example.org")
    with client(receiver) as smtp:
        refused = smtp.sendmail("marie@example.org", recipients, raw)
        # Read straight after 250: the message must already be committed.
        rows = list(
            InboundEmail.objects.values_list("raw", "source", "envelope_from", "envelope_to")
        )

    assert refused == {}
    assert [(bytes(r), s, f, t) for r, s, f, t in rows] == [
        (raw, "smtp", "marie@example.org", recipients)
    ]


def test_unknown_recipient_is_refused_at_rcpt_with_550(receiver: ReceiverController) -> None:
    with client(receiver) as smtp:
        smtp.ehlo()
        assert smtp.mail("marie@example.org") == (250, b"OK")
        code, reply = smtp.rcpt("nobody@example.com")
        assert code == 550
        assert reply.startswith(b"5.1.1 ")
        assert smtp.rcpt("old@example.com")[0] == 550  # a disabled mailbox is not ours
        smtp.rset()
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            smtp.sendmail("marie@example.org", ["nobody@example.com"], message("x@example.org"))
    assert list(refused.value.recipients) == ["nobody@example.com"]
    assert InboundEmail.objects.count() == 0


def test_mixed_recipients_keep_only_ours(receiver: ReceiverController) -> None:
    with client(receiver) as smtp:
        refused = smtp.sendmail(
            "marie@example.org",
            ["stranger@example.net", "support@example.com"],
            message("mixed@example.org"),
        )
    assert {k: v[0] for k, v in refused.items()} == {"stranger@example.net": 550}
    assert list(InboundEmail.objects.values_list("envelope_to", flat=True)) == [
        ["support@example.com"]
    ]


def test_size_is_advertised_and_a_declared_size_over_the_limit_gets_552(
    receiver: ReceiverController,
) -> None:
    big = message("big@example.org", body=("x" * 70 + "\r\n") * (LIMIT // 72 + 1))
    with client(receiver) as smtp:
        smtp.ehlo()
        assert smtp.esmtp_features["size"] == str(LIMIT)
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            smtp.sendmail("marie@example.org", ["support@example.com"], big)
    assert refused.value.smtp_code == 552
    assert InboundEmail.objects.count() == 0


def test_data_over_the_limit_without_a_declared_size_gets_552(
    receiver: ReceiverController,
) -> None:
    big = message("big@example.org", body=("x" * 70 + "\r\n") * (LIMIT // 72 + 1))
    with client(receiver) as smtp:
        smtp.ehlo()
        assert smtp.mail("marie@example.org")[0] == 250
        assert smtp.rcpt("support@example.com")[0] == 250
        code, _reply = smtp.data(big)
    assert code == 552
    assert InboundEmail.objects.count() == 0


def test_the_same_message_twice_is_stored_once(receiver: ReceiverController) -> None:
    raw = message("twice@example.org")
    with client(receiver) as smtp:
        smtp.ehlo()
        replies = []
        for _ in range(2):
            smtp.mail("marie@example.org")
            smtp.rcpt("support@example.com")
            replies.append(smtp.data(raw))
    row = InboundEmail.objects.get()
    assert replies == [
        (250, f"2.0.0 OK queued as {row.pk}".encode()),
        (250, f"2.0.0 OK duplicate of {row.pk}".encode()),
    ]


def test_a_database_error_answers_451_and_stores_nothing_then_the_retry_is_accepted(
    receiver: ReceiverController,
) -> None:
    raw = message("retry@example.org")
    table = InboundEmail._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} RENAME TO {table}_away")
    try:
        with client(receiver) as smtp, pytest.raises(smtplib.SMTPDataError) as failed:
            smtp.sendmail("marie@example.org", ["support@example.com"], raw)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {table}_away RENAME TO {table}")
    assert failed.value.args == (
        451,
        b"4.3.0 Temporary failure storing the message, try again later",
    )
    assert InboundEmail.objects.count() == 0

    with client(receiver) as smtp:
        assert smtp.sendmail("marie@example.org", ["support@example.com"], raw) == {}
    assert InboundEmail.objects.get().message_id_header == "<retry@example.org>"


def test_lmtp_answers_once_per_recipient(
    receiver_factory: Callable[..., ReceiverController],
) -> None:
    receiver = receiver_factory(lmtp=True)
    raw = message("lmtp@example.org")
    with smtplib.LMTP("127.0.0.1", receiver.port, timeout=10) as lmtp:
        assert lmtp.ehlo()[0] == 250  # LHLO
        assert lmtp.mail("marie@example.org")[0] == 250
        assert lmtp.rcpt("support@example.com")[0] == 250
        assert lmtp.rcpt("sales+eu@example.com")[0] == 250
        assert lmtp.rcpt("nobody@example.com")[0] == 550
        first = lmtp.data(raw)
        second = lmtp.getreply()
    row = InboundEmail.objects.get()
    assert first == second == (250, f"2.0.0 OK queued as {row.pk}".encode())
    assert (row.source, row.envelope_to) == (
        "lmtp",
        ["support@example.com", "sales+eu@example.com"],
    )
