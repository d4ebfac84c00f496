"""Resolving the names clients use (agent emails, team names) to rows, and role checks."""

from __future__ import annotations

from django.utils.translation import gettext as _

from trustdesk.accounts.models import Agent, Team
from trustdesk.core.errors import PermissionDenied, ValidationFailed


def agent_by_email(email: str, *, field: str = "owner") -> Agent:
    agent = Agent.objects.filter(email=email.strip().lower(), is_active=True).first()
    if agent is None:
        raise ValidationFailed(
            _("No active agent has the email address %(email)s.") % {"email": email}, field=field
        )
    return agent


def team_by_name(name: str, *, field: str = "team") -> Team:
    team = Team.objects.filter(name=name.strip()).first()
    if team is None:
        raise ValidationFailed(_("No team is named %(name)s.") % {"name": name}, field=field)
    return team


def require_full_agent(agent: Agent) -> None:
    """Light agents read and add internal notes; every other write needs a full agent."""
    if agent.role == Agent.Role.LIGHT:
        raise PermissionDenied(_("Light agents can read and add internal notes only."))
