"""``trustdesk ingest-email [FILE ...]``: take in raw messages from files or an MTA pipe.

With no file, one message is read from standard input (Postfix/Exim pipe transport). Each
message is stored (``inbound_store``, source ``pipe``), then processed in this process
(``inbound_process``), and one JSON line is printed per message::

    {"source": "msg.eml", "outcome": "created", "ticket": 1042, "reason": "new conversation"}

The exit status is 0 when every message got an outcome (including ``rejected`` and
``quarantined``); 75 (EX_TEMPFAIL: the MTA keeps the message and retries) after an internal
failure, such as the database being unreachable, or an unreadable file.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from trustdesk.mail.intake.pipeline import inbound_process, inbound_result, inbound_wait
from trustdesk.mail.intake.store import EmailTooLarge, inbound_store
from trustdesk.mail.models import InboundEmail

logger = logging.getLogger(__name__)
EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = "Store and process raw email messages (files, or one message on standard input)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="*", help="RFC 5322 messages; none: read stdin")
        parser.add_argument("--envelope-from", default="", help="the SMTP envelope sender")
        parser.add_argument(
            "--envelope-to", action="append", default=[], help="an envelope recipient"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        files: list[str] = options["files"]
        sources = files or ["stdin"]
        failed = False
        for source in sources:
            try:
                raw = sys.stdin.buffer.read() if not files else Path(source).read_bytes()
            except OSError as exc:
                self._emit(source, "", None, f"cannot read: {exc.strerror}", err=True)
                failed = True
                continue
            failed |= not self._ingest(source, raw, options)
        if failed:
            sys.exit(EX_TEMPFAIL)

    def _ingest(self, source: str, raw: bytes, options: dict[str, Any]) -> bool:
        try:
            stored = inbound_store(
                raw=raw,
                source="pipe",
                envelope_from=options["envelope_from"],
                envelope_to=options["envelope_to"],
            )
        except EmailTooLarge as exc:
            self._emit(source, InboundEmail.Outcome.REJECTED, None, exc.message)
            return True
        except Exception as exc:
            logger.exception("Storing %s failed", source)
            self._emit(source, "", None, f"internal error storing: {exc}", err=True)
            return False
        try:
            if stored.duplicate:
                result = inbound_result(stored.inbound_id)
                self._emit(
                    source,
                    InboundEmail.Outcome.DUPLICATE,
                    result.ticket_number,
                    (f"already received as inbound {stored.inbound_id}"),
                )
                return True
            result = inbound_process(inbound_id=stored.inbound_id)
            if not result.outcome:  # a worker picked it up first: report what it decides
                result = inbound_wait(inbound_id=stored.inbound_id)
        except Exception as exc:
            logger.exception("Processing inbound %s failed", stored.inbound_id)
            self._emit(
                source, "", None, f"internal error (stored as {stored.inbound_id}): {exc}", err=True
            )
            return False
        if not result.outcome:
            self._emit(
                source, "", None, f"still processing (stored as {stored.inbound_id})", err=True
            )
            return False
        self._emit(source, result.outcome, result.ticket_number, result.reason)
        return True

    def _emit(
        self, source: str, outcome: str, ticket: int | None, reason: str, *, err: bool = False
    ) -> None:
        line = json.dumps(
            {"source": source, "outcome": outcome or "error", "ticket": ticket, "reason": reason},
            ensure_ascii=False,
        )
        (self.stderr if err else self.stdout).write(line)
