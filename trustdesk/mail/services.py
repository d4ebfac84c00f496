"""Outbound email: queue a public agent reply, then send it once from a worker.

``outbound_queue`` is the deliverer that tickets calls (after commit) for every public agent
reply on an email, web or API ticket. It records an ``OutboundEmail`` row and enqueues the
``message_send`` task after commit. ``outbound_send`` is what that task runs: it claims the row
with a conditional UPDATE (queued -> sending), so with several workers only one sends; a failure
is recorded with the server's answer; a temporary one (4xx, connection) is retried with
exponential backoff up to ``TRUSTDESK_MAIL_MAX_ATTEMPTS`` attempts, after which (or at once on a
permanent 5xx answer) the row is ``failed``.

Each mail threads on the conversation (``outbound_threading``), comes from the ticket's team
address with the agent's name, carries the signed Reply-To token, a text and an HTML part and the
message's attachments. ``outbound_retry`` puts a failed row back in the queue (an agent's retry
button); ``outbound_requeue_stuck`` recovers rows left in ``sending`` by a worker that died
mid-send (the ``sending_sweep`` task runs it periodically).
"""

from __future__ import annotations

import logging
import secrets
import smtplib
from datetime import datetime, timedelta
from email.headerregistry import Address

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from trustdesk.accounts.models import Agent
from trustdesk.core.errors import Conflict, NotFound, ValidationFailed
from trustdesk.core.html import sanitize_html, text_to_html
from trustdesk.core.services import enqueue_on_commit, event_record
from trustdesk.customers.selectors import customer_get, customer_primary_email
from trustdesk.mail.models import OutboundEmail
from trustdesk.mail.outbound_threading import (
    header_safe,
    reply_subject,
    thread_headers,
    ticket_reply_to,
    ticket_sender_address,
)
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
            from trustdesk.mail.tasks import message_send, sweep_ensure_scheduled

            enqueue_on_commit(message_send, message.pk)
            transaction.on_commit(sweep_ensure_scheduled)
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
    except Exception as exc:
        # Another backend (an ESP's API client) failed in its own way: record it and retry
        # rather than leave the row in "sending" for the sweep.
        logger.exception("Sending %s failed", outbound.rfc_message_id)
        return _attempt_failed(outbound, f"{type(exc).__name__}: {exc}", permanent=False)
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


def email_build(outbound: OutboundEmail) -> EmailMultiAlternatives:
    """The email of one public agent reply: text and HTML parts, signature, attachments.

    Only this message's own body goes out (no quoted history), so an internal note on the
    ticket can never leak into a customer's inbox.
    """
    message = outbound.message
    ticket = message.ticket
    agent = message.author_agent
    signature = agent.signature.strip() if agent is not None else ""
    context = {
        "ticket": ticket,
        "body_text": message.body_text,
        "body_html": sanitize_html(message.body_html or text_to_html(message.body_text)),
        "signature": signature,
    }
    sender_name = header_safe(agent.display_name) if agent is not None else ""
    headers = {
        "Message-ID": outbound.rfc_message_id,
        "X-Trustdesk-Ticket": str(ticket.number),
        **thread_headers(
            ticket_id=ticket.pk, before=message.created_at, exclude_message_id=message.pk
        ).as_headers(),
    }
    email = EmailMultiAlternatives(
        subject=reply_subject(subject=ticket.subject, number=ticket.number),
        body=render_to_string("mail/email/reply.txt", context).strip("\n") + "\n",
        from_email=str(Address(display_name=sender_name, addr_spec=ticket_sender_address(ticket))),
        to=[outbound.to_address],
        reply_to=[ticket_reply_to(ticket)],
        headers=headers,
    )
    email.attach_alternative(render_to_string("mail/email/reply.html", context), "text/html")
    for attachment in message.attachments.order_by("id"):
        with attachment.file.open("rb") as handle:
            email.attach(attachment.filename, handle.read(), attachment.content_type)
    return email


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


def outbound_retry(*, message_id: int, actor: Agent) -> OutboundEmail:
    """Queue a failed email again (an agent's "retry"). One more attempt, to the customer's
    current primary address, so a corrected address is used."""
    now = timezone.now()
    with transaction.atomic():
        outbound = (
            OutboundEmail.objects.select_for_update()
            .select_related("message__ticket")
            .filter(message_id=message_id)
            .first()
        )
        if outbound is None:
            raise NotFound("This message was not sent by email.")
        if outbound.state != State.FAILED:
            raise Conflict("Only an email whose delivery failed can be retried.", code="not_failed")
        customer = customer_get(customer_id=outbound.message.ticket.customer_id)
        to_address = customer_primary_email(customer)
        if not to_address:
            raise ValidationFailed("The customer has no email address.", field="email")
        OutboundEmail.objects.filter(pk=outbound.pk, state=State.FAILED).update(
            state=State.QUEUED, to_address=to_address, updated_at=now
        )
        event_record(
            kind="message.email_retried",
            subject_type="ticket",
            subject_id=outbound.message.ticket_id,
            actor_id=actor.pk,
            payload={"message": message_id, "to": to_address},
        )
        from trustdesk.mail.tasks import message_send

        enqueue_on_commit(message_send, message_id)
    outbound.refresh_from_db()
    return outbound


def outbound_requeue_stuck(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Queue again the rows left in ``sending`` longer than the sending timeout.

    A worker killed between claiming a row and recording the result leaves it in ``sending``
    for ever. After ``TRUSTDESK_MAIL_SENDING_TIMEOUT_SECONDS`` (far longer than an SMTP
    timeout) it is queued again; the Message-ID stays the same, so if the first attempt did
    reach the customer, their mail program shows one message. A row that has used up
    ``TRUSTDESK_MAIL_MAX_ATTEMPTS`` fails instead. Returns the ids of the messages queued again.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.TRUSTDESK_MAIL_SENDING_TIMEOUT_SECONDS)
    stuck = OutboundEmail.objects.filter(state=State.SENDING, updated_at__lt=cutoff)
    candidates = list(stuck.order_by("id").values_list("message_id", "attempts")[:limit])
    requeued = []
    from trustdesk.mail.tasks import message_send

    for message_id, attempts in candidates:
        give_up = attempts >= settings.TRUSTDESK_MAIL_MAX_ATTEMPTS
        note = f"The worker stopped while sending (attempt {attempts}); " + (
            "giving up." if give_up else "queued again."
        )
        with transaction.atomic():
            if not stuck.filter(message_id=message_id).update(
                state=State.FAILED if give_up else State.QUEUED, last_error=note, updated_at=now
            ):
                continue  # finished or swept by someone else meanwhile
            logger.warning("Message %d was stuck in sending: %s", message_id, note)
            if give_up:
                _record_failure(OutboundEmail.objects.get(message_id=message_id), note)
            else:
                enqueue_on_commit(message_send, message_id)
                requeued.append(message_id)
    return requeued
