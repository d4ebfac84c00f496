"""``trustdesk create-token --agent EMAIL``: print a new API token, and nothing else."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from trustdesk.accounts.models import Agent
from trustdesk.accounts.services import token_create


class Command(BaseCommand):
    help = "Create an API token for an agent and print it (it is shown only once)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--agent", required=True, help="The agent's email address.")
        parser.add_argument("--name", default="", help="What the token is for.")

    def handle(self, *args: Any, **options: Any) -> None:
        email = str(options["agent"]).strip().lower()
        agent = Agent.objects.filter(email=email).first()
        if agent is None:
            raise CommandError(f"No agent has the email address {email}.")
        if not agent.is_active:
            raise CommandError(f"{email} is deactivated; reactivate the agent first.")
        self.stdout.write(token_create(agent=agent, name=options["name"] or "console"))
