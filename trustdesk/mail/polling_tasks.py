"""The IMAP polling chain: ``mailbox_poll`` polls one mailbox and schedules its next run.

One chain per enabled mailbox. ``mailbox_poll_schedule`` enqueues a poll only when that mailbox
has no poll waiting to run: the check and the insert of the task row happen in one transaction
holding the mailbox's row lock (with the database task backend the task row is an ordinary row
of that transaction), so neither ``trustdesk fetch-mail --schedule`` run twice nor a poll
finishing while another is scheduled can fork the chain. A chain whose worker was killed
mid-poll (its task row stuck "running") is restarted by the next ``fetch-mail --schedule``,
which ``trustdesk serve`` runs when it starts its worker.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.tasks import TaskResultStatus, task
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from trustdesk.mail.imap import mailbox_poll_once, mailboxes_to_poll
from trustdesk.mail.models import Mailbox


@task()
def mailbox_poll(mailbox_id: int) -> str:
    """Poll one mailbox, then schedule the next poll (unless it was disabled or deleted)."""
    if not Mailbox.objects.filter(pk=mailbox_id, enabled=True).exists():
        return "disabled"
    result = mailbox_poll_once(mailbox_id=mailbox_id)
    mailbox_poll_schedule(mailbox_id=mailbox_id, delay=settings.TRUSTDESK_IMAP_POLL_SECONDS)
    return result.error or f"fetched {result.fetched}, stored {result.stored}"


def mailbox_poll_schedule(*, mailbox_id: int, delay: float = 0) -> bool:
    """Enqueue a poll of ``mailbox_id`` in ``delay`` seconds unless one is already waiting.

    Returns whether it enqueued one.
    """
    with transaction.atomic():
        locked = Mailbox.objects.select_for_update().filter(pk=mailbox_id, enabled=True)
        if not list(locked.values_list("pk", flat=True)):
            return False
        if mailbox_poll_pending(mailbox_id=mailbox_id):
            return False
        mailbox_poll.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue(mailbox_id)
    return True


def mailbox_poll_pending(*, mailbox_id: int) -> bool:
    """Whether a poll of this mailbox is waiting to run (queued, not yet claimed)."""
    return DBTaskResult.objects.filter(
        task_path=mailbox_poll.module_path,
        status=TaskResultStatus.READY,
        args_kwargs__args=[mailbox_id],
    ).exists()


def mailbox_poll_schedule_all() -> int:
    """Start the chain of every enabled mailbox that has none waiting; returns how many."""
    return sum(mailbox_poll_schedule(mailbox_id=pk) for pk in mailboxes_to_poll())
