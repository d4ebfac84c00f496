"""The durable first step: store the raw bytes of one message, once, before anything parses it."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from trustdesk.core.errors import DomainError
from trustdesk.mail.models import InboundEmail

__all__ = ["EmailTooLarge", "Stored", "dedupe_key", "inbound_store"]

_HEADER_END = re.compile(rb"\r?\n\r?\n")
_MESSAGE_ID = re.compile(rb"^message-id:[ \t]*(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE)
_MSGID_VALUE = re.compile(rb"<([^<>\s]{1,250})>")
_MAX_KEY = 300


class EmailTooLarge(DomainError):
    """The message is over ``TRUSTDESK_MAX_EMAIL_BYTES``: callers reject it (SMTP 552)."""

    code = "email_too_large"
    status = 413


@dataclass(frozen=True)
class Stored:
    inbound_id: int
    duplicate: bool


def dedupe_key(raw: bytes) -> tuple[str, str]:
    """``(dedupe_key, message_id_header)``: the Message-ID when it has one, else a SHA-256.

    Read from the header block with a regular expression, not the parser: this step must not
    fail on a message that the parser would choke on.
    """
    head = _HEADER_END.split(raw, maxsplit=1)[0][:262144]
    found = _MESSAGE_ID.search(head)
    if found:
        value = _MSGID_VALUE.search(found.group(1))
        if value:
            message_id = "<" + value.group(1).decode("ascii", "replace") + ">"
            return f"mid:{message_id}"[:_MAX_KEY], message_id
    return f"sha256:{hashlib.sha256(raw).hexdigest()}", ""


def inbound_store(
    *, raw: bytes, source: str, envelope_from: str = "", envelope_to: Sequence[str] = ()
) -> Stored:
    """Commit the raw message and make sure a drain will process it; durable when this returns.

    The same message arriving again (same Message-ID, or same bytes when it has none), by any
    way in, returns the existing row with ``duplicate=True`` and enqueues nothing. Raises
    ``EmailTooLarge`` for a message over ``TRUSTDESK_MAX_EMAIL_BYTES`` (nothing is stored).
    """
    raw = bytes(raw)
    limit = settings.TRUSTDESK_MAX_EMAIL_BYTES
    if len(raw) > limit:
        raise EmailTooLarge(f"The message is {len(raw):,} bytes; the limit is {limit:,} bytes.")
    key, message_id = dedupe_key(raw)
    existing = InboundEmail.objects.filter(dedupe_key=key).values_list("pk", flat=True).first()
    if existing is not None:
        return Stored(inbound_id=existing, duplicate=True)
    try:
        # durable: this commit is the promise the SMTP server's 250 rests on.
        with transaction.atomic(durable=True):
            row = InboundEmail.objects.create(
                dedupe_key=key,
                message_id_header=message_id,
                raw=raw,
                size=len(raw),
                source=source[:64],
                envelope_from=envelope_from[:320],
                envelope_to=[str(a)[:320] for a in envelope_to][:100],
                received_at=timezone.now(),
            )
            from trustdesk.mail.intake.tasks import inbound_queue_ensure

            # A drain (unless one is already waiting) and the sweep, once the row is visible.
            transaction.on_commit(inbound_queue_ensure)
    except IntegrityError:
        # The same message, arriving by another way at the same moment, won the insert.
        return Stored(inbound_id=InboundEmail.objects.get(dedupe_key=key).pk, duplicate=True)
    return Stored(inbound_id=row.pk, duplicate=False)
