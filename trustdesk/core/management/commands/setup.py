"""``trustdesk setup``: migrate, load demo data on a fresh database, and say how to log in.

``make run`` calls it before ``trustdesk serve``. Demo data is loaded only when the database
has no agents at all, so running it against a database in use changes nothing but the schema.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Migrate the database and, on a fresh one, load demo data; print the login."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--no-demo", action="store_true", help="Never load demo data, even when empty."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = int(options["verbosity"])
        self.stdout.write("Migrating the database...")
        call_command("migrate", interactive=False, verbosity=max(verbosity - 1, 0))
        lines = ["", f"  Trustdesk:  {settings.SITE_URL}/"]
        if apps.is_installed("trustdesk.demo"):
            # Demo data is optional: core imports the demo app only here, and only if installed.
            from trustdesk.demo.services import demo_login, demo_seed

            if not options["no_demo"] and not get_user_model().objects.exists():
                self.stdout.write("Fresh database: loading demo data...")
                result = demo_seed()
                self.stdout.write(
                    f"Loaded {result.tickets:,} tickets, {result.customers} customers and "
                    f"{result.agents} agents in {result.seconds:.1f} s."
                )
            login = demo_login()
            if login is not None:
                lines += [
                    f"  Log in as:  {login[0]}",
                    f"  Password:   {login[1]}",
                    "  (demo data for local use only: never put real customers in this database)",
                ]
        if len(lines) == 2:
            lines.append("  Log in with your agent account (create one: trustdesk create-agent).")
        self.stdout.write(self.style.SUCCESS("\n".join(lines)) + "\n")
