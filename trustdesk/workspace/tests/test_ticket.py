from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from trustdesk.accounts.models import Agent, Team
from trustdesk.core.models import Event
from trustdesk.customers.models import Customer
from trustdesk.tickets.attachments import UploadedFile
from trustdesk.tickets.models import Message, Ticket
from trustdesk.tickets.services import TicketChanges, message_add, phone_call_log, ticket_update
from trustdesk.workspace.tests.conftest import MakeTicket
from trustdesk.workspace.tests.support import HTMX, text

pytestmark = pytest.mark.django_db


def url(name: str, ticket: Ticket) -> str:
    return reverse(f"workspace:{name}", args=[ticket.pk])


def test_ticket_page_shows_the_whole_timeline(
    agent: Agent, agent_client: Client, ticket: Ticket, customer: Customer
) -> None:
    message_add(ticket=ticket, body="Try resetting it.", author_agent=agent)
    note = message_add(
        ticket=ticket, body="Second time this week.", visibility="internal", author_agent=agent
    )
    call = phone_call_log(
        agent=agent,
        customer=customer,
        direction="in",
        duration_seconds=125,
        summary="She called to say it works.",
        outcome="Resolved",
        ticket=ticket,
    )
    message_add(
        ticket=ticket,
        body="Here is a screenshot",
        author_customer=customer,
        channel="web",
        attachments=[UploadedFile(filename="shot.txt", content=b"hello")],
    )
    response = agent_client.get(url("ticket", ticket))
    assert response.status_code == 200
    body = text(response)
    assert "<h1>Cannot log in</h1>" in body
    assert "My password does not work." in body
    assert "Try resetting it." in body
    assert f'id="message-{note.pk}" class="message message-out message-internal"' in body
    assert "Internal note" in body
    assert f'id="message-{call.pk}" class="message message-in message-public"' in body
    assert "<dd>2 min 5 s</dd>" in body
    assert "<dd>Resolved</dd>" in body
    attachment = Message.objects.get(body_text="Here is a screenshot").attachments.get()
    assert f'href="{reverse("workspace:attachment", args=[attachment.pk])}" download' in body
    # The customer card: what the agent needs to personalise a reply.
    assert "Europe/Paris" in body
    assert "marie@example.org" in body
    assert "Write to Marie…" in body


def test_message_html_is_rendered_but_other_text_is_escaped(
    agent_client: Client, make_ticket: MakeTicket
) -> None:
    ticket = make_ticket(
        subject="<b>bold subject</b>",
        body="",
        html="<p>Hello <strong>there</strong><script>alert(1)</script></p>",
    )
    body = text(agent_client.get(url("ticket", ticket)))
    assert "<p>Hello <strong>there</strong></p>" in body
    assert "alert(1)" not in body
    assert "&lt;b&gt;bold subject&lt;/b&gt;" in body


def test_ticket_page_query_count(
    agent: Agent,
    agent_client: Client,
    ticket: Ticket,
    customer: Customer,
    django_assert_max_num_queries: Any,
) -> None:
    for n in range(10):
        message_add(
            ticket=ticket,
            body=f"Reply {n}",
            author_agent=agent,
            attachments=[UploadedFile(filename=f"f{n}.txt", content=b"x")],
        )
        message_add(ticket=ticket, body=f"Answer {n}", author_customer=customer)
    with django_assert_max_num_queries(26):
        response = agent_client.get(url("ticket", ticket))
    assert text(response).count('class="message ') == 21


def test_invisible_ticket_is_a_404_page(
    agent_client: Client, make_ticket: MakeTicket, other_team: Team
) -> None:
    hidden = make_ticket(team=other_team)
    response = agent_client.get(url("ticket", hidden))
    assert response.status_code == 404
    assert "does not exist or is not visible to you" in text(response)


