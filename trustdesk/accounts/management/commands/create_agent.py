"""``trustdesk create-agent``: add an agent from the console.

The password comes from ``TRUSTDESK_AGENT_PASSWORD``, else from a prompt when a terminal is
attached; with neither, the agent gets a one-time link to choose a password.
"""

from __future__ import annotations

import getpass
import os
import sys
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from trustdesk.accounts.models import Agent
from trustdesk.accounts.services import agent_create, team_get_or_create
from trustdesk.core.errors import DomainError

PASSWORD_ENV = "TRUSTDESK_AGENT_PASSWORD"  # noqa: S105 (a variable name)


def password_set_link(agent: Agent) -> str:
    uidb64 = urlsafe_base64_encode(force_bytes(agent.pk))
    token = default_token_generator.make_token(agent)
    try:
        path = reverse("workspace:password_set", kwargs={"uidb64": uidb64, "token": token})
    except NoReverseMatch:  # the workspace route is not there yet: same path, built by hand
        path = f"/login/set-password/{uidb64}/{token}/"
    return f"{settings.SITE_URL}{path}"


class Command(BaseCommand):
    help = "Create an agent (and the team, if it does not exist yet)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", required=True, help="The agent's display name.")
        parser.add_argument("--admin", action="store_true", help="Make the agent an administrator.")
        parser.add_argument(
            "--role", choices=[r for r in Agent.Role.values if r != Agent.Role.ADMIN]
        )
        parser.add_argument(
            "--team", action="append", default=[], help="A team to join; may be repeated."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        email = str(options["email"]).strip().lower()
        try:
            validate_email(email)
        except ValidationError as exc:
            raise CommandError(f"{options['email']!r} is not a valid email address.") from exc
        team_names = [str(name).strip() for name in options["team"]]
        if any(not name for name in team_names):
            raise CommandError("A team name cannot be empty.")
        role = Agent.Role.ADMIN if options["admin"] else (options["role"] or Agent.Role.AGENT)
        if Agent.objects.filter(email=email).exists():
            raise CommandError(f"An agent with {email} already exists.")
        password = self._password()
        try:
            with transaction.atomic():
                teams = [team_get_or_create(name=name) for name in team_names]
                agent = agent_create(
                    email=email,
                    display_name=options["name"],
                    password=password,
                    role=role,
                    teams=teams,
                )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Created {agent.get_role_display().lower()} {agent.email}.")
        if not password:
            self.stdout.write(
                "No password was given; send the agent this one-time link to choose one:\n"
                + password_set_link(agent)
            )

    def _password(self) -> str | None:
        from_env = os.environ.get(PASSWORD_ENV)
        if from_env:
            return from_env
        if not sys.stdin.isatty():
            return None
        first = getpass.getpass("Password (leave empty to send a one-time link): ")
        if not first:
            return None
        if getpass.getpass("Password again: ") != first:
            raise CommandError("The passwords do not match.")
        return first
