"""``trustdesk demo``: load realistic demo data (refuses a second run unless --force)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from trustdesk.core.errors import Conflict
from trustdesk.demo.people import DEMO_EMAIL
from trustdesk.demo.services import demo_seed


class Command(BaseCommand):
    help = "Load demo data: 5 agents in 2 teams, 200 customers, 1,000 tickets. Demo use only."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--force", action="store_true", help="Add another set of demo data.")
        parser.add_argument("--customers", type=int, default=200)
        parser.add_argument("--tickets", type=int, default=1000)
        parser.add_argument("--seed", type=int, default=2024)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = demo_seed(
                customers=options["customers"],
                tickets=options["tickets"],
                seed=options["seed"],
                force=options["force"],
            )
        except Conflict as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"Demo data loaded in {result.seconds:.1f} s: {result.agents} agents, "
            f"{result.customers} customers, {result.tickets} tickets, "
            f"{result.messages} messages. Demo login: {DEMO_EMAIL}."
        )
