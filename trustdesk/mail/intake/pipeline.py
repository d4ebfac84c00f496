"""Processing one stored message: claim, parse, route, write, mark done; or quarantine.

``inbound_process`` claims the row (received -> processing) with a conditional UPDATE, so a
message is processed once however many workers (and the pipe command) race for it. The ticket
writes and marking the row done happen in one transaction: either both or neither. Anything
that goes wrong with one message (the parser, routing, a service refusing the input) rolls that
transaction back and quarantines the message with the error; its raw bytes stay for a retry.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import traceback
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from trustdesk.accounts.models import Agent
from trustdesk.core.errors import Conflict, NotFound, PermissionDenied
from trustdesk.core.services import event_record
from trustdesk.mail.intake.authresults import verification_read
from trustdesk.mail.intake.identity import Entitlement, entitlement_check, sender_identify
from trustdesk.mail.intake.lookups import Lookups
from trustdesk.mail.intake.loops import OWN_ADDRESS, OWN_MESSAGE, is_own_address, is_own_message
from trustdesk.mail.intake.routing import Route, route_find
from trustdesk.mail.intake.writing import Context, Decision, automated_record, human_record
from trustdesk.mail.models import InboundEmail
from trustdesk.mail.outbound_ack import acknowledgement_enqueue
from trustdesk.mail.parsing import Address, ParsedEmail, parse_email

__all__ = [
    "IntakeResult",
    "inbound_finish",
    "inbound_parse",
    "inbound_process",
    "inbound_result",
    "inbound_retry",
    "inbound_wait",
]

logger = logging.getLogger(__name__)
State = InboundEmail.State
Outcome = InboundEmail.Outcome
_MAX_ERROR = 10_000


@dataclass(frozen=True)
class IntakeResult:
    inbound_id: int
    outcome: str  # an InboundEmail.Outcome value; "" while another process is on it
    ticket_number: int | None
    reason: str


class _LostClaim(Exception):
    """The row left ``processing`` under us (an admin action): roll back our writes."""


def inbound_result(inbound_id: int) -> IntakeResult:
    """What became of a stored message so far."""
    row = InboundEmail.objects.select_related("ticket").filter(pk=inbound_id).first()
    if row is None:
        raise NotFound(f"Inbound email {inbound_id} does not exist.")
    return IntakeResult(
        inbound_id=row.pk,
        outcome=str(row.outcome) if row.state in (State.DONE, State.QUARANTINED) else "",
        ticket_number=row.ticket.number if row.ticket else None,
        reason=row.reason or row.error.split("\n", 1)[0],
    )


def inbound_process(*, inbound_id: int) -> IntakeResult:
    """Process a stored message exactly once; never raises for a bad message.

    A row that is done or quarantined returns its result; a row that another process is
    processing returns outcome ``""`` (see ``inbound_wait``). ``drain.inbound_drain`` does the
    same for a batch of rows.
    """
    # While a row is processing, processed_at holds the moment of the claim: it tells a stuck
    # claim (a worker killed mid-way; see drain.inbound_requeue_stuck) from a live one, and only
    # the claim that holds that exact value may finish the row.
    claimed_at = timezone.now()
    claimed = InboundEmail.objects.filter(pk=inbound_id, state=State.RECEIVED).update(
        state=State.PROCESSING, attempts=F("attempts") + 1, processed_at=claimed_at
    )
    if not claimed:
        return inbound_result(inbound_id)
    row = InboundEmail.objects.get(pk=inbound_id)
    parsed = inbound_parse(row)
    with transaction.atomic():
        result, decision = inbound_finish(row, parsed, claimed_at=claimed_at, lookups=Lookups())
        if decision is not None and decision.ticket is not None and decision.acknowledge:
            acknowledgement_enqueue(ticket_id=decision.ticket.pk, address=decision.acknowledge)
    return result


def inbound_parse(row: InboundEmail) -> ParsedEmail | Exception:
    """The parsed message, or the exception the parser raised (the message is quarantined)."""
    try:
        return _scrubbed(parse_email(bytes(row.raw)))
    except Exception as exc:
        return exc


def inbound_finish(
    row: InboundEmail,
    parsed: ParsedEmail | Exception,
    *,
    claimed_at: datetime,
    lookups: Lookups,
) -> tuple[IntakeResult, Decision | None]:
    """Route and write a claimed message and mark it done, or quarantine it.

    The writes and the done mark are one transaction (a savepoint inside a batch), made only
    while the row still holds this claim. The decision is ``None`` unless the row became done.
    """
    if isinstance(parsed, Exception):
        return _quarantine(row, parsed, stage="parse", claimed_at=claimed_at), None
    try:
        with transaction.atomic():
            decision = _decide_and_write(row, parsed, lookups)
            done = InboundEmail.objects.filter(
                pk=row.pk, state=State.PROCESSING, processed_at=claimed_at
            ).update(
                state=State.DONE,
                outcome=decision.outcome,
                reason=decision.reason[:2000],
                error="",
                automated=decision.automated[:16],
                ticket=decision.ticket,
                message=decision.message,
                processed_at=timezone.now(),
            )
            if done != 1:
                raise _LostClaim
            event_record(
                kind="mail.inbound_processed",
                subject_type="inbound_email",
                subject_id=row.pk,
                payload={"outcome": decision.outcome, "ticket": decision.ticket_id},
            )
    except _LostClaim:
        return inbound_result(row.pk), None
    except Exception as exc:
        return _quarantine(row, exc, stage="route", claimed_at=claimed_at), None
    result = IntakeResult(
        inbound_id=row.pk,
        outcome=str(decision.outcome),
        ticket_number=decision.ticket.number if decision.ticket else None,
        reason=decision.reason,
    )
    return result, decision


def _decide_and_write(row: InboundEmail, parsed: ParsedEmail, lookups: Lookups) -> Decision:
    sender = sender_identify(parsed, envelope_from=row.envelope_from, lookups=lookups)
    verification = verification_read(
        parsed.header("Authentication-Results"),
        from_address=sender.address,
        trusted=settings.TRUSTDESK_TRUSTED_AUTHSERV_IDS,
    )
    route = route_find(parsed, envelope_to=[str(a) for a in row.envelope_to])
    automated: str = parsed.automated or ""
    if is_own_message(parsed.message_id, lookups=lookups):
        automated = OWN_MESSAGE
    elif is_own_address(sender.address, lookups=lookups):
        automated = OWN_ADDRESS
    context = Context(
        row=row, parsed=parsed, sender=sender, verification=verification, lookups=lookups
    )
    if automated:
        return automated_record(context, route=route, automated=automated)
    return human_record(context, route=route, entitlement=_entitlement(context, route))


def _text(value: str) -> str:
    """Text that the database and JSON accept: no lone surrogates (undecodable bytes), no NUL."""
    return value.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")


def _scrubbed(parsed: ParsedEmail) -> ParsedEmail:
    def address(item: Address) -> Address:
        return Address(name=_text(item.name), address=_text(item.address))

    def optional(value: str | None) -> str | None:
        return _text(value) if value is not None else None

    return dataclasses.replace(
        parsed,
        from_=address(parsed.from_) if parsed.from_ else None,
        to=tuple(address(a) for a in parsed.to),
        cc=tuple(address(a) for a in parsed.cc),
        reply_to=tuple(address(a) for a in parsed.reply_to),
        subject=_text(parsed.subject),
        message_id=optional(parsed.message_id),
        in_reply_to=optional(parsed.in_reply_to),
        references=tuple(_text(r) for r in parsed.references),
        text=_text(parsed.text),
        quoted=_text(parsed.quoted),
        signature=_text(parsed.signature),
        html=_text(parsed.html),
        attachments=tuple(
            dataclasses.replace(a, filename=_text(a.filename)) for a in parsed.attachments
        ),
        headers=tuple((_text(k), _text(v)) for k, v in parsed.headers),
    )


def _entitlement(context: Context, route: Route) -> Entitlement | None:
    if route.match is None:
        return None
    return entitlement_check(
        sender=context.sender,
        ticket=route.match.ticket,
        via=route.match.via,
        verified=context.verification.verified,
        verification_reason=context.verification.reason,
    )


def _quarantine(
    row: InboundEmail, exc: BaseException, *, stage: str, claimed_at: datetime
) -> IntakeResult:
    logger.warning("Inbound email %s quarantined at %s: %r", row.pk, stage, exc)
    summary = f"{stage}: {type(exc).__name__}: {exc}"
    error = f"{summary}\n\n{''.join(traceback.format_exception(exc))}"[:_MAX_ERROR]
    with transaction.atomic():
        moved = InboundEmail.objects.filter(
            pk=row.pk, state=State.PROCESSING, processed_at=claimed_at
        ).update(
            state=State.QUARANTINED,
            outcome=Outcome.QUARANTINED,
            reason="",
            error=error,
            ticket=None,
            message=None,
            processed_at=timezone.now(),
        )
        if moved:
            event_record(
                kind="mail.inbound_quarantined",
                subject_type="inbound_email",
                subject_id=row.pk,
                payload={"stage": stage, "error": summary[:500]},
            )
    return inbound_result(row.pk)


def inbound_retry(*, inbound_id: int, actor: Agent) -> IntakeResult:
    """Send a quarantined message through the pipeline again (admins only)."""
    if actor.role != Agent.Role.ADMIN and not actor.is_superuser:
        raise PermissionDenied("Only administrators can retry quarantined email.")
    with transaction.atomic():
        moved = InboundEmail.objects.filter(pk=inbound_id, state=State.QUARANTINED).update(
            state=State.RECEIVED, outcome="", processed_at=None
        )
        if not moved:
            if not InboundEmail.objects.filter(pk=inbound_id).exists():
                raise NotFound(f"Inbound email {inbound_id} does not exist.")
            raise Conflict("That message is not quarantined.", code="not_quarantined")
        event_record(
            kind="mail.inbound_retried",
            subject_type="inbound_email",
            subject_id=inbound_id,
            actor_id=actor.pk,
        )
    return inbound_process(inbound_id=inbound_id)


def inbound_wait(*, inbound_id: int, timeout: float = 60.0) -> IntakeResult:
    """The result once no process is working on the message any more (or at the timeout)."""
    deadline = time.monotonic() + timeout
    result = inbound_result(inbound_id)
    while not result.outcome and time.monotonic() < deadline:
        time.sleep(0.2)
        result = inbound_result(inbound_id)
    return result
