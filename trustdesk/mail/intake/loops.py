"""Loops and noise: our own mail coming back, bounces, and tickets flooded by robots.

Nothing here ever sends mail. Automated messages are recorded (on their ticket, or as a
suppressed ``InboundEmail``) and never acknowledged; a ticket that receives more than
``LOOP_THRESHOLD`` automated messages within ``LOOP_WINDOW`` is tagged ``mail-loop`` (which the
acknowledgement policy checks) and its further automated mail is suppressed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from trustdesk.core.services import event_record
from trustdesk.customers.models import ContactPoint
from trustdesk.customers.services import contact_point_mark_undeliverable
from trustdesk.mail.intake.lookups import Lookups
from trustdesk.mail.models import InboundEmail, OutboundEmail
from trustdesk.mail.parsing import ParsedEmail
from trustdesk.tickets.models import Ticket
from trustdesk.tickets.services import ticket_tag_add

__all__ = [
    "LOOP_TAG",
    "LOOP_THRESHOLD",
    "LOOP_WINDOW",
    "BounceReport",
    "bounce_report",
    "contact_points_mark_undeliverable",
    "is_own_address",
    "is_own_message",
    "loop_check",
    "ticket_in_loop",
]

LOOP_TAG = "mail-loop"
LOOP_THRESHOLD = 10  # more than this many automated messages ...
LOOP_WINDOW = timedelta(minutes=10)  # ... within this window flag the ticket
OWN_MESSAGE = "own-message"  # InboundEmail.automated for our own Message-ID coming back
OWN_ADDRESS = "own-address"  # ... and for mail whose From is one of our support addresses

_FIELD = re.compile(r"^([A-Za-z-]+)[ \t]*:[ \t]*(.*)$")
_RECIPIENT = re.compile(r"^(?:rfc822|x-[\w-]+)?\s*;?\s*<?([^<>\s;]+@[^<>\s;]+?)>?\s*$", re.I)
_EMBEDDED_MSGID = re.compile(r"^message-id:[ \t]*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)
_REPORT_TYPES = ("message/delivery-status", "message/global-delivery-status")
_ORIGINAL_TYPES = ("message/rfc822", "text/rfc822-headers", "message/global-headers")


def is_own_message(message_id: str | None, *, lookups: Lookups | None = None) -> bool:
    """A Message-ID we generated (``<td.<pk>.<hex>@our domain>``) or one of our outbound rows."""
    if not message_id:
        return False
    domain = re.escape(settings.TRUSTDESK_MAIL_DOMAIN.lower())
    if re.fullmatch(rf"<td\.\d+\.[0-9a-f]{{16}}@{domain}>", message_id.lower()):
        return True
    known = lookups.outbound_message_ids if lookups is not None else None
    if known is not None:
        return message_id in known
    return OutboundEmail.objects.filter(rfc_message_id=message_id).exists()


def is_own_address(address: str, *, lookups: Lookups | None = None) -> bool:
    """Mail from one of our own support addresses (any ``+tag``): a forwarding loop, never a
    customer. Our addresses: the From of outbound mail, team and mailbox addresses, and
    ``TRUSTDESK_INBOUND_ADDRESSES``."""
    if not address:
        return False
    local, _, domain = address.lower().rpartition("@")
    base = f"{local.split('+', 1)[0]}@{domain}"
    ours = {
        settings.DEFAULT_FROM_EMAIL.lower(),
        *(a.lower() for a in settings.TRUSTDESK_INBOUND_ADDRESSES),
    }
    if base in ours:
        return True
    return (lookups or Lookups()).is_support_address(base)


@dataclass(frozen=True)
class BounceReport:
    failed: tuple[str, ...]  # recipients whose delivery failed permanently (lower-cased)
    original_message_ids: tuple[str, ...]  # Message-IDs of the returned message


def bounce_report(parsed: ParsedEmail) -> BounceReport:
    """The failed recipients and the returned message's Message-ID, from a DSN (RFC 3464).

    Only ``Action: failed`` recipients count: a ``delayed`` report is not a bounce of the address.
    ``X-Failed-Recipients`` (Exim) counts too.
    """
    failed: list[str] = []
    originals: list[str] = []
    for attachment in parsed.attachments:
        text = attachment.content.decode("utf-8", "replace")
        if attachment.content_type in _REPORT_TYPES:
            failed.extend(_failed_recipients(text))
        elif attachment.content_type in _ORIGINAL_TYPES:
            originals.extend(_EMBEDDED_MSGID.findall(text.split("\n\n", 1)[0]))
    for value in parsed.header("X-Failed-Recipients"):
        failed.extend(a.strip().strip("<>") for a in value.split(",") if "@" in a)
    return BounceReport(
        failed=tuple(dict.fromkeys(a.lower() for a in failed)),
        original_message_ids=tuple(dict.fromkeys(originals)),
    )


def _failed_recipients(report: str) -> list[str]:
    """Per-recipient blocks of a delivery-status report: Final-Recipient with Action failed."""
    found = []
    for block in re.split(r"\r?\n\s*\r?\n", report.replace("\r\n", "\n")):
        fields: dict[str, str] = {}
        for line in re.sub(r"\n[ \t]+", " ", block).splitlines():
            match = _FIELD.match(line.strip())
            if match:
                fields.setdefault(match.group(1).lower(), match.group(2).strip())
        recipient = fields.get("final-recipient") or fields.get("original-recipient")
        if recipient and fields.get("action", "").lower() == "failed":
            address = _RECIPIENT.match(recipient)
            if address:
                found.append(address.group(1))
    return found


def contact_points_mark_undeliverable(*, addresses: list[str], inbound_id: int) -> list[str]:
    """Flag the email contact points at these addresses; returns the ones newly flagged."""
    reason = f"bounced (inbound email {inbound_id})"
    return [
        address
        for address in addresses
        if contact_point_mark_undeliverable(
            kind=ContactPoint.Kind.EMAIL, value=address, reason=reason
        )
    ]


def ticket_in_loop(ticket: Ticket) -> bool:
    return ticket.tags.filter(name=LOOP_TAG).exists()


def loop_check(*, ticket: Ticket, inbound_id: int) -> bool:
    """Count this automated message against the ticket; flag it when over the threshold.

    Returns True when the ticket is (now, or already) flagged. Counts the automated messages
    already processed for the ticket within the window, plus this one.
    """
    if ticket_in_loop(ticket):
        return True
    since = timezone.now() - LOOP_WINDOW
    earlier = (
        InboundEmail.objects.filter(
            ticket_id=ticket.pk, received_at__gte=since, state=InboundEmail.State.DONE
        )
        .exclude(automated="")
        .exclude(pk=inbound_id)
        .count()
    )
    recent = earlier + 1
    if recent <= LOOP_THRESHOLD:
        return False
    window = LOOP_WINDOW.seconds // 60
    reason = f"{recent} automated messages within {window} minutes"
    if not ticket_tag_add(ticket=ticket, tag=LOOP_TAG, reason=reason):
        return True
    event_record(
        kind="ticket.mail_loop_flagged",
        subject_type="ticket",
        subject_id=ticket.pk,
        payload={"automated_messages": recent, "window_minutes": window},
    )
    return True
