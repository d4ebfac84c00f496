from __future__ import annotations

import pytest

from trustdesk.accounts.models import Agent
from trustdesk.core.errors import PermissionDenied, ValidationFailed
from trustdesk.core.models import Event
from trustdesk.customers.models import Customer
from trustdesk.tickets.attachments import UploadedFile
from trustdesk.tickets.models import Message, Status, Ticket
from trustdesk.tickets.services import (
    TicketChanges,
    message_add,
    phone_call_log,
    ticket_create,
    ticket_tag_add,
    ticket_update,
)

pytestmark = pytest.mark.django_db


def test_ticket_create_numbers_and_first_message(customer: Customer) -> None:
    first = ticket_create(
        customer=customer, subject=" Printer  on fire ", body="Help", channel="email"
    )
    second = ticket_create(customer=customer, subject="Again", body="Still", channel="web")
    assert second.number == first.number + 1
    assert first.subject == "Printer on fire"
    message = first.messages.get()
    assert (message.direction, message.author_customer_id, message.body_text) == (
        "in",
        customer.pk,
        "Help",
    )
    assert message.body_html == "<p>Help</p>"
    assert list(
        Event.objects.filter(subject_type="ticket", subject_id=first.pk).values_list(
            "kind", flat=True
        )
    ) == [
        "ticket.created",
        "message.added",
    ]


def test_ticket_create_rejects_bad_input_and_writes_nothing(customer: Customer) -> None:
    with pytest.raises(ValidationFailed, match="not a valid channel"):
        ticket_create(customer=customer, subject="x", body="y", channel="pigeon")
    with pytest.raises(ValidationFailed, match="empty"):
        ticket_create(customer=customer, subject="x", body="   ", channel="web")
    assert Ticket.objects.count() == 0
    assert Message.objects.count() == 0


def test_oversized_attachment_is_refused_before_anything_is_written(
    customer: Customer, settings: object
) -> None:
    settings.TRUSTDESK_MAX_ATTACHMENT_BYTES = 10  # type: ignore[attr-defined]
    with pytest.raises(ValidationFailed) as exc:
        ticket_create(
            customer=customer,
            subject="x",
            body="y",
            channel="web",
            attachments=[UploadedFile(filename="big.bin", content=b"0" * 11)],
        )
    assert exc.value.code == "attachment_too_large"
    assert Ticket.objects.count() == 0


def test_attachment_type_is_sniffed_not_trusted(customer: Customer) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
    ticket = ticket_create(
        customer=customer,
        subject="x",
        body="y",
        channel="web",
        attachments=[
            UploadedFile(filename="../../evil.html", content=b"<script>alert(1)</script>"),
            UploadedFile(filename="pic.html", content=png),
        ],
    )
    html_file, png_file = ticket.messages.get().attachments.order_by("id")
    assert (html_file.filename, html_file.content_type) == ("evil.html", "text/plain")
    assert png_file.content_type == "image/png"


def test_reply_opens_new_ticket_and_sets_first_response(customer: Customer, agent: Agent) -> None:
    ticket = ticket_create(customer=customer, subject="x", body="y", channel="email")
    note = message_add(ticket=ticket, body="Internal", visibility="internal", author_agent=agent)
    ticket.refresh_from_db()
    assert ticket.first_response_at is None
    assert ticket.status == Status.NEW
    reply = message_add(ticket=ticket, body="Hello Marie", author_agent=agent)
    ticket.refresh_from_db()
    assert ticket.first_response_at == reply.created_at
    assert ticket.status == Status.OPEN
    assert ticket.message_count == 3
    assert note.visibility == "internal"


def test_customer_reply_reopens_solved_ticket(customer: Customer, agent: Agent) -> None:
    ticket = ticket_create(customer=customer, subject="x", body="y", channel="email")
    ticket_update(ticket=ticket, changes=TicketChanges(status=Status.SOLVED), actor=agent)
    message_add(ticket=ticket, body="Not fixed", author_customer=customer)
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert ticket.solved_at is None


