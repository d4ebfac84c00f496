"""Bearer-token authentication for the API."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer

from trustdesk.accounts.models import Agent
from trustdesk.accounts.services import token_authenticate


class BearerToken(HttpBearer):
    """``Authorization: Bearer <token>``; anything else leaves the request unauthenticated (401)."""

    def authenticate(self, request: HttpRequest, token: str) -> Agent | None:
        return token_authenticate(token.strip())


def request_agent(request: HttpRequest) -> Agent:
    """The agent the bearer token authenticated; ninja stores it on ``request.auth``."""
    agent = getattr(request, "auth", None)
    if not isinstance(agent, Agent):  # pragma: no cover - every operation requires auth
        raise RuntimeError("API operation reached without an authenticated agent")
    return agent
