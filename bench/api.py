"""Ticket list and detail latency against a real ``trustdesk serve``, 4 clients.

The server runs as production does on this 2-core machine: ``--workers SERVER_WORKERS`` web
processes on one port (see docs/benchmarks.md and docs/operations.md).
"""

from __future__ import annotations

import os
import random
import re
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.config import BENCH_AGENT, CLIENTS, ROOT, WARMUP_REQUESTS, Scale
from bench.stats import summary

TRUSTDESK = str(ROOT / ".venv" / "bin" / "trustdesk")
PAGES_FOLLOWED = 3
SERVER_WORKERS = int(os.environ.get("TRUSTDESK_BENCH_SERVER_WORKERS", "2"))


def api_available() -> bool:
    return (ROOT / "trustdesk" / "tickets" / "api.py").exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def server(env: dict[str, str], log: Path, workers: int = SERVER_WORKERS) -> Iterator[str]:
    port = _free_port()
    command = [TRUSTDESK, "serve", "--no-worker", "--no-smtpd", "--port", str(port)]
    with log.open("w") as out:
        process = subprocess.Popen(
            [*command, "--workers", str(workers), "--log-level", "warning"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        started = time.monotonic()
        deadline = started + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start; see {log}")
            time.sleep(0.2)
        _all_workers_ready(workers, started)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def _all_workers_ready(workers: int, started: float) -> None:
    """Give the other web processes time to finish starting after the first one answered.

    They start together, but only the first one up answers /healthz; a client that connects
    while another is still importing Django would stay on the ready one (keep-alive) for the
    whole run. Half the time the first took, at least 2 s, covers the spread.
    """
    if workers > 1:
        time.sleep(max(2.0, (time.monotonic() - started) / 2))


def token(env: dict[str, str], fallback: Callable[[], str]) -> str:
    """A token from ``trustdesk create-token``, or from the service when the command is missing."""
    done = subprocess.run(
        [TRUSTDESK, "create-token", "--agent", BENCH_AGENT],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    found = re.search(r"td_[A-Za-z0-9_\-]+", done.stdout)
    return found.group(0) if found and done.returncode == 0 else fallback()


def api_measure(base: str, api_token: str, scale: Scale, tickets: int) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {api_token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as probe:
        first = probe.get("/api/v1/tickets", params={"status": "open", "limit": 25})
        if first.status_code != 200:
            return {
                "skipped": f"GET /api/v1/tickets answered {first.status_code}: {first.text[:200]}"
            }
    lists = _concurrently(
        base,
        headers,
        lambda c, r: _list_run(c, scale.list_requests),
        lambda c, r: _list_run(c, WARMUP_REQUESTS),
    )
    details = _concurrently(
        base,
        headers,
        lambda c, r: _detail_run(c, r, scale.detail_requests, tickets),
        lambda c, r: _detail_run(c, r, WARMUP_REQUESTS, tickets),
    )
    return {
        "list": {**summary(lists[0]), "errors": lists[1]},
        "detail": {**summary(details[0]), "errors": details[1]},
    }


Sample = tuple[list[float], int]


def _concurrently(
    base: str,
    headers: dict[str, str],
    work: Callable[[httpx.Client, random.Random], Sample],
    warm: Callable[[httpx.Client, random.Random], Sample],
) -> Sample:
    results: list[Sample] = []
    lock = threading.Lock()

    def client(seed: int) -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            rnd = random.Random(seed)
            warm(http, rnd)  # connections, caches, first-request imports
            sample = work(http, rnd)
        with lock:
            results.append(sample)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [t for r in results for t in r[0]], sum(r[1] for r in results)


def _timed(http: httpx.Client, url: str, params: dict[str, Any] | None = None) -> tuple[float, Any]:
    started = time.perf_counter()
    response = http.get(url, params=params)
    elapsed = (time.perf_counter() - started) * 1000
    return elapsed, response.json() if response.status_code == 200 else None


def _list_run(http: httpx.Client, requests: int) -> Sample:
    times: list[float] = []
    errors = 0
    while len(times) < requests:
        params: dict[str, Any] = {"status": "open", "limit": 25}
        for _ in range(1 + PAGES_FOLLOWED):
            elapsed, body = _timed(http, "/api/v1/tickets", params)
            times.append(elapsed)
            if body is None:
                errors += 1
                break
            if not body.get("next_cursor"):
                break
            params = {"status": "open", "limit": 25, "cursor": body["next_cursor"]}
    return times, errors


def _detail_run(http: httpx.Client, rnd: random.Random, requests: int, tickets: int) -> Sample:
    times: list[float] = []
    errors = 0
    for _ in range(requests):
        elapsed, body = _timed(http, f"/api/v1/tickets/{rnd.randint(1, tickets)}")
        times.append(elapsed)
        errors += body is None
    return times, errors


def server_env(database_url: str, data_dir: Path) -> dict[str, str]:
    data_dir.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "TRUSTDESK_DATABASE_URL": database_url,
        "TRUSTDESK_DATA_DIR": str(data_dir),
        "TRUSTDESK_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "trustdesk.settings",
    }
