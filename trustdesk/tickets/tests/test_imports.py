from __future__ import annotations

import json
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from trustdesk.accounts.models import Agent
from trustdesk.core.models import Event
from trustdesk.core.services import counter_take
from trustdesk.customers.models import ContactPoint, Customer
from trustdesk.tickets.imports import LineError, tickets_import
from trustdesk.tickets.models import Message, Tag, Ticket

pytestmark = pytest.mark.django_db


def _line(external_id: str, **overrides: Any) -> str:
    data: dict[str, Any] = {
        "external_id": external_id,
        "customer": {"email": f"{external_id}@Example.org", "name": f"Customer {external_id}"},
        "subject": f"Subject {external_id}",
        "status": "solved",
        "priority": "high",
        "channel": "email",
        "tags": ["Billing", "vip"],
        "created_at": "2025-03-01T09:00:00Z",
        "messages": [
            {"direction": "in", "body": "It broke.", "created_at": "2025-03-01T09:00:00Z"},
            {
                "direction": "out",
                "visibility": "internal",
                "body": "Looking",
                "author": "ada@example.com",
                "created_at": "2025-03-01T09:05:00Z",
            },
            {
                "direction": "out",
                "html": "<p>Fixed <script>x()</script></p>",
                "author": "ada@example.com",
                "created_at": "2025-03-01T10:00:00+01:00",
            },
            {"direction": "in", "body": "Thanks", "created_at": "2025-03-01T09:30:00Z"},
        ],
    }
    data.update(overrides)
    return json.dumps(data)


def test_import_writes_ticket_messages_customer_tags_and_event(agent: Agent) -> None:
    before = counter_take(name="ticket")
    report = tickets_import(lines=[_line("zd-1")], source="zendesk")

    assert (report.tickets_created, report.messages_created, report.customers_created) == (1, 4, 1)
    assert (report.skipped_existing, report.errors) == (0, [])
    ticket = Ticket.objects.get()
    assert ticket.number == before + 1
    assert (ticket.subject, ticket.status, ticket.priority, ticket.channel) == (
        "Subject zd-1",
        "solved",
        3,
        "email",
    )
    assert ticket.created_at == datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    assert ticket.message_count == 4
    assert ticket.first_response_at == datetime(2025, 3, 1, 9, 0, tzinfo=UTC)  # 10:00+01:00
    assert ticket.last_message_at == datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    assert ticket.updated_at == ticket.solved_at == datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["billing", "vip"]
    assert ticket.customer.full_name == "Customer zd-1"
    assert list(ContactPoint.objects.values_list("kind", "value", "is_primary")) == [
        ("email", "zd-1@example.org", True)
    ]
    rows = list(
        Message.objects.order_by("id").values_list(
            "direction", "visibility", "author_agent_id", "author_customer_id", "body_html", "meta"
        )
    )
    assert rows == [
        (
            "in",
            "public",
            None,
            ticket.customer_id,
            "<p>It broke.</p>",
            {"import": {"source": "zendesk", "external_id": "zd-1"}},
        ),
        ("out", "internal", agent.pk, None, "<p>Looking</p>", {}),
        ("out", "public", agent.pk, None, "<p>Fixed </p>", {}),
        ("in", "public", None, ticket.customer_id, "<p>Thanks</p>", {}),
    ]
    event = Event.objects.get(kind="ticket.imported")
    assert (event.subject_type, event.subject_id, event.payload) == (
        "ticket",
        ticket.pk,
        {"source": "zendesk", "external_id": "zd-1", "line": 1, "messages": 4},
    )
    assert Event.objects.filter(kind="customer.created", subject_id=ticket.customer_id).count() == 1


def test_existing_customer_is_reused_by_email(customer: Customer) -> None:
    line = _line("a", customer={"email": " MARIE@example.org ", "name": "Someone Else"})

    report = tickets_import(lines=[line])

    assert report.customers_created == 0
    assert Ticket.objects.get().customer_id == customer.pk
    assert Customer.objects.count() == 1
    assert not Event.objects.filter(kind="customer.created", subject_id__gt=customer.pk).exists()


def test_same_new_customer_in_one_batch_is_created_once(db: None) -> None:
    shared = {"email": "same@example.org", "name": "Same"}
    report = tickets_import(lines=[_line("a", customer=shared), _line("b", customer=shared)])

    assert (report.tickets_created, report.customers_created) == (2, 1)
    assert Customer.objects.get().tickets.count() == 2


