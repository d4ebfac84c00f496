"""Intake tasks: APIs for the worker that take ids and call the pipeline."""

from __future__ import annotations

from django.tasks import TaskResultStatus, task
from django.utils import timezone
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from trustdesk.mail.intake.pipeline import STUCK_AFTER, inbound_process, inbound_requeue_stuck
from trustdesk.mail.models import InboundEmail


@task()
def inbound_process_task(inbound_id: int) -> str:
    """Process one stored message; safe to run twice or on several workers. Returns the outcome."""
    if not InboundEmail.objects.filter(pk=inbound_id).exists():
        return "missing"
    return inbound_process(inbound_id=inbound_id).outcome or "processing"


@task()
def inbound_sweep() -> int:
    """Queue again the messages whose task or worker was lost, then schedule the next sweep."""
    requeued = len(inbound_requeue_stuck())
    if InboundEmail.objects.filter(
        state__in=[InboundEmail.State.RECEIVED, InboundEmail.State.PROCESSING]
    ).exists():
        inbound_sweep_ensure_scheduled()
    return requeued


def inbound_sweep_ensure_scheduled() -> None:
    """Make sure a sweep runs once ``STUCK_AFTER`` has passed (unless one is already pending).

    Called after each stored message commits and by a sweep that still sees unfinished rows, so
    sweeps run only while there is intake to watch and restart by themselves.
    """
    backend = inbound_sweep.get_backend()
    if not backend.supports_defer:
        return
    if isinstance(backend, DatabaseBackend) and _sweep_pending():
        return
    inbound_sweep.using(run_after=timezone.now() + STUCK_AFTER).enqueue()


def _sweep_pending() -> bool:
    return DBTaskResult.objects.filter(
        task_path=inbound_sweep.module_path, status=TaskResultStatus.READY
    ).exists()
