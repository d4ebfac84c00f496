"""PostgreSQL: a stored generated tsvector column and a GIN index on each searched table.

``search_vector`` is ``GENERATED ALWAYS AS (to_tsvector('english'::regconfig, ...)) STORED``
on ``tickets_message`` (body_text) and ``tickets_ticket`` (subject): every write path, raw SQL
and COPY included, keeps it current without application code.

``ORDER BY id DESC LIMIT n`` over a text match has two plans: walk the primary key backwards
and test each row (fast for common terms, a full-table walk for rare ones), or read every match
through the GIN index and sort (fast for rare terms; for a common term even building the bitmap
takes seconds). The tsvector statistics only know the most common lexemes: every other lexeme
gets the same estimate, so they cannot tell a zero-hit word from one in 10,000 messages. So:

* a term the statistics call common (estimate >= ``GIN_CAP``) walks windows of the newest ids
  sized from the estimate (``walk``), growing a window that holds too few visible hits;
* any other term: newest-first first tries one window of the ``FIRST_WINDOW`` newest ids
  (``window``; the planner ANDs the GIN bitmap with the id range), which is enough for a
  medium term; then (and directly for relevance) the GIN index alone, reading at most
  ``GIN_CAP`` matches (``gin``). Fewer than the cap means the answer is complete (rare and
  zero-hit terms: a few ms); only a term with more matches goes on to growing windows.

The GIN read and the walk are fenced (``MATERIALIZED`` CTE, ``OFFSET 0`` subquery) so the
planner cannot swap one for the other. See docs/search.md for the measurements.
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
    as_datetime,
    page_row,
)
from trustdesk.search.query import ParsedQuery, Term
from trustdesk.search.snippets import MARK_CLOSE, MARK_OPEN

CONFIG = "english"
# At most this many matches are read through the GIN index (for a term the statistics cannot
# call common); reading more means the term is common and a walk of the newest ids is cheaper.
GIN_CAP = 50_000
# Newest-first, for a term the statistics cannot call common: the first window of newest ids
# (the planner ANDs the GIN bitmap with this id range: a few ms).
FIRST_WINDOW = 20_000
# A window of newest ids that holds too few visible hits grows by this factor.
GROWTH = 8
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


class _Search:
    """The two ways of reading one stream: a GIN read capped at GIN_CAP, or a walk of newest ids."""

    def __init__(
        self,
        kind: Kind,
        q_sql: str,
        q_params: tuple[str, ...],
        visibility: Visibility,
        order: Order,
        need: int,
    ) -> None:
        self.kind = kind
        self.table = INDEXES[kind][0]
        self.ticket_key = "ticket_id" if kind == "message" else "id"
        self.q_sql = q_sql
        self.q_params = q_params
        self.visibility = visibility
        self.order = order
        self.need = need

    def _visible(self, ticket_key: str) -> str:
        """A filter: the ticket whose id is ``ticket_key`` (a column expression) is visible."""
        if not self.visibility.sql:
            return "true"
        return (
            f"EXISTS (SELECT 1 FROM {TICKET_TABLE} WHERE {TICKET_TABLE}.id = {ticket_key} "  # noqa: S608
            f"AND ({self.visibility.sql}))"
        )

    def _ranked(self, newest_sql: str, newest_args: list[Any]) -> tuple[str, list[Any]]:
        """Rank the rows of ``newest_sql`` (id, created_at) and keep the best ``need``."""
        if self.order == "newest":
            return newest_sql, newest_args
        sql = (
            f"SELECT v.id, v.created_at, ts_rank_cd(r.search_vector, {self.q_sql}, 1) AS rank "  # noqa: S608
            f"FROM ({newest_sql}) v JOIN {self.table} r ON r.id = v.id "
            f"ORDER BY rank DESC, v.id DESC LIMIT %s"
        )
        return sql, [*self.q_params, *newest_args, self.need]

    def _limit(self) -> int:
        return self.need if self.order == "newest" else RANK_CANDIDATES

    def gin(self, cursor: Any, *, cap: int) -> tuple[int, list[Candidate]]:
        """(matches read, hits): every match up to ``cap`` through the GIN index alone.

        MATERIALIZED keeps the planner from folding the read back into a primary-key walk;
        only id, ticket and time are carried (ranking re-reads the newest rows' vectors).
        The hits are only complete when fewer than ``cap`` matches were read.
        """
        newest = (
            f"SELECT s.id, s.created_at, 0.0 AS rank FROM "  # noqa: S608
            f"(SELECT id, ticket_key, created_at FROM h ORDER BY id DESC OFFSET 0) s "
            f"WHERE {self._visible('s.ticket_key')} ORDER BY s.id DESC LIMIT %s"
        )
        ranked, ranked_args = self._ranked(newest, [*self.visibility.params, self._limit()])
        sql = (
            f"WITH h AS MATERIALIZED (SELECT id, {self.ticket_key} AS ticket_key, created_at "  # noqa: S608
            f"FROM {self.table} WHERE search_vector @@ {self.q_sql} LIMIT {int(cap)}), "
            f"n AS (SELECT count(*) AS matches FROM h) "
            f"SELECT n.matches, c.id, c.created_at, c.rank FROM n LEFT JOIN LATERAL "
            f"({ranked}) c ON true ORDER BY c.rank DESC, c.id DESC"
        )
        args = [*self.q_params, *ranked_args]
        cursor.execute(sql, args)
        result = cursor.fetchall()
        matches = int(result[0][0]) if result else 0
        return matches, [self._candidate(r[1:]) for r in result if r[1] is not None]

    def window(self, cursor: Any, *, floor: int) -> list[Candidate]:
        """Newest visible matches among ids above ``floor``, plan left to the planner.

        Only for a bounded window of a term the statistics call uncommon: the planner then
        ANDs the GIN bitmap with the primary-key range and reads only the window's matches.
        """
        sql = (
            f"SELECT h.id, h.created_at, 0.0 AS rank FROM {self.table} h "  # noqa: S608
            f"WHERE h.search_vector @@ {self.q_sql} AND h.id > %s "
            f"AND {self._visible(f'h.{self.ticket_key}')} ORDER BY h.id DESC LIMIT %s"
        )
        cursor.execute(sql, [*self.q_params, floor, *self.visibility.params, self.need])
        return [self._candidate(r) for r in cursor.fetchall()]

    def walk(self, cursor: Any, *, floor: int) -> list[Candidate]:
        """Visible matches among ids above ``floor``, walking the primary key backwards.

        The ``OFFSET 0`` fence keeps the match test above the backward index scan, so the
        planner cannot swap in a GIN bitmap (which would read every match of a common term).
        """
        newest = (
            f"SELECT w.id, w.created_at, 0.0 AS rank FROM "  # noqa: S608
            f"(SELECT id, {self.ticket_key} AS ticket_key, created_at, search_vector "
            f"FROM {self.table} WHERE id > %s ORDER BY id DESC OFFSET 0) w "
            f"WHERE w.search_vector @@ {self.q_sql} AND {self._visible('w.ticket_key')} "
            f"ORDER BY w.id DESC LIMIT %s"
        )
        ranked, args = self._ranked(
            newest, [floor, *self.q_params, *self.visibility.params, self._limit()]
        )
        sql = f"SELECT id, created_at, rank FROM ({ranked}) c ORDER BY rank DESC, id DESC"  # noqa: S608
        cursor.execute(sql, args)
        return [self._candidate(r) for r in cursor.fetchall()]

    def _candidate(self, row: Any) -> Candidate:
        return Candidate(self.kind, int(row[0]), as_datetime(row[1]), float(row[2]))


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
        search = _Search(kind, q_sql, q_params, visibility, order, need)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT max(id) FROM {table}")  # noqa: S608
            top = cursor.fetchone()[0]
            if top is None:
                return []
            estimate = self._estimate(cursor, table, q_sql, q_params)
            target = 2 * need if order == "newest" else RANK_CANDIDATES
            span = max(1, math.ceil(top * target / estimate))
            if estimate < GIN_CAP:
                # The statistics cannot tell a rare term from a moderately common one (every
                # lexeme outside the most-common-elements list gets the same estimate).
                if order == "newest":
                    # One window of the newest ids, the planner's choice of plan (usually the
                    # GIN bitmap ANDed with the id range: only the window's matches are read).
                    floor = max(0, top - min(span, FIRST_WINDOW))
                    rows = search.window(cursor, floor=floor)
                    if len(rows) >= need or floor == 0:
                        return rows
                # Rare, zero-hit or medium: the GIN index alone, reading at most GIN_CAP
                # matches, answers completely.
                matches, rows = search.gin(cursor, cap=GIN_CAP)
                if matches < GIN_CAP:
                    return rows
                # Common after all (stale statistics, correlated words): walk windows sized
                # for at least GIN_CAP matches.
                span = min(span, max(1, math.ceil(top * target / GIN_CAP)))
            while True:
                floor = max(0, top - span)
                rows = search.walk(cursor, floor=floor)
                if floor == 0 or len(rows) >= need:
                    return rows
                span *= GROWTH

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
