"""Intake tasks: APIs for the worker that call the pipeline.

One ``inbound_drain_task`` at a time waits in the queue: storing a message enqueues one unless
one is already waiting, and a drain that took a full batch enqueues the next before it starts
writing, so every idle worker joins in while messages wait.
"""

from __future__ import annotations

from typing import Any

from django.tasks import TaskResultStatus, task
from django.utils import timezone
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from trustdesk.mail.intake.drain import (
    BATCH_SIZE,
    claim_timeout,
    inbound_drain,
    inbound_requeue_stuck,
)
from trustdesk.mail.intake.pipeline import inbound_process
from trustdesk.mail.models import InboundEmail
from trustdesk.mail.outbound_ack import acknowledgement_send


@task()
def inbound_drain_task() -> int:
    """Process one batch of stored messages; returns how many it claimed."""

    def next_batch(claimed: int) -> None:
        if claimed >= BATCH_SIZE:
            inbound_drain_ensure_pending()

    return inbound_drain(on_claimed=next_batch)


@task()
def inbound_process_task(inbound_id: int) -> str:
    """Process one stored message (tasks queued before the drain existed; still safe)."""
    if not InboundEmail.objects.filter(pk=inbound_id).exists():
        return "missing"
    return inbound_process(inbound_id=inbound_id).outcome or "processing"


@task()
def acknowledgements_deliver(ticket_ids: list[int], addresses: list[str]) -> dict[str, int]:
    """Acknowledge the new tickets of one drained batch; returns the count of each outcome."""
    outcomes: dict[str, int] = {}
    for ticket_id, address in zip(ticket_ids, addresses, strict=True):
        outcome = acknowledgement_send(ticket_id=ticket_id, address=address)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


@task()
def inbound_sweep() -> int:
    """Release the claims of dead workers and wake a drain, then schedule the next sweep."""
    requeued = len(inbound_requeue_stuck())
    if InboundEmail.objects.filter(
        state__in=[InboundEmail.State.RECEIVED, InboundEmail.State.PROCESSING]
    ).exists():
        inbound_sweep_ensure_scheduled()
    return requeued


def inbound_queue_ensure() -> None:
    """After a message is stored: a drain waiting for it, and a sweep watching over it."""
    inbound_drain_ensure_pending()
    inbound_sweep_ensure_scheduled()


def inbound_drain_ensure_pending() -> None:
    """Enqueue a drain unless one is already waiting (a running one may be past its last claim)."""
    if _pending(inbound_drain_task):
        return
    inbound_drain_task.enqueue()


def inbound_sweep_ensure_scheduled() -> None:
    """Make sure a sweep runs one claim timeout from now (unless one is already pending).

    Called after each stored message commits and by a sweep that still sees unfinished rows, so
    sweeps run only while there is intake to watch and restart by themselves.
    """
    backend = inbound_sweep.get_backend()
    if not backend.supports_defer:
        return
    if _pending(inbound_sweep):
        return
    inbound_sweep.using(run_after=timezone.now() + claim_timeout()).enqueue()


def inbound_worker_started() -> None:
    """What a starting worker does first: recover the claims of workers that died."""
    inbound_requeue_stuck()
    if InboundEmail.objects.filter(
        state__in=[InboundEmail.State.RECEIVED, InboundEmail.State.PROCESSING]
    ).exists():
        inbound_sweep_ensure_scheduled()


def _pending(item: Any) -> bool:
    if not isinstance(item.get_backend(), DatabaseBackend):
        return False
    return DBTaskResult.objects.filter(
        task_path=item.module_path, status=TaskResultStatus.READY
    ).exists()
