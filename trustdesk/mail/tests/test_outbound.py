from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from trustdesk.accounts.models import Agent
from trustdesk.core.models import Event
from trustdesk.customers.models import ContactPoint, Customer
from trustdesk.customers.services import ContactInput, customer_create
from trustdesk.mail.models import OutboundEmail
from trustdesk.mail.services import outbound_send, retry_delay
from trustdesk.mail.tasks import message_send
from trustdesk.mail.testing import SmtpSink, free_port
from trustdesk.tickets.models import Message, Ticket
from trustdesk.tickets.services import message_add, ticket_create

# Real commits: the worker calls close_old_connections(), which closes a PostgreSQL connection
# that is inside a test's never-committed transaction.
pytestmark = pytest.mark.django_db(transaction=True)

Capture = Callable[..., AbstractContextManager[Any]]
TASK_PATH = "trustdesk.mail.tasks.message_send"


@pytest.fixture
def signed_agent(agent: Agent) -> Agent:
    Agent.objects.filter(pk=agent.pk).update(signature="Ada Lovelace\nSupport, Example Ltd")
    agent.refresh_from_db()
    return agent


def reply(ticket: Ticket, agent: Agent, capture: Capture, **kwargs: Any) -> Message:
    with capture(execute=True):
        return message_add(ticket=ticket, body="We are on it.", author_agent=agent, **kwargs)


