"""Shared write helpers: events, counters, after-commit task enqueueing."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from trustdesk.core.models import Counter, Event


def event_record(
    *,
    kind: str,
    subject_type: str,
    subject_id: int,
    actor_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> Event:
    return Event.objects.create(
        kind=kind,
        subject_type=subject_type,
        subject_id=subject_id,
        actor_id=actor_id,
        payload=payload or {},
        created_at=timezone.now(),
    )


def counter_take(*, name: str, count: int = 1, start: int = 1000) -> int:
    """Reserve ``count`` consecutive values and return the first one.

    Must run inside a transaction; the row lock serialises concurrent callers on PostgreSQL
    and SQLite's IMMEDIATE transactions do the same there.
    """
    if count < 1:
        raise ValueError("count must be positive")
    with transaction.atomic():
        Counter.objects.get_or_create(name=name, defaults={"value": start})
        Counter.objects.filter(name=name).update(value=F("value") + count)
        current = Counter.objects.select_for_update().get(name=name).value
    return current - count + 1


def enqueue_on_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    """Enqueue a ``django.tasks`` task once the surrounding transaction commits."""
    enqueue: Callable[[], Any] = partial(task.enqueue, *args, **kwargs)
    transaction.on_commit(enqueue)
