"""Exactly once under concurrency: real threads, each with its own connection (PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from trustdesk.customers.models import Customer
from trustdesk.mail.intake.pipeline import IntakeResult, inbound_process
from trustdesk.mail.intake.store import Stored, inbound_store
from trustdesk.mail.intake.testing import eml
from trustdesk.mail.models import InboundEmail
from trustdesk.tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db(transaction=True)
THREADS = 4


@pytest.fixture(autouse=True)
def _postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL (SQLite serialises writers)")


def in_threads(work: Callable[[], Any]) -> list[Any]:
    barrier = threading.Barrier(THREADS)
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            value = work()
            with lock:
                results.append(value)
        except BaseException as exc:  # reported to the test below
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    return results


def test_concurrent_claims_process_a_message_once(customer: Customer) -> None:
    stored = inbound_store(raw=eml("fresh", subject="Race"), source="smtp")

    results: list[IntakeResult] = in_threads(lambda: inbound_process(inbound_id=stored.inbound_id))

    outcomes = sorted(r.outcome for r in results)
    assert outcomes.count("created") >= 1
    assert set(outcomes) <= {"created", ""}  # "": another thread held the claim
    assert Ticket.objects.count() == 1
    assert Message.objects.count() == 1
    row = InboundEmail.objects.get()
    assert (row.state, row.outcome, row.attempts) == ("done", "created", 1)


def test_concurrent_deliveries_of_one_message_store_one_row() -> None:
    raw = eml("fresh", subject="Twice at once")

    results: list[Stored] = in_threads(lambda: inbound_store(raw=raw, source="smtp"))

    assert sorted(r.duplicate for r in results) == [False] + [True] * (THREADS - 1)
    assert len({r.inbound_id for r in results}) == 1
    assert InboundEmail.objects.count() == 1
