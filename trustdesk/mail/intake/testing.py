"""Helpers for intake tests: ``.eml`` fixtures with placeholders, and store-then-process."""

from __future__ import annotations

from pathlib import Path
from string import Template

from trustdesk.mail.intake.pipeline import IntakeResult, inbound_process
from trustdesk.mail.intake.store import inbound_store
from trustdesk.mail.models import InboundEmail
from trustdesk.tickets.models import Message, Ticket

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "intake"

_DEFAULTS = {
    "from_name": "Marie Curie",
    "from_address": "marie@example.org",
    "to": "Support <support@example.com>",
    "cc": "",
    "subject": "Re: Printer on fire",
    "in_reply_to": "",
    "references": "",
    "extra_headers": "X-Fixture: intake",
    "body": "Thanks, it works now.",
    "recipient": "marie@example.org",
    "action": "failed",
    "original_id": "<unknown@example.com>",
}
_counter = 0


def eml(name: str, **values: str) -> bytes:
    """The fixture ``name`` (without .eml) with ``$placeholders`` filled in.

    ``message_id`` defaults to a fresh unique one, so each call is a new message.
    """
    global _counter
    _counter += 1
    filled = {**_DEFAULTS, "message_id": f"<fixture-{_counter}@mail.example.org>", **values}
    text = (FIXTURES / f"{name}.eml").read_text(encoding="utf-8")
    return Template(text).safe_substitute(filled).encode("utf-8")


def ingest(raw: bytes, *, source: str = "test", envelope_to: tuple[str, ...] = ()) -> IntakeResult:
    """Store and process one message, as the pipe command does."""
    stored = inbound_store(raw=raw, source=source, envelope_to=envelope_to)
    return inbound_process(inbound_id=stored.inbound_id)


def ticket_of(result: IntakeResult) -> Ticket:
    """The ticket a processed message created or was added to."""
    assert result.ticket_number is not None, result
    return Ticket.objects.get(number=result.ticket_number)


def message_of(result: IntakeResult) -> Message:
    """The ticket message a processed message became."""
    message_id = InboundEmail.objects.get(pk=result.inbound_id).message_id
    assert message_id is not None, result
    return Message.objects.get(pk=message_id)
