"""Replies that did not go out: rows stuck in "sending", and the agent's retry button."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from trustdesk.accounts.models import Agent, Team
from trustdesk.accounts.services import agent_create
from trustdesk.core.models import Event
from trustdesk.mail.models import OutboundEmail
from trustdesk.mail.services import outbound_requeue_stuck
from trustdesk.mail.testing import SmtpSink
from trustdesk.tickets.models import Message, Ticket
from trustdesk.tickets.services import message_add

pytestmark = pytest.mark.django_db(transaction=True)

Capture = Callable[..., AbstractContextManager[Any]]
SWEEP_PATH = "trustdesk.mail.tasks.sending_sweep"


def reply(ticket: Ticket, agent: Agent, capture: Capture, body: str = "We are on it.") -> Message:
    with capture(execute=True):
        return message_add(ticket=ticket, body=body, author_agent=agent)


def sweeps() -> list[DBTaskResult[..., Any]]:
    return list(DBTaskResult.objects.filter(task_path=SWEEP_PATH).order_by("enqueued_at"))


def page(client: Client, ticket: Ticket) -> str:
    response = client.get(reverse("workspace:ticket", args=[ticket.pk]))
    assert response.status_code == 200
    return bytes(response.content).decode()


def test_a_row_stuck_in_sending_is_queued_again_and_sent_once(
    ticket: Ticket,
    agent: Agent,
    smtp: SmtpSink,
    settings: Any,
    drain: Callable[[], int],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    settings.TRUSTDESK_MAIL_SENDING_TIMEOUT_SECONDS = 600
    stuck = reply(ticket, agent, django_capture_on_commit_callbacks, body="First")
    busy = reply(ticket, agent, django_capture_on_commit_callbacks, body="Second")
    now = timezone.now()
    # A worker claimed the first 11 minutes ago and died; another is sending the second now.
    OutboundEmail.objects.filter(message=stuck).update(
        state="sending", attempts=1, updated_at=now - timedelta(minutes=11)
    )
    OutboundEmail.objects.filter(message=busy).update(
        state="sending", attempts=1, updated_at=now - timedelta(minutes=1)
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert outbound_requeue_stuck() == [stuck.pk]
    row = OutboundEmail.objects.get(message=stuck)
    assert (row.state, row.attempts, row.last_error) == (
        "queued",
        1,
        "The worker stopped while sending (attempt 1); queued again.",
    )
    # The two original send tasks find nothing queued; the one the sweep queued sends.
    assert drain() == 3

    assert [m["Message-ID"] for m in smtp.messages] == [row.rfc_message_id]
    row.refresh_from_db()
    assert (row.state, row.attempts, row.last_error) == ("sent", 2, "")
    assert OutboundEmail.objects.get(message=busy).state == "sending"
    with django_capture_on_commit_callbacks(execute=True):
        assert outbound_requeue_stuck() == []
    assert len(smtp.messages) == 1


def test_the_sweep_is_scheduled_once_and_reschedules_itself(
    ticket: Ticket,
    agent: Agent,
    smtp: SmtpSink,
    settings: Any,
    drain: Callable[[], int],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    settings.TRUSTDESK_MAIL_SENDING_TIMEOUT_SECONDS = 300
    before = timezone.now()
    first = reply(ticket, agent, django_capture_on_commit_callbacks, body="First")
    reply(ticket, agent, django_capture_on_commit_callbacks, body="Second")

    [sweep] = sweeps()
    assert sweep.status == "READY"
    assert sweep.run_after is not None
    assert before + timedelta(seconds=300) <= sweep.run_after
    assert sweep.run_after <= timezone.now() + timedelta(seconds=300)
    assert drain() == 2  # the two sends; the sweep is not due
    assert len(smtp.messages) == 2

    OutboundEmail.objects.filter(message=first).update(
        state="sending", updated_at=timezone.now() - timedelta(minutes=6)
    )
    DBTaskResult.objects.filter(pk=sweep.pk).update(run_after=timezone.now())  # time passes
    assert drain() == 2  # the sweep, then the send it queued

    assert len(smtp.messages) == 3
    done, following = sweeps()
    assert (done.status, done.return_value) == ("SUCCESSFUL", 1)
    assert following.status == "READY"


def test_a_failed_reply_shows_the_server_answer_and_can_be_retried(
    ticket: Ticket,
    agent: Agent,
    agent_client: Client,
    smtp: SmtpSink,
    settings: Any,
    drain: Callable[[], int],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    smtp.reject_next = 1
    smtp.reject_reply = "550 5.1.1 <marie@example.org>: Recipient address rejected"
    message = reply(ticket, agent, django_capture_on_commit_callbacks)
    assert drain() == 1
    retry_url = reverse("mail:outbound_retry", args=[message.pk])

    html = page(agent_client, ticket)
    assert '<footer class="delivery delivery-failed"' in html
    assert "Not delivered after 1 attempt</span>" in html
    assert (
        "Server answer: <code>550 5.1.1 &lt;marie@example.org&gt;: Recipient address rejected"
        "</code>" in html
    )
    assert f'<form method="post" action="{retry_url}" class="delivery-retry">' in html

    response = agent_client.post(retry_url)
    assert response.status_code == 302
    assert response["Location"] == f"/tickets/{ticket.pk}/#message-{message.pk}"
    assert OutboundEmail.objects.values_list("state", "attempts").get() == ("queued", 1)
    html = page(agent_client, ticket)
    assert '<div class="alert alert-success" role="status">The email is queued again.</div>' in html
    assert '<span class="delivery-state">Queued again after 1 attempt:</span>' in html
    assert "delivery-retry" not in html
    assert drain() == 1

    assert len(smtp.messages) == 1
    assert OutboundEmail.objects.values_list("state", "attempts", "last_error").get() == (
        "sent",
        2,
        "",
    )
    html = page(agent_client, ticket)
    assert "Sent to marie@example.org</span>" in html
    assert "delivery-retry" not in html
    assert "The email is queued again." not in html  # the flash is shown once
    assert list(Event.objects.filter(kind="message.email_retried").values_list("actor_id")) == [
        (agent.pk,)
    ]


def test_retry_refuses_what_it_must_not_send(
    ticket: Ticket,
    agent: Agent,
    team: Team,
    agent_client: Client,
    smtp: SmtpSink,
    drain: Callable[[], int],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    message = reply(ticket, agent, django_capture_on_commit_callbacks)
    assert drain() == 1
    retry_url = reverse("mail:outbound_retry", args=[message.pk])

    # Already sent: a retry would be a second copy.
    assert agent_client.post(retry_url).status_code == 409
    # Only POST, with the CSRF token.
    assert agent_client.get(retry_url).status_code == 405
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(agent)
    OutboundEmail.objects.update(state="failed")
    assert csrf_client.post(retry_url).status_code == 403
    # Light agents cannot send replies; signed-out visitors are sent to the login page.
    light = agent_create(
        email="light@example.com",
        display_name="Linus Light",
        password="x" * 12,
        role=Agent.Role.LIGHT,
        teams=[team],
    )
    light_client = Client()
    light_client.force_login(light)
    assert light_client.post(retry_url).status_code == 403
    assert Client().post(retry_url).status_code == 302

    assert OutboundEmail.objects.values_list("state", "attempts").get() == ("failed", 1)
    assert drain() == 0
    assert len(smtp.messages) == 1
    assert not Event.objects.filter(kind="message.email_retried").exists()


def test_a_stuck_row_that_used_up_its_attempts_fails_instead(
    ticket: Ticket,
    agent: Agent,
    smtp: SmtpSink,
    settings: Any,
    drain: Callable[[], int],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    settings.TRUSTDESK_MAIL_MAX_ATTEMPTS = 3
    message = reply(ticket, agent, django_capture_on_commit_callbacks)
    OutboundEmail.objects.update(
        state="sending", attempts=3, updated_at=timezone.now() - timedelta(hours=1)
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert outbound_requeue_stuck() == []

    assert OutboundEmail.objects.values_list("state", "last_error").get() == (
        "failed",
        "The worker stopped while sending (attempt 3); giving up.",
    )
    assert drain() == 1  # the original send task finds nothing to do
    assert smtp.messages == []
    assert list(
        Event.objects.filter(kind="message.email_failed").values_list("payload", flat=True)
    ) == [
        {"message": message.pk, "error": "The worker stopped while sending (attempt 3); giving up."}
    ]


class BrokenApiBackend(BaseEmailBackend):
    """An ESP backend whose API client fails with its own exception type."""

    def send_messages(self, email_messages: Sequence[Any]) -> int:
        raise RuntimeError("ESP answered 503 Service Unavailable")


def test_a_backend_failing_in_its_own_way_is_recorded_and_retried_not_left_sending(
    ticket: Ticket,
    agent: Agent,
    settings: Any,
    drain: Callable[[], int],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.BrokenApiBackend"}}
    reply(ticket, agent, django_capture_on_commit_callbacks)

    assert drain() == 1

    assert OutboundEmail.objects.values_list("state", "attempts", "last_error").get() == (
        "queued",
        1,
        "RuntimeError: ESP answered 503 Service Unavailable",
    )