def plain_text(sent: EmailMessage) -> str:
    part = sent.get_body(preferencelist=("plain",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content())


def send_tasks() -> list[DBTaskResult[..., Any]]:
    return list(DBTaskResult.objects.filter(task_path=TASK_PATH).order_by("enqueued_at"))


def test_public_reply_is_sent_once_with_our_message_id_and_signature(
    ticket: Ticket,
    signed_agent: Agent,
    smtp: SmtpSink,
    drain: Callable[[], int],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    message = reply(ticket, signed_agent, django_capture_on_commit_callbacks)

    outbound = OutboundEmail.objects.get()
    assert (outbound.message_id, outbound.state, outbound.attempts, outbound.to_address) == (
        message.pk,
        "queued",
        0,
        "marie@example.org",
    )
    assert smtp.messages == []
    assert drain() == 1

    outbound.refresh_from_db()
    assert (outbound.state, outbound.attempts, outbound.last_error) == ("sent", 1, "")
    assert outbound.sent_at is not None
    [sent] = smtp.messages
    assert sent["Message-ID"] == outbound.rfc_message_id
    assert outbound.rfc_message_id.startswith(f"<td.{message.pk}.")
    assert outbound.rfc_message_id.endswith("@localhost>")
    assert sent["From"] == "Ada Lovelace <support@example.com>"
    assert sent["To"] == "marie@example.org"
    assert sent["Subject"] == f"Re: Printer on fire [#{ticket.number}]"
    assert sent["X-Trustdesk-Ticket"] == str(ticket.number)
    assert plain_text(sent) == "We are on it.\n\n-- \nAda Lovelace\nSupport, Example Ltd\n"
    assert smtp.envelopes == [("support@example.com", ["marie@example.org"])]
    assert list(
        Event.objects.filter(kind="message.email_sent").values_list("subject_id", "payload")
    ) == [(ticket.pk, {"message": message.pk, "message_id": outbound.rfc_message_id})]


def test_running_the_task_again_sends_nothing(
    ticket: Ticket,
    agent: Agent,
    smtp: SmtpSink,
    drain: Callable[[], int],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    message = reply(ticket, agent, django_capture_on_commit_callbacks)
    assert drain() == 1

    message_send.enqueue(message.pk)
    assert drain() == 1
    assert message_send.call(message.pk) == "sent"

    assert len(smtp.messages) == 1
    assert OutboundEmail.objects.get().attempts == 1
    assert Event.objects.filter(kind="message.email_sent").count() == 1


def test_a_row_claimed_by_another_worker_is_left_alone(
    ticket: Ticket, agent: Agent, smtp: SmtpSink, django_capture_on_commit_callbacks: Capture
) -> None:
    message = reply(ticket, agent, django_capture_on_commit_callbacks)
    OutboundEmail.objects.update(state="sending", attempts=1)

    assert outbound_send(message_id=message.pk) == "sending"

    assert smtp.messages == []
    assert OutboundEmail.objects.values_list("state", "attempts").get() == ("sending", 1)


def test_queueing_twice_keeps_one_row_and_one_task(
    ticket: Ticket, agent: Agent, smtp: SmtpSink, django_capture_on_commit_callbacks: Capture
) -> None:
    from trustdesk.mail.services import outbound_queue

    message = reply(ticket, agent, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        again = outbound_queue(message.pk)

    assert again is not None
    assert again.pk == OutboundEmail.objects.get().pk
    assert len(send_tasks()) == 1


def test_notes_customer_messages_and_chat_replies_send_nothing(
    ticket: Ticket,
    agent: Agent,
    customer: Customer,
    smtp: SmtpSink,
    drain: Callable[[], int],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    chat = ticket_create(customer=customer, subject="Chat", body="Hi", channel="chat")
    with django_capture_on_commit_callbacks(execute=True):
        message_add(
            ticket=ticket, body="Check the toner.", author_agent=agent, visibility="internal"
        )
        message_add(ticket=ticket, body="Any news?", author_customer=customer)
        message_add(ticket=chat, body="Hello!", author_agent=agent)

    assert OutboundEmail.objects.count() == 0
    assert send_tasks() == []
    assert drain() == 0
    assert smtp.messages == []


def test_a_customer_without_email_gets_a_failed_row_and_no_task(
    agent: Agent, smtp: SmtpSink, django_capture_on_commit_callbacks: Capture
) -> None:
    caller = customer_create(
        full_name="Pierre Curie",
        contacts=[ContactInput(kind=ContactPoint.Kind.PHONE, value="+33 1 23 45 67")],
    )
    ticket = ticket_create(customer=caller, subject="Web form", body="Call me", channel="web")

    reply(ticket, agent, django_capture_on_commit_callbacks)

    outbound = OutboundEmail.objects.get()
    assert (outbound.state, outbound.attempts, outbound.last_error) == (
        "failed",
        0,
        "The customer has no email address.",
    )
    assert send_tasks() == []
    assert Event.objects.filter(kind="message.email_failed", subject_id=ticket.pk).count() == 1


def test_without_a_team_the_reply_comes_from_the_default_address(
    customer: Customer,
    agent: Agent,
    smtp: SmtpSink,
    settings: Any,
    drain: Callable[[], int],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    settings.DEFAULT_FROM_EMAIL = "help@example.net"
    ticket = ticket_create(customer=customer, subject="API", body="Hello", channel="api")

    reply(ticket, agent, django_capture_on_commit_callbacks)
    assert drain() == 1

    [sent] = smtp.messages
    assert sent["From"] == "Ada Lovelace <help@example.net>"
    assert sent["Reply-To"].startswith("help+")
    assert plain_text(sent) == "We are on it.\n"


def test_a_temporary_failure_is_recorded_and_retried_after_a_delay(
    ticket: Ticket,
    agent: Agent,
    smtp: SmtpSink,
    settings: Any,
    drain: Callable[[], int],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    settings.TRUSTDESK_MAIL_RETRY_SECONDS = 60
    smtp.reject_next = 1
    reply(ticket, agent, django_capture_on_commit_callbacks)

    before = timezone.now()
    assert drain() == 1
    outbound = OutboundEmail.objects.get()
    assert (outbound.state, outbound.attempts, outbound.last_error) == (
        "queued",
        1,
        "451 4.3.0 Mailbox busy, try again later",
    )
    assert smtp.messages == []
    first, retry = send_tasks()
    assert (first.status, retry.status) == ("SUCCESSFUL", "READY")
    assert retry.run_after is not None
    assert (
        before + timedelta(seconds=60) <= retry.run_after <= timezone.now() + timedelta(seconds=60)
    )
    assert drain() == 0  # not due yet

    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())  # time passes
    assert drain() == 1
    outbound.refresh_from_db()
    assert (outbound.state, outbound.attempts, outbound.last_error) == ("sent", 2, "")
    assert len(smtp.messages) == 1
    assert smtp.messages[0]["Message-ID"] == outbound.rfc_message_id


def test_temporary_failures_give_up_after_the_attempt_limit(
    ticket: Ticket,
    agent: Agent,
    smtp: SmtpSink,
    settings: Any,
    drain: Callable[[], int],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    settings.TRUSTDESK_MAIL_MAX_ATTEMPTS = 3
    settings.TRUSTDESK_MAIL_RETRY_SECONDS = 0
    smtp.reject_next = 10
    reply(ticket, agent, django_capture_on_commit_callbacks)

    assert drain() == 3

    outbound = OutboundEmail.objects.get()
    assert (outbound.state, outbound.attempts) == ("failed", 3)
    assert outbound.last_error == "451 4.3.0 Mailbox busy, try again later"
    assert (smtp.rejected, smtp.messages) == (3, [])
    assert Event.objects.filter(kind="message.email_failed").count() == 1
    assert drain() == 0


def test_a_permanent_failure_is_not_retried(
    ticket: Ticket,
    agent: Agent,
    smtp: SmtpSink,
    settings: Any,
    drain: Callable[[], int],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    settings.TRUSTDESK_MAIL_RETRY_SECONDS = 0
    smtp.reject_next = 1
    smtp.reject_reply = "554 5.7.1 Message rejected as spam"
    reply(ticket, agent, django_capture_on_commit_callbacks)

    assert drain() == 1

    outbound = OutboundEmail.objects.get()
    assert (outbound.state, outbound.attempts, outbound.last_error) == (
        "failed",
        1,
        "554 5.7.1 Message rejected as spam",
    )
    assert len(send_tasks()) == 1
    assert smtp.messages == []


def test_an_unreachable_server_is_a_temporary_failure(
    ticket: Ticket,
    agent: Agent,
    settings: Any,
    drain: Callable[[], int],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port(), "timeout": 5},
        }
    }
    reply(ticket, agent, django_capture_on_commit_callbacks)

    assert drain() == 1

    outbound = OutboundEmail.objects.get()
    assert (outbound.state, outbound.attempts) == ("queued", 1)
    assert outbound.last_error.startswith("ConnectionRefusedError: ")
    assert [t.status for t in send_tasks()] == ["SUCCESSFUL", "READY"]


def test_retry_delay_grows_and_is_capped(settings: Any) -> None:
    settings.TRUSTDESK_MAIL_RETRY_SECONDS = 60
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 4, 10)] == [
        60,
        240,
        960,
        3840,
        6 * 3600,
    ]
