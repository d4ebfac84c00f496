"""PostgreSQL: a stored generated tsvector column and a GIN index on each searched table.

``search_vector`` is ``GENERATED ALWAYS AS (to_tsvector('english'::regconfig, ...)) STORED``
on ``tickets_message`` (body_text) and ``tickets_ticket`` (subject): every write path, raw SQL
and COPY included, keeps it current without application code.

``ORDER BY id DESC LIMIT n`` over a text match has two plans, and the planner picks from its
estimate of how many rows match: walk the primary key backwards and test each row (fast for
common terms, a full-table walk for rare ones), or read the GIN index and sort (fast for rare
terms, every match fetched for common ones). We never let a wrong guess cost a full walk:

* the number of matches is estimated first (``EXPLAIN``, from the tsvector statistics);
* a term expected to match few rows is read through the GIN index only, in a
  ``MATERIALIZED`` CTE (capped at ``GIN_CAP`` rows);
* a common term is searched within an id window sized to hold a few times ``need`` matches
  (newest) or ``RANK_CANDIDATES`` matches (relevance), so whichever plan runs touches a
  bounded range; a window that yields too few visible hits grows eightfold and is retried.
"""

from __future__ import annotations

import json
import math
from typing import Any

from django.db import connection

from trustdesk.search.engines.base import (
    CUSTOMER_TABLE,
    MESSAGE_TABLE,
    RANK_CANDIDATES,
    TICKET_TABLE,
    Candidate,
    Kind,
    Order,
    PageRow,
    Visibility,
    and_visible,
    as_datetime,
    page_row,
)
from trustdesk.search.query import ParsedQuery, Term
from trustdesk.search.snippets import MARK_CLOSE, MARK_OPEN

CONFIG = "english"
# At most this many GIN matches are fetched for a term the statistics call rare.
GIN_CAP = 50_000
# Measured per-row costs (2-core VM, data cached) for choosing between GIN and a PK walk.
GIN_ROW_US = 5.0
WALK_ROW_US = 1.5
# ts_headline reads the whole text; a match past this many characters gets no highlight.
HEADLINE_MAX_CHARS = 50_000
INDEXES: dict[Kind, tuple[str, str]] = {
    "message": (MESSAGE_TABLE, "body_text"),
    "ticket": (TICKET_TABLE, "subject"),
}


def schema_sql(kind: Kind) -> list[str]:
    table, column = INDEXES[kind]
    return [
        f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS search_vector tsvector GENERATED ALWAYS "
        f"AS (to_tsvector('{CONFIG}'::regconfig, coalesce({column}, ''))) STORED",
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {table}_search_gin ON {table} "
        f"USING gin (search_vector)",
    ]


def drop_sql(kind: Kind) -> list[str]:
    table, _ = INDEXES[kind]
    return [
        f"DROP INDEX CONCURRENTLY IF EXISTS {table}_search_gin",
        f"ALTER TABLE {table} DROP COLUMN IF EXISTS search_vector",
    ]


def _term_sql(term: Term) -> tuple[list[str], list[str]]:
    """A term as tsquery expressions; user text only ever travels as a bound parameter."""
    if term.kind == "word":
        return [f"plainto_tsquery('{CONFIG}'::regconfig, %s)"], [term.text]
    if term.kind == "phrase":
        return [f"phraseto_tsquery('{CONFIG}'::regconfig, %s)"], [term.text]
    *heads, last = term.pieces
    sqls = [f"plainto_tsquery('{CONFIG}'::regconfig, %s)" for _ in heads]
    # ``last`` is letters and digits only (no quote, backslash or operator), quoted anyway.
    sqls.append(f"to_tsquery('{CONFIG}'::regconfig, %s)")
    return sqls, [*heads, f"'{last}':*"]


def tsquery_sql(query: ParsedQuery) -> tuple[str, tuple[str, ...]]:
    parts: list[str] = []
    params: list[str] = []
    for term in query.terms:
        sqls, args = _term_sql(term)
        parts += sqls
        params += args
    return "(" + " && ".join(parts) + ")", tuple(params)


