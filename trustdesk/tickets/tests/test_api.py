from __future__ import annotations

import base64
from typing import Any

import pytest
from django.test import Client

from trustdesk.accounts.models import Agent, Team
from trustdesk.accounts.services import agent_create, token_create
from trustdesk.core.models import Event
from trustdesk.customers.models import ContactPoint, Customer
from trustdesk.tickets.models import Attachment, Message, Status, Ticket
from trustdesk.tickets.services import TicketChanges, ticket_create, ticket_update

pytestmark = pytest.mark.django_db

JSON = "application/json"


def client_for(agent: Agent) -> Client:
    return Client(headers={"Authorization": f"Bearer {token_create(agent=agent)}"})


def event_kinds() -> list[str]:
    return list(Event.objects.order_by("id").values_list("kind", flat=True))


@pytest.fixture
def ticket(customer: Customer, team: Team) -> Ticket:
    return ticket_create(
        customer=customer, subject="Printer on fire", body="Help!", channel="email", team=team
    )


@pytest.fixture
def foreign_ticket(customer: Customer, other_team: Team) -> Ticket:
    return ticket_create(
        customer=customer, subject="Invoice wrong", body="Pay me", channel="web", team=other_team
    )


@pytest.fixture
def light_agent(team: Team) -> Agent:
    return agent_create(
        email="light@example.com", display_name="Light Weight", role="light", teams=[team]
    )


# --- create -----------------------------------------------------------------------------------


def test_create_with_new_customer_by_email(api: Client, agent: Agent) -> None:
    response = api.post(
        "/api/v1/tickets",
        {
            "customer": {"email": "Bob@Example.org", "name": "Bob Builder"},
            "subject": "Cannot log in",
            "body": "My password stopped working.",
            "channel": "api",
            "priority": "high",
            "tags": ["Login", "vip"],
            "team": "Support",
            "owner": "ada@example.com",
        },
        content_type=JSON,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    ticket = Ticket.objects.get()
    customer = Customer.objects.get()
    assert (customer.full_name, customer.contact_points.get().value) == (
        "Bob Builder",
        "bob@example.org",
    )
    assert body["id"] == ticket.pk
    assert body["number"] == ticket.number
    assert {k: body[k] for k in ("subject", "status", "priority", "channel", "owner", "team")} == {
        "subject": "Cannot log in",
        "status": "new",
        "priority": "high",
        "channel": "api",
        "owner": "ada@example.com",
        "team": "Support",
    }
    assert body["tags"] == ["login", "vip"]
    assert body["customer"] == {
        "id": customer.pk,
        "name": "Bob Builder",
        "email": "bob@example.org",
    }
    assert body["message_count"] == 1
    assert body["first_response_at"] is None
    assert body["solved_at"] is None
    assert [(m["direction"], m["body"], m["author"]) for m in body["messages"]] == [
        (
            "in",
            "My password stopped working.",
            {"type": "customer", "id": customer.pk, "name": "Bob Builder"},
        )
    ]


def test_create_finds_existing_customer_by_email_or_id(api: Client, customer: Customer) -> None:
    by_email = api.post(
        "/api/v1/tickets",
        {"customer": {"email": "MARIE@example.org"}, "subject": "One", "body": "x"},
        content_type=JSON,
    )
    by_id = api.post(
        "/api/v1/tickets",
        {"customer": {"id": customer.pk}, "subject": "Two", "body": "y"},
        content_type=JSON,
    )
    assert (by_email.status_code, by_id.status_code) == (201, 201)
    assert by_email.json()["customer"]["id"] == customer.pk
    assert by_id.json()["customer"] == {
        "id": customer.pk,
        "name": "Marie Curie",
        "email": "marie@example.org",
    }
    assert Customer.objects.count() == 1


def test_create_with_unknown_customer_id_is_404_and_writes_nothing(api: Client) -> None:
    response = api.post(
        "/api/v1/tickets",
        {"customer": {"id": 999999}, "subject": "x", "body": "y"},
        content_type=JSON,
    )
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Customer 999999 does not exist."}
    assert Ticket.objects.count() == 0


def test_refused_ticket_does_not_leave_a_new_customer_behind(api: Client) -> None:
    before = event_kinds()
    response = api.post(
        "/api/v1/tickets",
        {"customer": {"email": "new@example.org"}, "subject": "x", "body": "   "},
        content_type=JSON,
    )
    assert response.status_code == 422
    assert response.json() == {
        "code": "validation_error",
        "message": "The message is empty.",
        "details": [
            {"field": "body", "message": "The message is empty.", "code": "validation_error"}
        ],
    }
    assert Customer.objects.count() == 0
    assert Ticket.objects.count() == 0
    assert event_kinds() == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"customer": {"email": "a@b.org"}, "subject": "x", "body": "y", "bogus": 1}, "bogus"),
        ({"customer": {"email": "a@b.org"}, "subject": 5, "body": "y"}, "subject"),
        ({"customer": {"email": "a@b.org"}, "subject": "x", "priority": "meh"}, "priority"),
        ({"customer": {"email": "a@b.org"}, "subject": "x", "channel": "pigeon"}, "channel"),
        ({"subject": "x", "body": "y"}, "customer"),
        ({"customer": {"email": "a@b.org"}, "subject": "x\x00", "body": "y"}, None),
    ],
)
def test_create_rejects_malformed_input(
    api: Client, payload: dict[str, Any], field: str | None
) -> None:
    response = api.post("/api/v1/tickets", payload, content_type=JSON)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    if field is not None:
        assert field in [d["field"] for d in body["details"]]
    assert Ticket.objects.count() == 0
    assert Customer.objects.count() == 0