def test_a_message_with_reopen_false_leaves_a_solved_ticket_solved(
    customer: Customer, agent: Agent
) -> None:
    ticket = ticket_create(customer=customer, subject="x", body="y", channel="email")
    ticket_update(ticket=ticket, changes=TicketChanges(status=Status.SOLVED), actor=agent)
    message_add(ticket=ticket, body="I am out of office", author_customer=customer, reopen=False)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.message_count) == (Status.SOLVED, 2)
    assert not Event.objects.filter(
        kind="ticket.status_changed", subject_id=ticket.pk, payload__to="open"
    ).exists()


def test_ticket_tag_add_tags_once_and_records_why(customer: Customer) -> None:
    ticket = ticket_create(customer=customer, subject="x", body="y", channel="email")
    assert ticket_tag_add(ticket=ticket, tag="Mail Loop", reason="11 auto-replies") is True
    assert ticket_tag_add(ticket=ticket, tag="mail-loop", reason="again") is False
    assert list(ticket.tags.values_list("name", flat=True)) == ["mail-loop"]
    events = Event.objects.filter(kind="ticket.tag_added", subject_id=ticket.pk)
    assert [e.payload for e in events] == [{"tag": "mail-loop", "reason": "11 auto-replies"}]


def test_ticket_tag_add_refuses_an_unusable_tag_and_writes_nothing(customer: Customer) -> None:
    ticket = ticket_create(customer=customer, subject="x", body="y", channel="email")
    with pytest.raises(ValidationFailed):
        ticket_tag_add(ticket=ticket, tag="!!!", reason="")
    assert ticket.tags.count() == 0
    assert not Event.objects.filter(kind="ticket.tag_added").exists()


def test_invalid_transition_changes_nothing(customer: Customer, agent: Agent, team: object) -> None:
    ticket = ticket_create(customer=customer, subject="x", body="y", channel="email")
    ticket_update(ticket=ticket, changes=TicketChanges(status=Status.CLOSED), actor=agent)
    with pytest.raises(ValidationFailed) as exc:
        ticket_update(
            ticket=ticket, changes=TicketChanges(status=Status.OPEN, priority=4), actor=agent
        )
    assert exc.value.code == "invalid_transition"
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority) == (Status.CLOSED, 2)


def test_update_records_one_event_per_change(customer: Customer, agent: Agent) -> None:
    ticket = ticket_create(customer=customer, subject="x", body="y", channel="email")
    ticket_update(
        ticket=ticket,
        changes=TicketChanges(priority=3, owner=agent, tags=["VIP", "billing"]),
        actor=agent,
    )
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.owner_id) == (3, agent.pk)
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["billing", "vip"]
    kinds = set(
        Event.objects.filter(subject_id=ticket.pk, actor=agent).values_list("kind", flat=True)
    )
    assert kinds == {"ticket.priority_changed", "ticket.owner_changed", "ticket.tags_changed"}


def test_light_agent_may_only_add_notes(customer: Customer, team: object) -> None:
    from trustdesk.accounts.services import agent_create

    light = agent_create(email="l@example.com", display_name="Light", role=Agent.Role.LIGHT)
    ticket = ticket_create(customer=customer, subject="x", body="y", channel="email")
    with pytest.raises(PermissionDenied):
        message_add(ticket=ticket, body="reply", author_agent=light)
    message_add(ticket=ticket, body="note", visibility="internal", author_agent=light)
    assert ticket.messages.count() == 2


def test_phone_call_on_new_ticket(customer: Customer, agent: Agent) -> None:
    message = phone_call_log(
        agent=agent,
        customer=customer,
        direction="in",
        duration_seconds=300,
        summary="Called about the invoice",
        outcome="resolved",
    )
    assert message.channel == "phone"
    assert message.meta["call"] == {
        "direction": "in",
        "duration_seconds": 300,
        "outcome": "resolved",
    }
    assert message.ticket.channel == "phone"
    assert message.ticket.owner_id == agent.pk
