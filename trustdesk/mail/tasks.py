"""Tasks of the mail app: thin wrappers that take ids and call a service."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.tasks import TaskResultStatus, task
from django.utils import timezone
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from trustdesk.mail.outbound_ack import acknowledgement_send
from trustdesk.mail.services import outbound_requeue_stuck, outbound_send


@task()
def message_send(message_id: int) -> str:
    """Send the queued email of a public agent reply; safe to run twice or on several workers."""
    return outbound_send(message_id=message_id)


@task()
def acknowledgement_deliver(ticket_id: int, address: str) -> str:
    """Send the automatic acknowledgement of a new ticket, at most one per address a day."""
    return acknowledgement_send(ticket_id=ticket_id, address=address)


@task()
def sending_sweep() -> int:
    """Queue again the emails stuck in "sending", then schedule the next sweep."""
    requeued = len(outbound_requeue_stuck())
    sweep_ensure_scheduled()
    return requeued


def sweep_ensure_scheduled() -> None:
    """Make sure a sweep is scheduled one sending timeout from now (unless one is pending).

    Called whenever a send is queued and by each sweep, so the chain of sweeps lives in the
    task table as long as there is mail, and restarts by itself after a crash. Two callers
    racing may schedule two sweeps; the sweep is idempotent, and the next run collapses them.
    """
    backend = sending_sweep.get_backend()
    if not backend.supports_defer:
        return
    if isinstance(backend, DatabaseBackend) and _sweep_pending():
        return
    delay = timedelta(seconds=settings.TRUSTDESK_MAIL_SENDING_TIMEOUT_SECONDS)
    sending_sweep.using(run_after=timezone.now() + delay).enqueue()


def _sweep_pending() -> bool:
    return DBTaskResult.objects.filter(
        task_path=sending_sweep.module_path, status=TaskResultStatus.READY
    ).exists()