def test_bad_lines_are_reported_with_line_number_and_skipped(db: None) -> None:
    lines = [
        _line("ok-1"),
        "{not json",
        "",
        "[1, 2]",
        _line("bad-status", status="lost"),
        _line("bad-email", customer={"email": "nobody"}),
        _line("naive", created_at="2025-03-01T09:00:00"),
        _line("no-messages", messages=[]),
        _line(
            "empty-body",
            messages=[{"direction": "in", "body": " ", "created_at": "2025-03-01T09:00:00Z"}],
        ),
        _line(
            "internal-in",
            messages=[
                {
                    "direction": "in",
                    "visibility": "internal",
                    "body": "x",
                    "created_at": "2025-03-01T09:00:00Z",
                }
            ],
        ),
        _line("bad-priority", priority=9),
        json.dumps({"customer": {"email": "x@example.org"}}),
        _line("ok-2"),
    ]

    report = tickets_import(lines=lines, batch_size=1)

    assert report.errors == [
        LineError(
            2, "not valid JSON (Expecting property name enclosed in double quotes at column 2)"
        ),
        LineError(4, "a line must be a JSON object"),
        LineError(5, "status 'lost' is not one of new, open, pending, on_hold, solved, closed"),
        LineError(6, "'nobody' is not a valid email address."),
        LineError(7, "created_at needs a time zone offset (e.g. Z or +02:00)"),
        LineError(8, "messages must be a non-empty list"),
        LineError(9, "messages[1]: The message is empty."),
        LineError(10, "messages[1]: customers cannot write internal notes"),
        LineError(11, "priority 9 is not one of low, normal, high, urgent or 1-4"),
        LineError(12, "external_id is required"),
    ]
    assert report.tickets_created == 2
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == [
        "Subject ok-1",
        "Subject ok-2",
    ]
    # Nothing of a refused line was written: no customer, no message, no event.
    assert Customer.objects.count() == 2
    assert Message.objects.count() == 8
    assert Event.objects.filter(kind="ticket.imported").count() == 2


def test_reimport_is_idempotent_by_source_and_external_id(db: None) -> None:
    first = tickets_import(lines=[_line("1"), _line("2")], source="zendesk")
    numbers = sorted(Ticket.objects.values_list("number", flat=True))

    again = tickets_import(lines=[_line("1"), _line("2"), _line("3")], source="zendesk")

    assert (first.tickets_created, again.tickets_created, again.skipped_existing) == (2, 1, 2)
    assert Ticket.objects.count() == 3
    assert sorted(Ticket.objects.values_list("number", flat=True))[:2] == numbers
    assert numbers[1] + 1 == Ticket.objects.get(subject="Subject 3").number  # no gaps
    assert Customer.objects.count() == 3
    assert Tag.objects.count() == 2
    # The same id from another source is another ticket.
    other = tickets_import(lines=[_line("1")], source="freshdesk")
    assert (other.tickets_created, other.skipped_existing) == (1, 0)


def test_duplicate_external_id_within_one_file_is_imported_once(db: None) -> None:
    report = tickets_import(lines=[_line("dup"), _line("dup", subject="Second")], batch_size=10)

    assert (report.tickets_created, report.skipped_existing) == (1, 1)
    assert Ticket.objects.get().subject == "Subject dup"


def test_batches_write_all_tickets_with_consecutive_numbers(db: None) -> None:
    report = tickets_import(lines=[_line(f"t{i}") for i in range(7)], batch_size=3)

    assert (report.tickets_created, report.messages_created) == (7, 28)
    numbers = list(Ticket.objects.order_by("id").values_list("number", flat=True))
    assert numbers == list(range(numbers[0], numbers[0] + 7))
    assert Ticket.tags.through.objects.count() == 14


def test_unknown_agent_author_is_kept_in_meta(db: None) -> None:
    tickets_import(lines=[_line("x")])

    reply = Message.objects.get(visibility="public", direction="out")
    assert reply.author_agent_id is None
    assert reply.meta == {"import": {"author": "ada@example.com"}}


def test_command_imports_a_file_and_reports_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "tickets.jsonl"
    path.write_text(_line("c1") + "\nnope\n" + _line("c2") + "\n")
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError, match="1 lines were not imported"):
        call_command("import_tickets", str(path), "--source", "legacy", stdout=out, stderr=err)

    assert err.getvalue() == "line 2: not valid JSON (Expecting value at column 1)\n"
    assert out.getvalue().startswith("Imported 2 tickets (8 messages, 2 new customers) in ")
    assert out.getvalue().endswith("skipped 0 already imported and 1 bad lines.\n")
    assert Ticket.objects.count() == 2

    out = StringIO()
    path.write_text(_line("c1") + "\n")
    call_command("import_tickets", str(path), "--source", "legacy", stdout=out)
    assert out.getvalue().endswith("skipped 1 already imported and 0 bad lines.\n")
    assert Ticket.objects.count() == 2


def test_a_batch_that_fails_while_writing_leaves_nothing_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from trustdesk.tickets import imports

    def broken(kind: str, *args: Any, **kwargs: Any) -> None:
        if kind == imports.IMPORTED:
            raise RuntimeError("disk full")

    monkeypatch.setattr(imports, "_events_insert", broken)

    with pytest.raises(RuntimeError, match="disk full"):
        tickets_import(lines=[_line("a"), _line("b")])

    assert Ticket.objects.count() == 0
    assert Message.objects.count() == 0
    assert Customer.objects.count() == 0
    assert Ticket.tags.through.objects.count() == 0


def test_imported_messages_are_found_by_search(admin_agent: Agent) -> None:
    from trustdesk.search.selectors import search

    line = _line(
        "s1",
        messages=[
            {"direction": "in", "body": "The flux capacitor", "created_at": "2025-03-01T09:00:00Z"}
        ],
    )
    tickets_import(lines=[line])

    hits = search(agent=admin_agent, query="capacitor", order="newest")
    assert [(h.ticket_id, h.subject) for h in hits] == [(Ticket.objects.get().pk, "Subject s1")]
