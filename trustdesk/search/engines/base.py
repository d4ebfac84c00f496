"""What every engine provides, and the parts they share: visibility SQL and page assembly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connection

from trustdesk.accounts.models import Agent
from trustdesk.customers.models import Customer
from trustdesk.search.query import ParsedQuery
from trustdesk.tickets.models import Message, Ticket
from trustdesk.tickets.selectors import ticket_visibility_q

Kind = Literal["message", "ticket"]
Order = Literal["relevance", "newest"]

MESSAGE_TABLE = Message._meta.db_table
TICKET_TABLE = Ticket._meta.db_table
CUSTOMER_TABLE = Customer._meta.db_table
# How many of the newest matches (per stream) relevance ranking considers at most.
RANK_CANDIDATES = 1000


@dataclass(frozen=True)
class Visibility:
    """A SQL condition on the ``tickets_ticket`` table (unaliased); empty for "everything"."""

    sql: str
    params: tuple[Any, ...]


@dataclass(frozen=True)
class Candidate:
    kind: Kind
    id: int  # message id, or ticket id for a subject hit
    created_at: datetime
    rank: float  # higher is better; 0.0 when ordering by newest


@dataclass(frozen=True)
class PageRow:
    """What a hit shows, read for the returned page only."""

    ticket_id: int
    ticket_number: int
    subject: str
    status: str
    customer_id: int
    customer_name: str
    snippet_marked: str  # text with MARK_OPEN/MARK_CLOSE around the matches, not yet escaped


class SearchEngine(Protocol):
    def candidates(
        self,
        *,
        kind: Kind,
        query: ParsedQuery,
        visibility: Visibility,
        order: Order,
        need: int,
    ) -> list[Candidate]:
        """Up to ``need`` visible hits of one kind, best first for ``order``."""
        ...

    def page_rows(self, *, kind: Kind, query: ParsedQuery, ids: list[int]) -> dict[int, PageRow]:
        """Ticket facts and a marked snippet for each id (of ``kind``)."""
        ...

    def rebuild(self) -> None:
        """Make the index complete and the planner statistics fresh (after a bulk load)."""
        ...

    def problems(self) -> list[str]:
        """What is missing from the index schema (empty when search is ready)."""
        ...


def visibility_for(agent: Agent) -> Visibility | None:
    """``ticket_visibility_q`` as SQL on the unaliased ticket table; None when nothing is visible.

    Compiling the tickets app's own rule keeps one source of truth for who sees what. A rule that
    needs joins is wrapped in an ``id IN (subquery)`` so it still reads from one table.
    """
    visible = Ticket.objects.filter(ticket_visibility_q(agent))
    query = visible.query
    try:
        if len(query.alias_map) > 1:
            sub_sql, sub_params = visible.values("pk").query.sql_with_params()
            return Visibility(f"{TICKET_TABLE}.id IN ({sub_sql})", tuple(sub_params))
        sql, params = query.get_compiler(connection=connection).compile(query.where)
    except EmptyResultSet:
        return None
    except FullResultSet:
        return Visibility("", ())
    return Visibility(sql.replace(f'"{TICKET_TABLE}".', f"{TICKET_TABLE}."), tuple(params))


def and_visible(visibility: Visibility) -> str:
    return f" AND ({visibility.sql})" if visibility.sql else ""


def as_datetime(value: Any) -> datetime:
    """A raw cursor's datetime: aware already on PostgreSQL, naive UTC text on SQLite."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def page_row(row: tuple[Any, ...]) -> PageRow:
    """A PageRow from (ticket id, number, subject, status, customer id, name, snippet)."""
    return PageRow(
        ticket_id=int(row[0]),
        ticket_number=int(row[1]),
        subject=str(row[2]),
        status=str(row[3]),
        customer_id=int(row[4]),
        customer_name=str(row[5]),
        snippet_marked=str(row[6] or ""),
    )
