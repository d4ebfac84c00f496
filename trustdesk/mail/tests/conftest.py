from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest

from trustdesk.accounts.models import Team
from trustdesk.customers.models import Customer
from trustdesk.mail.testing import SmtpSink
from trustdesk.tickets.models import Ticket
from trustdesk.tickets.services import ticket_create

Capture = Callable[..., AbstractContextManager[Any]]


@pytest.fixture
def smtp(settings: Any) -> Iterator[SmtpSink]:
    """A real SMTP server on a loopback port; settings.MAILERS points at it."""
    sink = SmtpSink().start()
    settings.MAILERS = sink.mailers_setting()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def ticket(customer: Customer, team: Team) -> Ticket:
    """An email ticket of the conftest customer in the conftest team."""
    return ticket_create(
        customer=customer, subject="Printer on fire", body="It smokes.", channel="email", team=team
    )


@pytest.fixture
def drain(
    run_tasks: Callable[[], int], django_capture_on_commit_callbacks: Capture
) -> Callable[[], int]:
    """Run queued tasks, and what they enqueue, until none is due; returns how many ran."""

    def run() -> int:
        total = 0
        while True:
            with django_capture_on_commit_callbacks(execute=True):
                ran = run_tasks()
            total += ran
            if not ran:
                return total

    return run
