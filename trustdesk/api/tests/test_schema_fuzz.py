"""Property-based requests against every operation in the OpenAPI document: never a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from trustdesk.accounts.models import Team
from trustdesk.customers.models import Customer
from trustdesk.tickets.services import ticket_create

# Loaded at collection (the document needs no database); each operation becomes one test.
# (schemathesis.pytest.from_fixture would be lazier but does not support pytest 9 yet.)
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGIHandler())


@pytest.fixture
def _seeded_and_in_process(db: None, customer: Customer, team: Team) -> Iterator[None]:
    ticket_create(customer=customer, subject="Seed", body="seed", channel="email", team=team)
    # As Django's test client does: keep the test's connection (and its transaction) open
    # across requests instead of recycling it at each request's start and end.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.usefixtures("_seeded_and_in_process")
def test_no_operation_answers_with_a_server_error(case: Any, api_token: str) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {api_token}", "Host": "localhost"},
        checks=[not_a_server_error],
    )
