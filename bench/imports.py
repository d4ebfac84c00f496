"""Bulk import throughput through ``trustdesk.tickets.imports`` into a fresh database."""

from __future__ import annotations

import time
from typing import Any

from django.core.management import call_command

from bench import rows
from bench.config import Scale
from bench.seed import database_recreate
from bench.textgen import TextGenerator


def import_measure(scale: Scale) -> dict[str, Any]:
    from trustdesk.tickets.imports import tickets_import

    database_recreate()
    call_command("migrate", verbosity=0)
    text = TextGenerator(seed=7, total_messages=scale.import_tickets * 5)
    lines = rows.import_lines(tickets=scale.import_tickets, mean_messages=5, text=text)
    started = time.perf_counter()
    report = tickets_import(lines=lines, source="bench")
    elapsed = time.perf_counter() - started
    started = time.perf_counter()
    again = tickets_import(lines=lines, source="bench")
    reimport = time.perf_counter() - started
    assert again.tickets_created == 0
    assert again.skipped_existing == report.tickets_created
    return {
        "tickets": report.tickets_created,
        "messages": report.messages_created,
        "customers": report.customers_created,
        "errors": len(report.errors),
        "seconds": round(elapsed, 2),
        "tickets_per_s": round(report.tickets_created / elapsed, 1),
        "messages_per_s": round(report.messages_created / elapsed, 1),
        "reimport_seconds": round(reimport, 2),
    }
