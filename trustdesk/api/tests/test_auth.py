from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from trustdesk.accounts import services
from trustdesk.accounts.models import Agent, ApiToken
from trustdesk.accounts.services import token_create
from trustdesk.tickets.models import Ticket

pytestmark = pytest.mark.django_db

UNAUTHORIZED = {
    "code": "unauthorized",
    "message": "A valid API token is required: send the header Authorization: Bearer <token>.",
}


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Token td_whatever",
        "Bearer td_unknown-token",
        "Bearer not-even-our-prefix",
        "Bearer td_" + "x" * 200,
    ],
)
def test_missing_malformed_or_unknown_token_is_401(api_token: str, header: str | None) -> None:
    client = Client(headers={"Authorization": header} if header is not None else {})
    for response in (
        client.get("/api/v1/tickets"),
        client.post("/api/v1/tickets", {}, content_type="application/json"),
        client.get("/api/v1/customers/1"),
        client.get("/api/v1/search", {"q": "x"}),
    ):
        assert response.status_code == 401
        assert response.json() == UNAUTHORIZED
        assert response["WWW-Authenticate"] == 'Bearer realm="trustdesk"'
    assert Ticket.objects.count() == 0


def test_expired_and_revoked_tokens_are_401(agent: Agent) -> None:
    expired = token_create(agent=agent, expires_at=timezone.now() - timedelta(seconds=1))
    revoked = token_create(agent=agent)
    ApiToken.objects.filter(prefix=revoked[:10]).update(revoked_at=timezone.now())
    for token in (expired, revoked):
        response = Client(headers={"Authorization": f"Bearer {token}"}).get("/api/v1/tickets")
        assert (response.status_code, response.json()) == (401, UNAUTHORIZED)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(services, "_clock", fake)
    return fake


def test_deactivated_agent_is_401_once_the_token_cache_expires(
    agent: Agent, api: Client, clock: FakeClock
) -> None:
    assert api.get("/api/v1/tickets").status_code == 200
    Agent.objects.filter(pk=agent.pk).update(is_active=False)

    clock.now += services.TOKEN_CACHE_SECONDS - 0.1
    assert api.get("/api/v1/tickets").status_code == 200  # the documented latency
    clock.now += 0.2
    assert api.get("/api/v1/tickets").status_code == 401
    clock.now += services.TOKEN_CACHE_SECONDS * 2
    assert api.get("/api/v1/tickets").status_code == 401


def test_revoked_token_is_401_once_the_token_cache_expires(
    api_token: str, api: Client, clock: FakeClock
) -> None:
    assert api.get("/api/v1/tickets").status_code == 200
    ApiToken.objects.filter(prefix=api_token[:10]).update(revoked_at=timezone.now())

    clock.now += services.TOKEN_CACHE_SECONDS + 0.1
    assert api.get("/api/v1/tickets").status_code == 401


def test_a_cached_token_costs_no_query_and_writes_last_used_at_once(
    api_token: str, api: Client, clock: FakeClock, django_assert_num_queries: Any
) -> None:
    assert api.get("/api/v1/tickets").status_code == 200
    used = ApiToken.objects.get(prefix=api_token[:10]).last_used_at
    assert used is not None

    with django_assert_num_queries(2):  # the agent's teams, then the (empty) ticket page
        assert api.get("/api/v1/tickets").status_code == 200
    assert ApiToken.objects.get(prefix=api_token[:10]).last_used_at == used


def test_a_token_is_not_cached_past_its_expiry(agent: Agent, clock: FakeClock) -> None:
    token = token_create(agent=agent, expires_at=timezone.now() + timedelta(seconds=1))
    assert services.token_authenticate(token) == agent
    ApiToken.objects.filter(prefix=token[:10]).update(expires_at=timezone.now())

    clock.now += 1.1
    assert services.token_authenticate(token) is None


def test_bearer_scheme_is_case_insensitive(api_token: str) -> None:
    client = Client(headers={"Authorization": f"bearer {api_token}"})
    assert client.get("/api/v1/tickets").status_code == 200


def test_session_login_alone_does_not_authenticate_the_api(agent_client: Client) -> None:
    assert agent_client.get("/api/v1/tickets").status_code == 401


def test_writes_need_no_csrf_token_with_bearer_auth(api_token: str) -> None:
    client = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {api_token}"})
    response = client.post(
        "/api/v1/customers", {"name": "Csrf Free"}, content_type="application/json"
    )
    assert response.status_code == 201