class PostgresEngine:
    def candidates(
        self,
        *,
        kind: Kind,
        query: ParsedQuery,
        visibility: Visibility,
        order: Order,
        need: int,
    ) -> list[Candidate]:
        table, _ = INDEXES[kind]
        q_sql, q_params = tsquery_sql(query)
        with connection.cursor() as cursor:
            estimate = self._estimate(cursor, table, q_sql, q_params)
            cursor.execute(f"SELECT max(id) FROM {table}")  # noqa: S608
            top = cursor.fetchone()[0]
            if top is None:
                return []
            target = need * 2 if order == "newest" else RANK_CANDIDATES
            span = self._window_span(estimate, top, target)
            while True:
                floor = max(0, top - span)
                rows = self._window(cursor, kind, q_sql, q_params, visibility, order, need, floor)
                if floor == 0 or len(rows) >= need:
                    return rows
                span *= 8

    @staticmethod
    def _window_span(estimate: float, top: int, target: int) -> int:
        """How many of the newest ids to search first; ``top`` (everything) means GIN only.

        Our own cost model, measured on this hardware: fetching one GIN match from the heap
        costs about ``GIN_ROW_US``, testing one row on a backward primary-key walk about
        ``WALK_ROW_US``. A walk needs about ``top * target / estimate`` rows to find ``target``
        matches; the GIN read fetches all ``estimate`` of them. Take the cheaper.
        """
        gin_cost = estimate * GIN_ROW_US
        span = math.ceil(top * target / estimate)
        if gin_cost <= span * WALK_ROW_US:
            return top
        return span

    @staticmethod
    def _estimate(cursor: Any, table: str, q_sql: str, q_params: tuple[str, ...]) -> float:
        """Rows the planner expects ``search_vector @@ query`` to match (tsvector statistics)."""
        cursor.execute(
            f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {table} WHERE search_vector @@ {q_sql}",  # noqa: S608
            q_params,
        )
        plan = cursor.fetchone()[0]
        if isinstance(plan, str):
            plan = json.loads(plan)
        return max(1.0, float(plan[0]["Plan"]["Plan Rows"]))

    @staticmethod
    def _window(
        cursor: Any,
        kind: Kind,
        q_sql: str,
        q_params: tuple[str, ...],
        visibility: Visibility,
        order: Order,
        need: int,
        floor: int,
    ) -> list[Candidate]:
        """Visible matches with ``id > floor``, newest first (or ranked, for relevance)."""
        table, _ = INDEXES[kind]
        ticket_key = "ticket_id" if kind == "message" else "id"
        sql: list[str] = []
        args: list[Any] = []
        if floor == 0:
            # Few matches expected: the GIN index alone finds them. MATERIALIZED keeps the
            # planner from folding this back into a primary-key walk.
            sql.append(
                f"WITH h AS MATERIALIZED (SELECT id, {ticket_key} AS ticket_key, created_at, "  # noqa: S608
                f"search_vector FROM {table} WHERE search_vector @@ {q_sql} LIMIT {GIN_CAP}) "
            )
            args += q_params
        if order == "relevance":
            sql.append("SELECT id, created_at, rank FROM (")
        sql.append("SELECT h.id, h.created_at, ")
        if order == "relevance":
            sql.append(f"ts_rank_cd(h.search_vector, {q_sql}, 1) AS rank ")
            args += q_params
        else:
            sql.append("0.0 AS rank ")
        if floor == 0:
            sql.append(f"FROM h JOIN {TICKET_TABLE} ON {TICKET_TABLE}.id = h.ticket_key WHERE true")
        else:
            sql.append(
                f"FROM {table} h JOIN {TICKET_TABLE} ON {TICKET_TABLE}.id = h.{ticket_key} "
                f"WHERE h.search_vector @@ {q_sql} AND h.id > %s"
            )
            args += [*q_params, floor]
        sql.append(and_visible(visibility))
        args += visibility.params
        sql.append(" ORDER BY h.id DESC LIMIT %s")
        if order == "relevance":
            sql.append(") c ORDER BY rank DESC, id DESC LIMIT %s")
            args += [RANK_CANDIDATES, need]
        else:
            args.append(need)
        cursor.execute("".join(sql), args)
        return [
            Candidate(kind, int(r[0]), as_datetime(r[1]), float(r[2])) for r in cursor.fetchall()
        ]

    def page_rows(self, *, kind: Kind, query: ParsedQuery, ids: list[int]) -> dict[int, PageRow]:
        if not ids:
            return {}
        table, column = INDEXES[kind]
        q_sql, q_params = tsquery_sql(query)
        ticket = "t" if kind == "ticket" else "tt"
        join = f"JOIN {TICKET_TABLE} tt ON tt.id = t.ticket_id " if kind == "message" else ""
        # HighlightAll keeps every character (ts_headline's own fragments drop punctuation
        # and markup-looking text); ``excerpt`` then cuts about 30 words around the match.
        options = f'HighlightAll=true, StartSel="{MARK_OPEN}", StopSel="{MARK_CLOSE}"'

        sql = (
            f"SELECT t.id, {ticket}.id, {ticket}.number, {ticket}.subject, {ticket}.status, "  # noqa: S608
            f"{ticket}.customer_id, c.full_name, ts_headline('{CONFIG}'::regconfig, "
            f"translate(left(t.{column}, {HEADLINE_MAX_CHARS}), %s, ''), {q_sql}, %s) "
            f"FROM {table} t {join}JOIN {CUSTOMER_TABLE} c ON c.id = {ticket}.customer_id "
            f"WHERE t.id = ANY(%s)"
        )
        args: list[Any] = [MARK_OPEN + MARK_CLOSE, *q_params, options, ids]
        with connection.cursor() as cursor:
            cursor.execute(sql, args)
            return {int(row[0]): page_row(row[1:]) for row in cursor.fetchall()}

    def rebuild(self) -> None:
        """Refresh the planner's tsvector statistics; the index itself is always current."""
        with connection.cursor() as cursor:
            for table, _ in INDEXES.values():
                cursor.execute(f"ANALYZE {table}")

    def problems(self) -> list[str]:
        missing = []
        with connection.cursor() as cursor:
            for table, _ in INDEXES.values():
                cursor.execute(
                    "SELECT 1 FROM pg_attribute WHERE attrelid = %s::regclass "
                    "AND attname = 'search_vector' AND NOT attisdropped",
                    [table],
                )
                if cursor.fetchone() is None:
                    missing.append(f"missing {table}.search_vector")
                cursor.execute(
                    "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                    "WHERE c.relname = %s AND i.indisvalid",
                    [f"{table}_search_gin"],
                )
                if cursor.fetchone() is None:
                    missing.append(f"missing valid index {table}_search_gin")
        return missing
