"""Email details in the agent timeline: delivery state of replies, addresses of inbound mail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse

from trustdesk.mail.models import OutboundEmail
from trustdesk.tickets.models import Message

register = template.Library()

_CACHE_KEY = "_mail_timeline_deliveries"


@dataclass(frozen=True)
class Delivery:
    state: str
    label: str
    attempts: int
    last_error: str
    sent_at: datetime | None
    to_address: str
    retry_url: str | None


def _retry_url(message_id: int) -> str | None:
    try:
        return reverse("mail:outbound_retry", args=[message_id])
    except NoReverseMatch:  # the mail URLs are not mounted: show the state, no button
        return None


def _deliveries(context: template.Context, ticket_id: int) -> dict[int, OutboundEmail]:
    """All outbound rows of the ticket in one query, kept for the rest of this render."""
    cache: dict[int, dict[int, OutboundEmail]] = context.dicts[0].setdefault(_CACHE_KEY, {})
    if ticket_id not in cache:
        rows = OutboundEmail.objects.filter(message__ticket_id=ticket_id).only(
            "message_id", "state", "attempts", "last_error", "sent_at", "to_address"
        )
        cache[ticket_id] = {row.message_id: row for row in rows}
    return cache[ticket_id]


@register.simple_tag(takes_context=True)
def email_delivery(context: template.Context, message: Message) -> Delivery | None:
    """The delivery state of a public agent reply that went (or goes) out by email."""
    if (
        message.direction != Message.Direction.OUTBOUND
        or message.visibility != Message.Visibility.PUBLIC
        or message.author_agent_id is None
    ):
        return None
    row = _deliveries(context, message.ticket_id).get(message.pk)
    if row is None:
        return None
    return Delivery(
        state=row.state,
        label=str(OutboundEmail.State(row.state).label),
        attempts=row.attempts,
        last_error=row.last_error,
        sent_at=row.sent_at,
        to_address=row.to_address,
        retry_url=_retry_url(message.pk) if row.state == OutboundEmail.State.FAILED else None,
    )


def _one_address(value: Any) -> str:
    if isinstance(value, dict):
        name, address = str(value.get("name") or ""), str(value.get("address") or "")
        return f"{name} <{address}>" if name and address else name or address
    return str(value)


@register.filter
def email_addresses(value: Any) -> str:
    """Addresses as stored in ``meta["email"]`` (a string, a list, {name, address}) as text."""
    if not value:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(a for a in (_one_address(v) for v in value) if a)
    return _one_address(value)
