"""The spoofing suite: nobody writes onto a ticket that is not theirs by guessing or replaying.

Every attempt below targets Marie's ticket. Each must leave it with exactly the two messages it
had (her first message and our reply), and open a separate ticket instead (or nothing at all).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from trustdesk.accounts.models import Agent, Team
from trustdesk.accounts.services import agent_create
from trustdesk.core.models import Event
from trustdesk.customers.models import ContactPoint, Customer
from trustdesk.customers.services import ContactInput, customer_create
from trustdesk.mail.intake.testing import eml, ingest, ticket_of
from trustdesk.mail.models import InboundEmail, OutboundEmail
from trustdesk.mail.services import outbound_queue
from trustdesk.mail.tokens import reply_address, reply_token
from trustdesk.tickets.models import Message, Ticket
from trustdesk.tickets.services import message_add, ticket_create

pytestmark = pytest.mark.django_db
STRANGER = "mallory@evil.example"


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


@pytest.fixture
def bob(db: None) -> Customer:
    """Another real customer, with a ticket of his own."""
    return customer_create(
        full_name="Bob Builder",
        contacts=[ContactInput(kind=ContactPoint.Kind.EMAIL, value="bob@example.net")],
    )


def assert_untouched(ticket: Ticket) -> None:
    assert ticket.messages.count() == 2
    assert list(ticket.messages.values_list("direction", flat=True).order_by("id")) == ["in", "out"]


def assert_flagged_new_ticket(result: Any, ticket: Ticket, reason: str) -> Ticket:
    assert result.outcome == "created"
    assert result.ticket_number != ticket.number
    assert result.reason == reason
    created = ticket_of(result)
    assert list(created.tags.values_list("name", flat=True)) == ["unverified-thread"]
    message = created.messages.get()
    assert message.meta["email"]["routing"] == reason
    assert InboundEmail.objects.get(pk=result.inbound_id).reason == reason
    return created


def test_a_stranger_guessing_the_subject_tag_opens_a_flagged_ticket(
    ticket: Ticket, outbound: OutboundEmail
) -> None:
    result = ingest(eml("fresh", from_address=STRANGER, subject=f"Re: [#{ticket.number}] hi"))

    created = assert_flagged_new_ticket(
        result,
        ticket,
        f"unverified thread: {STRANGER} may not write on ticket #{ticket.number} "
        "(matched by subject-tag)",
    )
    assert created.customer.contact_points.get().value == STRANGER
    assert_untouched(ticket)
    event = Event.objects.get(kind="mail.unverified_thread")
    assert (event.subject_id, event.payload["claimed"]) == (created.pk, ticket.pk)


def test_a_replayed_in_reply_to_from_another_address_does_not_attach(
    ticket: Ticket, outbound: OutboundEmail
) -> None:
    result = ingest(
        eml(
            "reply",
            from_address=STRANGER,
            in_reply_to=outbound.rfc_message_id,
            references=outbound.rfc_message_id,
        )
    )
    assert_flagged_new_ticket(
        result,
        ticket,
        f"unverified thread: {STRANGER} may not write on ticket #{ticket.number} "
        "(matched by thread)",
    )
    assert_untouched(ticket)


def test_another_customer_replaying_the_thread_does_not_attach(
    ticket: Ticket, outbound: OutboundEmail, bob: Customer
) -> None:
    result = ingest(
        eml("reply", from_address="bob@example.net", in_reply_to=outbound.rfc_message_id)
    )
    created = ticket_of(result)
    assert created.customer_id == bob.pk
    assert list(created.tags.values_list("name", flat=True)) == ["unverified-thread"]
    assert_untouched(ticket)


def test_a_valid_token_forwarded_to_someone_else_does_not_attach(ticket: Ticket) -> None:
    to = reply_address(base_address="support@example.com", ticket_id=ticket.pk)
    ticket.messages.exclude(direction="in").delete()
    result = ingest(eml("fresh", from_address=STRANGER, to=to, subject="fwd"))
    assert_flagged_new_ticket(
        result,
        ticket,
        f"unverified thread: {STRANGER} may not write on ticket #{ticket.number} "
        "(matched by token)",
    )
    assert ticket.messages.count() == 1


def test_a_token_of_another_ticket_does_not_let_bob_in(ticket: Ticket, bob: Customer) -> None:
    bobs = ticket_create(customer=bob, subject="Mine", body="Bob's own.", channel="email")
    to = reply_address(base_address="support@example.com", ticket_id=ticket.pk)
    result = ingest(
        eml("fresh", from_address="bob@example.net", to=to, subject=f"[#{bobs.number}]")
    )
    assert result.outcome == "created"
    assert result.ticket_number not in (ticket.number, bobs.number)
    assert ticket.messages.count() == 1
    assert bobs.messages.count() == 1


def test_a_stale_token_opens_a_flagged_ticket_even_for_the_customer(ticket: Ticket) -> None:
    old = timezone.now() - timedelta(days=400)
    token = reply_token(ticket_id=ticket.pk, now=old)
    result = ingest(eml("fresh", to=f"support+{token}@example.com", subject="Back again"))
    assert_flagged_new_ticket(result, ticket, "unverified thread: stale reply token in the address")
    assert ticket.messages.count() == 1


def test_a_forged_token_opens_a_flagged_ticket(ticket: Ticket) -> None:
    token = reply_token(ticket_id=ticket.pk)
    forged = token[:-1] + ("a" if token[-1] != "a" else "b")
    result = ingest(
        eml(
            "fresh",
            from_address=STRANGER,
            subject=f"Re: [td:{forged}] hello",
            to="support@example.com",
        )
    )
    assert_flagged_new_ticket(
        result, ticket, "unverified thread: forged reply token in the subject"
    )
    assert ticket.messages.count() == 1


def test_a_forged_x_trustdesk_ticket_header_is_ignored(ticket: Ticket) -> None:
    raw = eml(
        "fresh",
        from_address=STRANGER,
        subject="Hello",
        extra_headers=f"X-Trustdesk-Ticket: {ticket.number}\nX-Trustdesk-Token: {reply_token(ticket_id=ticket.pk)}",
    )
    result = ingest(raw)
    assert (result.outcome, result.reason) == ("created", "new conversation")
    assert result.ticket_number != ticket.number
    assert ticket.messages.count() == 1


def test_a_forged_agent_from_with_a_subject_tag_is_not_an_agent_reply(
    ticket: Ticket, agent: Agent, outbound: OutboundEmail
) -> None:
    result = ingest(eml("fresh", from_address=agent.email, subject=f"[#{ticket.number}] reset"))
    created = ticket_of(result)
    assert created.pk != ticket.pk
    assert list(created.tags.values_list("name", flat=True)) == ["unverified-thread"]
    assert Message.objects.filter(author_agent=agent).count() == 1  # only the real reply
    assert OutboundEmail.objects.count() == 1
    assert_untouched(ticket)


def test_an_agent_who_may_not_see_the_ticket_cannot_reply_into_it(
    ticket: Ticket, outbound: OutboundEmail, other_team: Team
) -> None:
    outsider = agent_create(email="olga@example.com", display_name="Olga", teams=[other_team])
    Ticket.objects.filter(pk=ticket.pk).update(team=ticket.team)
    result = ingest(eml("reply", from_address=outsider.email, in_reply_to=outbound.rfc_message_id))
    assert result.outcome == "created"
    assert Message.objects.filter(author_agent=outsider).count() == 0
    assert_untouched(ticket)


def test_a_customer_address_failing_dmarc_does_not_attach(
    settings: Any, ticket: Ticket, outbound: OutboundEmail
) -> None:
    settings.TRUSTDESK_TRUSTED_AUTHSERV_IDS = ["mx.example.com"]
    raw = eml(
        "reply",
        in_reply_to=outbound.rfc_message_id,
        extra_headers="Authentication-Results: mx.example.com; spf=fail smtp.mailfrom=example.org;"
        " dmarc=fail header.from=example.org",
    )
    result = ingest(raw)
    created = assert_flagged_new_ticket(
        result,
        ticket,
        "unverified thread: the sender failed authentication (dmarc=fail)",
    )
    meta = created.messages.get().meta["email"]
    assert (meta["verified"], meta["verification_reason"]) == (False, "dmarc=fail")
    assert_untouched(ticket)


def test_a_strangers_auto_reply_with_a_replayed_thread_is_suppressed(
    ticket: Ticket, outbound: OutboundEmail
) -> None:
    customers = Customer.objects.count()
    result = ingest(eml("auto_reply", from_address=STRANGER, in_reply_to=outbound.rfc_message_id))
    assert result.outcome == "suppressed"
    assert result.ticket_number is None
    assert Customer.objects.count() == customers
    assert_untouched(ticket)


def test_the_whole_suite_attaches_nothing_to_the_foreign_ticket(
    ticket: Ticket, outbound: OutboundEmail, bob: Customer, agent: Agent
) -> None:
    """Every attack at once, counted: 0 messages on Marie's ticket, 8 new tickets."""
    token = reply_token(ticket_id=ticket.pk)
    stale = reply_token(ticket_id=ticket.pk, now=timezone.now() - timedelta(days=400))
    attempts = [
        eml("fresh", from_address=STRANGER, subject=f"[#{ticket.number}]"),
        eml("reply", from_address=STRANGER, in_reply_to=outbound.rfc_message_id),
        eml("reply", from_address="bob@example.net", references=outbound.rfc_message_id),
        eml("fresh", from_address=STRANGER, to=f"support+{token}@example.com"),
        eml("fresh", from_address=STRANGER, to=f"support+{stale}@example.com"),
        eml("fresh", from_address=STRANGER, subject=f"[td:{token[:-2]}zz]"),
        eml("fresh", from_address=STRANGER, extra_headers=f"X-Trustdesk-Ticket: {ticket.number}"),
        eml("fresh", from_address=agent.email, subject=f"[#{ticket.number}]"),
        eml("auto_reply", from_address=STRANGER, in_reply_to=outbound.rfc_message_id),
    ]
    outcomes = [ingest(raw).outcome for raw in attempts]
    assert outcomes == ["created"] * 8 + ["suppressed"]
    assert_untouched(ticket)
    assert Ticket.objects.count() == 9
    assert Ticket.objects.filter(tags__name="unverified-thread").count() == 7
