"""Fixtures shared by every test: agents, customers, API clients, and running queued tasks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from trustdesk.accounts.models import Agent, Team
from trustdesk.accounts.services import agent_create, team_get_or_create, token_create
from trustdesk.customers.models import ContactPoint, Customer
from trustdesk.customers.services import ContactInput, customer_create

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings: Any, tmp_path: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


@pytest.fixture
def team(db: None) -> Team:
    return team_get_or_create(name="Support", email="support@example.com")


@pytest.fixture
def other_team(db: None) -> Team:
    return team_get_or_create(name="Billing", email="billing@example.com")


@pytest.fixture
def agent(team: Team) -> Agent:
    return agent_create(
        email="ada@example.com", display_name="Ada Lovelace", password=PASSWORD, teams=[team]
    )


@pytest.fixture
def admin_agent(db: None) -> Agent:
    return agent_create(
        email="admin@example.com",
        display_name="Grace Hopper",
        password=PASSWORD,
        role=Agent.Role.ADMIN,
    )


@pytest.fixture
def customer(db: None) -> Customer:
    return customer_create(
        full_name="Marie Curie",
        preferred_name="Marie",
        contacts=[ContactInput(kind=ContactPoint.Kind.EMAIL, value="marie@example.org")],
        time_zone="Europe/Paris",
    )


@pytest.fixture
def agent_client(agent: Agent) -> Client:
    client = Client()
    client.force_login(agent)
    return client


@pytest.fixture
def api_token(agent: Agent) -> str:
    return token_create(agent=agent, name="tests")


@pytest.fixture
def api(api_token: str) -> Client:
    """A test client that sends the agent's bearer token with every request."""
    return Client(headers={"Authorization": f"Bearer {api_token}"})


@pytest.fixture
def run_tasks() -> Callable[[], int]:
    """Run every queued task with the real database worker, in this process; returns how many."""

    def run() -> int:
        from django_tasks_db.management.commands.db_worker import Worker
        from django_tasks_db.models import DBTaskResult

        before = DBTaskResult.objects.finished().count()
        Worker(
            queue_names=["*"],
            interval=0.01,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id="pytest",
            excluded_queue_names=[],
        ).run()
        return DBTaskResult.objects.finished().count() - before

    return run
