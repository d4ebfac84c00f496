from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from trustdesk.accounts.models import Team
from trustdesk.accounts.services import agent_create, token_create
from trustdesk.core.models import Event
from trustdesk.customers.models import ContactPoint, Customer
from trustdesk.customers.services import ContactInput, customer_create

pytestmark = pytest.mark.django_db

JSON = "application/json"


def test_create_and_get(api: Client) -> None:
    response = api.post(
        "/api/v1/customers",
        {
            "name": "  Bob   Builder ",
            "preferred_name": "Bob",
            "emails": ["Bob@Example.org"],
            "phones": ["+44 20 7946 0000"],
            "time_zone": "Europe/London",
            "preferences": {"channel": "email"},
        },
        content_type=JSON,
    )
    assert response.status_code == 201, response.content
    customer = Customer.objects.get()
    body = response.json()
    assert body == {
        "id": customer.pk,
        "name": "Bob Builder",
        "preferred_name": "Bob",
        "email": "bob@example.org",
        "contacts": [
            {"kind": "email", "value": "bob@example.org", "is_primary": True},
            {"kind": "phone", "value": "+442079460000", "is_primary": True},
        ],
        "organization": None,
        "language": "en",
        "time_zone": "Europe/London",
        "preferences": {"channel": "email"},
        "notes": "",
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert api.get(f"/api/v1/customers/{customer.pk}").json() == body


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"name": "X", "emails": ["nope"]}, 422, "validation_error"),
        ({"name": "X", "time_zone": "Mars/Olympus"}, 422, "validation_error"),
        ({"name": "X", "emails": ["marie@example.org"]}, 409, "contact_taken"),
        ({"name": "X", "unknown": True}, 422, "validation_error"),
        ({"name": "X", "language": "x" * 17}, 422, "validation_error"),
        ({"name": "X", "preferences": {"k": "a\u0000b"}}, 422, "validation_error"),
        ({"emails": []}, 422, "validation_error"),
    ],
)
def test_create_rejects_bad_input_and_writes_nothing(
    api: Client, customer: Customer, payload: dict[str, Any], status: int, code: str
) -> None:
    response = api.post("/api/v1/customers", payload, content_type=JSON)
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert Customer.objects.count() == 1


def test_patch_changes_only_given_fields(api: Client, customer: Customer) -> None:
    response = api.patch(
        f"/api/v1/customers/{customer.pk}",
        {"notes": "VIP", "name": "Marie S. Curie"},
        content_type=JSON,
    )
    assert response.status_code == 200, response.content
    assert (response.json()["name"], response.json()["notes"], response.json()["time_zone"]) == (
        "Marie S. Curie",
        "VIP",
        "Europe/Paris",
    )
    customer.refresh_from_db()
    assert (customer.full_name, customer.notes, customer.preferred_name) == (
        "Marie S. Curie",
        "VIP",
        "Marie",
    )
    event = Event.objects.filter(kind="customer.updated").get()
    assert event.payload["fields"] == ["full_name", "notes"]


@pytest.mark.parametrize(
    "payload", [{"name": None}, {"name": "   "}, {"time_zone": "Nowhere"}, {"email": "x@y.org"}]
)
def test_patch_rejects_bad_input(api: Client, customer: Customer, payload: dict[str, Any]) -> None:
    response = api.patch(f"/api/v1/customers/{customer.pk}", payload, content_type=JSON)
    assert response.status_code == 422, response.content
    customer.refresh_from_db()
    assert (customer.full_name, customer.time_zone) == ("Marie Curie", "Europe/Paris")
    assert not Event.objects.filter(kind="customer.updated").exists()


def test_unknown_customer_is_404(api: Client) -> None:
    assert api.get("/api/v1/customers/424242").json() == {
        "code": "not_found",
        "message": "Customer 424242 does not exist.",
    }
    assert (
        api.patch("/api/v1/customers/424242", {"notes": "x"}, content_type=JSON).status_code == 404
    )


def test_light_agent_reads_but_cannot_write(team: Team, customer: Customer) -> None:
    light = agent_create(email="l@example.com", display_name="L", role="light", teams=[team])
    client = Client(headers={"Authorization": f"Bearer {token_create(agent=light)}"})
    assert client.get(f"/api/v1/customers/{customer.pk}").status_code == 200
    created = client.post("/api/v1/customers", {"name": "New"}, content_type=JSON)
    patched = client.patch(f"/api/v1/customers/{customer.pk}", {"notes": "x"}, content_type=JSON)
    assert (created.status_code, patched.status_code) == (403, 403)
    assert Customer.objects.count() == 1
    customer.refresh_from_db()
    assert customer.notes == ""


def test_list_filters_and_paginates(
    api: Client, customer: Customer, django_assert_max_num_queries: Any
) -> None:
    for i in range(4):
        customer_create(
            full_name=f"Person {i}",
            contacts=[ContactInput(kind=ContactPoint.Kind.EMAIL, value=f"p{i}@example.net")],
        )
    with django_assert_max_num_queries(5):
        first = api.get("/api/v1/customers", {"limit": 3}).json()
    assert [c["name"] for c in first["items"]] == ["Person 3", "Person 2", "Person 1"]
    second = api.get("/api/v1/customers", {"limit": 3, "cursor": first["next_cursor"]}).json()
    assert [c["name"] for c in second["items"]] == ["Person 0", "Marie Curie"]
    assert second["next_cursor"] is None
    by_email = api.get("/api/v1/customers", {"q": "P2@EXAMPLE"}).json()
    by_name = api.get("/api/v1/customers", {"q": "curie"}).json()
    assert [c["email"] for c in by_email["items"]] == ["p2@example.net"]
    assert [c["id"] for c in by_name["items"]] == [customer.pk]
