from __future__ import annotations

import pytest
from django.test import Client

from trustdesk.accounts.models import Team
from trustdesk.customers.models import Customer
from trustdesk.tickets.services import ticket_create

pytestmark = pytest.mark.django_db


def test_search_returns_visible_hits_only(
    api: Client, customer: Customer, team: Team, other_team: Team
) -> None:
    mine = ticket_create(
        customer=customer,
        subject="Printer on fire",
        body="The printer in room 4 is on fire",
        channel="email",
        team=team,
    )
    ticket_create(
        customer=customer,
        subject="Billing printer invoice",
        body="printer invoice is wrong",
        channel="email",
        team=other_team,
    )
    response = api.get("/api/v1/search", {"q": "printer", "order": "newest", "limit": "10"})
    assert response.status_code == 200, response.content
    items = response.json()["items"]
    assert {item["id"] for item in items} == {mine.pk}
    first = items[0]
    assert first["number"] == mine.number
    assert first["subject"] == "Printer on fire"
    assert "<mark>" in first["snippet"].lower()
    assert set(first) >= {"id", "number", "subject", "snippet", "message_id", "rank"}


@pytest.mark.parametrize(
    ("params", "status"),
    [({}, 422), ({"q": "x", "order": "random"}, 422), ({"q": "x", "limit": "0"}, 422)],
)
def test_search_rejects_bad_parameters(api: Client, params: dict[str, str], status: int) -> None:
    response = api.get("/api/v1/search", params)
    assert response.status_code == status
    assert response.json()["code"] == "validation_error"
