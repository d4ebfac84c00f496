"""The quarantine page and its retry action: admins only, POST with CSRF."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from trustdesk.accounts.models import Agent
from trustdesk.mail.intake.testing import FIXTURES, eml, ingest
from trustdesk.mail.models import InboundEmail
from trustdesk.tickets.models import Ticket

pytestmark = pytest.mark.django_db
LIST_URL = "/mail/quarantine/"


def retry_url(inbound_id: int) -> str:
    return f"/mail/quarantine/{inbound_id}/retry/"


@pytest.fixture
def admin_client(admin_agent: Agent) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_agent)
    return client


@pytest.fixture
def quarantined() -> int:
    raw = b"From: =?utf-8?q?Z=C3=BC?= <zu@example.net>\nSubject: <b>broken</b>\n"
    raw += b"Message-ID: <q1@example.net>\n"
    ingest(b"\n" + raw)  # a leading blank line: no header fields, quarantined
    return InboundEmail.objects.get().pk


def test_urls() -> None:
    assert reverse("mail:quarantine") == LIST_URL
    assert reverse("mail:quarantine_retry", args=[7]) == retry_url(7)


def test_admins_see_the_quarantine_with_error_and_retry_form(
    admin_client: Client, quarantined: int, django_assert_num_queries: Any
) -> None:
    ingest(eml("fresh", subject="fine"))  # done: not listed
    ingest(b"no headers at all, a second one\n")
    ingest(b"no headers at all, a third one\n")
    # session, agent, inbox counts, quarantine count and list: not one query per row
    with django_assert_num_queries(8):
        response = admin_client.get(LIST_URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Quarantined email" in html
    assert html.count('class="card quarantine-item"') == 3
    assert "3 messages" in html
    assert "parse: EmailParseError: no header fields: not an email" in html
    assert f'action="{retry_url(quarantined)}"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'aria-current="page"' in html  # the sidebar link is the current page
    assert "<script" not in html.split("</nav>", 1)[1].split("</main>", 1)[0]


def test_the_empty_quarantine(admin_client: Client) -> None:
    response = admin_client.get(LIST_URL)
    assert response.status_code == 200
    assert "Nothing in quarantine" in response.content.decode()


def test_agents_get_403_and_no_sidebar_link(agent_client: Client, quarantined: int) -> None:
    assert agent_client.get(LIST_URL).status_code == 403
    assert agent_client.post(retry_url(quarantined)).status_code == 403
    assert InboundEmail.objects.get(pk=quarantined).attempts == 1
    assert LIST_URL not in agent_client.get("/").content.decode()


def test_admins_have_the_sidebar_link(admin_client: Client) -> None:
    assert f'href="{LIST_URL}"' in admin_client.get("/").content.decode()


def test_anonymous_visitors_are_sent_to_login() -> None:
    response = Client().get(LIST_URL)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login/")


def test_retry_needs_post_and_csrf(admin_client: Client, quarantined: int) -> None:
    assert admin_client.get(retry_url(quarantined)).status_code == 405
    assert admin_client.post(retry_url(quarantined)).status_code == 403  # no CSRF token
    assert InboundEmail.objects.get(pk=quarantined).attempts == 1


def test_retry_processes_again_and_reports(admin_client: Client, admin_agent: Agent) -> None:
    first = ingest(b"Subject: nobody\nMessage-ID: <r1@example.net>\n\nHello\n")
    assert first.outcome == "quarantined"
    InboundEmail.objects.filter(pk=first.inbound_id).update(envelope_from="late@example.net")
    page = admin_client.get(LIST_URL)
    token = page.cookies["csrftoken"].value

    response = admin_client.post(
        retry_url(first.inbound_id), {"csrfmiddlewaretoken": token}, follow=True
    )

    assert response.redirect_chain == [(LIST_URL, 302)]
    number = Ticket.objects.get().number
    html = response.content.decode()
    assert f"Message {first.inbound_id}: created (ticket #{number})." in html
    assert "Nothing in quarantine" in html
    assert InboundEmail.objects.get(pk=first.inbound_id).state == "done"


def test_retry_of_a_message_that_fails_again_says_so(
    admin_client: Client, quarantined: int
) -> None:
    token = admin_client.get(LIST_URL).cookies["csrftoken"].value
    response = admin_client.post(
        retry_url(quarantined), {"csrfmiddlewaretoken": token}, follow=True
    )
    html = response.content.decode()
    assert "Still quarantined: parse: EmailParseError: no header fields: not an email" in html
    assert InboundEmail.objects.get(pk=quarantined).attempts == 2


def test_retry_of_a_done_message_is_a_conflict(admin_client: Client) -> None:
    done = ingest((FIXTURES / "mailing_list.eml").read_bytes())
    token = admin_client.get(LIST_URL).cookies["csrftoken"].value
    response = admin_client.post(retry_url(done.inbound_id), {"csrfmiddlewaretoken": token})
    assert response.status_code == 409
    assert "That message is not quarantined." in response.content.decode()
