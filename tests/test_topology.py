"""The production topology, proven with real processes on one fresh PostgreSQL database.

Two web processes (``trustdesk serve --no-worker``) and two ``trustdesk worker`` processes share
the database; a loopback SMTP server plays the mail relay. A ticket created through one web
process is read through the other, and 40 public replies posted through both, concurrently,
leave by email exactly once each: one SMTP message per reply, every outbound row sent on the
first attempt, every task run by exactly one worker, and both workers taking part.
"""

from __future__ import annotations

import secrets
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from django.conf import settings
from django_tasks_db.models import DBTaskResult
from psycopg import sql

from tests.processes import stop, trustdesk_env, trustdesk_run, trustdesk_start, wait_http
from trustdesk.mail.testing import SmtpSink, free_port

pytestmark = pytest.mark.slow

REPLIES = 40
AGENT = "ops@topology.example"
CUSTOMER = "client@topology.example"


def _server() -> dict[str, Any]:
    db = settings.DATABASES["default"]
    if "postgresql" not in db["ENGINE"]:
        pytest.skip(
            "the production topology test needs PostgreSQL "
            "(TRUSTDESK_DATABASE_URL=postgres://...); SQLite serves one machine only"
        )
    return {
        "host": db.get("HOST") or "127.0.0.1",
        "port": int(db.get("PORT") or 5432),
        "user": db.get("USER") or "postgres",
        "password": db.get("PASSWORD") or "",
    }


@pytest.fixture
def topology_db() -> Iterator[tuple[str, dict[str, Any]]]:
    """A fresh database ``td_topology_<random>`` on the test server, dropped afterwards."""
    server = _server()
    name = f"td_topology_{secrets.token_hex(4)}"
    admin = psycopg.connect(dbname="postgres", autocommit=True, **server)
    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = "postgres://{user}{password}@{host}:{port}/{name}".format(
        user=server["user"],
        password=f":{server['password']}" if server["password"] else "",
        host=server["host"],
        port=server["port"],
        name=name,
    )
    try:
        yield url, {**server, "dbname": name}
    finally:
        admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.close()


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    # A slow relay (50 ms a message) keeps one worker busy long enough for the other to claim.
    sink = SmtpSink(delay=0.05).start()
    try:
        yield sink
    finally:
        sink.stop()


