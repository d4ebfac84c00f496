"""Processing stored messages in batches, and recovering the ones a dead worker left behind.

``inbound_store`` enqueues ``tasks.inbound_drain_task`` after commit unless one is already
waiting. A drain claims a batch of ``received`` rows with one conditional UPDATE (on
PostgreSQL the rows are picked ``FOR UPDATE SKIP LOCKED``, so two workers take different
batches), parses them, then writes them in one transaction with a savepoint per message: a
message that fails is quarantined without undoing the others. The acknowledgements of the new
tickets go to one task per batch, after commit.

A worker killed mid-batch leaves its rows ``processing``. ``inbound_requeue_stuck``, run by
every ``trustdesk worker`` as it starts and by the periodic ``inbound_sweep``, releases the
claims older than ``TRUSTDESK_INTAKE_CLAIM_TIMEOUT_SECONDS`` (default 300) and makes sure a
drain is waiting. A released row is still processed once: the finishing UPDATE of the old
claim matches nothing any more (``pipeline.inbound_finish``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from trustdesk.core.services import enqueue_on_commit, event_record
from trustdesk.mail.intake.lookups import Lookups
from trustdesk.mail.intake.pipeline import inbound_finish, inbound_parse
from trustdesk.mail.models import InboundEmail

__all__ = ["BATCH_SIZE", "MAX_ATTEMPTS", "claim_timeout", "inbound_drain", "inbound_requeue_stuck"]

logger = logging.getLogger(__name__)
State = InboundEmail.State
BATCH_SIZE = 25
# A message whose worker died this many times while processing it is quarantined, not retried.
MAX_ATTEMPTS = 5


def claim_timeout() -> timedelta:
    """How old a claim must be before the sweep takes it from its (presumably dead) worker."""
    return timedelta(seconds=float(settings.TRUSTDESK_INTAKE_CLAIM_TIMEOUT_SECONDS))


def inbound_drain(
    *, limit: int = BATCH_SIZE, on_claimed: Callable[[int], object] | None = None
) -> int:
    """Claim and process up to ``limit`` waiting messages; returns how many were claimed.

    ``on_claimed(count)`` runs once the claim is committed, before the processing (the drain
    task uses it to let another worker take the next batch meanwhile).
    """
    claimed_at, rows = _claim(limit=limit)
    if not rows:
        return 0
    if on_claimed is not None:
        on_claimed(len(rows))
    parsed = [inbound_parse(row) for row in rows]  # pure CPU: before the write transaction
    lookups = Lookups()
    lookups.outbound_prime(
        p.message_id for p in parsed if not isinstance(p, Exception) and p.message_id
    )
    acknowledgements: list[tuple[int, str]] = []
    with transaction.atomic():
        for row, item in zip(rows, parsed, strict=True):
            _result, decision = inbound_finish(row, item, claimed_at=claimed_at, lookups=lookups)
            if decision is not None and decision.ticket is not None and decision.acknowledge:
                acknowledgements.append((decision.ticket.pk, decision.acknowledge))
        if acknowledgements:
            from trustdesk.mail.intake.tasks import acknowledgements_deliver

            ticket_ids, addresses = zip(*acknowledgements, strict=True)
            enqueue_on_commit(acknowledgements_deliver, list(ticket_ids), list(addresses))
    return len(rows)


def _claim(*, limit: int) -> tuple[datetime, list[InboundEmail]]:
    """received -> processing for the oldest waiting rows nobody else is claiming."""
    claimed_at = timezone.now()
    with transaction.atomic():
        waiting = InboundEmail.objects.filter(state=State.RECEIVED).order_by("pk")
        if connection.features.has_select_for_update_skip_locked:
            waiting = waiting.select_for_update(skip_locked=True)
        ids = list(waiting.values_list("pk", flat=True)[:limit])
        if ids:
            InboundEmail.objects.filter(pk__in=ids, state=State.RECEIVED).update(
                state=State.PROCESSING, attempts=F("attempts") + 1, processed_at=claimed_at
            )
    if not ids:
        return claimed_at, []
    rows = InboundEmail.objects.filter(pk__in=ids, state=State.PROCESSING, processed_at=claimed_at)
    return claimed_at, list(rows.order_by("pk"))


def inbound_requeue_stuck(*, now: datetime | None = None) -> list[int]:
    """Release the claims older than ``claim_timeout()``; returns the ids released.

    Each claim is released with a conditional UPDATE on its claim time, so a worker that was
    only slow cannot finish the row afterwards (its final UPDATE matches nothing and its writes
    roll back). A message claimed ``MAX_ATTEMPTS`` times is quarantined instead: something in
    it kills workers. Makes sure a drain is waiting when messages are.
    """
    from trustdesk.mail.intake.tasks import inbound_drain_ensure_pending

    cutoff = (now or timezone.now()) - claim_timeout()
    released = []
    stuck = InboundEmail.objects.filter(state=State.PROCESSING, processed_at__lt=cutoff)
    for pk, claimed_at, attempts in stuck.values_list("pk", "processed_at", "attempts")[:1000]:
        if attempts >= MAX_ATTEMPTS:
            _quarantine_poison(pk, claimed_at, attempts)
            continue
        claim = InboundEmail.objects.filter(pk=pk, state=State.PROCESSING, processed_at=claimed_at)
        if claim.update(state=State.RECEIVED, processed_at=None):
            logger.warning("Inbound email %s was stuck in processing; queued again", pk)
            released.append(pk)
    if released or InboundEmail.objects.filter(state=State.RECEIVED).exists():
        inbound_drain_ensure_pending()
    return released


def _quarantine_poison(pk: int, claimed_at: datetime | None, attempts: int) -> None:
    error = f"worker: the worker processing this message stopped {attempts} times"
    with transaction.atomic():
        moved = InboundEmail.objects.filter(
            pk=pk, state=State.PROCESSING, processed_at=claimed_at
        ).update(
            state=State.QUARANTINED,
            outcome=InboundEmail.Outcome.QUARANTINED,
            error=error,
            processed_at=timezone.now(),
        )
        if moved:
            logger.warning("Inbound email %s quarantined: %s", pk, error)
            event_record(
                kind="mail.inbound_quarantined",
                subject_type="inbound_email",
                subject_id=pk,
                payload={"stage": "worker", "error": error},
            )
