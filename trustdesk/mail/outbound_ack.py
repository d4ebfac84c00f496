"""Automatic acknowledgements: "we have your message, here is who and when".

The intake pipeline calls ``acknowledgement_enqueue`` when an email from a person (not an
auto-reply, bounce or list) opens a new ticket. After commit, a task sends at most one
acknowledgement per sender address per 24 hours: the check and the ``AutoAcknowledgement``
insert happen in one transaction under a per-address lock (a PostgreSQL advisory lock; on SQLite
the ``BEGIN IMMEDIATE`` transactions serialise writers), so two workers cannot both send.

Never sent to an address we do not know on the ticket's customer or that is marked
undeliverable, never on a ticket tagged ``mail-loop``, never once an agent has answered. Every
acknowledgement carries ``Auto-Submitted: auto-replied`` (RFC 3834) and
``X-Auto-Response-Suppress: All``, so well-behaved responders do not answer it.

It is recorded as an event (``mail.acknowledgement_sent``), not as a ticket message: a public
outbound message would be handed to the email deliverer and sent a second time, and would count
as the ticket's first response.
"""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from trustdesk.core.services import enqueue_on_commit, event_record
from trustdesk.customers.models import Customer
from trustdesk.customers.selectors import customer_get
from trustdesk.mail.models import AutoAcknowledgement
from trustdesk.mail.outbound_threading import (
    header_safe,
    reply_subject,
    thread_headers,
    ticket_reply_to,
    ticket_sender_address,
)
from trustdesk.tickets.models import Ticket

logger = logging.getLogger(__name__)

ACK_WINDOW = timedelta(hours=24)
LOOP_TAG = "mail-loop"
STATS_WINDOW = timedelta(days=30)
STATS_MIN_TICKETS = 5
STATS_SAMPLE = 5000  # the newest tickets of the window are plenty for a median
AUTOMATED_HEADERS = {"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}
_ROBOT_LOCAL_PARTS = frozenset(
    {"mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply", "do-not-reply"}
)


def acknowledgement_enqueue(*, ticket_id: int, address: str) -> None:
    """After commit, acknowledge the new ticket ``ticket_id`` to ``address`` (if allowed)."""
    from trustdesk.mail.tasks import acknowledgement_deliver

    enqueue_on_commit(acknowledgement_deliver, ticket_id, address.strip().lower())


@dataclass(frozen=True)
class ReplyEstimate:
    """How soon the team answers: measured (median, 90th percentile) or the configured aim."""

    median: timedelta | None
    p90: timedelta | None
    sample: int
    default_hours: int

    @property
    def sentence(self) -> str:
        if self.median is None or self.p90 is None:
            return _("We aim to reply within %(hours)s.") % {
                "hours": duration_phrase(timedelta(hours=self.default_hours))
            }
        usual, almost = duration_phrase(self.median), duration_phrase(self.p90)
        if usual == almost:
            return _("We usually reply within %(usual)s.") % {"usual": usual}
        return _("We usually reply within %(usual)s, and almost always within %(almost)s.") % {
            "usual": usual,
            "almost": almost,
        }


def duration_phrase(duration: timedelta) -> str:
    """A duration rounded up for people: 15 minutes, 3 hours, 2 days."""
    minutes = max(1, math.ceil(duration.total_seconds() / 60))
    if minutes < 60:
        minutes = max(5, math.ceil(minutes / 5) * 5)
        return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
    hours = math.ceil(minutes / 60)
    if hours < 48:
        return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    days = math.ceil(hours / 24)
    return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}


def _percentile(sorted_values: list[timedelta], fraction: float) -> timedelta:
    """Nearest-rank percentile of an ascending list."""
    return sorted_values[max(0, math.ceil(fraction * len(sorted_values)) - 1)]


def reply_estimate(*, team_id: int | None, now: datetime | None = None) -> ReplyEstimate:
    """First-response times of the team's tickets opened in the last 30 days (at least 5)."""
    now = now or timezone.now()
    tickets = Ticket.objects.filter(
        created_at__gte=now - STATS_WINDOW, first_response_at__isnull=False
    )
    tickets = tickets.filter(team_id=team_id) if team_id else tickets.filter(team__isnull=True)
    pairs = tickets.order_by("-created_at").values_list("created_at", "first_response_at")
    durations = sorted(
        max(first - created, timedelta(0))
        for created, first in pairs[:STATS_SAMPLE]
        if first is not None
    )
    default_hours = int(settings.TRUSTDESK_DEFAULT_REPLY_HOURS)
    if len(durations) < STATS_MIN_TICKETS:
        return ReplyEstimate(None, None, len(durations), default_hours)
    return ReplyEstimate(
        _percentile(durations, 0.5), _percentile(durations, 0.9), len(durations), default_hours
    )


