"""``trustdesk import-tickets FILE.jsonl``: bulk import tickets and their messages (see imports.py)."""

from __future__ import annotations

import sys
import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from trustdesk.core.errors import ValidationFailed
from trustdesk.tickets.imports import DEFAULT_BATCH, tickets_import


class Command(BaseCommand):
    help = (
        "Import tickets from a JSON Lines file (one ticket with its messages per line). "
        "Bad lines are reported and skipped; tickets imported before are skipped."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", help="A .jsonl file, or - for standard input.")
        parser.add_argument(
            "--source", default="import", help="Name of the system the ids come from."
        )
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH)

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["file"]
        started = time.perf_counter()
        try:
            if path == "-":
                report = tickets_import(
                    lines=sys.stdin, source=options["source"], batch_size=options["batch_size"]
                )
            else:
                with Path(path).open(encoding="utf-8") as lines:
                    report = tickets_import(
                        lines=lines, source=options["source"], batch_size=options["batch_size"]
                    )
        except (OSError, ValidationFailed, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        elapsed = time.perf_counter() - started
        for error in report.errors:
            self.stderr.write(f"line {error.line}: {error.reason}")
        self.stdout.write(
            f"Imported {report.tickets_created} tickets ({report.messages_created} messages, "
            f"{report.customers_created} new customers) in {elapsed:.1f}s; "
            f"skipped {report.skipped_existing} already imported and {len(report.errors)} bad lines."
        )
        if report.errors:
            raise CommandError(f"{len(report.errors)} lines were not imported.", returncode=2)
