"""Email ingest throughput, end to end: raw bytes to committed ticket rows by real workers.

    .venv/bin/python -m bench --only email [--db sqlite|postgres|both] [--scale small|full]

For each database and for one and two ``trustdesk worker`` processes: a fresh database is
migrated, the generated peerbench corpus (40% plain, 50% text+HTML, 10% with a 20 KB PDF, 30%
replies with quoted history; ``bench.email_parse.corpus``) is stored through ``inbound_store``
(each message committed, a drain task enqueued unless one waits), then the workers start and the
clock runs until every message has an outcome (ticket, customer, message, search index written)
and then until the task queue is empty (the acknowledgements of the new tickets sent).

Three rates are reported: ``msgs_per_s`` over the processing span (first to last message
processed, the workers' steady state), ``settled_msgs_per_s`` from the first message seen done
to the last task finished (acknowledgements included; polled every 50 ms), and
``wall_msgs_per_s`` from the workers' launch, Python and Django start-up included. django-helpdesk's own email path measured 47.5 messages/s on this machine
(../shared/peerbench, SQLite with WAL).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg

from bench.config import DATA_DIR, PG_SERVER, ROOT, Scale

DJANGO_HELPDESK_MSGS_PER_S = 47.5
TARGET_SQLITE_ONE_WORKER = 200.0
TARGET_VS_PEER = 4.0
TARGET_SPEEDUP_PG = 1.7
MESSAGES = {"small": 500, "full": 1000}
WORKER_INTERVAL = "0.05"
TIMEOUT = 600.0


def measure(engine: str, scale: Scale) -> dict[str, Any]:
    """Run both worker counts on ``engine``; returns the measurements keyed by worker count."""
    n = MESSAGES.get(scale.name, 1000)
    return {str(workers): _run(engine, n, workers) for workers in (1, 2)}


def rows(engine: str, measured: dict[str, Any], dataset: str) -> list[dict[str, Any]]:
    from bench.report import row

    out = []
    one, two = measured["1"], measured["2"]
    for workers, result in (("1", one), ("2", two)):
        target, passed = "", None
        if workers == "1":
            floor = TARGET_VS_PEER * DJANGO_HELPDESK_MSGS_PER_S
            if engine == "sqlite":
                floor = max(floor, TARGET_SQLITE_ONE_WORKER)
            target, passed = f">= {floor:.0f} msgs/s", result["msgs_per_s"] >= floor
        note = (
            f"{result['messages']} msgs: {result['msgs_per_s']:.0f} msgs/s "
            f"({result['settled_msgs_per_s']:.0f} with acknowledgements sent, "
            f"{result['wall_msgs_per_s']:.0f} incl. start-up), "
            f"{result['vs_django_helpdesk']:.1f}x django-helpdesk; stored at "
            f"{result['store_msgs_per_s']:.0f} msgs/s; outcomes {result['outcomes']}"
        )
        if target:
            note += f"  [{target}: {'PASS' if passed else 'FAIL'}]"
        out.append(
            row(
                f"email ingest, {workers} worker(s)",
                dataset,
                {**result, "note": note},
                target,
                passed,
            )
        )
    speedup = two["msgs_per_s"] / one["msgs_per_s"] if one["msgs_per_s"] else 0.0
    target = f">= {TARGET_SPEEDUP_PG}x" if engine == "postgres" else ""
    passed = speedup >= TARGET_SPEEDUP_PG if engine == "postgres" else None
    note = f"2 workers / 1 worker: {speedup:.2f}x"
    if target:
        note += f"  [{target}: {'PASS' if passed else 'FAIL'}]"
    out.append(
        row(
            "email ingest speed-up",
            dataset,
            {"ratio": round(speedup, 2), "note": note},
            target,
            passed,
        )
    )
    return out


# -- the driver (no Django here: it watches the database like an operator would) ---------------


def _run(engine: str, n: int, workers: int) -> dict[str, Any]:
    url = _fresh_database(engine, workers)
    env = {
        **os.environ,
        "TRUSTDESK_DATABASE_URL": url,
        "TRUSTDESK_DATA_DIR": str(DATA_DIR / f"run-email-{engine}"),
        "TRUSTDESK_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "trustdesk.settings",
        "PYTHONPATH": str(ROOT),
        # Acknowledgements are built and recorded but go nowhere: no SMTP server in the loop.
        "TRUSTDESK_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    }
    Path(env["TRUSTDESK_DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    print(f"-- email ingest: {engine}, {workers} worker(s), {n} messages", flush=True)
    subprocess.run([*_trustdesk(), "migrate", "-v", "0"], env=env, cwd=ROOT, check=True)
    stored = _store(env, n)
    log = DATA_DIR / f"email-ingest-{engine}-{workers}.log"
    started = time.perf_counter()
    with log.open("w") as out:
        processes = [
            subprocess.Popen(
                [
                    *_trustdesk(),
                    "worker",
                    "--interval",
                    WORKER_INTERVAL,
                    "-v",
                    "0",
                    "--worker-id",
                    f"bench-{i}",
                ],
                env=env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            for i in range(workers)
        ]
        try:
            first_seen = _wait_done(engine, url, n, processes)
            wall = time.perf_counter() - started
            _wait_settled(engine, url, processes)
            settled = time.perf_counter() - first_seen
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=60)
    first, last, outcomes, attempts = _summary(engine, url)
    span = max((last - first).total_seconds(), 1e-6)
    rate = (n - 1) / span  # n messages finish in n-1 intervals after the first
    return {
        "messages": n,
        "workers": workers,
        "seconds": round(span, 2),
        "wall_seconds": round(wall, 2),
        "msgs_per_s": round(rate, 1),
        "wall_msgs_per_s": round(n / wall, 1),
        "settled_msgs_per_s": round((n - 1) / max(settled, 1e-6), 1),
        "store_msgs_per_s": stored,
        "vs_django_helpdesk": round(rate / DJANGO_HELPDESK_MSGS_PER_S, 2),
        "outcomes": outcomes,
        "max_attempts": attempts,
    }


def _trustdesk() -> list[str]:
    return [sys.executable, "-m", "trustdesk"]


def _fresh_database(engine: str, workers: int) -> str:
    if engine == "sqlite":
        path = DATA_DIR / f"email-ingest-{workers}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    name = "td_bench_email"
    with psycopg.connect(_pg(f"{PG_SERVER}/postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"{PG_SERVER}/{name}"


def _pg(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def _store(env: dict[str, str], n: int) -> float:
    done = subprocess.run(
        [sys.executable, "-m", "bench.email_ingest", "store", str(n)],
        env=env, cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"storing the corpus failed:\n{done.stdout}\n{done.stderr}")
    result: float = json.loads(done.stdout.strip().splitlines()[-1])["store_msgs_per_s"]
    return result


_DONE = "SELECT count(*) FROM mail_inboundemail WHERE state IN ('done', 'quarantined')"


def _query(engine: str, url: str, sql: str) -> list[tuple[Any, ...]]:
    if engine == "sqlite":
        with sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30) as db:
            return db.execute(sql).fetchall()
    with psycopg.connect(_pg(url)) as db:
        return db.execute(sql).fetchall()


def _wait_done(engine: str, url: str, n: int, processes: list[subprocess.Popen[bytes]]) -> float:
    """Wait for every message's outcome; returns when the first was seen done (perf_counter)."""
    deadline = time.monotonic() + TIMEOUT
    first_seen = 0.0
    while time.monotonic() < deadline:
        done = _query(engine, url, _DONE)[0][0]
        if done and not first_seen:
            first_seen = time.perf_counter()
        if done >= n:
            return first_seen
        if any(p.poll() is not None for p in processes):
            raise SystemExit("a worker exited during the email ingest benchmark")
        time.sleep(0.05)
    raise SystemExit(f"email ingest not done after {TIMEOUT} s")


