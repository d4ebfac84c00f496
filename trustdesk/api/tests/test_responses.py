"""The read endpoints render their bodies themselves (``trustdesk.api.responses``), skipping
ninja's response validation: their bodies must still match the declared schemas, and the
ninja-validated bodies the write endpoints return for the same ticket."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from ninja import Schema
from ninja.responses import NinjaJSONEncoder

from trustdesk.accounts.models import Agent
from trustdesk.customers.models import ContactPoint
from trustdesk.customers.services import ContactInput, customer_create
from trustdesk.tickets.api import MessagePage, TicketDetailOut, TicketPage
from trustdesk.tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db

JSON = "application/json"


def ninja_renders(schema: type[Schema], body: dict[str, Any]) -> Any:
    """``body`` validated by ``schema`` and rendered as ninja renders a validated response."""
    return json.loads(json.dumps(schema.model_validate(body).model_dump(), cls=NinjaJSONEncoder))


def _create(api: Client, **fields: Any) -> dict[str, Any]:
    payload = {"customer": {"email": "bob@example.org", "name": "Bob"}, "subject": "s", "body": "b"}
    response = api.post("/api/v1/tickets", {**payload, **fields}, content_type=JSON)
    assert response.status_code == 201, response.content
    body: dict[str, Any] = response.json()
    return body


def _full_ticket(api: Client) -> dict[str, Any]:
    """A ticket with tags, an owner, a team, an attachment and a reply; its detail as written."""
    created = _create(
        api,
        tags=["vip", "Login"],
        owner="ada@example.com",
        team="Support",
        priority="urgent",
        attachments=[{"filename": "a.txt", "content_base64": base64.b64encode(b"abc").decode()}],
    )
    reply = api.post(
        f"/api/v1/tickets/{created['id']}/messages",
        {"body": "On it", "visibility": "internal"},
        content_type=JSON,
    )
    assert reply.status_code == 201, reply.content
    updated = api.patch(f"/api/v1/tickets/{created['id']}", {"status": "open"}, content_type=JSON)
    assert updated.status_code == 200, updated.content
    body: dict[str, Any] = updated.json()
    return body


def test_detail_matches_its_schema_and_the_validated_write_response(api: Client) -> None:
    written = _full_ticket(api)
    response = api.get(f"/api/v1/tickets/{written['id']}")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    body = response.json()
    assert ninja_renders(TicketDetailOut, body) == body
    assert body == written
    assert body["tags"] == ["login", "vip"]
    assert [m["author"]["type"] for m in body["messages"]] == ["customer", "agent"]
    assert body["messages"][0]["attachments"][0]["filename"] == "a.txt"


def test_list_items_match_the_schema_and_the_detail(api: Client) -> None:
    written = _full_ticket(api)
    _create(api, subject="bare")  # no owner, team or tags

    response = api.get("/api/v1/tickets", {"limit": 1})
    body = response.json()
    assert ninja_renders(TicketPage, body) == body
    assert body["items"][0]["subject"] == "bare"
    assert (body["items"][0]["owner"], body["items"][0]["team"]) == (None, None)

    second = api.get("/api/v1/tickets", {"limit": 1, "cursor": body["next_cursor"]}).json()
    assert second["next_cursor"] is None
    assert second["items"] == [{k: v for k, v in written.items() if k != "messages"}]


def test_a_system_message_and_the_customers_primary_email(api: Client, agent: Agent) -> None:
    customer = customer_create(
        full_name="Two Mails",
        contacts=[
            ContactInput(kind=ContactPoint.Kind.EMAIL, value="first@example.org"),
            ContactInput(kind=ContactPoint.Kind.EMAIL, value="primary@example.org"),
        ],
    )
    ContactPoint.objects.filter(customer=customer).update(is_primary=False)
    ContactPoint.objects.filter(value="primary@example.org").update(is_primary=True)
    created = _create(api, customer={"id": customer.pk})
    Message.objects.create(
        ticket_id=created["id"],
        direction=Message.Direction.OUTBOUND,
        visibility=Message.Visibility.INTERNAL,
        channel="api",
        body_text="Merged",
        created_at=timezone.now(),
    )

    detail = api.get(f"/api/v1/tickets/{created['id']}").json()
    page = api.get(f"/api/v1/tickets/{created['id']}/messages").json()

    assert detail["customer"]["email"] == "primary@example.org"
    assert detail["messages"][-1]["author"] == {"type": "system", "id": None, "name": "System"}
    assert ninja_renders(MessagePage, page) == page
    assert page["items"] == detail["messages"]


def test_customer_without_email_has_none(api: Client) -> None:
    customer = customer_create(full_name="No Mail")
    created = _create(api, customer={"id": customer.pk})
    assert api.get(f"/api/v1/tickets/{created['id']}").json()["customer"]["email"] is None


def test_list_queries_do_not_grow_with_the_page(
    api: Client, django_assert_num_queries: Any
) -> None:
    for n in range(30):
        _create(api, subject=f"t{n}", tags=[f"tag{n % 3}"])
    assert Ticket.objects.count() == 30
    api.get("/api/v1/tickets")  # the token is now cached

    for limit in (1, 25):
        # the agent's teams, the tickets (customer email as a subquery), their tags
        with django_assert_num_queries(3):
            response = api.get("/api/v1/tickets", {"limit": limit})
        assert len(response.json()["items"]) == limit
