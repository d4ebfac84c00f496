"""What every page shares: CSP-friendly markup, landmarks, errors as 4xx banners."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from trustdesk.accounts.models import Team
from trustdesk.tickets.models import Ticket
from trustdesk.workspace.tests.conftest import MakeTicket
from trustdesk.workspace.tests.support import HTMX, text

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def test_templates_have_no_inline_styles_or_scripts() -> None:
    for path in TEMPLATES.rglob("*.html"):
        source = path.read_text()
        assert not re.search(r"\sstyle=", source), path
        assert "<style" not in source, path
        assert not re.search(r"\son[a-z]+=", source), path
        for tag in re.findall(r"<script[^>]*>", source):
            assert 'nonce="{{ csp_nonce }}"' in tag, path
            assert "src=" in tag, path


@pytest.mark.django_db
def test_pages_have_landmarks_skip_link_and_a_strict_csp(
    agent_client: Client, ticket: Ticket
) -> None:
    for page in (
        reverse("workspace:inbox"),
        reverse("workspace:ticket", args=[ticket.pk]),
        reverse("workspace:customer", args=[ticket.customer_id]),
        reverse("workspace:search"),
    ):
        response = agent_client.get(page)
        body = text(response)
        assert response.status_code == 200, page
        assert '<a class="skip-link" href="#main">Skip to main content</a>' in body
        assert '<main id="main"' in body
        assert 'role="search"' in body
        assert "<nav" in body
        assert 'aria-live="polite"' in body
        assert 'hx-headers=\'{"X-CSRFToken": "' in body
        policy = response["Content-Security-Policy"]
        assert "script-src 'self' 'nonce-" in policy
        assert "unsafe-inline" not in policy
        nonce = re.search(r"'nonce-([^']+)'", policy)
        assert nonce is not None
        assert body.count(f'nonce="{nonce.group(1)}"') == 2


@pytest.mark.django_db
def test_a_domain_error_in_an_htmx_request_becomes_a_banner(
    agent_client: Client, make_ticket: MakeTicket, other_team: Team
) -> None:
    hidden = make_ticket(team=other_team)
    response = agent_client.post(
        reverse("workspace:message_create", args=[hidden.pk]),
        {"visibility": "public", "body": "hello"},
        headers=HTMX,
    )
    assert response.status_code == 404
    assert response["HX-Retarget"] == "#flash"
    assert response["HX-Reswap"] == "innerHTML"
    assert "does not exist or is not visible to you" in text(response)
    assert 'role="alert"' in text(response)