def test_create_rejects_customer_by_both_id_and_email(api: Client, customer: Customer) -> None:
    response = api.post(
        "/api/v1/tickets",
        {"customer": {"id": customer.pk, "email": "x@y.org"}, "subject": "x", "body": "y"},
        content_type=JSON,
    )
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "customer"
    assert Ticket.objects.count() == 0


def test_create_rejects_unknown_owner_and_team(api: Client) -> None:
    base = {"customer": {"email": "a@b.org"}, "subject": "x", "body": "y"}
    owner = api.post("/api/v1/tickets", {**base, "owner": "nobody@x.org"}, content_type=JSON)
    team = api.post("/api/v1/tickets", {**base, "team": "Nope"}, content_type=JSON)
    assert (owner.status_code, team.status_code) == (422, 422)
    assert owner.json()["details"][0]["field"] == "owner"
    assert team.json()["message"] == "No team is named Nope."
    assert Ticket.objects.count() == 0


def test_invalid_json_is_400(api: Client) -> None:
    response = api.post("/api/v1/tickets", "{not json", content_type=JSON)
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_json",
        "message": "The request body is not valid JSON.",
    }


def test_create_with_attachment(api: Client) -> None:
    content = b"hello world"
    response = api.post(
        "/api/v1/tickets",
        {
            "customer": {"email": "a@b.org"},
            "subject": "File",
            "body": "see attached",
            "attachments": [
                {
                    "filename": "../../etc/notes.txt",
                    "content_base64": base64.b64encode(content).decode(),
                }
            ],
        },
        content_type=JSON,
    )
    assert response.status_code == 201, response.content
    attachment = Attachment.objects.get()
    assert response.json()["messages"][0]["attachments"] == [
        {"id": attachment.pk, "filename": "notes.txt", "content_type": "text/plain", "size": 11}
    ]
    assert attachment.file.read() == content


def test_oversized_attachment_is_refused_and_nothing_written(api: Client, settings: Any) -> None:
    settings.TRUSTDESK_MAX_ATTACHMENT_BYTES = 10
    response = api.post(
        "/api/v1/tickets",
        {
            "customer": {"email": "a@b.org"},
            "subject": "Big",
            "body": "x",
            "attachments": [
                {"filename": "big.bin", "content_base64": base64.b64encode(b"x" * 11).decode()}
            ],
        },
        content_type=JSON,
    )
    assert response.status_code == 422
    assert response.json()["code"] == "attachment_too_large"
    assert (Ticket.objects.count(), Customer.objects.count(), Attachment.objects.count()) == (
        0,
        0,
        0,
    )