def test_two_web_and_two_worker_processes_send_each_reply_once(
    topology_db: tuple[str, dict[str, Any]], smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    url, conninfo = topology_db
    env = trustdesk_env(
        tmp_path,
        url,
        TRUSTDESK_SMTP_HOST="127.0.0.1",
        TRUSTDESK_SMTP_PORT=str(smtp_sink.port),
        TRUSTDESK_FROM_EMAIL="help@topology.example",
        TRUSTDESK_AGENT_PASSWORD="a long topology test password",
    )
    trustdesk_run("migrate", "-v", "0", env=env)
    trustdesk_run("create-agent", "--email", AGENT, "--name", "Olga Ops", env=env)
    token = trustdesk_run("create-token", "--agent", AGENT, env=env).stdout.strip()
    assert token.startswith("td_")

    ports = [free_port(), free_port()]
    processes: dict[str, subprocess.Popen[bytes]] = {}
    for label, port in zip("AB", ports, strict=True):
        processes[f"web-{label}"] = trustdesk_start(
            "serve", "--no-worker", "--port", str(port), "--log-level", "warning",
            env=env, log_dir=tmp_path, name=f"web-{label}",
        )  # fmt: skip
    for n in (1, 2):
        processes[f"worker-{n}"] = trustdesk_start(
            "worker", "--interval", "0.1", "--worker-id", f"worker-{n}", "-v", "0",
            env=env, log_dir=tmp_path, name=f"worker-{n}",
        )  # fmt: skip
    a, b = (f"http://127.0.0.1:{port}" for port in ports)
    try:
        for base, label in ((a, "A"), (b, "B")):
            wait_http(f"{base}/healthz", process=processes[f"web-{label}"])
        client = httpx.Client(timeout=30, headers={"Authorization": f"Bearer {token}"})
        created = client.post(
            f"{a}/api/v1/tickets",
            json={
                "customer": {"email": CUSTOMER, "name": "Clara Client"},
                "subject": "Topology check",
                "body": "Do all the processes agree?",
                "channel": "api",
            },
        )
        assert created.status_code == 201, created.text
        ticket_id, number = created.json()["id"], created.json()["number"]

        read = client.get(f"{b}/api/v1/tickets/{ticket_id}")
        assert read.status_code == 200, read.text
        assert (read.json()["number"], read.json()["subject"]) == (number, "Topology check")
        assert read.json()["customer"]["email"] == CUSTOMER

        def reply(n: int) -> int:
            base = a if n % 2 else b
            response = client.post(
                f"{base}/api/v1/tickets/{ticket_id}/messages",
                json={"body": f"Reply number {n}.", "visibility": "public"},
            )
            assert response.status_code == 201, response.text
            return int(response.json()["id"])

        with ThreadPoolExecutor(max_workers=4) as pool:
            message_ids = list(pool.map(reply, range(REPLIES)))
        client.close()
        assert len(set(message_ids)) == REPLIES

        _wait_until_sent(conninfo, timeout=120)
        time.sleep(1.5)  # room for any duplicate delivery to show up
        for name, process in processes.items():
            assert process.poll() is None, f"{name} died"
    finally:
        codes = {name: stop(process, signal.SIGTERM) for name, process in processes.items()}
    assert codes == dict.fromkeys(processes, 0)
    for name in processes:
        assert "Traceback" not in (tmp_path / f"{name}.err").read_text(), name

    received = smtp_sink.messages
    assert len(received) == REPLIES
    received_ids = {m["Message-ID"] for m in received}
    assert len(received_ids) == REPLIES
    plain_parts = [m.get_body(preferencelist=("plain",)) for m in received]
    assert None not in plain_parts
    texts = {part.get_content().strip() for part in plain_parts if part is not None}
    assert {text.split("\n")[0] for text in texts} == {f"Reply number {n}." for n in range(REPLIES)}
    assert {tuple(rcpts) for _, rcpts in smtp_sink.envelopes} == {(CUSTOMER,)}
    assert {m["Subject"] for m in received} == {f"Re: Topology check [#{number}]"}
    assert {m["From"] for m in received} == {"Olga Ops <help@topology.example>"}

    with psycopg.connect(**conninfo) as db:
        outbound = db.execute(
            "SELECT message_id, state, attempts, rfc_message_id FROM mail_outboundemail"
        ).fetchall()
        tasks = db.execute(
            sql.SQL("SELECT status, worker_ids, args_kwargs FROM {} WHERE task_path = %s").format(
                sql.Identifier(DBTaskResult._meta.db_table)
            ),
            ["trustdesk.mail.tasks.message_send"],
        ).fetchall()
    assert sorted(row[0] for row in outbound) == sorted(message_ids)
    assert {(state, attempts) for _, state, attempts, _ in outbound} == {("sent", 1)}
    assert {row[3] for row in outbound} == received_ids

    assert len(tasks) == REPLIES
    assert {status for status, _, _ in tasks} == {"SUCCESSFUL"}
    assert sorted(args["args"][0] for _, _, args in tasks) == sorted(message_ids)
    assert all(len(worker_ids) == 1 for _, worker_ids, _ in tasks)
    by_worker = Counter(worker_ids[0] for _, worker_ids, _ in tasks)
    assert set(by_worker) == {"worker-1", "worker-2"}, by_worker
    assert sum(by_worker.values()) == REPLIES


def _wait_until_sent(conninfo: dict[str, Any], *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    states: list[tuple[str, int]] = []
    while time.monotonic() < deadline:
        with psycopg.connect(**conninfo) as db:
            states = db.execute(
                "SELECT state, count(*) FROM mail_outboundemail GROUP BY state"
            ).fetchall()
        if states == [("sent", REPLIES)]:
            return
        time.sleep(0.25)
    raise AssertionError(f"replies not all sent after {timeout} s: {states}")
