from __future__ import annotations

import json

import pytest
from django.core.exceptions import SuspiciousOperation
from django.http import Http404
from django.test import Client, RequestFactory

from trustdesk.api.api import api
from trustdesk.tickets.models import Ticket

pytestmark = pytest.mark.django_db

JSON = "application/json"


def test_validation_errors_name_the_nested_field(api: Client) -> None:
    response = api.post(
        "/api/v1/tickets",
        {"customer": {"id": "seven"}, "subject": "x", "body": "y"},
        content_type=JSON,
    )
    assert response.status_code == 422
    assert response.json() == {
        "code": "validation_error",
        "message": "The request is not valid; see details.",
        "details": [
            {
                "field": "customer.id",
                "message": "Input should be a valid integer, unable to parse string as an integer",
                "code": "int_parsing",
            }
        ],
    }


def test_body_that_is_not_an_object_has_no_field(api: Client) -> None:
    response = api.post("/api/v1/tickets", "[1, 2]", content_type=JSON)
    assert response.status_code == 422
    assert [d["field"] for d in response.json()["details"]] == [None]
    assert Ticket.objects.count() == 0


def test_union_errors_are_reported_once_per_field(api: Client) -> None:
    response = api.get("/api/v1/tickets", {"status": "sleeping"})
    assert response.status_code == 422
    assert {d["field"] for d in response.json()["details"]} == {"status"}


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (Http404(), 404, "not_found"),
        (SuspiciousOperation(), 400, "bad_request"),
        (RuntimeError("boom"), 500, "server_error"),
    ],
)
def test_other_exceptions_use_the_same_format(exc: Exception, status: int, code: str) -> None:
    request = RequestFactory().get("/api/v1/tickets")
    response = api.on_exception(request, exc)
    assert response.status_code == status
    assert json.loads(response.content)["code"] == code


def test_unknown_endpoint_is_a_json_404(api: Client) -> None:
    response = api.get("/api/v1/no-such-thing/42")
    assert response.status_code == 404
    assert response.json() == {
        "code": "not_found",
        "message": "There is no API endpoint at /api/v1/no-such-thing/42.",
    }
