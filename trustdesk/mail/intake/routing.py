"""Which existing ticket a message points at: thread headers, then signed tokens, then a subject tag.

Only evidence that came from us counts: Message-IDs of our outbound replies and of messages
already on a ticket, HMAC-signed reply tokens (``trustdesk.mail.tokens``), and a ``[#1234]``
tag in the subject. Our ``X-Trustdesk-*`` headers are never read on inbound mail. A match is a
candidate only; ``identity.entitlement_check`` decides whether the sender may write there.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from trustdesk.mail.models import InboundEmail, OutboundEmail
from trustdesk.mail.parsing import ParsedEmail
from trustdesk.mail.tokens import reply_token_check, token_in_subject, tokens_in_addresses
from trustdesk.tickets.models import Ticket

__all__ = ["Match", "Route", "route_find", "thread_ids", "ticket_for_message_ids"]

_SUBJECT_TAG = re.compile(r"\[#(\d{1,12})\]")
_MAX_REFERENCES = 50


@dataclass(frozen=True)
class Match:
    ticket: Ticket
    via: str  # "thread", "token" or "subject-tag"
    detail: str


@dataclass(frozen=True)
class Route:
    match: Match | None
    problems: tuple[str, ...] = ()  # stale/forged tokens, tokens of missing tickets


def thread_ids(parsed: ParsedEmail) -> list[str]:
    """In-Reply-To, then References from the nearest ancestor back; never the message's own."""
    ids = [parsed.in_reply_to] if parsed.in_reply_to else []
    ids.extend(reversed(parsed.references[-_MAX_REFERENCES:]))
    return [i for i in dict.fromkeys(ids) if i and i != parsed.message_id]


def ticket_for_message_ids(message_ids: Sequence[str]) -> tuple[Ticket, str] | None:
    """The ticket of the first of these Message-IDs that is ours: an outbound reply, or a
    message already processed onto a ticket. ``(ticket, message_id)``."""
    if not message_ids:
        return None
    found: dict[str, int] = dict(
        OutboundEmail.objects.filter(rfc_message_id__in=message_ids).values_list(
            "rfc_message_id", "message__ticket_id"
        )
    )
    for message_id, ticket_id in InboundEmail.objects.filter(
        message_id_header__in=message_ids,
        ticket__isnull=False,
        state=InboundEmail.State.DONE,
    ).values_list("message_id_header", "ticket_id"):
        found.setdefault(message_id, ticket_id)
    for message_id in message_ids:
        if message_id in found:
            ticket = Ticket.objects.filter(pk=found[message_id]).first()
            if ticket is not None:
                return ticket, message_id
    return None


def route_find(parsed: ParsedEmail, *, envelope_to: Sequence[str] = ()) -> Route:
    """The ticket this message points at, by the strongest evidence, and any bad tokens seen."""
    threaded = ticket_for_message_ids(thread_ids(parsed))
    problems: list[str] = []
    token_match = _token_match(parsed, envelope_to, problems)
    if threaded is not None:
        ticket, message_id = threaded
        return Route(
            Match(ticket, "thread", f"In-Reply-To/References {message_id}"), tuple(problems)
        )
    if token_match is not None:
        return Route(token_match, tuple(problems))
    tag = _SUBJECT_TAG.search(parsed.subject or "")
    if tag:
        tagged = Ticket.objects.filter(number=int(tag.group(1))).first()
        if tagged is not None:
            return Route(Match(tagged, "subject-tag", tag.group(0)), tuple(problems))
    return Route(None, tuple(problems))


def _token_match(
    parsed: ParsedEmail, envelope_to: Sequence[str], problems: list[str]
) -> Match | None:
    addresses = [a.address for a in (*parsed.to, *parsed.cc)]
    for name in ("Delivered-To", "X-Original-To"):
        addresses.extend(parsed.header(name))
    addresses.extend(envelope_to)
    found = [(t, "address") for t in tokens_in_addresses(addresses)]
    subject_token = token_in_subject(parsed.subject)
    if subject_token:
        found.append((subject_token, "subject"))
    match: Match | None = None
    for token, where in dict.fromkeys(found):
        check = reply_token_check(token)
        if not check.valid or check.ticket_id is None:
            problems.append(f"{check.reason} reply token in the {where}")
            continue
        ticket = Ticket.objects.filter(pk=check.ticket_id).first()
        if ticket is None:
            problems.append(f"reply token in the {where} names no ticket")
        elif match is None:
            match = Match(ticket, "token", f"reply token in the {where}")
    return match
