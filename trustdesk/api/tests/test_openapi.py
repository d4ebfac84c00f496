from __future__ import annotations

from typing import get_args

import pytest
from django.test import Client

from trustdesk.tickets import api as tickets_api
from trustdesk.tickets.models import Channel, Priority, Status

pytestmark = pytest.mark.django_db


def test_openapi_document_lists_every_operation() -> None:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["info"]["title"] == "Trustdesk API"
    operations = {
        (method.upper(), path) for path, methods in document["paths"].items() for method in methods
    }
    assert operations == {
        ("GET", "/api/v1/tickets"),
        ("POST", "/api/v1/tickets"),
        ("GET", "/api/v1/tickets/{ticket_id}"),
        ("PATCH", "/api/v1/tickets/{ticket_id}"),
        ("GET", "/api/v1/tickets/{ticket_id}/messages"),
        ("POST", "/api/v1/tickets/{ticket_id}/messages"),
        ("GET", "/api/v1/customers"),
        ("POST", "/api/v1/customers"),
        ("GET", "/api/v1/customers/{customer_id}"),
        ("PATCH", "/api/v1/customers/{customer_id}"),
        ("GET", "/api/v1/search"),
    }
    schemes = document["components"]["securitySchemes"]
    assert schemes == {"BearerToken": {"type": "http", "scheme": "bearer"}}


def test_docs_page_is_served() -> None:
    assert Client().get("/api/v1/docs").status_code == 200


def test_schema_names_match_the_models() -> None:
    assert list(get_args(tickets_api.StatusName)) == Status.values
    assert list(get_args(tickets_api.ChannelName)) == Channel.values
    assert [tickets_api.priority_name(v) for v in Priority.values] == list(
        get_args(tickets_api.PriorityName)
    )