# Tasks still to run now (not the deferred sweeps: those run minutes later by design).
_BUSY = (
    "SELECT count(*) FROM django_tasks_database_dbtaskresult "
    "WHERE status IN ('READY', 'RUNNING') AND run_after > '9000-01-01'"
)


def _wait_settled(engine: str, url: str, processes: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if _query(engine, url, _BUSY)[0][0] == 0:
            return
        if any(p.poll() is not None for p in processes):
            raise SystemExit("a worker exited during the email ingest benchmark")
        time.sleep(0.05)
    raise SystemExit(f"email ingest tasks not finished after {TIMEOUT} s")


def _summary(engine: str, url: str) -> tuple[datetime, datetime, dict[str, int], int]:
    """First and last processing time, outcome counts, and the most attempts of any row.

    The first message's claim time is not stored: its processing start is estimated as its
    ``processed_at`` (so the span runs from the first commit, over n-1 intervals).
    """
    [(first, last, attempts)] = _query(
        engine,
        url,
        "SELECT min(processed_at), max(processed_at), max(attempts) FROM mail_inboundemail",
    )
    outcomes = dict(
        _query(engine, url, "SELECT outcome, count(*) FROM mail_inboundemail GROUP BY outcome")
    )
    return _dt(first), _dt(last), {str(k): int(v) for k, v in outcomes.items()}, int(attempts)


def _dt(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


# -- the child: store the corpus through the real first step ---------------------------------


def _store_child(n: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trustdesk.settings")
    import django

    django.setup()
    from bench.email_parse import corpus
    from trustdesk.mail.intake.store import inbound_store

    messages = corpus(n)
    started = time.perf_counter()
    for raw in messages:
        inbound_store(raw=raw, source="bench", envelope_to=["support@helpdesk.example.com"])
    elapsed = time.perf_counter() - started
    print(json.dumps({"store_msgs_per_s": round(n / elapsed, 1)}), flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["store"]:
        _store_child(int(sys.argv[2]))
    else:
        raise SystemExit("usage: python -m bench --only email (this module's own entry: store N)")
