"""Crash safety of the ways in, with real processes, a real dovecot and a fresh database.

1. ``kill -9`` of ``trustdesk fetch-mail`` and ``trustdesk worker`` at seeded random moments
   while they ingest a 1,000-message IMAP mailbox, then a restart: every message exactly once.
2. Two workers on PostgreSQL never process the same stored message twice.

The database is a fresh PostgreSQL database in the PostgreSQL run, a temporary SQLite file in
the SQLite run; both are thrown away afterwards.
"""

from __future__ import annotations

import random
import secrets
import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings
from psycopg import sql

from bench.email_parse import corpus
from tests.processes import stop, trustdesk_env, trustdesk_run, trustdesk_start
from tests.support.imap import DovecotServer, require_dovecot

pytestmark = pytest.mark.slow

USER = "support@example.com"
MESSAGES = 1000
KILLS = 4
SEED = 20261123
CLAIM_TIMEOUT = 5

MAILBOX_SETUP = """
from trustdesk.accounts.models import Team
from trustdesk.mail.models import Mailbox
team = Team.objects.create(name="Helpdesk", email="support@helpdesk.example.com")
Mailbox.objects.create(
    name="Support", address="support@helpdesk.example.com", team=team, host="127.0.0.1",
    port={port}, use_ssl=False, username="{user}", password="{password}",
    processed_folder="Processed",
)
"""


class Database:
    """A fresh database for Trustdesk processes, queried with plain SQL from the test."""

    def __init__(self, url: str, conninfo: dict[str, Any] | None, path: Path | None) -> None:
        self.url, self.conninfo, self.path = url, conninfo, path

    def query(self, statement: str) -> list[tuple[Any, ...]]:
        if self.path is not None:
            with sqlite3.connect(self.path, timeout=30) as db:
                return db.execute(statement).fetchall()
        assert self.conninfo is not None
        with psycopg.connect(**self.conninfo) as db:
            return db.execute(statement).fetchall()


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = settings.DATABASES["default"]
    if "postgresql" not in db["ENGINE"]:
        path = tmp_path / "crash.sqlite3"
        yield Database(f"sqlite:///{path}", None, path)
        return
    server: dict[str, Any] = {
        "host": db.get("HOST") or "127.0.0.1",
        "port": int(db.get("PORT") or 5432),
        "user": db.get("USER") or "postgres",
        "password": db.get("PASSWORD") or "",
    }
    name = f"td_crash_{secrets.token_hex(4)}"
    admin = psycopg.connect(dbname="postgres", autocommit=True, **server)
    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    password = f":{server['password']}" if server["password"] else ""
    url = f"postgres://{server['user']}{password}@{server['host']}:{server['port']}/{name}"
    try:
        yield Database(url, {**server, "dbname": name}, None)
    finally:
        admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.close()


@pytest.fixture
def dovecot() -> Iterator[DovecotServer]:
    require_dovecot()
    with DovecotServer() as server:
        yield server


def _env(tmp_path: Path, database: Database) -> dict[str, str]:
    return trustdesk_env(
        tmp_path,
        database.url,
        TRUSTDESK_EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        # A killed worker's claims are taken back after 5 s, by the next worker as it starts
        # and by the periodic sweep (the default of 300 s suits production, not this test).
        TRUSTDESK_INTAKE_CLAIM_TIMEOUT_SECONDS=str(CLAIM_TIMEOUT),
    )


def _wait_processed(database: Database, count: int, timeout: float) -> list[tuple[Any, ...]]:
    deadline = time.monotonic() + timeout
    states: list[tuple[Any, ...]] = []
    while time.monotonic() < deadline:
        states = database.query(
            "SELECT state, count(*) FROM mail_inboundemail GROUP BY state ORDER BY state"
        )
        if sum(n for _, n in states) == count and {s for s, _ in states} <= {"done", "quarantined"}:
            return states
        time.sleep(0.25)
    raise AssertionError(f"not all {count} messages processed after {timeout} s: {states}")


