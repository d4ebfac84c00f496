"""Automated mail: recorded where it belongs, never acknowledged, bounces flag addresses, loops
are flagged."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django_tasks_db.models import DBTaskResult

from trustdesk.accounts.models import Agent, Team
from trustdesk.core.models import Event
from trustdesk.customers.models import ContactPoint, Customer
from trustdesk.mail.intake.loops import bounce_report
from trustdesk.mail.intake.testing import FIXTURES, eml, ingest, message_of
from trustdesk.mail.models import InboundEmail, OutboundEmail
from trustdesk.mail.parsing import parse_email
from trustdesk.mail.services import outbound_queue
from trustdesk.tickets.models import Ticket
from trustdesk.tickets.services import TicketChanges, message_add, ticket_create, ticket_update

pytestmark = pytest.mark.django_db
INTAKE_TASKS = [
    "trustdesk.mail.intake.tasks.inbound_drain_task",
    "trustdesk.mail.intake.tasks.inbound_sweep",
]


@pytest.fixture
def ticket(customer: Customer, team: Team) -> Ticket:
    return ticket_create(
        customer=customer, subject="Printer on fire", body="It smokes.", channel="email", team=team
    )


@pytest.fixture
def outbound(ticket: Ticket, agent: Agent) -> OutboundEmail:
    message = message_add(ticket=ticket, body="We are on it.", author_agent=agent)
    row = outbound_queue(message.pk)
    assert row is not None
    return row


def tasks_other_than_intake() -> list[str]:
    return list(
        DBTaskResult.objects.exclude(task_path__in=INTAKE_TASKS).values_list("task_path", flat=True)
    )


def test_an_auto_reply_on_a_thread_is_recorded_on_the_ticket_and_triggers_nothing(
    ticket: Ticket, outbound: OutboundEmail, django_capture_on_commit_callbacks: Any
) -> None:
    tasks_before = tasks_other_than_intake()
    with django_capture_on_commit_callbacks(execute=True):
        result = ingest(eml("auto_reply", in_reply_to=outbound.rfc_message_id))

    assert (result.outcome, result.ticket_number) == ("appended", ticket.number)
    row = InboundEmail.objects.get(pk=result.inbound_id)
    assert row.automated == "auto-reply"
    message = message_of(result)
    assert message.meta["email"]["automated"] == "auto-reply"
    assert message.body_text == (
        "I am away until Monday and will read your message when I am back."
    )
    assert tasks_other_than_intake() == tasks_before  # no acknowledgement, no email
    assert OutboundEmail.objects.count() == 1
    assert mail.outbox == []


def test_an_auto_reply_without_a_ticket_is_suppressed_and_creates_no_customer() -> None:
    result = ingest(eml("auto_reply", from_address="away@example.net"))
    assert (result.outcome, result.ticket_number) == ("suppressed", None)
    assert result.reason == "automated (auto-reply), no ticket to attach to"
    assert Customer.objects.count() == 0
    assert Ticket.objects.count() == 0
    assert InboundEmail.objects.get().automated == "auto-reply"


def test_mailing_list_traffic_is_suppressed(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        result = ingest((FIXTURES / "mailing_list.eml").read_bytes())
    assert (result.outcome, result.reason) == (
        "suppressed",
        "automated (list), no ticket to attach to",
    )
    assert Ticket.objects.count() == 0
    assert tasks_other_than_intake() == []


def test_a_bounce_of_our_reply_lands_on_the_ticket_and_flags_the_address(
    ticket: Ticket, outbound: OutboundEmail, customer: Customer
) -> None:
    result = ingest(eml("bounce", original_id=outbound.rfc_message_id))

    assert (result.outcome, result.ticket_number) == ("appended", ticket.number)
    assert result.reason == f"bounce of our reply {outbound.rfc_message_id}"
    point = customer.contact_points.get()
    assert point.undeliverable is True
    event = Event.objects.get(kind="customer.contact_undeliverable")
    assert (event.subject_id, event.payload) == (
        customer.pk,
        {
            "kind": "email",
            "value": "marie@example.org",
            "reason": f"bounced (inbound email {result.inbound_id})",
        },
    )
    assert message_of(result).meta["email"]["automated"] == "bounce"


def test_a_delayed_notice_flags_nothing(ticket: Ticket, outbound: OutboundEmail) -> None:
    result = ingest(eml("bounce", original_id=outbound.rfc_message_id, action="delayed"))
    assert result.outcome == "appended"
    assert ContactPoint.objects.filter(undeliverable=True).count() == 0


def test_a_bounce_that_is_not_about_our_mail_flags_nothing(customer: Customer) -> None:
    result = ingest(eml("bounce", original_id="<someone-elses@example.org>"))
    assert result.outcome == "suppressed"
    assert ContactPoint.objects.filter(undeliverable=True).count() == 0


def test_a_bounce_for_another_recipient_than_our_reply_flags_nothing(
    ticket: Ticket, outbound: OutboundEmail, customer: Customer
) -> None:
    result = ingest(eml("bounce", original_id=outbound.rfc_message_id, recipient="x@example.org"))
    assert result.outcome == "appended"
    assert ContactPoint.objects.filter(undeliverable=True).count() == 0


def test_bounce_report_reads_failed_recipients_and_the_returned_message_id() -> None:
    parsed = parse_email(eml("bounce", recipient="Gone@Example.org", original_id="<o@x.example>"))
    report = bounce_report(parsed)
    assert report.failed == ("gone@example.org",)
    assert report.original_message_ids == ("<o@x.example>",)
    delayed = bounce_report(parse_email(eml("bounce", action="delayed")))
    assert delayed.failed == ()


def test_our_own_message_coming_back_is_suppressed(ticket: Ticket, outbound: OutboundEmail) -> None:
    raw = eml("fresh", from_address="support@example.com", message_id=outbound.rfc_message_id)
    result = ingest(raw)
    assert (result.outcome, result.reason) == ("suppressed", "our own message came back")
    assert InboundEmail.objects.get(pk=result.inbound_id).automated == "own-message"
    assert ticket.messages.count() == 2


def test_mail_from_our_own_support_address_is_suppressed(team: Team, settings: Any) -> None:
    settings.TRUSTDESK_INBOUND_ADDRESSES = ["help@example.com"]
    outcomes = [
        ingest(eml("fresh", from_address=address, subject="loop?")).outcome
        for address in ("support@example.com", "Support+abc@Example.com", "help@example.com")
    ]
    assert outcomes == ["suppressed"] * 3
    assert set(InboundEmail.objects.values_list("automated", "reason")) == {
        ("own-address", "mail from our own address")
    }
    assert Customer.objects.count() == 0


def test_more_than_ten_automated_messages_in_ten_minutes_flag_a_mail_loop(
    ticket: Ticket, outbound: OutboundEmail
) -> None:
    outcomes = [
        ingest(eml("auto_reply", in_reply_to=outbound.rfc_message_id)).outcome for _ in range(12)
    ]

    assert outcomes == ["appended"] * 10 + ["suppressed"] * 2
    assert list(ticket.tags.values_list("name", flat=True)) == ["mail-loop"]
    event = Event.objects.get(kind="ticket.mail_loop_flagged")
    assert (event.subject_id, event.payload) == (
        ticket.pk,
        {"automated_messages": 11, "window_minutes": 10},
    )
    assert ticket.messages.count() == 12  # first message, our reply, ten auto-replies
    last = InboundEmail.objects.order_by("-id").first()
    assert last is not None
    assert (last.ticket_id, last.reason) == (
        ticket.pk,
        f"ticket #{ticket.number} is flagged as a mail loop",
    )


def test_people_writing_do_not_count_towards_a_loop(ticket: Ticket) -> None:
    outcomes = [
        ingest(eml("fresh", subject=f"[#{ticket.number}] again")).outcome for _ in range(12)
    ]
    assert outcomes == ["appended"] * 12
    assert ticket.tags.count() == 0


def test_an_auto_reply_does_not_reopen_a_solved_ticket(
    ticket: Ticket, outbound: OutboundEmail, agent: Agent
) -> None:
    ticket_update(ticket=ticket, changes=TicketChanges(status="solved"), actor=agent)
    result = ingest(eml("auto_reply", in_reply_to=outbound.rfc_message_id))

    assert (result.outcome, result.ticket_number) == ("appended", ticket.number)
    ticket.refresh_from_db()
    assert ticket.status == "solved"
    assert ticket.messages.count() == 3  # first message, our reply, the auto-reply


def test_a_person_replying_reopens_a_solved_ticket(
    ticket: Ticket, outbound: OutboundEmail, agent: Agent
) -> None:
    ticket_update(ticket=ticket, changes=TicketChanges(status="solved"), actor=agent)
    result = ingest(eml("reply", in_reply_to=outbound.rfc_message_id))

    assert (result.outcome, result.ticket_number) == ("appended", ticket.number)
    ticket.refresh_from_db()
    assert ticket.status == "open"