def acknowledgement_send(*, ticket_id: int, address: str, now: datetime | None = None) -> str:
    """Send the acknowledgement of a new ticket at most once per address per 24 hours.

    Returns the outcome: ``sent``, ``failed``, ``missing`` or why it was skipped
    (``mail-loop``, ``answered``, ``automated-address``, ``unknown-address``, ``undeliverable``,
    ``recently-acknowledged``). A failed send is not retried (a late "we got your message" is
    worse than none) and frees the address for the next ticket.
    """
    address = address.strip().lower()
    ticket = Ticket.objects.select_related("team", "owner").filter(pk=ticket_id).first()
    if ticket is None:
        return "missing"
    customer = customer_get(customer_id=ticket.customer_id)  # read once, for check and text
    reason = _skip_reason(ticket, customer, address) or _claim(
        ticket=ticket, address=address, now=now
    )
    if reason:
        _record(ticket, "mail.acknowledgement_skipped", {"address": address, "reason": reason})
        return reason
    email, estimate = acknowledgement_build(ticket=ticket, address=address, customer=customer)
    try:
        email.send(using="default")
    except (smtplib.SMTPException, OSError) as exc:
        from trustdesk.mail.services import smtp_error_text

        error = smtp_error_text(exc)
        logger.warning("Acknowledgement of ticket %d failed: %s", ticket.pk, error)
        AutoAcknowledgement.objects.filter(address=address, ticket=ticket).delete()
        _record(ticket, "mail.acknowledgement_failed", {"address": address, "error": error[:500]})
        return "failed"
    _record(
        ticket,
        "mail.acknowledgement_sent",
        {"address": address, "message_id": email.extra_headers["Message-ID"], "said": estimate},
    )
    return "sent"


def _skip_reason(ticket: Ticket, customer: Customer, address: str) -> str | None:
    if ticket.tags.filter(name=LOOP_TAG).exists():
        return "mail-loop"
    if ticket.first_response_at is not None:
        return "answered"
    if address.partition("@")[0] in _ROBOT_LOCAL_PARTS:
        return "automated-address"
    point = next(
        (p for p in customer.contact_points.all() if p.kind == "email" and p.value == address),
        None,
    )
    if point is None:
        return "unknown-address"
    if point.undeliverable:
        return "undeliverable"
    return None


def _claim(*, ticket: Ticket, address: str, now: datetime | None) -> str | None:
    """Record the acknowledgement unless the address had one in the last 24 hours."""
    now = now or timezone.now()
    with transaction.atomic():
        _address_lock(address)
        recent = AutoAcknowledgement.objects.filter(address=address, sent_at__gt=now - ACK_WINDOW)
        if recent.exists():
            return "recently-acknowledged"
        AutoAcknowledgement.objects.create(address=address, ticket=ticket, sent_at=now)
    return None


def _address_lock(address: str) -> None:
    """Serialise acknowledgements to one address until the transaction ends."""
    if connection.vendor != "postgresql":
        return  # SQLite: BEGIN IMMEDIATE (settings) already lets one writer in at a time
    digest = hashlib.sha256(b"trustdesk.mail.autoack:" + address.encode()).digest()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest[:8], "big", signed=True)]
        )


def acknowledgement_build(
    *, ticket: Ticket, address: str, customer: Customer | None = None
) -> tuple[EmailMultiAlternatives, str]:
    """The acknowledgement email and the reply-time sentence it contains."""
    if customer is None:
        customer = customer_get(customer_id=ticket.customer_id)
    team_name = ticket.team.name if ticket.team is not None else ""
    with translation.override(customer.language or settings.LANGUAGE_CODE):
        estimate = reply_estimate(team_id=ticket.team_id).sentence
        if ticket.owner is not None:
            handler = _("%(name)s will look after it.") % {"name": ticket.owner.display_name}
        elif team_name:
            handler = _("Someone from the %(team)s team will look after it.") % {"team": team_name}
        else:
            handler = _("One of our team will look after it.")
        context = {
            "ticket": ticket,
            "greeting_name": customer.greeting_name,
            "handler": handler,
            "estimate": estimate,
            "team_name": team_name,
        }
        text = render_to_string("mail/email/acknowledgement.txt", context)
        html = render_to_string("mail/email/acknowledgement.html", context)
    message_id = f"<td.ack.{ticket.pk}.{secrets.token_hex(8)}@{settings.TRUSTDESK_MAIL_DOMAIN}>"
    headers = {
        "Message-ID": message_id,
        "X-Trustdesk-Ticket": str(ticket.number),
        **AUTOMATED_HEADERS,
        **thread_headers(ticket_id=ticket.pk, before=timezone.now()).as_headers(),
    }
    email = EmailMultiAlternatives(
        subject=reply_subject(subject=ticket.subject, number=ticket.number),
        body=text.strip("\n") + "\n",
        from_email=str(
            Address(display_name=header_safe(team_name), addr_spec=ticket_sender_address(ticket))
        ),
        to=[address],
        reply_to=[ticket_reply_to(ticket)],
        headers=headers,
    )
    email.attach_alternative(html, "text/html")
    return email, estimate


def _record(ticket: Ticket, kind: str, payload: dict[str, str]) -> None:
    event_record(kind=kind, subject_type="ticket", subject_id=ticket.pk, payload=payload)
