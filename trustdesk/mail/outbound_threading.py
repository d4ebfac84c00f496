"""Threading headers and subjects of the mail we send about a ticket.

Every mail we send answers the customer's most recent email on the ticket (``In-Reply-To``) and
carries that email's chain plus its id (``References``, RFC 5322 3.6.4), so the customer's
mail program shows one conversation. A ticket that never had an inbound email (web form, API)
threads on our own previous sent mail instead. The subject shows the ticket number for people
(``Re: Printer on fire [#1042]``); routing never trusts it, the signed Reply-To token routes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import parseaddr

from django.conf import settings

from trustdesk.mail.models import InboundEmail, OutboundEmail
from trustdesk.mail.tokens import reply_address
from trustdesk.tickets.models import Ticket

MAX_REFERENCES = 20
_MSGID = re.compile(r"<([^<>\s]+)>")
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|aw|sv|vs|antw|fwd?|wg|tr)\s*(?:\[\d+\])?\s*:\s*)+", re.I)
_NUMBER_TAG = re.compile(r"\s*\[#\d+\]\s*")
# Inbound mail that did not become part of the conversation is not what we answer.
_NOT_CONVERSATION = (
    InboundEmail.Outcome.SUPPRESSED,
    InboundEmail.Outcome.DUPLICATE,
    InboundEmail.Outcome.QUARANTINED,
    InboundEmail.Outcome.REJECTED,
)


@dataclass(frozen=True)
class ThreadHeaders:
    in_reply_to: str | None
    references: tuple[str, ...]

    def as_headers(self) -> dict[str, str]:
        headers = {}
        if self.in_reply_to:
            headers["In-Reply-To"] = self.in_reply_to
        if self.references:
            headers["References"] = " ".join(self.references)
        return headers


def message_ids(raw: str | None) -> tuple[str, ...]:
    """The ``<id>`` tokens of a header value, in order, without duplicates."""
    if not raw:
        return ()
    return tuple(dict.fromkeys(f"<{found}>" for found in _MSGID.findall(raw)))


def _bracketed(message_id: str) -> str:
    message_id = message_id.strip()
    return message_id if message_id.startswith("<") else f"<{message_id}>"


def references_bound(ids: list[str], limit: int = MAX_REFERENCES) -> tuple[str, ...]:
    """At most ``limit`` ids: the first (the thread's root) and the most recent ones."""
    unique = list(dict.fromkeys(ids))
    if len(unique) <= limit:
        return tuple(unique)
    return (unique[0], *unique[-(limit - 1) :])


def _parent_chain(raw: bytes | memoryview) -> list[str]:
    """The References of a stored inbound email (or its In-Reply-To when it has none)."""
    headers = BytesHeaderParser(policy=compat32).parsebytes(bytes(raw))
    chain = message_ids(str(headers.get("References") or ""))
    return list(chain or message_ids(str(headers.get("In-Reply-To") or "")))


def thread_headers(
    *, ticket_id: int, before: datetime, exclude_message_id: int | None = None
) -> ThreadHeaders:
    """In-Reply-To and References for a mail about ``ticket_id`` written at ``before``."""
    inbound = (
        InboundEmail.objects.filter(ticket_id=ticket_id, received_at__lte=before)
        .exclude(message_id_header="")
        .exclude(outcome__in=_NOT_CONVERSATION)
        .order_by("-received_at", "-id")
        .only("message_id_header", "raw")
        .first()
    )
    if inbound is not None:
        parent = _bracketed(inbound.message_id_header)
        return ThreadHeaders(parent, references_bound([*_parent_chain(inbound.raw), parent]))
    ours = OutboundEmail.objects.filter(
        message__ticket_id=ticket_id, state=OutboundEmail.State.SENT
    )
    if exclude_message_id is not None:
        ours = ours.filter(message_id__lt=exclude_message_id)
    chain = list(ours.order_by("message_id").values_list("rfc_message_id", flat=True))
    if not chain:
        return ThreadHeaders(None, ())
    return ThreadHeaders(chain[-1], references_bound(chain))


def reply_subject(*, subject: str, number: int) -> str:
    """``Re: <subject> [#<number>]``, without piling up prefixes or number tags."""
    bare = _NUMBER_TAG.sub(" ", _REPLY_PREFIX.sub("", subject)).strip()
    return f"Re: {bare} [#{number}]" if bare else f"Re: [#{number}]"


def ticket_sender_address(ticket: Ticket) -> str:
    """The address mail about this ticket comes from: its team's, else DEFAULT_FROM_EMAIL."""
    team_address = ticket.team.email if ticket.team is not None else ""
    # DEFAULT_FROM_EMAIL may be written "Name <address>": keep the address.
    return parseaddr(team_address or str(settings.DEFAULT_FROM_EMAIL))[1]


def ticket_reply_to(ticket: Ticket) -> str:
    """``support+<signed token>@example.com``: replies find this ticket by the token."""
    return reply_address(base_address=ticket_sender_address(ticket), ticket_id=ticket.pk)


def header_safe(value: str) -> str:
    """A display name fit for a header: no line breaks, no surrounding space."""
    return " ".join(value.split())
