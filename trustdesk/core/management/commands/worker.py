"""``trustdesk worker``: run a background task worker (django-tasks-db's db_worker)."""

from __future__ import annotations

from typing import Any

from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from trustdesk.core import registry


class Command(DbWorkerCommand):
    help = "Run a background task worker. Start several for more throughput; each task runs once."

    def handle(self, *args: Any, **options: Any) -> None:
        options["queue_name"] = options.get("queue_name") or "*"
        if options.get("reload") is None:
            options["reload"] = False
        # Recovery is part of starting: each app releases what a killed worker had claimed (the
        # mail app: email claimed longer than TRUSTDESK_INTAKE_CLAIM_TIMEOUT_SECONDS ago) before
        # this worker takes its first task.
        for hook in registry.worker_start_hooks():
            hook()
        super().handle(*args, **options)