def test_request_larger_than_django_allows_is_413(
    api: Client, ticket: Ticket, settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = api.post(
        f"/api/v1/tickets/{ticket.pk}/messages",
        {"body": "x", "attachments": [{"filename": "a", "content_base64": "QUFB" * 50}]},
        content_type=JSON,
    )
    assert response.status_code == 413
    assert response.json()["code"] == "attachment_too_large"
    assert ticket.messages.count() == 1


def test_bad_base64_is_422(api: Client, ticket: Ticket) -> None:
    response = api.post(
        f"/api/v1/tickets/{ticket.pk}/messages",
        {"body": "x", "attachments": [{"filename": "a", "content_base64": "***"}]},
        content_type=JSON,
    )
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "attachments.0.content_base64"
    assert ticket.messages.count() == 1


def test_light_agent_cannot_create_tickets(light_agent: Agent) -> None:
    response = client_for(light_agent).post(
        "/api/v1/tickets",
        {"customer": {"email": "a@b.org"}, "subject": "x", "body": "y"},
        content_type=JSON,
    )
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert (Ticket.objects.count(), Customer.objects.count()) == (0, 0)


# --- get and visibility -----------------------------------------------------------------------


def test_get_returns_ticket_with_messages(api: Client, ticket: Ticket, agent: Agent) -> None:
    response = api.get(f"/api/v1/tickets/{ticket.pk}")
    assert response.status_code == 200
    body = response.json()
    message = ticket.messages.get()
    assert body["id"] == ticket.pk
    assert body["team"] == "Support"
    assert body["owner"] is None
    assert body["messages"] == [
        {
            "id": message.pk,
            "direction": "in",
            "visibility": "public",
            "channel": "email",
            "author": {"type": "customer", "id": ticket.customer_id, "name": "Marie Curie"},
            "body": "Help!",
            "html": "<p>Help!</p>",
            "created_at": body["messages"][0]["created_at"],
            "attachments": [],
        }
    ]


def test_foreign_ticket_is_404_for_reads_and_writes(api: Client, foreign_ticket: Ticket) -> None:
    before = event_kinds()
    url = f"/api/v1/tickets/{foreign_ticket.pk}"
    responses = [
        api.get(url),
        api.patch(url, {"status": "solved"}, content_type=JSON),
        api.get(f"{url}/messages"),
        api.post(f"{url}/messages", {"body": "sneaky"}, content_type=JSON),
    ]
    assert [r.status_code for r in responses] == [404, 404, 404, 404]
    assert responses[0].json() == {
        "code": "not_found",
        "message": f"Ticket {foreign_ticket.pk} does not exist or is not visible to you.",
    }
    foreign_ticket.refresh_from_db()
    assert foreign_ticket.status == Status.NEW
    assert foreign_ticket.messages.count() == 1
    assert event_kinds() == before


def test_admin_sees_every_team(admin_agent: Agent, foreign_ticket: Ticket) -> None:
    response = client_for(admin_agent).get(f"/api/v1/tickets/{foreign_ticket.pk}")
    assert response.status_code == 200
    assert response.json()["team"] == "Billing"


@pytest.mark.parametrize("ticket_id", ["0", "abc", str(2**70)])
def test_malformed_ticket_id_is_4xx(api: Client, ticket_id: str) -> None:
    response = api.get(f"/api/v1/tickets/{ticket_id}")
    assert response.status_code in (404, 422)
    assert set(response.json()) >= {"code", "message"}


# --- list -------------------------------------------------------------------------------------


def test_list_paginates_with_cursor_newest_first(
    api: Client, customer: Customer, team: Team, django_assert_max_num_queries: Any
) -> None:
    tickets = [
        ticket_create(
            customer=customer, subject=f"T{i}", body="b", channel="web", team=team, tags=["x"]
        )
        for i in range(5)
    ]
    with django_assert_max_num_queries(6):
        first = api.get("/api/v1/tickets", {"limit": 2})
    page = first.json()
    assert [t["subject"] for t in page["items"]] == ["T4", "T3"]
    assert page["limit"] == 2
    assert page["next_cursor"]
    assert "count" not in page
    second = api.get("/api/v1/tickets", {"limit": 2, "cursor": page["next_cursor"]}).json()
    third = api.get("/api/v1/tickets", {"limit": 2, "cursor": second["next_cursor"]}).json()
    assert [t["id"] for t in second["items"]] == [tickets[2].pk, tickets[1].pk]
    assert [t["id"] for t in third["items"]] == [tickets[0].pk]
    assert third["next_cursor"] is None


def test_list_query_count_does_not_grow_with_the_page(
    api: Client, customer: Customer, team: Team, agent: Agent, django_assert_max_num_queries: Any
) -> None:
    for i in range(30):
        ticket = ticket_create(
            customer=customer, subject=f"T{i}", body="b", channel="web", team=team, tags=["a", "b"]
        )
        ticket_update(ticket=ticket, changes=TicketChanges(owner=agent), actor=agent)
    # token + token touch + teams + tickets + tags + contact points
    with django_assert_max_num_queries(6):
        response = api.get("/api/v1/tickets", {"limit": 30})
    items = response.json()["items"]
    assert len(items) == 30
    assert {(t["owner"], t["team"], tuple(t["tags"]), t["customer"]["email"]) for t in items} == {
        ("ada@example.com", "Support", ("a", "b"), "marie@example.org")
    }


def test_list_filters(
    api: Client, customer: Customer, team: Team, agent: Agent, foreign_ticket: Ticket
) -> None:
    other = Customer.objects.create(
        full_name="Other", created_at=customer.created_at, updated_at=customer.updated_at
    )
    ticket_create(
        customer=customer,
        subject="Urgent",
        body="b",
        channel="chat",
        priority=4,
        team=team,
        tags=["vip"],
    )
    mine = ticket_create(customer=other, subject="Mine", body="b", channel="email", team=team)
    ticket_update(ticket=mine, changes=TicketChanges(owner=agent, status="pending"), actor=agent)
    ticket_create(customer=customer, subject="No team", body="b", channel="web")

    def subjects(**params: Any) -> list[str]:
        response = api.get("/api/v1/tickets", params)
        assert response.status_code == 200, response.content
        return [t["subject"] for t in response.json()["items"]]

    assert subjects() == ["No team", "Mine", "Urgent"]  # never the Billing ticket
    assert subjects(priority="urgent") == ["Urgent"]
    assert subjects(channel="email") == ["Mine"]
    assert subjects(status="pending") == ["Mine"]
    assert subjects(status="active") == ["No team", "Mine", "Urgent"]
    assert subjects(owner="ada@example.com") == ["Mine"]
    assert subjects(owner="me") == ["Mine"]
    assert subjects(view="mine") == ["Mine"]
    assert subjects(view="unassigned") == ["No team", "Urgent"]
    assert subjects(view="team") == ["Mine", "Urgent"]
    assert subjects(team="Support") == ["Mine", "Urgent"]
    assert subjects(team="Billing") == []
    assert subjects(customer=other.pk) == ["Mine"]
    assert subjects(tag="vip") == ["Urgent"]


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"cursor": "garbage"}, 400, "invalid_cursor"),
        ({"cursor": "aWQ6LTE"}, 400, "invalid_cursor"),  # "id:-1"
        ({"limit": 0}, 422, "validation_error"),
        ({"limit": 101}, 422, "validation_error"),
        ({"status": "sleeping"}, 422, "validation_error"),
        ({"owner": "ghost@example.com"}, 422, "validation_error"),
    ],
)
def test_list_rejects_bad_parameters(
    api: Client, ticket: Ticket, params: dict[str, Any], status: int, code: str
) -> None:
    response = api.get("/api/v1/tickets", params)
    assert response.status_code == status, response.content
    assert response.json()["code"] == code


