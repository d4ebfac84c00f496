from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from trustdesk.accounts.models import Agent, Team
from trustdesk.customers.models import Customer
from trustdesk.tickets.models import Message, Ticket
from trustdesk.tickets.services import message_add
from trustdesk.workspace.forms import preferences_from_text, preferences_to_text
from trustdesk.workspace.tests.conftest import MakeTicket
from trustdesk.workspace.tests.support import HTMX, text

pytestmark = pytest.mark.django_db


def curl(name: str, customer: Customer) -> str:
    return reverse(f"workspace:{name}", args=[customer.pk])


def test_customer_page_shows_profile_tickets_and_messages(
    agent: Agent,
    agent_client: Client,
    customer: Customer,
    make_ticket: MakeTicket,
    other_team: Team,
) -> None:
    first = make_ticket(subject="Login trouble", channel="email")
    make_ticket(subject="Chat about billing", channel="chat", body="Hi from the chat widget")
    make_ticket(subject="Hidden billing", team=other_team, body="Secret billing talk")
    message_add(ticket=first, body="Internal remark", visibility="internal", author_agent=agent)
    response = agent_client.get(curl("customer", customer))
    assert response.status_code == 200
    body = text(response)
    assert "<h1>Marie Curie</h1>" in body
    assert "marie@example.org" in body
    assert "(Europe/Paris)" in body
    assert "Login trouble" in body
    assert "Chat about billing" in body
    assert "Hidden billing" not in body
    assert "Secret billing talk" not in body
    assert "Hi from the chat widget" in body
    assert "Internal remark" in body
    assert [t.subject for t in response.context["tickets"]] == [
        "Chat about billing",
        "Login trouble",
    ]


def test_customer_page_query_count(
    agent_client: Client,
    customer: Customer,
    make_ticket: MakeTicket,
    django_assert_max_num_queries: Any,
) -> None:
    for _ in range(8):
        make_ticket()
    with django_assert_max_num_queries(20):
        agent_client.get(curl("customer", customer))


def test_unknown_customer_is_404(agent_client: Client) -> None:
    response = agent_client.get(reverse("workspace:customer", args=[999_999]))
    assert response.status_code == 404
    assert "Customer 999999 does not exist." in text(response)


def _profile(**changes: str) -> dict[str, str]:
    data = {
        "full_name": "Marie Curie",
        "preferred_name": "Marie",
        "language": "en",
        "time_zone": "Europe/Paris",
        "preferences": "",
        "notes": "",
    }
    data.update(changes)
    return data


def test_edit_customer_with_htmx(agent_client: Client, customer: Customer) -> None:
    response = agent_client.post(
        curl("customer_edit", customer),
        _profile(
            language="fr",
            time_zone="America/Montreal",
            preferences="contact: email only\nnewsletter: false",
            notes="Prefers morning calls.",
        ),
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "Customer saved." in text(response)
    customer.refresh_from_db()
    assert customer.language == "fr"
    assert customer.time_zone == "America/Montreal"
    assert customer.preferences == {"contact": "email only", "newsletter": False}
    assert customer.notes == "Prefers morning calls."


def test_edit_customer_without_htmx_redirects(agent_client: Client, customer: Customer) -> None:
    response = agent_client.post(curl("customer_edit", customer), _profile(preferred_name="Mme"))
    assert response.status_code == 302
    assert response["Location"] == curl("customer", customer)
    customer.refresh_from_db()
    assert customer.preferred_name == "Mme"


def test_bad_customer_input_is_shown_inline(agent_client: Client, customer: Customer) -> None:
    response = agent_client.post(
        curl("customer_edit", customer),
        _profile(full_name="   ", preferences="no colon here"),
        headers=HTMX,
    )
    assert response.status_code == 422
    body = text(response)
    assert "Line 1 is not in the form “key: value”." in body
    customer.refresh_from_db()
    assert customer.full_name == "Marie Curie"


def test_service_refusal_is_shown_on_the_field(agent_client: Client, customer: Customer) -> None:
    response = agent_client.post(
        curl("customer_edit", customer), _profile(full_name="x" * 201), headers=HTMX
    )
    assert response.status_code == 422
    assert "Ensure this value has at most 200 characters" in text(response)


def test_preferences_round_trip() -> None:
    prefs = {"contact": "email only", "newsletter": False, "calls": "mornings: 9-11"}
    assert preferences_from_text(preferences_to_text(prefs)) == prefs


def test_log_a_call_on_a_new_ticket(agent: Agent, agent_client: Client, customer: Customer) -> None:
    response = agent_client.post(
        curl("customer_call", customer),
        {
            "direction": "in",
            "minutes": "4",
            "seconds": "0",
            "summary": "Asked about the invoice.",
            "outcome": "Will send a copy",
            "ticket": "",
            "subject": "Invoice copy",
        },
    )
    ticket = Ticket.objects.get(subject="Invoice copy")
    message = ticket.messages.get()
    assert response.status_code == 302
    assert response["Location"] == f"/tickets/{ticket.pk}/#message-{message.pk}"
    assert (ticket.channel, ticket.owner_id) == ("phone", agent.pk)
    assert message.author_customer_id == customer.pk
    assert message.meta["call"]["duration_seconds"] == 240


def test_log_a_call_on_an_existing_ticket_with_htmx(
    agent_client: Client, customer: Customer, make_ticket: MakeTicket
) -> None:
    ticket = make_ticket(subject="Ongoing")
    response = agent_client.post(
        curl("customer_call", customer),
        {
            "direction": "out",
            "minutes": "0",
            "seconds": "45",
            "summary": "Left a voicemail.",
            "outcome": "No answer",
            "ticket": str(ticket.pk),
        },
        headers=HTMX,
    )
    message = Message.objects.get(body_text="Left a voicemail.")
    assert response.status_code == 204
    assert response["HX-Redirect"] == f"/tickets/{ticket.pk}/#message-{message.pk}"
    assert message.ticket_id == ticket.pk


def test_call_form_only_offers_the_customers_open_tickets(
    agent_client: Client, customer: Customer, make_ticket: MakeTicket
) -> None:
    other = Customer.objects.create(
        full_name="Someone Else", created_at=customer.created_at, updated_at=customer.updated_at
    )
    theirs = make_ticket(customer=other, subject="Theirs")
    response = agent_client.post(
        curl("customer_call", customer),
        {"direction": "in", "minutes": "1", "seconds": "0", "summary": "x", "ticket": theirs.pk},
        headers=HTMX,
    )
    assert response.status_code == 422
    assert "Select a valid choice." in text(response)
    assert not Message.objects.filter(body_text="x").exists()
