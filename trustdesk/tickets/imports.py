"""Bulk import of tickets with their messages from JSON Lines (``trustdesk import-tickets``).

One line is one ticket::

    {"external_id": "zd-1042", "customer": {"email": "ana@example.org", "name": "Ana Lima"},
     "subject": "Printer on fire", "status": "open", "priority": "high", "channel": "email",
     "tags": ["hardware"], "created_at": "2025-03-01T09:30:00+00:00",
     "messages": [{"direction": "in", "body": "It smokes.", "created_at": "2025-03-01T09:30:00Z"},
                  {"direction": "out", "visibility": "public", "html": "<p>Unplug it</p>",
                   "author": "ada@example.com", "created_at": "2025-03-01T09:41:00Z"}]}

Rules, in the order they apply:

* Every line is validated completely before anything is written. A bad line (not JSON, a
  missing or invalid field) is reported with its line number and reason and **skipped**; the
  other lines are imported. Blank lines are ignored.
* Lines are written in batches, each batch in one transaction: a ticket is written together
  with its messages, tags and events or not at all.
* ``(source, external_id)`` identifies a ticket across runs: a ticket imported before (its
  ``ticket.imported`` event carries both) or earlier in the same file is skipped and counted,
  so re-running an import is harmless. Imports of the same source must not run concurrently.
* Customers are found by their email contact point, or created (with that contact point).
* Ticket numbers come from the ticket counter, reserved once per batch.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Field, Model
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from trustdesk.accounts.models import Agent
from trustdesk.core.errors import ValidationFailed
from trustdesk.core.models import Event
from trustdesk.core.services import counter_take
from trustdesk.customers.models import ContactPoint, Customer
from trustdesk.customers.services import contact_normalize
from trustdesk.tickets.models import Channel, Message, Priority, Status, Tag, Ticket
from trustdesk.tickets.services import _clean_body, _clean_subject, tags_normalize

IMPORTED = "ticket.imported"
DEFAULT_BATCH = 1000
MAX_MESSAGES = 1000
MAX_EXTERNAL_ID = 200
PRIORITY_NAMES = {p.name.lower(): int(p.value) for p in Priority}
PRIORITIES = [int(p.value) for p in Priority]
SOLVED = (Status.SOLVED, Status.CLOSED)
# Enum ``.values`` builds a new list on every access: look the choices up once.
CHANNELS = list(Channel.values)
STATUSES = list(Status.values)
DIRECTIONS = list(Message.Direction.values)
VISIBILITIES = list(Message.Visibility.values)
INSERT_ROWS = 500  # rows per INSERT statement
MAX_PARAMETERS = 30_000  # below SQLite's 32,766 and PostgreSQL's 65,535


@dataclass(frozen=True)
class LineError:
    line: int
    reason: str


@dataclass
class ImportReport:
    tickets_created: int = 0
    messages_created: int = 0
    customers_created: int = 0
    skipped_existing: int = 0
    errors: list[LineError] = field(default_factory=list)


@dataclass(frozen=True)
class MessageRow:
    direction: str
    visibility: str
    text: str
    html: str
    author_email: str
    created_at: datetime


@dataclass(frozen=True)
class TicketRow:
    line: int
    external_id: str
    email: str
    name: str
    subject: str
    status: str
    priority: int
    channel: str
    tags: list[str]
    created_at: datetime
    messages: list[MessageRow]


def tickets_import(
    *, lines: Iterable[str], source: str = "import", batch_size: int = DEFAULT_BATCH
) -> ImportReport:
    """Import JSON Lines ``lines``; returns what was created, skipped and refused (by line)."""
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    source = source.strip()
    if not source or len(source) > 64:
        raise ValidationFailed("The import source must be 1 to 64 characters.", field="source")
    report = ImportReport()
    seen = _imported_ids(source)
    batch: list[TicketRow] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = ticket_row_parse(line, number)
        except ValidationFailed as exc:
            report.errors.append(LineError(line=number, reason=exc.message))
            continue
        if row.external_id in seen:
            report.skipped_existing += 1
            continue
        seen.add(row.external_id)
        batch.append(row)
        if len(batch) >= batch_size:
            _batch_write(batch, source=source, report=report)
            batch = []
    if batch:
        _batch_write(batch, source=source, report=report)
    return report


def _imported_ids(source: str) -> set[str]:
    # One scan per run, not per batch: the event payload is not indexed (see docs/benchmarks.md).
    values = Event.objects.filter(kind=IMPORTED, payload__source=source).values_list(
        "payload__external_id", flat=True
    )
    return {str(v) for v in values}


# --- Validation: one line to a TicketRow, or ValidationFailed ------------------------------


def ticket_row_parse(line: str, number: int) -> TicketRow:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"not valid JSON ({exc.msg} at column {exc.colno})") from exc
    if not isinstance(data, dict):
        raise ValidationFailed("a line must be a JSON object")
    external_id = _string(data, "external_id", required=True)
    if len(external_id) > MAX_EXTERNAL_ID:
        raise ValidationFailed(f"external_id is longer than {MAX_EXTERNAL_ID} characters")
    customer = data.get("customer")
    if not isinstance(customer, dict):
        raise ValidationFailed("customer must be an object with an email")
    email = contact_normalize(kind=ContactPoint.Kind.EMAIL, value=_string(customer, "email", True))
    name = " ".join(_string(customer, "name").split())[:200] or email.split("@")[0]
    channel = _choice(data.get("channel", Channel.EMAIL), CHANNELS, "channel")
    status = _choice(data.get("status", Status.OPEN), STATUSES, "status")
    raw_tags = data.get("tags", [])
    if not isinstance(raw_tags, list) or not all(isinstance(t, str) for t in raw_tags):
        raise ValidationFailed("tags must be a list of strings")
    messages = data.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ValidationFailed("messages must be a non-empty list")
    if len(messages) > MAX_MESSAGES:
        raise ValidationFailed(f"more than {MAX_MESSAGES} messages")
    return TicketRow(
        line=number,
        external_id=external_id,
        email=email,
        name=name,
        subject=_clean_subject(_string(data, "subject", required=True)),
        status=status,
        priority=_priority(data.get("priority", Priority.NORMAL)),
        channel=channel,
        tags=tags_normalize(raw_tags),
        created_at=_datetime(data.get("created_at"), "created_at"),
        messages=[_message_parse(m, i) for i, m in enumerate(messages, start=1)],
    )


def _message_parse(data: Any, index: int) -> MessageRow:
    where = f"messages[{index}]"
    if not isinstance(data, dict):
        raise ValidationFailed(f"{where} must be an object")
    direction = _choice(data.get("direction"), DIRECTIONS, f"{where}.direction")
    visibility = _choice(
        data.get("visibility", Message.Visibility.PUBLIC),
        VISIBILITIES,
        f"{where}.visibility",
    )
    if direction == Message.Direction.INBOUND and visibility != Message.Visibility.PUBLIC:
        raise ValidationFailed(f"{where}: customers cannot write internal notes")
    try:
        text, safe_html = _clean_body(_string(data, "body"), _string(data, "html") or None)
    except ValidationFailed as exc:
        raise ValidationFailed(f"{where}: {exc.message}") from exc
    return MessageRow(
        direction=direction,
        visibility=visibility,
        text=text,
        html=safe_html,
        author_email=_string(data, "author").lower(),
        created_at=_datetime(data.get("created_at"), f"{where}.created_at"),
    )


def _string(data: dict[str, Any], key: str, required: bool = False) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise ValidationFailed(f"{key} must be a string")
    if required and not value.strip():
        raise ValidationFailed(f"{key} is required")
    return value.strip()


def _choice(value: Any, allowed: list[str], name: str) -> str:
    if value not in allowed:
        raise ValidationFailed(f"{name} {value!r} is not one of {', '.join(allowed)}")
    return str(value)


def _priority(value: Any) -> int:
    if isinstance(value, str) and value.lower() in PRIORITY_NAMES:
        return PRIORITY_NAMES[value.lower()]
    if isinstance(value, int) and not isinstance(value, bool) and value in PRIORITIES:
        return value
    raise ValidationFailed(f"priority {value!r} is not one of {', '.join(PRIORITY_NAMES)} or 1-4")


def _datetime(value: Any, name: str) -> datetime:
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        raise ValidationFailed(f"{name} must be an ISO 8601 date and time")
    if timezone.is_naive(parsed):
        raise ValidationFailed(f"{name} needs a time zone offset (e.g. Z or +02:00)")
    return parsed


# --- Writing one batch ---------------------------------------------------------------------


def _batch_write(rows: list[TicketRow], *, source: str, report: ImportReport) -> None:
    now = timezone.now()
    with transaction.atomic():
        customers, created = _customers_for(rows, now=now)
        agents = _agents_for(rows)
        tag_ids = _tag_ids_for(rows)
        first_number = counter_take(name="ticket", count=len(rows))
        tickets = Ticket.objects.bulk_create(
            [
                _ticket_build(row, number=first_number + i, customer_id=customers[row.email])
                for i, row in enumerate(rows)
            ]
        )
        pairs = list(zip(rows, tickets, strict=True))
        empty = _db_json(Message, "meta", {})
        messages = [
            _message_values(
                m, ticket=t, row=row, agents=agents, source=source, first=j == 0, empty_meta=empty
            )
            for row, t in pairs
            for j, m in enumerate(row.messages)
        ]
        _insert(Message, MESSAGE_COLUMNS, messages)
        _insert(
            Ticket.tags.through,
            ["ticket_id", "tag_id"],
            [(t.pk, tag_ids[name]) for row, t in pairs for name in row.tags],
        )
        _events_insert(
            IMPORTED,
            "ticket",
            [
                (
                    t.pk,
                    {
                        "source": source,
                        "external_id": row.external_id,
                        "line": row.line,
                        "messages": len(row.messages),
                    },
                )
                for row, t in pairs
            ],
            now=now,
        )
    report.tickets_created += len(tickets)
    report.messages_created += len(messages)
    report.customers_created += created


MESSAGE_COLUMNS = [
    "ticket_id",
    "direction",
    "visibility",
    "channel",
    "author_agent_id",
    "author_customer_id",
    "body_text",
    "body_html",
    "meta",
    "created_at",
]


def _insert(model: type[Model], columns: list[str], values: list[tuple[Any, ...]]) -> None:
    """COPY on PostgreSQL, parameterised multi-row INSERTs on SQLite: bulk_create without
    building a model per row.

    Most of an import's rows (messages, events, tag links) need no id back; building and
    compiling a model per row, or sending one statement per row, was most of the import's time.
    Values must already be in their database form (``_db_datetime``, ``_db_json``).
    """
    if not values:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    if connection.vendor == "postgresql":
        _copy(f"COPY {table} ({names}) FROM STDIN", values)
        return
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    per_statement = max(1, min(INSERT_ROWS, MAX_PARAMETERS // len(columns)))
    with connection.cursor() as cursor:
        for start in range(0, len(values), per_statement):
            chunk = values[start : start + per_statement]
            sql = f"INSERT INTO {table} ({names}) VALUES {', '.join([row] * len(chunk))}"  # noqa: S608 (names from _meta, values are parameters)
            cursor.execute(sql, [v for item in chunk for v in item])


def _copy(statement: str, values: list[tuple[Any, ...]]) -> None:
    """PostgreSQL COPY on the connection's current transaction: no per-row statement at all."""
    connection.ensure_connection()
    with connection.connection.cursor() as cursor, cursor.copy(statement) as copy:
        for item in values:
            copy.write_row(item)


