from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from trustdesk.accounts.models import Agent, Team
from trustdesk.customers.models import Customer
from trustdesk.tickets.services import message_add
from trustdesk.workspace.tests.conftest import MakeTicket
from trustdesk.workspace.tests.support import HTMX, text

pytestmark = pytest.mark.django_db


def test_empty_search_page_invites_a_query(agent_client: Client) -> None:
    response = agent_client.get(reverse("workspace:search"))
    assert response.status_code == 200
    assert "Search every conversation" in text(response)
    assert response.context["hits"] == []


def test_search_finds_messages_with_highlighted_snippets(
    agent: Agent,
    agent_client: Client,
    make_ticket: MakeTicket,
    customer: Customer,
    other_team: Team,
) -> None:
    ticket = make_ticket(subject="Printer trouble", body="The printer is on fire.")
    reply = message_add(
        ticket=ticket, body="Please unplug the printer <right now>.", author_agent=agent
    )
    make_ticket(subject="Hidden", body="Another printer problem.", team=other_team)
    response = agent_client.get(reverse("workspace:search"), {"q": "unplug", "order": "newest"})
    assert response.status_code == 200
    hits = response.context["hits"]
    assert [(h.ticket_id, h.message_id) for h in hits] == [(ticket.pk, reply.pk)]
    body = text(response)
    assert "<mark>unplug</mark>" in body
    assert "&lt;right now&gt;" in body
    assert f'href="/tickets/{ticket.pk}/#message-{reply.pk}"' in body
    assert 'aria-current="true"' in body


def test_search_hides_tickets_the_agent_cannot_see(
    agent_client: Client, make_ticket: MakeTicket, other_team: Team
) -> None:
    make_ticket(subject="Billing secret", body="Confidential refund.", team=other_team)
    response = agent_client.get(reverse("workspace:search"), {"q": "refund"})
    assert response.context["hits"] == []
    assert "Nothing matches “refund”" in text(response)


def test_search_with_htmx_returns_the_results_only(
    agent_client: Client, make_ticket: MakeTicket
) -> None:
    make_ticket(subject="Printer trouble", body="The printer is on fire.")
    response = agent_client.get(reverse("workspace:search"), {"q": "printer"}, headers=HTMX)
    body = text(response)
    assert response.status_code == 200
    assert "<mark>" in body
    assert "<html" not in body


def test_over_long_query_is_refused_inline(agent_client: Client) -> None:
    response = agent_client.get(reverse("workspace:search"), {"q": "x" * 300})
    assert response.status_code == 422
    assert "Ensure this value has at most 200 characters" in text(response)
