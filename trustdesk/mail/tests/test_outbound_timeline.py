"""Email details in the agent's ticket timeline: sender flags, quoted text, delivery state."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from trustdesk.accounts.models import Agent, Team
from trustdesk.accounts.services import agent_create
from trustdesk.customers.models import Customer
from trustdesk.mail.models import OutboundEmail
from trustdesk.tickets.models import Message, Ticket
from trustdesk.tickets.services import message_add, ticket_create

pytestmark = pytest.mark.django_db

Capture = Callable[..., AbstractContextManager[Any]]


@pytest.fixture
def ticket(customer: Customer, team: Team) -> Ticket:
    return ticket_create(
        customer=customer, subject="Printer on fire", body="It smokes.", channel="email", team=team
    )


@pytest.fixture
def light_client(team: Team) -> Client:
    light = agent_create(
        email="light@example.com",
        display_name="Linus Light",
        password="x" * 12,
        role=Agent.Role.LIGHT,
        teams=[team],
    )
    client = Client()
    client.force_login(light)
    return client


def email_meta(**overrides: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "message_id": "<abc@mail.example.org>",
        "from": {"name": "Marie Curie", "address": "marie@example.org"},
        "to": ["support@example.com"],
        "cc": [{"name": "", "address": "pierre@example.org"}],
        "subject": "Re: Printer on fire",
        "quoted": "",
        "signature": "",
        "automated": None,
        "verified": True,
        "verification_reason": "",
        "inbound_id": 1,
    }
    meta.update(overrides)
    return {"email": meta}


def customer_writes(ticket: Ticket, customer: Customer, **meta: Any) -> Message:
    return message_add(
        ticket=ticket, body="Still smoking.", author_customer=customer, meta=email_meta(**meta)
    )


def page(client: Client, ticket: Ticket) -> str:
    response = client.get(reverse("workspace:ticket", args=[ticket.pk]))
    assert response.status_code == 200
    return bytes(response.content).decode()


def test_quoted_text_and_signature_are_folded_away_and_escaped(
    ticket: Ticket, customer: Customer, agent_client: Client
) -> None:
    customer_writes(
        ticket,
        customer,
        quoted="On Monday you wrote:\n> <script>alert(1)</script> try again",
        signature="Marie\nSorbonne & Co",
    )

    html = page(agent_client, ticket)
    assert "<summary>Show quoted text</summary>" in html
    assert '<pre class="email-signature">Marie\nSorbonne &amp; Co</pre>' in html
    assert (
        '<pre class="email-quoted-text">On Monday you wrote:\n'
        "&gt; &lt;script&gt;alert(1)&lt;/script&gt; try again</pre>"
    ) in html
    assert "<script>alert(1)</script>" not in html
    assert "<dd>Marie Curie &lt;marie@example.org&gt;</dd>" in html
    assert "<dd>support@example.com</dd>" in html
    assert "<dd>pierre@example.org</dd>" in html
    assert "<dd><code>&lt;abc@mail.example.org&gt;</code></dd>" in html
    assert "Unverified sender" not in html
    assert "Automated:" not in html


def test_a_signature_alone_gets_its_own_label(
    ticket: Ticket, customer: Customer, agent_client: Client
) -> None:
    customer_writes(ticket, customer, signature="Marie")

    html = page(agent_client, ticket)
    assert "<summary>Show signature</summary>" in html
    assert "Show quoted text" not in html
    assert "email-quoted-text" not in html


def test_unverified_and_automated_mail_is_flagged_with_the_reason(
    ticket: Ticket, customer: Customer, agent_client: Client
) -> None:
    customer_writes(
        ticket,
        customer,
        verified=False,
        verification_reason="DMARC failed for example.org <p=reject>",
        automated="auto-reply",
    )

    html = page(agent_client, ticket)
    assert '<span class="badge badge-warn">Unverified sender</span>' in html
    assert (
        '<span class="email-flag-reason">DMARC failed for example.org &lt;p=reject&gt;</span>'
        in html
    )
    assert '<span class="badge badge-auto">Automated: auto-reply</span>' in html
    assert "Show quoted text" not in html


def test_verification_not_known_is_not_called_unverified(
    ticket: Ticket, customer: Customer, agent_client: Client
) -> None:
    customer_writes(ticket, customer, verified=None)
    message_add(ticket=ticket, body="Web form, no email", author_customer=customer, channel="web")

    html = page(agent_client, ticket)
    assert "Unverified sender" not in html
    assert html.count("<summary>Email details</summary>") == 1


def test_each_reply_shows_its_delivery_state(
    ticket: Ticket,
    agent: Agent,
    agent_client: Client,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _queued, sending, sent, retrying, failed = (
            message_add(ticket=ticket, body=f"Reply {n}", author_agent=agent) for n in range(5)
        )
        note = message_add(ticket=ticket, body="Note", author_agent=agent, visibility="internal")
    rows = OutboundEmail.objects.filter
    rows(message=sending).update(state="sending", attempts=1)
    rows(message=sent).update(
        state="sent", attempts=1, sent_at=datetime(2026, 3, 4, 9, 30, tzinfo=UTC)
    )
    rows(message=retrying).update(attempts=2, last_error="451 4.3.0 Mailbox busy")
    rows(message=failed).update(state="failed", attempts=5, last_error="451 4.3.0 Mailbox busy")

    html = page(agent_client, ticket)
    assert html.count('<footer class="delivery') == 5
    assert '<footer class="delivery delivery-queued"' in html
    assert "<span>Queued</span>" in html
    assert "<span>Sending…</span>" in html
    assert (
        'Sent to marie@example.org</span> <time datetime="2026-03-04T09:30:00+00:00">Mar 4, 09:30'
        in html
    )
    assert (
        '<span class="delivery-state">Queued again after 2 attempts:</span> '
        '<code class="delivery-error">451 4.3.0 Mailbox busy</code>'
    ) in html
    assert '<span class="delivery-state">Not delivered after 5 attempts</span>' in html
    retry_url = reverse("mail:outbound_retry", args=[failed.pk])
    assert html.count('class="delivery-retry"') == 1
    assert f'<form method="post" action="{retry_url}" class="delivery-retry">' in html
    note_html = html[html.index(f'id="message-{note.pk}"') :]
    assert "delivery" not in note_html[: note_html.index("</li>")]


def test_light_agents_see_the_failure_but_no_retry_button(
    ticket: Ticket,
    agent: Agent,
    light_client: Client,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        message_add(ticket=ticket, body="Reply", author_agent=agent)
    OutboundEmail.objects.update(state="failed", attempts=1, last_error="554 5.7.1 Rejected")

    html = page(light_client, ticket)
    assert "Server answer: <code>554 5.7.1 Rejected</code>" in html
    assert "delivery-retry" not in html


def test_delivery_states_cost_one_query_however_many_replies(
    ticket: Ticket,
    agent: Agent,
    agent_client: Client,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    def reply() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            message_add(ticket=ticket, body="Reply", author_agent=agent)

    reply()
    with CaptureQueriesContext(connection) as one:
        page(agent_client, ticket)
    for _ in range(5):
        reply()
    with CaptureQueriesContext(connection) as six:
        html = page(agent_client, ticket)

    assert html.count('<footer class="delivery delivery-queued"') == 6
    assert len(six.captured_queries) == len(one.captured_queries)
    assert sum('"mail_outboundemail"' in q["sql"] for q in six.captured_queries) == 1
