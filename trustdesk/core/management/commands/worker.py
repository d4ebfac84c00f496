"""``trustdesk worker``: run a background task worker (django-tasks-db's db_worker)."""

from __future__ import annotations

from typing import Any

from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand


class Command(DbWorkerCommand):
    help = "Run a background task worker. Start several for more throughput; each task runs once."

    def handle(self, *args: Any, **options: Any) -> None:
        options["queue_name"] = options.get("queue_name") or "*"
        if options.get("reload") is None:
            options["reload"] = False
        super().handle(*args, **options)
