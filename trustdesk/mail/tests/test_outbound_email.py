"""What an agent's reply looks like in the customer's mailbox: threading, sender, parts."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from django.utils import timezone

from trustdesk.accounts.models import Agent
from trustdesk.customers.models import Customer
from trustdesk.mail.models import InboundEmail, OutboundEmail
from trustdesk.mail.outbound_threading import references_bound, reply_subject, thread_headers
from trustdesk.mail.testing import SmtpSink
from trustdesk.mail.tokens import reply_token_check, tokens_in_addresses
from trustdesk.tickets.attachments import UploadedFile
from trustdesk.tickets.models import Message, Ticket
from trustdesk.tickets.services import message_add, ticket_create

pytestmark = pytest.mark.django_db(transaction=True)

Capture = Callable[..., AbstractContextManager[Any]]


def reply(
    ticket: Ticket, agent: Agent, capture: Capture, body: str = "We are on it.", **kwargs: Any
) -> Message:
    with capture(execute=True):
        return message_add(ticket=ticket, body=body, author_agent=agent, **kwargs)


def inbound(
    ticket: Ticket,
    message_id: str,
    *,
    minutes_ago: int,
    headers: str = "",
    outcome: str = InboundEmail.Outcome.APPENDED,
) -> InboundEmail:
    raw = (
        f"From: marie@example.org\r\nTo: support@example.com\r\nSubject: Printer\r\n"
        f"Message-ID: {message_id}\r\n{headers}\r\nIt smokes.\r\n"
    ).encode()
    return InboundEmail.objects.create(
        dedupe_key=message_id,
        message_id_header=message_id,
        raw=raw,
        size=len(raw),
        source="smtp",
        state=InboundEmail.State.DONE,
        outcome=outcome,
        ticket=ticket,
        received_at=timezone.now() - timedelta(minutes=minutes_ago),
    )


def references(sent: EmailMessage) -> list[str]:
    """The References ids (a long header is folded, so compare the ids, not the spacing)."""
    return str(sent["References"]).split()


def part(sent: EmailMessage, subtype: str) -> str:
    body = sent.get_body(preferencelist=(subtype,))
    assert isinstance(body, EmailMessage)
    assert body.get_content_type() == f"text/{subtype}"
    return str(body.get_content())


def test_a_reply_threads_on_the_customers_latest_email_and_carries_a_signed_reply_to(
    ticket: Ticket,
    agent: Agent,
    smtp: SmtpSink,
    drain: Callable[[], int],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    inbound(ticket, "<first@mail.example.org>", minutes_ago=30)
    inbound(
        ticket,
        "<second@mail.example.org>",
        minutes_ago=10,
        headers="In-Reply-To: <td.1.x@localhost>\r\n"
        "References: <first@mail.example.org>\r\n <td.1.x@localhost>\r\n",
    )
    # The customer's out-of-office, suppressed by intake, is not what we answer.
    inbound(
        ticket,
        "<ooo@mail.example.org>",
        minutes_ago=5,
        outcome=InboundEmail.Outcome.SUPPRESSED,
    )
    reply(ticket, agent, django_capture_on_commit_callbacks)
    assert drain() == 1

    [sent] = smtp.messages
    assert sent["Message-ID"] == OutboundEmail.objects.get().rfc_message_id
    assert sent["In-Reply-To"] == "<second@mail.example.org>"
    assert references(sent) == [
        "<first@mail.example.org>",
        "<td.1.x@localhost>",
        "<second@mail.example.org>",
    ]
    assert sent["From"] == "Ada Lovelace <support@example.com>"
    assert sent["Subject"] == f"Re: Printer on fire [#{ticket.number}]"
    reply_to = str(sent["Reply-To"])
    assert reply_to.startswith("support+")
    assert reply_to.endswith("@example.com")
    [token] = tokens_in_addresses([reply_to])
    check = reply_token_check(token)
    assert (check.reason, check.ticket_id) == ("ok", ticket.pk)
    # Only automatic mail says so; an agent's reply is a person's mail.
    assert sent["Auto-Submitted"] is None
    assert sent["X-Auto-Response-Suppress"] is None


def test_without_inbound_email_replies_thread_on_our_own_previous_mail(
    customer: Customer,
    agent: Agent,
    smtp: SmtpSink,
    drain: Callable[[], int],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    ticket = ticket_create(customer=customer, subject="Web form", body="Hi", channel="web")
    for n in range(3):
        reply(ticket, agent, django_capture_on_commit_callbacks, body=f"Reply {n}")
        assert drain() == 1

    first, second, third = smtp.messages
    ids = [m["Message-ID"] for m in smtp.messages]
    assert (first["In-Reply-To"], first["References"]) == (None, None)
    assert (second["In-Reply-To"], references(second)) == (ids[0], [ids[0]])
    assert (third["In-Reply-To"], references(third)) == (ids[1], [ids[0], ids[1]])
    assert sent_from(smtp) == ["Ada Lovelace <support@localhost>"] * 3


def sent_from(smtp: SmtpSink) -> list[str]:
    return [str(m["From"]) for m in smtp.messages]


def test_references_keep_the_root_and_the_most_recent_ids(ticket: Ticket) -> None:
    ids = [f"<m{n}@example.org>" for n in range(30)]
    assert references_bound(ids) == (ids[0], *ids[11:])
    assert len(references_bound(ids)) == 20
    assert references_bound([ids[0], ids[1], ids[0]]) == (ids[0], ids[1])

    inbound(ticket, "<last@example.org>", minutes_ago=1, headers=f"References: {' '.join(ids)}\r\n")
    thread = thread_headers(ticket_id=ticket.pk, before=timezone.now())
    assert thread.in_reply_to == "<last@example.org>"
    assert thread.references == (ids[0], *ids[12:], "<last@example.org>")


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Printer on fire", "Re: Printer on fire [#7]"),
        ("RE: Re: Printer on fire", "Re: Printer on fire [#7]"),
        ("AW: Fwd: Printer [#7] on fire", "Re: Printer on fire [#7]"),
        ("Re[2]: Printer", "Re: Printer [#7]"),
        ("Re:", "Re: [#7]"),
    ],
)
def test_reply_subject(subject: str, expected: str) -> None:
    assert reply_subject(subject=subject, number=7) == expected


def test_a_reply_has_text_and_html_parts_with_the_signature_and_its_attachments(
    ticket: Ticket,
    agent: Agent,
    smtp: SmtpSink,
    drain: Callable[[], int],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    Agent.objects.filter(pk=agent.pk).update(signature="Ada Lovelace\nSupport <Example> Ltd")
    agent.refresh_from_db()
    message = reply(
        ticket,
        agent,
        django_capture_on_commit_callbacks,
        body="",
        html='<p>We are <strong>on</strong> it.</p><script>alert("x")</script>',
        attachments=[UploadedFile(filename="steps.txt", content=b"1. Unplug it\n")],
    )
    assert drain() == 1

    [sent] = smtp.messages
    assert sent.get_content_type() == "multipart/mixed"
    [alternative, *_] = sent.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    assert part(sent, "plain") == "We are on it.\n\n-- \nAda Lovelace\nSupport <Example> Ltd\n"
    html = part(sent, "html")
    assert "<div><p>We are <strong>on</strong> it.</p></div>" in html
    assert "-- <br>Ada Lovelace<br>Support &lt;Example&gt; Ltd</p>" in html
    assert "script" not in html
    stored = message.attachments.get()
    assert [
        (a.get_filename(), a.get_content_type(), a.get_content()) for a in sent.iter_attachments()
    ] == [("steps.txt", stored.content_type, "1. Unplug it\n")]


def test_internal_notes_never_reach_the_customer(
    ticket: Ticket,
    agent: Agent,
    smtp: SmtpSink,
    drain: Callable[[], int],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    reply(
        ticket,
        agent,
        django_capture_on_commit_callbacks,
        body="Customer is on our watch list",
        visibility="internal",
    )
    reply(ticket, agent, django_capture_on_commit_callbacks)
    assert drain() == 1

    [sent] = smtp.messages
    assert "watch list" not in sent.as_string()
    assert part(sent, "plain") == "We are on it.\n"
    assert OutboundEmail.objects.count() == 1