def test_kill_9_while_ingesting_an_imap_mailbox_then_restart_every_message_once(
    database: Database, dovecot: DovecotServer, tmp_path: Path
) -> None:
    messages = corpus(MESSAGES)
    with dovecot.session(USER) as client:
        for raw in messages:
            client.append("INBOX", raw)
    env = _env(tmp_path, database)
    trustdesk_run("migrate", "-v", "0", env=env)
    setup = MAILBOX_SETUP.format(port=dovecot.port, user=USER, password=dovecot.password(USER))
    trustdesk_run("shell", "-c", setup, env=env)

    rng = random.Random(SEED)
    kills = 0
    for round_ in range(KILLS):
        fetch = trustdesk_start("fetch-mail", env=env, log_dir=tmp_path, name=f"fetch-{round_}")
        worker = trustdesk_start(
            "worker",
            "--interval",
            "0.1",
            "-v",
            "0",
            env=env,
            log_dir=tmp_path,
            name=f"worker-{round_}",
        )
        time.sleep(rng.uniform(1.5, 5.0))
        for process in (fetch, worker):
            if process.poll() is None:
                kills += 1
            stop(process, signal.SIGKILL)
    assert kills >= KILLS  # the workers at least were killed mid-run every round

    trustdesk_run("fetch-mail", env=env, timeout=120)
    worker = trustdesk_start("worker", "--interval", "0.1", env=env, log_dir=tmp_path, name="final")
    try:
        states = _wait_processed(database, MESSAGES, timeout=240)
    finally:
        assert stop(worker, signal.SIGTERM) == 0
    assert states == [("done", MESSAGES)]

    inbound = database.query(
        "SELECT message_id_header, outcome, message_id FROM mail_inboundemail ORDER BY id"
    )
    expected_ids = sorted(
        raw.split(b"Message-ID: ", 1)[1].split(b"\n", 1)[0].strip().decode() for raw in messages
    )
    assert sorted(row[0] for row in inbound) == expected_ids
    assert {row[1] for row in inbound} <= {"created", "appended"}
    assert len({row[2] for row in inbound if row[2] is not None}) == MESSAGES
    [(ticket_messages,)] = database.query("SELECT count(*) FROM tickets_message")
    assert ticket_messages == MESSAGES
    assert dovecot.message_count(USER, "INBOX") == 0
    assert dovecot.message_count(USER, "Processed") == MESSAGES


def test_two_workers_on_postgresql_never_process_a_message_twice(
    database: Database, tmp_path: Path
) -> None:
    if database.path is not None:
        pytest.skip("two concurrent workers are a PostgreSQL deployment")
    count = 300
    env = _env(tmp_path, database)
    trustdesk_run("migrate", "-v", "0", env=env)
    store = (
        "from bench.email_parse import corpus\n"
        "from trustdesk.mail.intake.store import inbound_store\n"
        f"for raw in corpus({count}):\n"
        "    inbound_store(raw=raw, source='test', envelope_to=['support@helpdesk.example.com'])\n"
    )
    trustdesk_run("shell", "-c", store, env=env)
    workers = [
        trustdesk_start(
            "worker",
            "--interval",
            "0.05",
            "--worker-id",
            f"w{n}",
            "-v",
            "0",
            env=env,
            log_dir=tmp_path,
            name=f"w{n}",
        )
        for n in (1, 2)
    ]
    try:
        _wait_processed(database, count, timeout=120)
    finally:
        codes = [stop(worker, signal.SIGTERM) for worker in workers]
    assert codes == [0, 0]

    rows = database.query("SELECT attempts, state, message_id FROM mail_inboundemail")
    assert {(attempts, state) for attempts, state, _ in rows} == {(1, "done")}
    assert len({message for _, _, message in rows}) == count
    [(ticket_messages,)] = database.query("SELECT count(*) FROM tickets_message")
    assert ticket_messages == count
    claimed_by: dict[str, int] = {}
    for worker_id, claimed in database.query(
        "SELECT worker_ids->>0, return_value::text FROM django_tasks_database_dbtaskresult "
        "WHERE task_path = 'trustdesk.mail.intake.tasks.inbound_drain_task' "
        "AND status = 'SUCCESSFUL'"
    ):
        claimed_by[worker_id] = claimed_by.get(worker_id, 0) + int(claimed)
    assert sum(claimed_by.values()) == count  # each message claimed by exactly one drain
    assert sorted(w for w, n in claimed_by.items() if n) == ["w1", "w2"], claimed_by
