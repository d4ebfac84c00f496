"""Full-text search over tickets and messages: one interface, two engines.

SQLite FTS5 on SQLite, PostgreSQL tsvector + GIN on PostgreSQL, chosen by the connection's
vendor (see ``docs/search.md``). Both engines search ticket subjects and message bodies (public
replies and internal notes) and apply ``ticket_visibility_q`` to every hit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from trustdesk.accounts.models import Agent
from trustdesk.core.errors import ValidationFailed
from trustdesk.search.engines import engine_for_connection
from trustdesk.search.engines.base import Candidate, PageRow, visibility_for
from trustdesk.search.query import parse_query
from trustdesk.search.snippets import render_snippet

Order = Literal["relevance", "newest"]
MAX_LIMIT = 100
MAX_OFFSET = 1000


@dataclass(frozen=True)
class SearchHit:
    ticket_id: int
    ticket_number: int
    subject: str
    status: str
    customer_id: int
    customer_name: str
    message_id: int | None  # None when the hit is the ticket's subject
    snippet: str  # HTML-safe text with matches wrapped in <mark>…</mark>
    rank: float  # higher is better
    created_at: datetime  # of the matching message (or ticket)


def _check_page(order: str, limit: int, offset: int) -> None:
    if order not in ("relevance", "newest"):
        raise ValidationFailed(
            f"{order!r} is not a valid order; use relevance or newest.", field="order"
        )
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"limit must be between 1 and {MAX_LIMIT}.", field="limit")
    if not 0 <= offset <= MAX_OFFSET:
        raise ValidationFailed(f"offset must be between 0 and {MAX_OFFSET}.", field="offset")


def _merge_newest(messages: list[Candidate], tickets: list[Candidate]) -> list[Candidate]:
    """Merge two newest-first streams by time, keeping each stream's own (id) order."""
    merged: list[Candidate] = []
    i = j = 0
    while i < len(messages) or j < len(tickets):
        if j == len(tickets) or (
            i < len(messages) and messages[i].created_at >= tickets[j].created_at
        ):
            merged.append(messages[i])
            i += 1
        else:
            merged.append(tickets[j])
            j += 1
    return merged


def search(
    *, agent: Agent, query: str, order: Order = "relevance", limit: int = 25, offset: int = 0
) -> list[SearchHit]:
    """Tickets and messages visible to ``agent`` matching ``query``.

    ``query`` is free text: words, "quoted phrases" and a trailing ``prefix*``, all required.
    "newest" lists the newest matching messages (and subjects) first; "relevance" ranks by
    BM25 (SQLite) or ``ts_rank_cd`` (PostgreSQL) among the newest matches (a bounded set, see
    ``RANK_CANDIDATES``). Raises ``ValidationFailed`` (code ``invalid_query``) for an empty or
    over-long query.
    """
    parsed = parse_query(query)
    _check_page(order, limit, offset)
    visibility = visibility_for(agent)
    if not parsed.terms or visibility is None:
        return []
    engine = engine_for_connection()
    need = offset + limit
    messages = engine.candidates(
        kind="message", query=parsed, visibility=visibility, order=order, need=need
    )
    tickets = engine.candidates(
        kind="ticket", query=parsed, visibility=visibility, order=order, need=need
    )
    if order == "newest":
        merged = _merge_newest(messages, tickets)
    else:
        merged = sorted(
            [*messages, *tickets], key=lambda c: (c.rank, c.created_at, c.kind), reverse=True
        )
    page = merged[offset:need]
    rows: dict[tuple[str, int], PageRow] = {}
    for kind in ("message", "ticket"):
        ids = [c.id for c in page if c.kind == kind]
        found = engine.page_rows(kind=kind, query=parsed, ids=ids)
        rows.update({(kind, pk): row for pk, row in found.items()})
    hits = []
    for candidate in page:
        row = rows.get((candidate.kind, candidate.id))
        if row is None:  # deleted between the two reads
            continue
        hits.append(
            SearchHit(
                ticket_id=row.ticket_id,
                ticket_number=row.ticket_number,
                subject=row.subject,
                status=row.status,
                customer_id=row.customer_id,
                customer_name=row.customer_name,
                message_id=candidate.id if candidate.kind == "message" else None,
                snippet=render_snippet(row.snippet_marked),
                rank=candidate.rank,
                created_at=candidate.created_at,
            )
        )
    return hits


def search_rebuild() -> None:
    """Make the search index complete and its statistics fresh, e.g. after a bulk load.

    SQLite: recreate any missing FTS5 table or trigger, then FTS5 'rebuild' and 'optimize'
    (minutes at millions of messages). PostgreSQL: the generated columns are always current;
    this only runs ANALYZE so the planner's tsvector statistics match the data.
    """
    engine_for_connection().rebuild()


def search_problems() -> list[str]:
    """What is missing from the search schema (missing table, trigger, column or index).

    Cheap (catalog reads only): an empty list means search is ready.
    """
    return engine_for_connection().problems()
