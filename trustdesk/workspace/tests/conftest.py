"""Fixtures for the workspace tests: tickets made through the real services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from trustdesk.accounts.models import Agent, Team
from trustdesk.accounts.services import agent_create
from trustdesk.customers.models import Customer
from trustdesk.tickets.models import Ticket
from trustdesk.tickets.services import ticket_create

MakeTicket = Callable[..., Ticket]


@pytest.fixture
def make_ticket(customer: Customer) -> MakeTicket:
    counter = iter(range(1, 10_000))

    def make(**overrides: Any) -> Ticket:
        n = next(counter)
        values: dict[str, Any] = {
            "customer": customer,
            "subject": f"Question {n}",
            "body": f"Hello, this is question number {n}.",
            "channel": "email",
        }
        values.update(overrides)
        return ticket_create(**values)

    return make


@pytest.fixture
def ticket(make_ticket: MakeTicket, team: Team) -> Ticket:
    return make_ticket(subject="Cannot log in", body="My password does not work.", team=team)


@pytest.fixture
def light_agent(team: Team) -> Agent:
    return agent_create(
        email="light@example.com",
        display_name="Linus Light",
        password="correct horse battery staple",
        role=Agent.Role.LIGHT,
        teams=[team],
    )


@pytest.fixture
def light_client(light_agent: Agent) -> Client:
    client = Client()
    client.force_login(light_agent)
    return client