def test_bad_cursor_message_is_clear(api: Client) -> None:
    response = api.get("/api/v1/tickets", {"cursor": "garbage"})
    assert response.json()["message"] == (
        "The cursor is not valid; use the next_cursor of a previous page."
    )


# --- update -----------------------------------------------------------------------------------


def test_patch_changes_only_the_given_fields(api: Client, ticket: Ticket, agent: Agent) -> None:
    response = api.patch(
        f"/api/v1/tickets/{ticket.pk}",
        {"status": "pending", "priority": "urgent", "owner": "ada@example.com", "tags": ["a"]},
        content_type=JSON,
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["priority"], body["owner"], body["tags"], body["team"]) == (
        "pending",
        "urgent",
        "ada@example.com",
        ["a"],
        "Support",
    )
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.owner_id, ticket.subject) == (
        "pending",
        4,
        agent.pk,
        "Printer on fire",
    )
    cleared = api.patch(f"/api/v1/tickets/{ticket.pk}", {"owner": None}, content_type=JSON)
    assert cleared.json()["owner"] is None
    assert cleared.json()["status"] == "pending"


def test_patch_invalid_transition_is_422_and_changes_nothing(api: Client, ticket: Ticket) -> None:
    api.patch(f"/api/v1/tickets/{ticket.pk}", {"status": "closed"}, content_type=JSON)
    before = event_kinds()
    response = api.patch(
        f"/api/v1/tickets/{ticket.pk}", {"status": "open", "priority": "low"}, content_type=JSON
    )
    assert response.status_code == 422
    assert response.json() == {
        "code": "invalid_transition",
        "message": "A closed ticket cannot become open.",
        "details": [
            {
                "field": "status",
                "message": "A closed ticket cannot become open.",
                "code": "invalid_transition",
            }
        ],
    }
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority) == ("closed", 2)
    assert event_kinds() == before


