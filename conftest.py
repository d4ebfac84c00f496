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
    """Run every ready task in this process with the real worker's claim and run code.

    The worker's own loop calls ``close_old_connections()``, which would close the test's
    transaction on PostgreSQL; this loop is the same minus that. Returns how many tasks ran.
    """

    def run() -> int:
        from django.db import transaction
        from django_tasks_db.management.commands.db_worker import Worker
        from django_tasks_db.models import DBTaskResult

        worker = Worker(
            queue_names=["*"],
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id="pytest",
            excluded_queue_names=[],
        )
        ran = 0
        while True:
            with transaction.atomic():
                task_result = DBTaskResult.objects.ready().get_locked()
                if task_result is not None:
                    task_result.claim(worker.worker_id)
            if task_result is None:
                return ran
            worker.run_task(task_result)
            ran += 1

    return run
