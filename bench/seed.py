"""Seed a benchmark database at a given scale, or reuse it when its marker says it matches.

Runs inside a child process configured (``TRUSTDESK_DATABASE_URL``) for that database. The ORM
and the services create the few agents and teams; the millions of rows go in through the
fastest correct path: PostgreSQL ``COPY`` and SQLite ``executemany`` in big transactions with
``synchronous=OFF``, with secondary indexes dropped during the load and rebuilt afterwards.
On SQLite the search triggers are dropped with the indexes, so the search engine's own
``search_rebuild`` (FTS5 'rebuild' + 'optimize') indexes all messages at once afterwards; on
PostgreSQL the generated tsvector column is filled by COPY and its GIN index is rebuilt with the
other indexes.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from bench import rows
from bench.config import BENCH_AGENT, SEED_VERSION, Scale
from bench.textgen import QUERIES, TextGenerator

BULK_TABLES = [
    "customers_customer",
    "customers_contactpoint",
    "tickets_ticket",
    "tickets_message",
    "tickets_ticket_tags",
]
MARKER_TABLE = "bench_marker"


def marker_read() -> dict[str, Any] | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT value FROM {MARKER_TABLE} WHERE key = 'dataset'")
            row = cursor.fetchone()
    except Exception:
        return None
    return json.loads(row[0]) if row else None


def marker_matches(marker: dict[str, Any] | None, scale: Scale) -> bool:
    return bool(
        marker
        and marker.get("seed_version") == SEED_VERSION
        and marker.get("tickets") == scale.tickets
        and marker.get("messages_per_ticket") == scale.messages_per_ticket
    )


def database_recreate() -> None:
    """Drop and create the configured database. Must run before Django connects to it."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db['NAME']}{suffix}").unlink(missing_ok=True)
        return
    admin = psycopg.connect(
        host=db["HOST"],
        port=db["PORT"] or 5432,
        user=db["USER"],
        dbname="postgres",
        autocommit=True,
    )
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{db["NAME"]}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{db["NAME"]}"')


def database_exists() -> bool:
    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return Path(db["NAME"]).exists()
    admin = psycopg.connect(
        host=db["HOST"],
        port=db["PORT"] or 5432,
        user=db["USER"],
        dbname="postgres",
        autocommit=True,
    )
    with admin:
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]])
        return found.fetchone() is not None


def seed(scale: Scale, *, force: bool = False) -> dict[str, Any]:
    """The dataset marker, after seeding the database if it does not match ``scale``."""
    if not force and database_exists():
        marker = marker_read()
        if marker_matches(marker, scale):
            assert marker is not None
            return {**marker, "reused": True}
        connection.close()
    database_recreate()
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrated = time.perf_counter()
    agent_ids, team_ids, tag_ids = _people_and_tags()
    text = TextGenerator(seed=42, total_messages=scale.tickets * scale.messages_per_ticket)
    batches = rows.ticket_batches(
        tickets=scale.tickets,
        mean_messages=scale.messages_per_ticket,
        text=text,
        agent_ids=agent_ids,
        team_ids=team_ids,
        tag_ids=tag_ids,
    )
    if connection.vendor == "sqlite":
        counts = _load_sqlite(scale, batches)
    else:
        counts = _load_postgres(scale, batches)
    _counter_set(rows.NUMBER_START + scale.tickets)
    loaded = time.perf_counter()
    _search_index_finish()
    _analyze()
    marker = {
        "seed_version": SEED_VERSION,
        "scale": scale.name,
        "tickets": scale.tickets,
        "messages_per_ticket": scale.messages_per_ticket,
        **counts,
        "term_counts": {
            name: (text.counts["both_common"] if name == "two_common" else text.counts.get(q, 0))
            for name, q in QUERIES.items()
        },
        "seconds": {
            "migrate": round(migrated - started, 1),
            "load": round(loaded - migrated, 1),
            "index_and_analyze": round(time.perf_counter() - loaded, 1),
            "total": round(time.perf_counter() - started, 1),
        },
    }
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {MARKER_TABLE} (key varchar(40) PRIMARY KEY, value text)")
        cursor.execute(
            f"INSERT INTO {MARKER_TABLE} (key, value) VALUES ('dataset', %s)",
            [json.dumps(marker)],
        )
    return {**marker, "reused": False}


def _people_and_tags() -> tuple[list[int], list[int], list[int]]:
    from trustdesk.accounts.models import Agent
    from trustdesk.accounts.services import agent_create, team_get_or_create
    from trustdesk.tickets.models import Tag

    teams = [team_get_or_create(name=f"Team {i}") for i in range(5)]
    agent_create(
        email=BENCH_AGENT, display_name="Bench Admin", role=Agent.Role.ADMIN, check_password=False
    )
    agents = [
        agent_create(
            email=f"agent{i}@example.com",
            display_name=f"Agent {i}",
            teams=[teams[i % len(teams)]],
            check_password=False,
        )
        for i in range(20)
    ]
    tags = Tag.objects.bulk_create([Tag(name=name) for name in rows.TAGS])
    return [a.pk for a in agents], [t.pk for t in teams], [t.pk for t in tags]


def _customer_rows(
    scale: Scale,
) -> tuple[Iterator[tuple[object, ...]], Iterator[tuple[object, ...]]]:
    count = rows.customer_count(scale.tickets)
    return rows.customers(count), rows.contacts(count)