def _events_insert(
    kind: str, subject_type: str, items: list[tuple[int, dict[str, Any]]], *, now: datetime
) -> None:
    at = _db_datetime(now)
    _insert(
        Event,
        ["kind", "subject_type", "subject_id", "actor_id", "payload", "created_at"],
        [(kind, subject_type, pk, None, _db_json(Event, "payload", p), at) for pk, p in items],
    )


def _db_datetime(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _db_json(model: type[Model], name: str, value: dict[str, Any]) -> Any:
    field = model._meta.get_field(name)
    assert isinstance(field, Field)
    return field.get_db_prep_save(value, connection)


def _customers_for(rows: list[TicketRow], *, now: datetime) -> tuple[dict[str, int], int]:
    """Customer id per email, creating customers (and their contact point) for unknown ones."""
    names = {row.email: row.name for row in rows}
    known = dict(
        ContactPoint.objects.filter(
            kind=ContactPoint.Kind.EMAIL, value__in=list(names)
        ).values_list("value", "customer_id")
    )
    missing = [email for email in names if email not in known]
    if not missing:
        return known, 0
    customers = Customer.objects.bulk_create(
        [Customer(full_name=names[e], created_at=now, updated_at=now) for e in missing]
    )
    at = _db_datetime(now)
    _insert(
        ContactPoint,
        ["customer_id", "kind", "value", "is_primary", "undeliverable", "created_at"],
        [
            (c.pk, ContactPoint.Kind.EMAIL.value, email, True, False, at)
            for email, c in zip(missing, customers, strict=True)
        ],
    )
    _events_insert(
        "customer.created", "customer", [(c.pk, {"via": "import"}) for c in customers], now=now
    )
    known.update({email: c.pk for email, c in zip(missing, customers, strict=True)})
    return known, len(customers)


def _agents_for(rows: list[TicketRow]) -> dict[str, int]:
    emails = {m.author_email for row in rows for m in row.messages if m.author_email}
    if not emails:
        return {}
    return dict(Agent.objects.filter(email__in=emails).values_list("email", "pk"))


def _tag_ids_for(rows: list[TicketRow]) -> dict[str, int]:
    names = sorted({name for row in rows for name in row.tags})
    if not names:
        return {}
    Tag.objects.bulk_create([Tag(name=n) for n in names], ignore_conflicts=True)
    return dict(Tag.objects.filter(name__in=names).values_list("name", "pk"))


def _ticket_build(row: TicketRow, *, number: int, customer_id: int) -> Ticket:
    public = [m for m in row.messages if m.visibility == Message.Visibility.PUBLIC]
    times = [row.created_at, *(m.created_at for m in row.messages)]
    return Ticket(
        number=number,
        subject=row.subject,
        status=row.status,
        priority=row.priority,
        channel=row.channel,
        customer_id=customer_id,
        created_at=row.created_at,
        updated_at=max(times),
        first_response_at=_first_response(row.messages),
        solved_at=max(times) if row.status in SOLVED else None,
        last_message_at=max((m.created_at for m in public), default=None),
        message_count=len(row.messages),
    )


def _first_response(messages: list[MessageRow]) -> datetime | None:
    """The first public outbound message that follows another message, as ``message_add`` sets it."""
    for index, message in enumerate(messages):
        if (
            index > 0
            and message.direction == Message.Direction.OUTBOUND
            and message.visibility == Message.Visibility.PUBLIC
        ):
            return message.created_at
    return None


def _message_values(
    message: MessageRow,
    *,
    ticket: Ticket,
    row: TicketRow,
    agents: dict[str, int],
    source: str,
    first: bool,
    empty_meta: Any,
) -> tuple[Any, ...]:
    """One row of ``MESSAGE_COLUMNS``; ``empty_meta`` is ``{}`` in database form, made once."""
    inbound = message.direction == Message.Direction.INBOUND
    meta: dict[str, Any] = {}
    if first:
        meta["import"] = {"source": source, "external_id": row.external_id}
    if message.author_email and message.author_email not in agents and not inbound:
        meta.setdefault("import", {})["author"] = message.author_email
    return (
        ticket.pk,
        message.direction,
        message.visibility,
        row.channel,
        None if inbound else agents.get(message.author_email),
        ticket.customer_id if inbound else None,
        message.text,
        message.html,
        _db_json(Message, "meta", meta) if meta else empty_meta,
        _db_datetime(message.created_at),
    )
