"""Full-text search over tickets and messages: one interface, two engines.

INTERFACE CONTRACT (being implemented): SQLite FTS5 on SQLite, PostgreSQL tsvector + GIN on
PostgreSQL, chosen by the connection's vendor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from trustdesk.accounts.models import Agent

Order = Literal["relevance", "newest"]


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


def search(
    *, agent: Agent, query: str, order: Order = "relevance", limit: int = 25, offset: int = 0
) -> list[SearchHit]:
    """Tickets and messages visible to ``agent`` matching ``query``.

    Raises ``ValidationFailed`` (code ``invalid_query``) for an empty or over-long query.
    """
    raise NotImplementedError("search engine is being built")
