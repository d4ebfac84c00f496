"""The intake pipeline on .eml fixtures: outcomes, what lands on the ticket, threading."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from trustdesk.accounts.models import Agent, Team
from trustdesk.accounts.services import agent_create
from trustdesk.core.models import Event
from trustdesk.customers.models import ContactPoint, Customer, Organization
from trustdesk.customers.services import ContactInput, customer_create
from trustdesk.mail.intake.drain import (
    BATCH_SIZE,
    MAX_ATTEMPTS,
    inbound_drain,
    inbound_requeue_stuck,
)
from trustdesk.mail.intake.lookups import Lookups
from trustdesk.mail.intake.pipeline import (
    inbound_finish,
    inbound_parse,
    inbound_process,
    inbound_retry,
)
from trustdesk.mail.intake.store import EmailTooLarge, inbound_store
from trustdesk.mail.intake.testing import FIXTURES, eml, ingest, message_of, ticket_of
from trustdesk.mail.models import InboundEmail, OutboundEmail
from trustdesk.mail.services import outbound_queue
from trustdesk.mail.tokens import reply_address
from trustdesk.tickets.models import Message, Status, Ticket
from trustdesk.tickets.services import TicketChanges, message_add, ticket_create, ticket_update

pytestmark = pytest.mark.django_db
ACK_TASK = "trustdesk.mail.tasks.acknowledgement_deliver"


@pytest.fixture
def ticket(customer: Customer, team: Team) -> Ticket:
    return ticket_create(
        customer=customer, subject="Printer on fire", body="It smokes.", channel="email", team=team
    )


def agent_reply(ticket: Ticket, agent: Agent) -> OutboundEmail:
    """A public agent reply that went out by email (its OutboundEmail row, our Message-ID)."""
    message = message_add(ticket=ticket, body="We are on it.", author_agent=agent)
    outbound = outbound_queue(message.pk)
    assert outbound is not None
    return outbound


def result_ticket_id(inbound_id: int) -> int | None:
    return InboundEmail.objects.get(pk=inbound_id).ticket_id


def inbound_messages(ticket: Ticket) -> list[Message]:
    return list(ticket.messages.filter(direction=Message.Direction.INBOUND).order_by("id"))


def test_a_new_message_opens_a_ticket_with_text_attachments_and_email_meta(
    customer: Customer, team: Team
) -> None:
    result = ingest((FIXTURES / "new_request.eml").read_bytes())

    assert result.outcome == "created"
    assert result.reason == "new conversation"
    ticket = ticket_of(result)
    assert (ticket.subject, ticket.channel, ticket.customer_id) == (
        "Printer on fire",
        "email",
        customer.pk,
    )
    assert ticket.team_id == team.pk  # To: support@example.com is the Support team's address
    message = ticket.messages.get()
    assert message.body_text == (
        "Hello,\n\nThe printer in room 42 smokes when I print in colour.\n\nMarie"
    )
    assert [(a.filename, a.size) for a in message.attachments.all()] == [("log.txt", 18)]
    row = InboundEmail.objects.get(pk=result.inbound_id)
    assert message.meta == {
        "email": {
            "message_id": "<new-request-1@mail.example.org>",
            "from": {"name": "Marie Curie", "address": "marie@example.org"},
            "to": [{"name": "Support", "address": "support@example.com"}],
            "cc": [],
            "subject": "Printer on fire",
            "quoted": "",
            "signature": "--\nMarie Curie\nRadium Institute",
            "automated": None,
            "verified": None,
            "verification_reason": "no trusted relay configured",
            "inbound_id": row.pk,
            "routing": "new conversation",
            "dropped_attachments": [],
        }
    }
    assert (row.state, row.outcome, row.ticket_id, row.message_id, row.attempts) == (
        "done",
        "created",
        ticket.pk,
        message.pk,
        1,
    )
    assert row.source == "test"
    assert Customer.objects.count() == 1  # the known sender was not created again


def test_unknown_sender_becomes_a_customer_and_gets_one_acknowledgement_task(
    django_capture_on_commit_callbacks: Any,
) -> None:
    raw = eml("fresh", from_name="Pierre Curie", from_address="Pierre@Example.net", subject="Hi")
    with django_capture_on_commit_callbacks(execute=True):
        result = ingest(raw)

    assert result.outcome == "created"
    customer = Customer.objects.get()
    assert customer.full_name == "Pierre Curie"
    assert list(customer.contact_points.values_list("kind", "value")) == [
        ("email", "pierre@example.net")
    ]
    ack = DBTaskResult.objects.get(task_path=ACK_TASK)
    assert ack.args_kwargs == {
        "args": [result_ticket_id(result.inbound_id), "pierre@example.net"],
        "kwargs": {},
    }


def test_duplicate_delivery_is_stored_once_and_processed_once(customer: Customer) -> None:
    raw = (FIXTURES / "new_request.eml").read_bytes()
    first = inbound_store(raw=raw, source="smtp")
    again = inbound_store(raw=raw + b"\n", source="imap:1")  # same Message-ID, other bytes

    assert first.duplicate is False
    assert again.duplicate is True
    assert again.inbound_id == first.inbound_id
    assert InboundEmail.objects.count() == 1
    assert inbound_process(inbound_id=first.inbound_id).outcome == "created"
    twice = inbound_process(inbound_id=first.inbound_id)
    assert twice.outcome == "created"
    assert Ticket.objects.count() == 1
    assert InboundEmail.objects.get().attempts == 1


def test_without_a_message_id_the_bytes_are_the_key() -> None:
    raw = b"From: a@example.org\nSubject: no id\n\nbody\n"
    first = inbound_store(raw=raw, source="pipe")
    second = inbound_store(raw=raw, source="pipe")
    other = inbound_store(raw=raw + b"more\n", source="pipe")

    assert (first.duplicate, second.duplicate, other.duplicate) == (False, True, False)
    row = InboundEmail.objects.get(pk=first.inbound_id)
    assert row.dedupe_key.startswith("sha256:")
    assert row.message_id_header == ""


def test_a_message_over_the_size_limit_is_refused_and_not_stored(settings: Any) -> None:
    settings.TRUSTDESK_MAX_EMAIL_BYTES = 100
    with pytest.raises(EmailTooLarge) as caught:
        inbound_store(raw=b"Subject: x\n\n" + b"a" * 100, source="pipe")
    assert caught.value.message == "The message is 112 bytes; the limit is 100 bytes."
    assert InboundEmail.objects.count() == 0


DRAIN_TASK = "trustdesk.mail.intake.tasks.inbound_drain_task"


def test_storing_enqueues_one_drain_after_commit(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        stored = inbound_store(raw=eml("fresh", subject="Hello"), source="pipe")
        inbound_store(raw=bytes(InboundEmail.objects.get(pk=stored.inbound_id).raw), source="pipe")
    assert len(callbacks) == 1  # the drain and sweep check; the duplicate added nothing
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        inbound_store(raw=eml("fresh", subject="Another"), source="pipe")
    assert len(callbacks) == 1
    task = DBTaskResult.objects.get(task_path=DRAIN_TASK)  # one drain waits for both messages
    assert task.args_kwargs == {"args": [], "kwargs": {}}
    sweep = DBTaskResult.objects.get(task_path="trustdesk.mail.intake.tasks.inbound_sweep")
    assert sweep.run_after is not None
    assert sweep.run_after > timezone.now() + timedelta(minutes=4)


def test_a_drain_processes_waiting_messages_in_batches_and_each_once(
    customer: Customer, run_tasks: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        ids = [
            inbound_store(raw=eml("fresh", subject=f"n{i}"), source="smtp").inbound_id
            for i in range(BATCH_SIZE + 3)
        ]
    with django_capture_on_commit_callbacks(execute=True):
        run_tasks()
    rows = InboundEmail.objects.filter(pk__in=ids)
    assert {(r.state, r.attempts) for r in rows} == {("done", 1)}
    assert Ticket.objects.count() == BATCH_SIZE + 3
    drains = sorted(
        int(value or 0)
        for value in DBTaskResult.objects.filter(task_path=DRAIN_TASK).values_list(
            "return_value", flat=True
        )
    )
    assert drains == [3, BATCH_SIZE]  # a full batch queued the next drain before writing


def test_one_failing_message_in_a_batch_is_quarantined_and_the_others_are_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from trustdesk.mail.intake.writing import human_record

    good = inbound_store(raw=eml("fresh", subject="good", from_address="a@example.net"), source="t")
    bad = inbound_store(raw=eml("fresh", subject="bad", from_address="b@example.net"), source="t")

    def flaky(context: Any, **kwargs: Any) -> Any:
        if context.parsed.subject == "bad":
            raise RuntimeError("boom")
        return human_record(context, **kwargs)

    monkeypatch.setattr("trustdesk.mail.intake.pipeline.human_record", flaky)
    assert inbound_drain() == 2
    rows = InboundEmail.objects.in_bulk([good.inbound_id, bad.inbound_id])
    assert (rows[good.inbound_id].state, rows[bad.inbound_id].state) == ("done", "quarantined")
    assert rows[bad.inbound_id].error.startswith("route: RuntimeError: boom")
    assert list(Ticket.objects.values_list("subject", flat=True)) == ["good"]


def test_claims_of_dead_workers_are_released_after_the_timeout_and_processed_once(
    customer: Customer, run_tasks: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.TRUSTDESK_INTAKE_CLAIM_TIMEOUT_SECONDS = 60
    now = timezone.now()
    lost_task = inbound_store(raw=eml("fresh", subject="lost task"), source="smtp").inbound_id
    lost_worker = inbound_store(raw=eml("fresh", subject="lost worker"), source="smtp").inbound_id
    live = inbound_store(raw=eml("fresh", subject="live worker"), source="smtp").inbound_id
    poison = inbound_store(raw=eml("fresh", subject="kills workers"), source="smtp").inbound_id
    InboundEmail.objects.filter(pk=lost_worker).update(
        state="processing", processed_at=now - timedelta(seconds=61), attempts=1
    )
    InboundEmail.objects.filter(pk=live).update(
        state="processing", processed_at=now - timedelta(seconds=30), attempts=1
    )
    InboundEmail.objects.filter(pk=poison).update(
        state="processing", processed_at=now - timedelta(seconds=61), attempts=MAX_ATTEMPTS
    )
    assert DBTaskResult.objects.filter(task_path=DRAIN_TASK).count() == 0  # its task was lost

    assert inbound_requeue_stuck(now=now) == [lost_worker]
    assert inbound_requeue_stuck(now=now) == []  # nothing more to release
    assert DBTaskResult.objects.filter(task_path=DRAIN_TASK, status="READY").count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        run_tasks()

    rows = InboundEmail.objects.in_bulk([lost_task, lost_worker, live, poison])
    assert [(rows[pk].state, rows[pk].attempts) for pk in (lost_task, lost_worker, live)] == [
        ("done", 1),
        ("done", 2),
        ("processing", 1),
    ]
    assert rows[poison].state == "quarantined"
    assert rows[poison].error.startswith("worker: ")
    assert Ticket.objects.count() == 2


def test_a_slow_worker_whose_claim_was_released_cannot_finish_the_row() -> None:
    stored = inbound_store(raw=eml("fresh", subject="slow", from_address="s@e.net"), source="t")
    row = InboundEmail.objects.get(pk=stored.inbound_id)
    old_claim = timezone.now() - timedelta(hours=1)
    InboundEmail.objects.filter(pk=row.pk).update(state="processing", processed_at=old_claim)
    assert inbound_requeue_stuck() == [row.pk]
    assert inbound_process(inbound_id=row.pk).outcome == "created"  # the new claim finishes

    result, decision = inbound_finish(
        row, inbound_parse(row), claimed_at=old_claim, lookups=Lookups()
    )
    assert (result.outcome, decision) == ("created", None)  # the old claim's writes rolled back
    assert Ticket.objects.count() == 1
    assert Message.objects.count() == 1


def test_the_queued_task_finds_a_processed_row_done_and_changes_nothing(
    run_tasks: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        result = ingest(eml("fresh", subject="Hello", from_address="someone@example.net"))
    assert result.outcome == "created"
    run_tasks()
    task = DBTaskResult.objects.get(task_path=DRAIN_TASK)
    assert task.return_value == 0
    assert Ticket.objects.count() == 1
    assert Message.objects.count() == 1
    assert InboundEmail.objects.get().attempts == 1


def test_unparseable_input_is_quarantined_with_its_bytes_and_error() -> None:
    raw = (FIXTURES / "not_an_email.eml").read_bytes()
    result = ingest(raw)

    assert result.outcome == "quarantined"
    assert result.ticket_number is None
    assert result.reason == "parse: EmailParseError: no header fields: not an email"
    row = InboundEmail.objects.get()
    assert (row.state, row.outcome, bytes(row.raw)) == ("quarantined", "quarantined", raw)
    assert "Traceback" in row.error
    assert Ticket.objects.count() == 0
    assert Event.objects.filter(kind="mail.inbound_quarantined", subject_id=row.pk).count() == 1


def test_a_quarantined_message_does_not_block_the_next_one(customer: Customer) -> None:
    bad = ingest((FIXTURES / "not_an_email.eml").read_bytes())
    good = ingest(eml("fresh", subject="Still works"))
    assert (bad.outcome, good.outcome) == ("quarantined", "created")


def test_a_message_without_any_sender_is_quarantined() -> None:
    result = ingest(b"Subject: who sent this?\nMessage-ID: <nosender@x.example>\n\nHello\n")
    assert result.outcome == "quarantined"
    assert result.reason == (
        "route: NoSender: The message has no usable sender address (From or envelope sender)."
    )
    assert Ticket.objects.count() == 0
    assert Customer.objects.count() == 0


def test_retry_sends_a_quarantined_message_through_again(admin_agent: Agent) -> None:
    raw = b"Subject: who sent this?\nMessage-ID: <retry@x.example>\n\nHello\n"
    first = ingest(raw)
    assert first.outcome == "quarantined"
    InboundEmail.objects.filter(pk=first.inbound_id).update(envelope_from="late@example.net")

    result = inbound_retry(inbound_id=first.inbound_id, actor=admin_agent)

    assert result.outcome == "created"
    row = InboundEmail.objects.get(pk=first.inbound_id)
    assert (row.state, row.error, row.attempts) == ("done", "", 2)
    assert Ticket.objects.get().customer.contact_points.get().value == "late@example.net"
    assert Event.objects.filter(kind="mail.inbound_retried", actor_id=admin_agent.pk).count() == 1


def test_retry_is_for_admins_and_quarantined_rows_only(agent: Agent, admin_agent: Agent) -> None:
    from trustdesk.core.errors import Conflict, PermissionDenied

    quarantined = ingest((FIXTURES / "not_an_email.eml").read_bytes())
    with pytest.raises(PermissionDenied):
        inbound_retry(inbound_id=quarantined.inbound_id, actor=agent)
    done = ingest(eml("fresh", subject="fine"))
    with pytest.raises(Conflict):
        inbound_retry(inbound_id=done.inbound_id, actor=admin_agent)
    assert InboundEmail.objects.get(pk=quarantined.inbound_id).attempts == 1


def test_oversized_attachments_are_dropped_with_a_note_and_the_mail_kept(
    settings: Any, customer: Customer
) -> None:
    settings.TRUSTDESK_MAX_ATTACHMENT_BYTES = 10
    result = ingest((FIXTURES / "new_request.eml").read_bytes())

    message = ticket_of(result).messages.get()
    note = "log.txt (18 bytes) was not kept: attachments are limited to 10 bytes."
    assert message.body_text.endswith(f"\n\n[{note}]")
    assert message.attachments.count() == 0
    assert message.meta["email"]["dropped_attachments"] == [note]


# Threading and entitlement (the allowed paths; the spoofing suite is its own file) ----------


def test_a_reply_to_our_message_id_is_appended_and_reopens_the_ticket(
    ticket: Ticket, agent: Agent
) -> None:
    outbound = agent_reply(ticket, agent)
    ticket_update(ticket=ticket, changes=TicketChanges(status=Status.PENDING), actor=agent)

    result = ingest(eml("reply", in_reply_to=outbound.rfc_message_id))

    assert (result.outcome, result.ticket_number) == ("appended", ticket.number)
    assert result.reason == (
        f"matched by In-Reply-To/References {outbound.rfc_message_id} (the ticket's customer)"
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    latest = inbound_messages(ticket)[-1]
    assert latest.body_text == "Thanks, it works now."
    assert latest.meta["email"]["quoted"] == (
        "On Mon, 23 Nov 2026 at 09:30, Support <support@example.com> wrote:\n> We are on it."
    )
    assert latest.author_customer_id == ticket.customer_id
    assert Ticket.objects.count() == 1


def test_references_to_an_earlier_inbound_message_thread_too(customer: Customer) -> None:
    first = ingest((FIXTURES / "new_request.eml").read_bytes())
    result = ingest(eml("reply", references="<other@x.example> <new-request-1@mail.example.org>"))
    assert (result.outcome, result.ticket_number) == ("appended", first.ticket_number)


def test_a_signed_token_in_the_to_address_threads(ticket: Ticket) -> None:
    address = reply_address(base_address="support@example.com", ticket_id=ticket.pk)
    result = ingest(eml("fresh", to=address, subject="New subject entirely"))
    assert (result.outcome, result.ticket_number) == ("appended", ticket.number)
    assert result.reason == "matched by reply token in the address (the ticket's customer)"


def test_the_customers_own_bare_subject_tag_attaches(ticket: Ticket) -> None:
    result = ingest(eml("fresh", subject=f"[#{ticket.number}] one more thing"))
    assert (result.outcome, result.ticket_number) == ("appended", ticket.number)


def test_a_colleague_in_the_same_organisation_may_reply_in_the_thread(
    ticket: Ticket, customer: Customer, agent: Agent
) -> None:
    org = Organization.objects.create(name="Radium Institute", created_at=customer.created_at)
    Customer.objects.filter(pk=customer.pk).update(organization=org)
    customer_create(
        full_name="Irène Joliot-Curie",
        organization=org,
        contacts=[ContactInput(kind=ContactPoint.Kind.EMAIL, value="irene@example.org")],
    )
    outbound = agent_reply(ticket, agent)

    by_thread = ingest(
        eml("reply", from_address="irene@example.org", in_reply_to=outbound.rfc_message_id)
    )
    by_tag = ingest(eml("fresh", from_address="irene@example.org", subject=f"[#{ticket.number}]"))

    assert (by_thread.outcome, by_thread.ticket_number) == ("appended", ticket.number)
    assert by_tag.outcome == "created"
    assert by_tag.ticket_number != ticket.number


def test_an_agents_emailed_reply_becomes_a_public_agent_reply(
    ticket: Ticket, agent: Agent, django_capture_on_commit_callbacks: Any
) -> None:
    outbound = agent_reply(ticket, agent)
    raw = eml("reply", from_address="ada@example.com", in_reply_to=outbound.rfc_message_id)
    with django_capture_on_commit_callbacks(execute=True):
        result = ingest(raw)

    assert (result.outcome, result.ticket_number) == ("appended", ticket.number)
    message = message_of(result)
    assert (message.direction, message.visibility, message.author_agent_id) == (
        "out",
        "public",
        agent.pk,
    )
    assert OutboundEmail.objects.filter(message=message).count() == 1  # goes to the customer


def test_a_light_agents_emailed_reply_becomes_an_internal_note(
    ticket: Ticket, agent: Agent, team: Team
) -> None:
    light = agent_create(
        email="light@example.com", display_name="Light", role=Agent.Role.LIGHT, teams=[team]
    )
    outbound = agent_reply(ticket, agent)
    result = ingest(
        eml("reply", from_address="light@example.com", in_reply_to=outbound.rfc_message_id)
    )
    message = message_of(result)
    assert (message.visibility, message.author_agent_id) == ("internal", light.pk)
    assert OutboundEmail.objects.filter(message=message).count() == 0


def test_a_reply_to_a_closed_ticket_opens_a_follow_up(ticket: Ticket, agent: Agent) -> None:
    outbound = agent_reply(ticket, agent)
    Ticket.objects.filter(pk=ticket.pk).update(status=Status.CLOSED)

    result = ingest(eml("reply", in_reply_to=outbound.rfc_message_id))

    assert result.outcome == "created"
    assert result.reason == f"ticket #{ticket.number} is closed: opened a follow-up"
    follow_up = ticket_of(result)
    assert follow_up.customer_id == ticket.customer_id
    assert follow_up.messages.get().meta["email"]["follow_up_of"] == ticket.number
    assert list(follow_up.tags.values_list("name", flat=True)) == []
    event = Event.objects.get(kind="ticket.follow_up_opened")
    assert (event.subject_id, event.payload) == (
        follow_up.pk,
        {"of": ticket.pk, "of_number": ticket.number},
    )
    assert ticket.messages.count() == 2  # the first message and our reply: nothing added


def test_trusted_authentication_results_mark_the_message_verified(
    settings: Any, customer: Customer
) -> None:
    settings.TRUSTDESK_TRUSTED_AUTHSERV_IDS = ["mx.example.com"]
    passed = ingest(
        eml(
            "fresh",
            subject="one",
            extra_headers="Authentication-Results: mx.example.com; spf=pass "
            "smtp.mailfrom=example.org; dkim=pass header.d=example.org; dmarc=pass",
        )
    )
    untrusted = ingest(
        eml(
            "fresh",
            subject="two",
            extra_headers="Authentication-Results: evil.example.net; dmarc=pass",
        )
    )
    meta = [ticket_of(r).messages.get().meta["email"] for r in (passed, untrusted)]
    assert [(m["verified"], m["verification_reason"]) for m in meta] == [
        (True, "dmarc=pass"),
        (None, "no Authentication-Results from a trusted relay"),
    ]


def test_the_row_keeps_envelope_and_source(customer: Customer) -> None:
    stored = inbound_store(
        raw=eml("fresh"),
        source="smtp",
        envelope_from="bounce@example.org",
        envelope_to=["support@example.com"],
    )
    row = InboundEmail.objects.get(pk=stored.inbound_id)
    assert (row.source, row.envelope_from, row.envelope_to, row.state) == (
        "smtp",
        "bounce@example.org",
        ["support@example.com"],
        "received",
    )
