"""Reads for intake: the quarantine that admins review and retry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import compat32

from trustdesk.mail.models import InboundEmail
from trustdesk.mail.parsing import decode_header_value

__all__ = ["QuarantinedEmail", "quarantine_count", "quarantine_list"]

_HEAD_BYTES = 65536


@dataclass(frozen=True)
class QuarantinedEmail:
    pk: int
    received_at: datetime
    source: str
    size: int
    attempts: int
    sender: str
    subject: str
    error_summary: str
    error: str


def quarantine_count() -> int:
    return InboundEmail.objects.filter(state=InboundEmail.State.QUARANTINED).count()


def quarantine_list(*, limit: int = 100) -> list[QuarantinedEmail]:
    """The newest quarantined messages, with From and Subject read from their raw header block."""
    rows = InboundEmail.objects.filter(state=InboundEmail.State.QUARANTINED).order_by("-id")[:limit]
    return [_item(row) for row in rows]


def _item(row: InboundEmail) -> QuarantinedEmail:
    sender, subject = _head(bytes(row.raw[:_HEAD_BYTES]))
    return QuarantinedEmail(
        pk=row.pk,
        received_at=row.received_at,
        source=row.source,
        size=row.size,
        attempts=row.attempts,
        sender=sender or row.envelope_from,
        subject=subject,
        error_summary=row.error.split("\n", 1)[0],
        error=row.error,
    )


def _head(raw: bytes) -> tuple[str, str]:
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(raw)
        sender = decode_header_value(str(headers.get("From") or ""))
        subject = decode_header_value(str(headers.get("Subject") or ""))
    except Exception:  # a header block that even the header parser refuses
        return "", ""
    return _printable(sender)[:300], _printable(subject)[:300]


def _printable(value: str) -> str:
    return value.encode("utf-8", "replace").decode("utf-8")
