"""Outbound email: queue a public agent reply, then send it once from a worker.

``outbound_queue`` is the deliverer that tickets calls (after commit) for every public agent
reply on an email, web or API ticket. It records an ``OutboundEmail`` row and enqueues the
``message_send`` task after commit. ``outbound_send`` is what that task runs: it claims the row
with a conditional UPDATE (queued -> sending), so with several workers only one sends; a failure
is recorded with the server's answer; a temporary one (4xx, connection) is retried with
exponential backoff up to ``TRUSTDESK_MAIL_MAX_ATTEMPTS`` attempts, after which (or at once on a
permanent 5xx answer) the row is ``failed``.
"""

from __future__ import annotations

import logging
import secrets
import smtplib
from datetime import timedelta
from email.headerregistry import Address

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from trustdesk.core.services import enqueue_on_commit, event_record
from trustdesk.customers.selectors import customer_get, customer_primary_email
from trustdesk.mail.models import OutboundEmail
from trustdesk.tickets.models import Message

logger = logging.getLogger(__name__)
State = OutboundEmail.State


def outbound_queue(message_id: int) -> OutboundEmail | None:
    """Record that a public agent reply must go out by email and enqueue its sending.

    Idempotent: a second call for the same message returns the existing row and enqueues
    nothing. Messages that are not public agent replies are ignored (returns None).
    """
    message = (
        Message.objects.select_related("ticket", "ticket__customer").filter(pk=message_id).first()
    )
    if (
        message is None
        or message.direction != Message.Direction.OUTBOUND
        or message.visibility != Message.Visibility.PUBLIC
        or message.author_agent_id is None
    ):
        return None
    to_address = customer_primary_email(customer_get(customer_id=message.ticket.customer_id))
    now = timezone.now()
    with transaction.atomic():
        outbound, created = OutboundEmail.objects.get_or_create(
            message=message,
            defaults={
                "to_address": to_address or "",
                "state": State.QUEUED if to_address else State.FAILED,
                "last_error": "" if to_address else "The customer has no email address.",
                "rfc_message_id": message_id_make(message.pk),
                "created_at": now,
                "updated_at": now,
            },
        )
        if created and outbound.state == State.QUEUED:
            from trustdesk.mail.tasks import message_send

            enqueue_on_commit(message_send, message.pk)
        elif created:
            _record_failure(outbound, outbound.last_error)
    return outbound


def message_id_make(message_pk: int) -> str:
    """A globally unique Message-ID that names the message it belongs to (for later threading)."""
    return f"<td.{message_pk}.{secrets.token_hex(8)}@{settings.TRUSTDESK_MAIL_DOMAIN}>"


def outbound_send(*, message_id: int) -> str:
    """Send the queued email of one message, at most once. Returns the row's resulting state."""
    claimed = OutboundEmail.objects.filter(message_id=message_id, state=State.QUEUED).update(
        state=State.SENDING, attempts=F("attempts") + 1, updated_at=timezone.now()
    )
    if not claimed:
        # Already sent, failed, being sent by another worker, or never queued: nothing to do.
        state = (
            OutboundEmail.objects.filter(message_id=message_id)
            .values_list("state", flat=True)
            .first()
        )
        return state or "missing"
    outbound = OutboundEmail.objects.select_related(
        "message__author_agent", "message__ticket__team"
    ).get(message_id=message_id)
    try:
        email_build(outbound).send(using="default")
    except (smtplib.SMTPException, OSError) as exc:
        return _attempt_failed(outbound, smtp_error_text(exc), permanent=smtp_error_permanent(exc))
    now = timezone.now()
    with transaction.atomic():
        OutboundEmail.objects.filter(pk=outbound.pk, state=State.SENDING).update(
            state=State.SENT, sent_at=now, last_error="", updated_at=now
        )
        event_record(
            kind="message.email_sent",
            subject_type="ticket",
            subject_id=outbound.message.ticket_id,
            payload={"message": message_id, "message_id": outbound.rfc_message_id},
        )
    return State.SENT


def email_build(outbound: OutboundEmail) -> EmailMessage:
    """The email for one outbound message: plain text with the agent's signature."""
    message = outbound.message
    ticket = message.ticket
    agent = message.author_agent
    address = (ticket.team.email if ticket.team else "") or settings.DEFAULT_FROM_EMAIL
    sender_name = agent.display_name if agent is not None else ""
    body = message.body_text
    if agent is not None and agent.signature.strip():
        body = f"{body}\n\n-- \n{agent.signature.strip()}"
    return EmailMessage(
        subject=f"[#{ticket.number}] {ticket.subject}",
        body=body,
        from_email=str(Address(display_name=sender_name, addr_spec=address)),
        to=[outbound.to_address],
        headers={"Message-ID": outbound.rfc_message_id, "X-Trustdesk-Ticket": str(ticket.number)},
    )


def smtp_error_text(exc: BaseException) -> str:
    """The server's answer (code and text) or the connection error, for ``last_error``."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{rcpt}: {code} {_decode(text)}" for rcpt, (code, text) in exc.recipients.items()
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_decode(exc.smtp_error)}"
    return f"{type(exc).__name__}: {exc}"


def smtp_error_permanent(exc: BaseException) -> bool:
    """A 5xx answer will not change on retry; connection problems and 4xx answers may."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return False


def _decode(text: bytes | str) -> str:
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else text


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: base, 4x base, 16x base, ... capped at six hours."""
    base = settings.TRUSTDESK_MAIL_RETRY_SECONDS
    return timedelta(seconds=min(base * 4 ** max(attempts - 1, 0), 6 * 3600))


def _attempt_failed(outbound: OutboundEmail, error: str, *, permanent: bool) -> str:
    attempts = outbound.attempts  # already counts this attempt (the claim incremented it)
    final = permanent or attempts >= settings.TRUSTDESK_MAIL_MAX_ATTEMPTS
    now = timezone.now()
    logger.warning("Sending %s failed (attempt %d): %s", outbound.rfc_message_id, attempts, error)
    with transaction.atomic():
        OutboundEmail.objects.filter(pk=outbound.pk, state=State.SENDING).update(
            state=State.FAILED if final else State.QUEUED, last_error=error[:2000], updated_at=now
        )
        if final:
            outbound.last_error = error[:2000]
            _record_failure(outbound, error)
        else:
            from trustdesk.mail.tasks import message_send

            enqueue_on_commit(
                message_send.using(run_after=now + retry_delay(attempts)), outbound.message_id
            )
    return State.FAILED if final else State.QUEUED


def _record_failure(outbound: OutboundEmail, error: str) -> None:
    event_record(
        kind="message.email_failed",
        subject_type="ticket",
        subject_id=outbound.message.ticket_id,
        payload={"message": outbound.message_id, "error": error[:500]},
    )
