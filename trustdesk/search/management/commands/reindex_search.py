"""``trustdesk reindex_search``: make the full-text index complete, e.g. after a bulk import."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from trustdesk.search.selectors import search_problems, search_rebuild


class Command(BaseCommand):
    help = (
        "Rebuild the search index (SQLite FTS5 'rebuild' + 'optimize') and refresh planner "
        "statistics (ANALYZE). With --check, only report whether search is ready."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--check", action="store_true", help="Only check the index schema; exit 1 if broken."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["check"]:
            problems = search_problems()
            if problems:
                raise CommandError("Search is not ready: " + "; ".join(problems))
            self.stdout.write("Search is ready.")
            return
        started = time.monotonic()
        search_rebuild()
        self.stdout.write(f"Search index rebuilt in {time.monotonic() - started:.1f}s.")
