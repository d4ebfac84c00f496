"""First start, as ``make run`` does it: ``trustdesk setup`` then ``trustdesk serve``.

Real processes on a temporary SQLite file: setup migrates and loads the demo data once and
prints the login; serve answers HTTP with a worker beside it and stops cleanly on Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.processes import (
    alive,
    children,
    stop,
    trustdesk_env,
    trustdesk_run,
    trustdesk_start,
    wait_http,
)
from trustdesk.mail.testing import free_port

pytestmark = pytest.mark.slow


@dataclass
class FirstStart:
    data_dir: Path
    env: dict[str, str]
    setup_output: str

    def tickets(self) -> int:
        with sqlite3.connect(self.data_dir / "trustdesk.sqlite3") as db:
            return int(db.execute("SELECT count(*) FROM tickets_ticket").fetchone()[0])


@pytest.fixture(scope="module")
def first_start(tmp_path_factory: pytest.TempPathFactory) -> FirstStart:
    data_dir = tmp_path_factory.mktemp("first-start")
    env = trustdesk_env(data_dir, f"sqlite:///{data_dir / 'trustdesk.sqlite3'}")
    done = trustdesk_run("setup", env=env)
    return FirstStart(data_dir=data_dir, env=env, setup_output=done.stdout)


def test_setup_loads_the_demo_once_and_prints_the_login(first_start: FirstStart) -> None:
    output = first_start.setup_output
    assert "Fresh database: loading demo data..." in output
    assert "Loaded 1,000 tickets, 200 customers and 5 agents in " in output
    assert "  Trustdesk:  http://127.0.0.1:8000/\n" in output
    assert "  Log in as:  demo@trustdesk.local\n" in output
    assert "  Password:   trustdesk-demo\n" in output
    assert first_start.tickets() == 1000

    again = trustdesk_run("setup", env=first_start.env).stdout

    assert "loading demo data" not in again
    assert "  Log in as:  demo@trustdesk.local\n" in again
    assert first_start.tickets() == 1000


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_serve_answers_with_a_worker_and_stops_cleanly(
    first_start: FirstStart, tmp_path: Path, sig: signal.Signals
) -> None:
    port = free_port()
    serve = trustdesk_start(
        "serve", "--port", str(port), env=first_start.env, log_dir=tmp_path, name="serve"
    )
    try:
        health = wait_http(f"http://127.0.0.1:{port}/healthz", process=serve)
        assert health.json() == {"status": "ok"}
        login = wait_http(f"http://127.0.0.1:{port}/login/", process=serve)
        assert "password" in login.text.lower()
        workers = [(pid, cmd) for pid, cmd in children(serve.pid) if " worker " in f"{cmd} "]
        assert len(workers) == 1, children(serve.pid)
        worker_pid = workers[0][0]
        assert alive(worker_pid)

        assert stop(serve, sig) == 0
    finally:
        stop(serve, signal.SIGKILL)

    errors = (tmp_path / "serve.err").read_text()
    output = (tmp_path / "serve.out").read_text()
    assert "Traceback" not in errors + output
    assert f"Serving Trustdesk at http://127.0.0.1:{port}/ and a task worker" in output
    assert output.rstrip().endswith("Trustdesk stopped.")
    assert not alive(worker_pid)


def test_serve_without_worker_starts_none(first_start: FirstStart, tmp_path: Path) -> None:
    port = free_port()
    serve = trustdesk_start(
        "serve",
        "--port",
        str(port),
        "--no-worker",
        env=first_start.env,
        log_dir=tmp_path,
        name="serve",
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", process=serve)
        assert children(serve.pid) == []
        assert stop(serve, signal.SIGINT) == 0
    finally:
        stop(serve, signal.SIGKILL)


def test_serve_stops_when_its_worker_dies(first_start: FirstStart, tmp_path: Path) -> None:
    port = free_port()
    serve = trustdesk_start(
        "serve", "--port", str(port), env=first_start.env, log_dir=tmp_path, name="serve"
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", process=serve)
        [(worker_pid, _)] = children(serve.pid)
        os.kill(worker_pid, signal.SIGKILL)  # a worker process this test's serve started
        assert serve.wait(timeout=30) == 1
    finally:
        stop(serve, signal.SIGKILL)

    errors = (tmp_path / "serve.err").read_text()
    assert "The task worker exited (code -9); stopping." in errors
    assert "CommandError: The task worker exited unexpectedly (code -9)." in errors