def test_reply_with_htmx_appends_to_the_timeline(agent_client: Client, ticket: Ticket) -> None:
    response = agent_client.post(
        url("message_create", ticket),
        {"visibility": "public", "body": "We fixed it, please try again."},
        headers=HTMX,
    )
    assert response.status_code == 200
    message = Message.objects.get(body_text="We fixed it, please try again.")
    assert message.visibility == "public"
    assert message.direction == "out"
    body = text(response)
    assert '<ol hx-swap-oob="beforeend:#timeline">' in body
    assert f'id="message-{message.pk}"' in body
    assert '<form id="composer"' in body
    assert "></textarea>" in body  # a fresh, empty composer
    assert '<header id="ticket-header" class="ticket-header" hx-swap-oob="true">' in body
    assert "Reply sent." in body
    ticket.refresh_from_db()
    assert ticket.status == "open"  # the first public reply opens a new ticket


def test_internal_note_without_htmx_redirects_to_the_message(
    agent_client: Client, ticket: Ticket
) -> None:
    response = agent_client.post(
        url("message_create", ticket), {"visibility": "internal", "body": "Just for us."}
    )
    message = Message.objects.get(body_text="Just for us.")
    assert response.status_code == 302
    assert response["Location"] == f"{url('ticket', ticket)}#message-{message.pk}"
    assert message.visibility == "internal"
    ticket.refresh_from_db()
    assert ticket.status == "new"


def test_reply_with_an_attachment(agent_client: Client, ticket: Ticket) -> None:
    upload = SimpleUploadedFile("notes.txt", b"some notes", content_type="text/plain")
    response = agent_client.post(
        url("message_create", ticket),
        {"visibility": "public", "body": "See attached.", "attachments": [upload]},
        headers=HTMX,
    )
    assert response.status_code == 200
    attachment = Message.objects.get(body_text="See attached.").attachments.get()
    assert attachment.filename == "notes.txt"
    assert "notes.txt" in text(response)


def test_empty_reply_is_rejected_inline(agent_client: Client, ticket: Ticket) -> None:
    response = agent_client.post(
        url("message_create", ticket), {"visibility": "public", "body": ""}, headers=HTMX
    )
    assert response.status_code == 422
    body = text(response)
    assert "Write something before sending." in body
    assert body.lstrip().startswith('<form id="composer"')
    assert not Message.objects.filter(ticket=ticket).exclude(direction="in").exists()


def test_a_refused_reply_keeps_the_text(light_client: Client, ticket: Ticket) -> None:
    response = light_client.post(
        url("message_create", ticket),
        {"visibility": "public", "body": "My long careful answer"},
        headers=HTMX,
    )
    assert response.status_code == 403
    body = text(response)
    assert "Light agents can add internal notes only." in body
    assert ">My long careful answer</textarea>" in body
    assert not Message.objects.filter(body_text="My long careful answer").exists()


def test_light_agent_only_gets_the_note_option(light_client: Client, ticket: Ticket) -> None:
    body = text(light_client.get(url("ticket", ticket)))
    assert 'value="internal"' in body
    assert 'name="visibility" value="public"' not in body
    assert "Light agents can add internal notes but cannot change tickets." in body


def test_non_htmx_failure_renders_the_whole_page(agent_client: Client, ticket: Ticket) -> None:
    response = agent_client.post(
        url("message_create", ticket), {"visibility": "public", "body": "  "}
    )
    assert response.status_code == 422
    assert 'class="sidebar"' in text(response)


def _props(ticket: Ticket, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "status": ticket.status,
        "priority": ticket.priority,
        "owner": ticket.owner_id or "",
        "team": ticket.team_id or "",
        "tags": "",
    }
    data.update(changes)
    return data


def test_properties_update_goes_through_the_service(
    agent: Agent, agent_client: Client, ticket: Ticket, other_team: Team
) -> None:
    response = agent_client.post(
        url("ticket_update", ticket),
        _props(
            ticket,
            status="pending",
            priority=4,
            owner=agent.pk,
            team=other_team.pk,
            tags="VIP, login",
        ),
        headers=HTMX,
    )
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.owner_id, ticket.team_id) == (
        "pending",
        4,
        agent.pk,
        other_team.pk,
    )
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["login", "vip"]
    kinds = list(
        Event.objects.filter(subject_type="ticket", subject_id=ticket.pk)
        .order_by("id")
        .values_list("kind", flat=True)
    )
    assert kinds[-5:] == [
        "ticket.status_changed",
        "ticket.priority_changed",
        "ticket.owner_changed",
        "ticket.team_changed",
        "ticket.tags_changed",
    ]
    body = text(response)
    assert "Ticket updated." in body
    assert "changed the owner from nobody to Ada Lovelace" in body
    assert '<ol id="activity-list" class="activity" hx-swap-oob="true">' in body


