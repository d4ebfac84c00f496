"""Helpers for tests that run Trustdesk as real processes (``trustdesk serve``, ``worker``...)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def trustdesk_env(data_dir: Path, database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a Trustdesk process: this one's, minus test-only and demo settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TRUSTDESK_", "DJANGO_", "PYTEST_"))
    }
    env.update(
        TRUSTDESK_DATA_DIR=str(data_dir),
        TRUSTDESK_DATABASE_URL=database_url,
        TRUSTDESK_SECRET_KEY="test-secret-key-for-process-tests-only-0123456789",
        TRUSTDESK_LOG_LEVEL="WARNING",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(extra)
    return env


def trustdesk_run(
    *args: str, env: Mapping[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``trustdesk ARGS`` to completion; raises with its output if it fails."""
    done = subprocess.run(
        [sys.executable, "-m", "trustdesk", *args],
        env=dict(env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(
            f"trustdesk {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        )
    return done


def trustdesk_start(
    *args: str, env: Mapping[str, str], log_dir: Path, name: str
) -> subprocess.Popen[bytes]:
    """Start ``trustdesk ARGS`` in the background, its output in ``log_dir/name.out|.err``."""
    return subprocess.Popen(
        [sys.executable, "-m", "trustdesk", *args],
        env=dict(env),
        cwd=ROOT,
        stdout=(log_dir / f"{name}.out").open("wb"),
        stderr=(log_dir / f"{name}.err").open("wb"),
    )


def wait_http(url: str, *, process: subprocess.Popen[bytes], timeout: float = 90) -> httpx.Response:
    """Poll ``url`` until it answers 200 (or the process dies, or time runs out)."""
    deadline = time.monotonic() + timeout
    last: Exception | int | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the process exited with {process.returncode} before {url}")
        try:
            response = httpx.get(url, timeout=5)
        except httpx.TransportError as exc:
            last = exc
        else:
            if response.status_code == 200:
                return response
            last = response.status_code
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer 200 within {timeout} s (last: {last!r})")


def children(pid: int) -> list[tuple[int, str]]:
    """The live child processes of ``pid`` as (pid, command line), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        state, ppid = fields[0], int(fields[1])
        if ppid == pid and state != "Z":
            found.append((int(entry.name), cmdline))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 30) -> int:
    """Signal a process we started and wait for it; kill it if it does not stop in time."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return int(process.returncode)
