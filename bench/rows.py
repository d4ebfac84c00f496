"""Synthetic rows for seeding: customers, tickets, messages and ticket tags, in id order."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape

from bench.textgen import TextGenerator

START = datetime(2023, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=3 * 365)
STATUSES = ["new"] * 5 + ["open"] * 25 + ["pending"] * 10 + ["on_hold"] * 2
STATUSES += ["solved"] * 30 + ["closed"] * 28
CHANNELS = ["email"] * 6 + ["web"] * 2 + ["chat", "phone"]
TAGS = [f"tag-{i:02d}" for i in range(30)]
CUSTOMERS_PER_TICKET = 0.2
NUMBER_START = 100_000

TICKET_COLUMNS = [
    "id",
    "number",
    "subject",
    "status",
    "priority",
    "channel",
    "customer_id",
    "owner_id",
    "team_id",
    "created_at",
    "updated_at",
    "first_response_at",
    "solved_at",
    "last_message_at",
    "message_count",
]
MESSAGE_COLUMNS = [
    "id",
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
CUSTOMER_COLUMNS = [
    "id",
    "full_name",
    "preferred_name",
    "organization_id",
    "language",
    "time_zone",
    "preferences",
    "notes",
    "created_at",
    "updated_at",
]
CONTACT_COLUMNS = [
    "id",
    "customer_id",
    "kind",
    "value",
    "is_primary",
    "undeliverable",
    "created_at",
]
TICKET_TAG_COLUMNS = ["ticket_id", "tag_id"]


@dataclass
class Batch:
    tickets: list[tuple[object, ...]]
    messages: list[tuple[object, ...]]
    ticket_tags: list[tuple[object, ...]]


def customer_count(tickets: int) -> int:
    return max(int(tickets * CUSTOMERS_PER_TICKET), 1)


def customers(count: int) -> Iterator[tuple[object, ...]]:
    for i in range(1, count + 1):
        yield (i, f"Customer {i}", "", None, "en", "UTC", "{}", "", START, START)


def contacts(count: int) -> Iterator[tuple[object, ...]]:
    for i in range(1, count + 1):
        yield (i, i, "email", f"customer{i}@example.net", True, False, START)


def ticket_batches(
    *,
    tickets: int,
    mean_messages: int,
    text: TextGenerator,
    agent_ids: list[int],
    team_ids: list[int],
    tag_ids: list[int],
    batch: int = 20_000,
) -> Iterator[Batch]:
    """Tickets 1..N in order, each with 1 to 2*mean-1 messages, ids contiguous from 1."""
    rnd = text.random
    n_customers = customer_count(tickets)
    message_id = 0
    out = Batch([], [], [])
    step = SPAN / tickets
    for ticket_id in range(1, tickets + 1):
        created = START + step * ticket_id
        status = rnd.choice(STATUSES)
        channel = rnd.choice(CHANNELS)
        customer_id = rnd.randint(1, n_customers)
        owner = rnd.choice(agent_ids) if status != "new" and rnd.random() < 0.8 else None
        team = rnd.choice(team_ids) if rnd.random() < 0.9 else None
        count = rnd.randint(1, 2 * mean_messages - 1)
        first_response = None
        last = created
        for k in range(count):
            message_id += 1
            at = created + timedelta(minutes=17 * k)
            inbound = k % 2 == 0
            internal = not inbound and rnd.random() < 0.1
            if not inbound and not internal and first_response is None:
                first_response = at
            body = text.body()
            out.messages.append(
                (
                    message_id,
                    ticket_id,
                    "in" if inbound else "out",
                    "internal" if internal else "public",
                    channel,
                    None if inbound else (owner or agent_ids[0]),
                    customer_id if inbound else None,
                    body,
                    f"<p>{escape(body)}</p>",
                    "{}",
                    at,
                )
            )
            last = at
        solved = last if status in ("solved", "closed") else None
        out.tickets.append(
            (
                ticket_id,
                NUMBER_START + ticket_id,
                text.subject(),
                status,
                rnd.randint(1, 4),
                channel,
                customer_id,
                owner,
                team,
                created,
                last,
                first_response,
                solved,
                last,
                count,
            )
        )
        for tag in rnd.sample(tag_ids, rnd.choice((0, 0, 1, 1, 2))):
            out.ticket_tags.append((ticket_id, tag))
        if len(out.tickets) >= batch:
            yield out
            out = Batch([], [], [])
    if out.tickets:
        yield out


def import_lines(*, tickets: int, mean_messages: int, text: TextGenerator) -> list[str]:
    """JSON Lines in the ``trustdesk import-tickets`` format, for the import benchmark."""
    rnd = text.random
    lines = []
    step = SPAN / max(tickets, 1)
    for i in range(tickets):
        created = START + step * i
        messages = [
            {
                "direction": "in" if k % 2 == 0 else "out",
                "body": text.body(),
                "created_at": (created + timedelta(minutes=11 * k)).isoformat(),
            }
            for k in range(rnd.randint(1, 2 * mean_messages - 1))
        ]
        record = {
            "external_id": f"bench-{i}",
            "customer": {
                "email": f"import{rnd.randint(1, max(tickets // 3, 1))}@example.com",
                "name": "Imported Customer",
            },
            "subject": text.subject(),
            "status": rnd.choice(STATUSES),
            "priority": rnd.randint(1, 4),
            "channel": rnd.choice(CHANNELS),
            "tags": rnd.sample(TAGS, rnd.choice((0, 1, 2))),
            "created_at": created.isoformat(),
            "messages": messages,
        }
        lines.append(json.dumps(record))
    return lines