def _insert_sql(table: str, columns: list[str]) -> str:
    marks = ", ".join("?" for _ in columns)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"


def _load_sqlite(scale: Scale, batches: Iterable[rows.Batch]) -> dict[str, int]:
    sqlite3.register_adapter(datetime, lambda v: v.replace(tzinfo=None).isoformat(" "))
    connection.ensure_connection()
    raw: sqlite3.Connection = connection.connection
    if raw.in_transaction:
        raw.execute("COMMIT")
    raw.execute("PRAGMA synchronous=OFF")
    raw.execute("PRAGMA cache_size=-1000000")
    indexes = raw.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
        "AND sql IS NOT NULL "
        f"AND tbl_name IN ({', '.join('?' for _ in BULK_TABLES)})",
        BULK_TABLES,
    ).fetchall()
    for kind, name, _sql in indexes:
        raw.execute(f'DROP {kind.upper()} "{name}"')
    customers, contacts = _customer_rows(scale)
    raw.execute("BEGIN")
    raw.executemany(_insert_sql("customers_customer", rows.CUSTOMER_COLUMNS), customers)
    raw.executemany(_insert_sql("customers_contactpoint", rows.CONTACT_COLUMNS), contacts)
    raw.execute("COMMIT")
    counts = {"tickets": 0, "messages": 0, "customers": rows.customer_count(scale.tickets)}
    for batch in batches:
        raw.execute("BEGIN")
        raw.executemany(_insert_sql("tickets_ticket", rows.TICKET_COLUMNS), batch.tickets)
        raw.executemany(_insert_sql("tickets_message", rows.MESSAGE_COLUMNS), batch.messages)
        raw.executemany(
            _insert_sql("tickets_ticket_tags", rows.TICKET_TAG_COLUMNS), batch.ticket_tags
        )
        raw.execute("COMMIT")
        counts["tickets"] += len(batch.tickets)
        counts["messages"] += len(batch.messages)
        _progress(counts, scale)
    for _kind, _name, sql in indexes:
        raw.execute(sql)
    raw.execute("PRAGMA synchronous=NORMAL")
    return counts


def _load_postgres(scale: Scale, batches: Iterable[rows.Batch]) -> dict[str, int]:
    connection.ensure_connection()
    raw: psycopg.Connection[Any] = connection.connection
    was_autocommit = raw.autocommit
    raw.commit()
    raw.autocommit = True
    raw.execute("SET synchronous_commit = off")
    raw.execute("SET maintenance_work_mem = '1GB'")
    raw.execute("SET session_replication_role = replica")  # no FK triggers during the load
    indexes = raw.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
        "WHERE t.relname = ANY(%s) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
        [BULK_TABLES],
    ).fetchall()
    for name, _sql in indexes:
        raw.execute(f'DROP INDEX "{name}"')
    customers, contacts = _customer_rows(scale)
    _copy(raw, "customers_customer", rows.CUSTOMER_COLUMNS, customers)
    _copy(raw, "customers_contactpoint", rows.CONTACT_COLUMNS, contacts)
    counts = {"tickets": 0, "messages": 0, "customers": rows.customer_count(scale.tickets)}
    for batch in batches:
        with raw.transaction():
            _copy(raw, "tickets_ticket", rows.TICKET_COLUMNS, batch.tickets)
            _copy(raw, "tickets_message", rows.MESSAGE_COLUMNS, batch.messages)
            _copy(raw, "tickets_ticket_tags", rows.TICKET_TAG_COLUMNS, batch.ticket_tags)
        counts["tickets"] += len(batch.tickets)
        counts["messages"] += len(batch.messages)
        _progress(counts, scale)
    raw.execute("SET session_replication_role = DEFAULT")
    raw.execute("SET max_parallel_maintenance_workers = 2")
    for _name, sql in indexes:
        raw.execute(sql)
    for table in BULK_TABLES:
        raw.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
        )
    raw.execute("RESET ALL")
    raw.autocommit = was_autocommit  # Django's own setting: True outside atomic blocks
    return counts


def _copy(
    raw: psycopg.Connection[Any], table: str, columns: list[str], data: Iterable[tuple[object, ...]]
) -> None:
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in data:
            copy.write_row(row)


def _progress(counts: dict[str, int], scale: Scale) -> None:
    if counts["tickets"] % 100_000 == 0:
        print(
            f"  seeded {counts['tickets']:,}/{scale.tickets:,} tickets, "
            f"{counts['messages']:,} messages",
            flush=True,
        )


def _counter_set(value: int) -> None:
    from trustdesk.core.models import Counter

    Counter.objects.update_or_create(name="ticket", defaults={"value": value})


def _search_index_finish() -> None:
    """The search engine's own rebuild: FTS5 'rebuild' + 'optimize' on SQLite, ANALYZE on PG."""
    from trustdesk.search.selectors import search_rebuild

    search_rebuild()


def _analyze() -> None:
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA optimize")
        return
    connection.ensure_connection()
    raw: psycopg.Connection[Any] = connection.connection
    was_autocommit = raw.autocommit
    raw.commit()
    raw.autocommit = True
    raw.execute("VACUUM (ANALYZE)")  # also sets the visibility map for index-only scans
    raw.autocommit = was_autocommit
