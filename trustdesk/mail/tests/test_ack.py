"""Automatic acknowledgements of new email tickets: once per sender a day, honest, automatic."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from trustdesk.accounts.models import Agent, Team
from trustdesk.core.models import Event
from trustdesk.customers.models import ContactPoint, Customer
from trustdesk.mail.models import AutoAcknowledgement, InboundEmail
from trustdesk.mail.outbound_ack import (
    acknowledgement_enqueue,
    acknowledgement_send,
    duration_phrase,
    reply_estimate,
)
from trustdesk.mail.testing import SmtpSink
from trustdesk.mail.tokens import reply_token_check, tokens_in_addresses
from trustdesk.tickets.models import Ticket
from trustdesk.tickets.services import ticket_create

pytestmark = pytest.mark.django_db(transaction=True)

Capture = Callable[..., AbstractContextManager[Any]]
MakeTicket = Callable[..., Ticket]


@pytest.fixture
def make_ticket(customer: Customer, team: Team) -> MakeTicket:
    def make(**overrides: Any) -> Ticket:
        values: dict[str, Any] = {
            "customer": customer,
            "subject": "Printer on fire",
            "body": "It smokes.",
            "channel": "email",
            "team": team,
        }
        values.update(overrides)
        return ticket_create(**values)

    return make


def acknowledge(ticket: Ticket, capture: Capture, address: str = "Marie@Example.org") -> None:
    """What intake does when an email from a person opens ``ticket``."""
    with capture(execute=True):
        acknowledgement_enqueue(ticket_id=ticket.pk, address=address)


def text_of(sent: EmailMessage) -> str:
    body = sent.get_body(preferencelist=("plain",))
    assert isinstance(body, EmailMessage)
    return str(body.get_content())


def skipped(ticket: Ticket) -> list[str]:
    return [
        e.payload["reason"]
        for e in Event.objects.filter(kind="mail.acknowledgement_skipped", subject_id=ticket.pk)
    ]


def test_a_new_ticket_is_acknowledged_once_with_automatic_headers(
    make_ticket: MakeTicket,
    smtp: SmtpSink,
    drain: Callable[[], int],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    ticket = make_ticket()
    InboundEmail.objects.create(
        dedupe_key="<p1@mail.example.org>",
        message_id_header="<p1@mail.example.org>",
        raw=b"Message-ID: <p1@mail.example.org>\r\n\r\nIt smokes.\r\n",
        size=50,
        source="smtp",
        outcome=InboundEmail.Outcome.CREATED,
        ticket=ticket,
        received_at=timezone.now() - timedelta(seconds=5),
    )
    acknowledge(ticket, django_capture_on_commit_callbacks)
    assert smtp.messages == []  # sent by the worker, not by intake
    assert drain() == 1

    [sent] = smtp.messages
    assert sent["Auto-Submitted"] == "auto-replied"
    assert sent["X-Auto-Response-Suppress"] == "All"
    assert sent["To"] == "marie@example.org"
    assert sent["From"] == "Support <support@example.com>"
    assert sent["Subject"] == f"Re: Printer on fire [#{ticket.number}]"
    assert sent["In-Reply-To"] == "<p1@mail.example.org>"
    assert sent["References"] == "<p1@mail.example.org>"
    assert sent["Message-ID"].startswith(f"<td.ack.{ticket.pk}.")
    [token] = tokens_in_addresses([str(sent["Reply-To"])])
    assert reply_token_check(token).ticket_id == ticket.pk
    assert text_of(sent) == (
        "Hello Marie,\n\n"
        f'Thank you for your message. We have opened ticket #{ticket.number} ("Printer on fire")'
        " for it. Someone from the Support team will look after it.\n\n"
        "We aim to reply within 24 hours.\n\n"
        "If you have more to add, reply to this email: it goes to the same ticket.\n\n"
        "This is an automatic confirmation; we send at most one a day to each address.\n\n"
        "-- \nSupport\n"
    )
    html = sent.get_body(preferencelist=("html",))
    assert html is not None
    assert "We aim to reply within 24 hours." in str(html.get_content())
    ack = AutoAcknowledgement.objects.get()
    assert (ack.address, ack.ticket_id) == ("marie@example.org", ticket.pk)
    [event] = Event.objects.filter(kind="mail.acknowledgement_sent")
    assert event.payload == {
        "address": "marie@example.org",
        "message_id": sent["Message-ID"],
        "said": "We aim to reply within 24 hours.",
    }
    # No message on the ticket: it would be delivered again and count as a first response.
    assert ticket.messages.count() == 1
    ticket.refresh_from_db()
    assert ticket.first_response_at is None


def test_a_second_ticket_from_the_same_sender_within_a_day_gets_none(
    make_ticket: MakeTicket,
    smtp: SmtpSink,
    drain: Callable[[], int],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    first = make_ticket()
    acknowledge(first, django_capture_on_commit_callbacks)
    assert drain() == 1
    second = make_ticket(subject="Still on fire")
    acknowledge(second, django_capture_on_commit_callbacks, address="marie@example.org")
    assert drain() == 1

    assert len(smtp.messages) == 1
    assert skipped(second) == ["recently-acknowledged"]
    assert AutoAcknowledgement.objects.count() == 1

    # A day later the same sender is acknowledged again.
    AutoAcknowledgement.objects.update(sent_at=timezone.now() - timedelta(hours=24, minutes=1))
    third = make_ticket(subject="Fire is back")
    acknowledge(third, django_capture_on_commit_callbacks)
    assert drain() == 1
    assert [m["Subject"] for m in smtp.messages] == [
        f"Re: Printer on fire [#{first.number}]",
        f"Re: Fire is back [#{third.number}]",
    ]


def test_mail_loop_tickets_undeliverable_and_unknown_addresses_get_none(
    make_ticket: MakeTicket,
    customer: Customer,
    smtp: SmtpSink,
    drain: Callable[[], int],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    loop = make_ticket(tags=["mail-loop"])
    acknowledge(loop, django_capture_on_commit_callbacks)
    stranger = make_ticket()
    acknowledge(stranger, django_capture_on_commit_callbacks, address="someone@else.example")
    robot = make_ticket()
    acknowledge(robot, django_capture_on_commit_callbacks, address="no-reply@example.org")
    assert drain() == 3
    ContactPoint.objects.filter(value="marie@example.org").update(undeliverable=True)
    bounced = make_ticket()
    acknowledge(bounced, django_capture_on_commit_callbacks)
    assert drain() == 1

    assert smtp.messages == []
    assert AutoAcknowledgement.objects.count() == 0
    assert [skipped(t) for t in (loop, stranger, robot, bounced)] == [
        ["mail-loop"],
        ["unknown-address"],
        ["automated-address"],
        ["undeliverable"],
    ]


def test_a_ticket_already_answered_is_not_acknowledged(
    make_ticket: MakeTicket, agent: Agent, smtp: SmtpSink
) -> None:
    ticket = make_ticket()
    Ticket.objects.filter(pk=ticket.pk).update(first_response_at=timezone.now())

    assert acknowledgement_send(ticket_id=ticket.pk, address="marie@example.org") == "answered"
    assert acknowledgement_send(ticket_id=ticket.pk + 1000, address="marie@example.org") == (
        "missing"
    )
    assert smtp.messages == []


def test_the_owner_is_named_and_measured_reply_times_are_quoted(
    make_ticket: MakeTicket, team: Team, agent: Agent, smtp: SmtpSink
) -> None:
    now = timezone.now()
    for hours in (1, 2, 2, 3, 5, 9):
        answered = make_ticket(subject=f"Old {hours}")
        Ticket.objects.filter(pk=answered.pk).update(
            created_at=now - timedelta(days=3),
            first_response_at=now - timedelta(days=3, hours=-hours),
        )
    old = make_ticket(subject="Too old to count")
    Ticket.objects.filter(pk=old.pk).update(
        created_at=now - timedelta(days=31), first_response_at=now - timedelta(days=20)
    )
    ticket = make_ticket(owner=agent)

    assert acknowledgement_send(ticket_id=ticket.pk, address="marie@example.org") == "sent"

    [sent] = smtp.messages
    text = text_of(sent)
    assert " Ada Lovelace will look after it.\n" in text
    assert "\nWe usually reply within 2 hours, and almost always within 9 hours.\n" in text


def test_reply_estimate_needs_five_answered_tickets(
    make_ticket: MakeTicket, team: Team, settings: Any
) -> None:
    settings.TRUSTDESK_DEFAULT_REPLY_HOURS = 8
    now = timezone.now()
    for minutes in (10, 20, 30, 40):
        t = make_ticket()
        Ticket.objects.filter(pk=t.pk).update(first_response_at=now + timedelta(minutes=minutes))
    assert reply_estimate(team_id=team.pk).sentence == "We aim to reply within 8 hours."

    t = make_ticket()
    Ticket.objects.filter(pk=t.pk).update(first_response_at=now + timedelta(minutes=40))
    estimate = reply_estimate(team_id=team.pk)
    assert estimate.sample == 5
    assert (
        estimate.sentence
        == "We usually reply within 30 minutes, and almost always within 40 minutes."
    )
    assert reply_estimate(team_id=None).sentence == "We aim to reply within 8 hours."


@pytest.mark.parametrize(
    ("duration", "phrase"),
    [
        (timedelta(seconds=10), "5 minutes"),
        (timedelta(minutes=12), "15 minutes"),
        (timedelta(minutes=60), "1 hour"),
        (timedelta(minutes=61), "2 hours"),
        (timedelta(hours=46, minutes=30), "47 hours"),
        (timedelta(hours=47, minutes=30), "2 days"),
        (timedelta(hours=49), "3 days"),
    ],
)
def test_duration_phrase_rounds_up(duration: timedelta, phrase: str) -> None:
    assert duration_phrase(duration) == phrase


def test_a_failed_acknowledgement_is_not_retried_and_frees_the_address(
    make_ticket: MakeTicket, smtp: SmtpSink
) -> None:
    smtp.reject_next = 1
    smtp.reject_reply = "554 5.7.1 Rejected"
    ticket = make_ticket()

    assert acknowledgement_send(ticket_id=ticket.pk, address="marie@example.org") == "failed"

    assert smtp.messages == []
    assert AutoAcknowledgement.objects.count() == 0
    assert list(
        Event.objects.filter(kind="mail.acknowledgement_failed").values_list("payload", flat=True)
    ) == [{"address": "marie@example.org", "error": "554 5.7.1 Rejected"}]


@pytest.mark.skipif(
    "connection.vendor != 'postgresql'",
    reason="SQLite's in-memory test database cannot take concurrent writers",
)
def test_two_workers_acknowledging_the_same_sender_send_one(
    make_ticket: MakeTicket, smtp: SmtpSink
) -> None:
    tickets = [make_ticket(), make_ticket()]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def worker(ticket: Ticket) -> None:
        try:
            barrier.wait()
            outcomes.append(acknowledgement_send(ticket_id=ticket.pk, address="marie@example.org"))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(t,)) for t in tickets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["recently-acknowledged", "sent"]
    assert len(smtp.messages) == 1
    assert AutoAcknowledgement.objects.count() == 1