def test_only_valid_status_moves_are_offered(
    agent: Agent, agent_client: Client, ticket: Ticket
) -> None:
    ticket_update(ticket=ticket, changes=TicketChanges(status="solved"), actor=agent)
    body = text(agent_client.get(url("ticket", ticket)))
    start = body.index('name="status"')
    select = body[start : body.index("</select>", start)]
    assert 'value="solved" selected' in select
    assert 'value="open"' in select
    assert 'value="closed"' in select
    assert 'value="pending"' not in select
    assert 'value="new"' not in select


def test_invalid_status_move_is_refused_with_a_clear_message(
    agent: Agent, agent_client: Client, ticket: Ticket
) -> None:
    ticket_update(ticket=ticket, changes=TicketChanges(status="closed"), actor=agent)
    response = agent_client.post(
        url("ticket_update", ticket), _props(ticket, status="open", priority=4), headers=HTMX
    )
    assert response.status_code == 422
    assert "A closed ticket cannot become open." in text(response)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority) == ("closed", 2)  # nothing changed


def test_light_agent_cannot_change_a_ticket(light_client: Client, ticket: Ticket) -> None:
    response = light_client.post(
        url("ticket_update", ticket), _props(ticket, priority=4), headers=HTMX
    )
    assert response.status_code == 403
    assert "Light agents cannot change tickets." in text(response)
    ticket.refresh_from_db()
    assert ticket.priority == 2


def test_closing_asks_for_confirmation(agent_client: Client, ticket: Ticket) -> None:
    body = text(agent_client.get(url("ticket", ticket)))
    assert 'data-confirm-status="closed"' in body


def test_log_a_call_from_the_ticket(agent: Agent, agent_client: Client, ticket: Ticket) -> None:
    response = agent_client.post(
        url("ticket_call", ticket),
        {
            "direction": "out",
            "minutes": "3",
            "seconds": "5",
            "summary": "Walked her through the reset.",
            "outcome": "Fixed",
        },
        headers=HTMX,
    )
    assert response.status_code == 200
    message = Message.objects.get(body_text="Walked her through the reset.")
    assert message.channel == "phone"
    assert message.author_agent_id == agent.pk
    assert message.meta["call"] == {"direction": "out", "duration_seconds": 185, "outcome": "Fixed"}
    body = text(response)
    assert f'id="message-{message.pk}"' in body
    assert "<dd>3 min 5 s</dd>" in body
    assert "Call logged." in body


def test_a_call_longer_than_a_day_is_refused(agent_client: Client, ticket: Ticket) -> None:
    response = agent_client.post(
        url("ticket_call", ticket),
        {"direction": "in", "minutes": "1440", "seconds": "30", "summary": "Long one."},
        headers=HTMX,
    )
    assert response.status_code == 422
    assert "The call duration must be between 0 and 24 hours." in text(response)
    assert "Long one.</textarea>" in text(response)


def test_activity_lists_the_events(agent: Agent, agent_client: Client, ticket: Ticket) -> None:
    ticket_update(ticket=ticket, changes=TicketChanges(priority=3), actor=agent)
    body = text(agent_client.get(url("ticket", ticket)))
    assert "changed the priority from Normal to High" in body
    assert "opened the ticket via Email" in body
    assert '<details class="card disclosure" id="activity">' in body


def test_times_are_shown_in_the_agents_time_zone(agent: Agent, ticket: Ticket) -> None:
    from datetime import UTC, datetime

    Message.objects.filter(ticket=ticket).update(
        created_at=datetime(2030, 1, 2, 23, 30, tzinfo=UTC)
    )
    agent.time_zone = "Asia/Tokyo"
    agent.save()
    client = Client()
    client.force_login(agent)
    body = text(client.get(url("ticket", ticket)))
    assert "Jan 3, 08:30" in body
    assert "Times in Asia/Tokyo" in body