def test_patch_to_another_team_answers_with_the_new_state(
    api: Client, ticket: Ticket, other_team: Team
) -> None:
    response = api.patch(f"/api/v1/tickets/{ticket.pk}", {"team": "Billing"}, content_type=JSON)
    assert response.status_code == 200
    assert response.json()["team"] == "Billing"
    assert api.get(f"/api/v1/tickets/{ticket.pk}").status_code == 404


def test_light_agent_cannot_patch(light_agent: Agent, ticket: Ticket) -> None:
    client = client_for(light_agent)
    before = event_kinds()
    response = client.patch(f"/api/v1/tickets/{ticket.pk}", {"status": "open"}, content_type=JSON)
    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.status == "new"
    assert event_kinds() == before


# --- messages ---------------------------------------------------------------------------------


def test_reply_and_internal_note(api: Client, ticket: Ticket, agent: Agent) -> None:
    reply = api.post(f"/api/v1/tickets/{ticket.pk}/messages", {"body": "On it"}, content_type=JSON)
    note = api.post(
        f"/api/v1/tickets/{ticket.pk}/messages",
        {"body": "Check logs", "visibility": "internal"},
        content_type=JSON,
    )
    assert (reply.status_code, note.status_code) == (201, 201)
    assert {k: reply.json()[k] for k in ("direction", "visibility", "body", "author")} == {
        "direction": "out",
        "visibility": "public",
        "body": "On it",
        "author": {"type": "agent", "id": agent.pk, "name": "Ada Lovelace"},
    }
    assert note.json()["visibility"] == "internal"
    ticket.refresh_from_db()
    assert (ticket.status, ticket.message_count) == ("open", 3)
    listed = api.get(f"/api/v1/tickets/{ticket.pk}/messages", {"limit": 2}).json()
    assert [m["body"] for m in listed["items"]] == ["Help!", "On it"]
    rest = api.get(
        f"/api/v1/tickets/{ticket.pk}/messages", {"limit": 2, "cursor": listed["next_cursor"]}
    ).json()
    assert [m["body"] for m in rest["items"]] == ["Check logs"]
    assert rest["next_cursor"] is None


def test_light_agent_may_add_notes_only(light_agent: Agent, ticket: Ticket) -> None:
    client = client_for(light_agent)
    url = f"/api/v1/tickets/{ticket.pk}/messages"
    note = client.post(url, {"body": "fyi", "visibility": "internal"}, content_type=JSON)
    reply = client.post(url, {"body": "Hello customer"}, content_type=JSON)
    assert (note.status_code, reply.status_code) == (201, 403)
    assert reply.json() == {
        "code": "forbidden",
        "message": "Light agents can add internal notes only.",
    }
    assert list(ticket.messages.order_by("id").values_list("visibility", flat=True)) == [
        "public",
        "internal",
    ]
    assert client.get(f"/api/v1/tickets/{ticket.pk}").status_code == 200


def test_message_list_query_count(
    api: Client, ticket: Ticket, agent: Agent, django_assert_max_num_queries: Any
) -> None:
    from trustdesk.tickets.services import message_add

    for i in range(20):
        message_add(ticket=ticket, body=f"m{i}", author_agent=agent, visibility="internal")
    # token + token touch + teams + ticket + tags + messages + attachments
    with django_assert_max_num_queries(7):
        response = api.get(f"/api/v1/tickets/{ticket.pk}/messages", {"limit": 50})
    assert len(response.json()["items"]) == 21
    assert Message.objects.filter(ticket=ticket).count() == 21
    assert ContactPoint.objects.count() == 1
