"""SQLite: external-content FTS5 tables kept in sync by triggers, ranked with bm25().

``search_message_fts`` indexes ``tickets_message.body_text`` and ``search_ticket_fts`` indexes
``tickets_ticket.subject``; both store only the index (the text stays in the content table).
FTS5 walks a doclist in rowid order, so "newest" is ``ORDER BY rowid DESC LIMIT n`` and stops
after n visible hits; "relevance" ranks the newest ``RANK_CANDIDATES`` visible matches.
"""

from __future__ import annotations

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

TOKENIZE = "porter unicode61 remove_diacritics 2"
# (fts table, content table, indexed column)
INDEXES: dict[Kind, tuple[str, str, str]] = {
    "message": ("search_message_fts", MESSAGE_TABLE, "body_text"),
    "ticket": ("search_ticket_fts", TICKET_TABLE, "subject"),
}


def schema_sql(kind: Kind) -> list[str]:
    """The FTS5 table and the three triggers that keep it in sync with its content table."""
    fts, table, column = INDEXES[kind]
    delete = f"INSERT INTO {fts}({fts}, rowid, {column}) VALUES ('delete', old.id, old.{column});"  # noqa: S608
    insert = f"INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column});"  # noqa: S608
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5({column}, content='{table}', "
        f"content_rowid='id', tokenize='{TOKENIZE}')",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_ai AFTER INSERT ON {table} BEGIN {insert} END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_ad AFTER DELETE ON {table} BEGIN {delete} END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_au AFTER UPDATE OF {column} ON {table} "
        f"BEGIN {delete} {insert} END",
    ]


def drop_sql(kind: Kind) -> list[str]:
    fts = INDEXES[kind][0]
    return [f"DROP TRIGGER IF EXISTS {fts}_{suffix}" for suffix in ("ai", "ad", "au")] + [
        f"DROP TABLE IF EXISTS {fts}"
    ]


def _fts_term(term: Term) -> str:
    """One term as FTS5 strings: every piece of user text is a double-quoted literal."""
    if term.kind == "prefix":
        pieces = term.pieces
        return " ".join([*(f'"{p}"' for p in pieces[:-1]), f'"{pieces[-1]}" *'])
    return '"' + term.text.replace('"', '""') + '"'


def match_expression(query: ParsedQuery) -> str:
    return " ".join(_fts_term(term) for term in query.terms)


class SqliteEngine:
    def candidates(
        self,
        *,
        kind: Kind,
        query: ParsedQuery,
        visibility: Visibility,
        order: Order,
        need: int,
    ) -> list[Candidate]:
        fts, table, _ = INDEXES[kind]
        if kind == "message":
            joins = f"CROSS JOIN {table} m ON m.id = f.rowid CROSS JOIN {TICKET_TABLE} ON {TICKET_TABLE}.id = m.ticket_id"
            created = "m.created_at"
        else:
            joins = f"CROSS JOIN {TICKET_TABLE} ON {TICKET_TABLE}.id = f.rowid"
            created = f"{TICKET_TABLE}.created_at"
        # bm25() counts the documents of every phrase on its first call (a walk of each
        # phrase's whole doclist: ~45 ms per million matches), so "newest" never calls it.
        rank = f"-bm25({fts})" if order == "relevance" else "0.0"
        # CROSS JOIN pins the FTS table as the outer loop: matches stream in rowid order.
        inner = (
            f"SELECT f.rowid AS id, {created} AS created_at, {rank} AS rank "  # noqa: S608
            f"FROM {fts} f {joins} WHERE {fts} MATCH %s{and_visible(visibility)} "
            f"ORDER BY f.rowid DESC LIMIT %s"
        )
        params = (match_expression(query), *visibility.params)
        if order == "newest":
            sql, args = inner, (*params, need)
        else:
            sql = f"SELECT id, created_at, rank FROM ({inner}) ORDER BY rank DESC, id DESC LIMIT %s"  # noqa: S608
            args = (*params, RANK_CANDIDATES, need)
        with connection.cursor() as cursor:
            cursor.execute(sql, args)
            rows = cursor.fetchall()
        return [
            Candidate(
                kind, int(r[0]), as_datetime(r[1]), float(r[2]) if order == "relevance" else 0.0
            )
            for r in rows
        ]

    def page_rows(self, *, kind: Kind, query: ParsedQuery, ids: list[int]) -> dict[int, PageRow]:
        if not ids:
            return {}
        fts, _, _ = INDEXES[kind]
        ticket_join = (
            f"CROSS JOIN {MESSAGE_TABLE} m ON m.id = f.rowid CROSS JOIN {TICKET_TABLE} t ON t.id = m.ticket_id"
            if kind == "message"
            else f"CROSS JOIN {TICKET_TABLE} t ON t.id = f.rowid"
        )
        placeholders = ", ".join(["%s"] * len(ids))
        sql = (
            f"SELECT f.rowid, t.id, t.number, t.subject, t.status, t.customer_id, c.full_name, "  # noqa: S608
            f"highlight({fts}, 0, %s, %s) "
            f"FROM {fts} f {ticket_join} JOIN {CUSTOMER_TABLE} c ON c.id = t.customer_id "
            f"WHERE {fts} MATCH %s AND f.rowid IN ({placeholders})"
        )
        args: list[str | int] = [MARK_OPEN, MARK_CLOSE, match_expression(query), *ids]
        with connection.cursor() as cursor:
            cursor.execute(sql, args)
            return {int(row[0]): page_row(row[1:]) for row in cursor.fetchall()}

    def rebuild(self) -> None:
        with connection.cursor() as cursor:
            for kind in INDEXES:
                for statement in schema_sql(kind):
                    cursor.execute(statement)
                fts = INDEXES[kind][0]
                cursor.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")  # noqa: S608
                cursor.execute(f"INSERT INTO {fts}({fts}) VALUES ('optimize')")  # noqa: S608
            cursor.execute("ANALYZE")

    def problems(self) -> list[str]:
        expected = set()
        for fts, _, _ in INDEXES.values():
            expected |= {fts, f"{fts}_ai", f"{fts}_ad", f"{fts}_au"}
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger') "
                "AND name LIKE %s",
                ["search%"],
            )
            present = {row[0] for row in cursor.fetchall()}
        return [f"missing {name}" for name in sorted(expected - present)]
