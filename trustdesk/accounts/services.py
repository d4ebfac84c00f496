"""Writes for agents, teams and API tokens."""

from __future__ import annotations

import copy
import hashlib
import secrets
import time
from datetime import datetime

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from trustdesk.accounts.models import Agent, ApiToken, Team, TeamMembership
from trustdesk.core.errors import Conflict, ValidationFailed
from trustdesk.core.services import event_record

TOKEN_PREFIX = "td_"  # noqa: S105 (a prefix, not a secret)


def agent_create(
    *,
    email: str,
    display_name: str,
    password: str | None = None,
    role: str = Agent.Role.AGENT,
    teams: list[Team] | None = None,
    check_password: bool = True,
) -> Agent:
    email = email.strip().lower()
    display_name = " ".join(display_name.split())
    if not display_name:
        raise ValidationFailed("An agent needs a name.", field="name")
    if role not in Agent.Role.values:
        raise ValidationFailed(f"Unknown role {role!r}.", field="role")
    if Agent.objects.filter(email=email).exists():
        raise Conflict(f"An agent with {email} already exists.", code="agent_exists")
    if password and check_password:
        try:
            validate_password(password)
        except ValidationError as exc:
            raise ValidationFailed(" ".join(exc.messages), field="password") from exc
    with transaction.atomic():
        admin = role == Agent.Role.ADMIN
        agent = Agent.objects.create_user(
            email,
            password,
            display_name=display_name,
            role=role,
            is_staff=admin,
            is_superuser=admin,
        )
        for team in teams or []:
            TeamMembership.objects.create(team=team, agent=agent)
        event_record(kind="agent.created", subject_type="agent", subject_id=agent.pk)
    return agent


def team_get_or_create(*, name: str, email: str = "") -> Team:
    team, _ = Team.objects.get_or_create(name=name.strip(), defaults={"email": email})
    return team


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_create(*, agent: Agent, name: str = "", expires_at: datetime | None = None) -> str:
    """Create an API token and return it in clear: the only time it is ever visible."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        record = ApiToken.objects.create(
            agent=agent,
            name=name[:80],
            prefix=token[:10],
            key_hash=_digest(token),
            created_at=timezone.now(),
            expires_at=expires_at,
        )
        event_record(
            kind="token.created",
            subject_type="agent",
            subject_id=agent.pk,
            payload={"token": record.pk},
        )
    return token


# token_authenticate remembers, per process, the agent behind each token it found valid
# (key: the token's SHA-256, never the token): revoking a token or deactivating its agent
# reaches every server process within TOKEN_CACHE_SECONDS.
TOKEN_CACHE_SECONDS = 5.0
_TOKEN_CACHE_MAX = 1024
_token_cache: dict[str, tuple[Agent, float]] = {}
_clock = time.monotonic


def token_authenticate(token: str) -> Agent | None:
    """The active agent behind a bearer token, or None for anything malformed, unknown or expired.

    A valid token is remembered for up to ``TOKEN_CACHE_SECONDS`` (never past its expiry), so
    most requests cost no query; each caller gets its own copy of the agent.
    """
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    digest = _digest(token)
    cached = _token_cache.get(digest)
    if cached is not None and cached[1] > _clock():
        return copy.copy(cached[0])
    record = (
        ApiToken.objects.select_related("agent")
        .filter(key_hash=digest, revoked_at__isnull=True)
        .first()
    )
    if record is None or not record.agent.is_active:
        _token_cache.pop(digest, None)
        return None
    now = timezone.now()
    if record.expires_at is not None and record.expires_at <= now:
        return None
    if record.last_used_at is None or (now - record.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)
    valid_for = TOKEN_CACHE_SECONDS
    if record.expires_at is not None:
        valid_for = min(valid_for, (record.expires_at - now).total_seconds())
    if len(_token_cache) >= _TOKEN_CACHE_MAX:
        _token_cache.clear()
    _token_cache[digest] = (record.agent, _clock() + valid_for)
    return copy.copy(record.agent)
