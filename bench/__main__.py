"""``python -m bench --scale full|small --db sqlite|postgres|both --only seed,api,search,import``.

Seeds (or reuses) a benchmark database per engine and scale, measures the ticket API through a
real server, search in process and the bulk import, then prints a table and writes
``bench/results.json``. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from typing import Any

import psycopg

from bench import api, report
from bench.config import BASELINE, DATA_DIR, PG_SERVER, RESULTS, ROOT, SCALES, Scale, database_url

PARTS = ("seed", "api", "search", "import", "email")
OPT_IN = ("email",)  # bench/email_ingest.py (the mail app's): run only when named in --only
NOTE = (
    "Measured on a shared 2-core machine while other test suites ran: expect noise, "
    "compare runs on a quiet machine before drawing conclusions."
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--scale", choices=sorted(SCALES), default="full")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument(
        "--only",
        default=",".join(PARTS),
        help=f"comma-separated: {','.join(PARTS + OPT_IN)} (default: all but {','.join(OPT_IN)})",
    )
    parser.add_argument(
        "--reseed", action="store_true", help="seed even when a matching database exists"
    )
    args = parser.parse_args(argv)
    # On SIGTERM, unwind so that the servers the bench started (own sessions) are stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parts = {p.strip() for p in args.only.split(",") if p.strip()}
    if parts - set(PARTS + OPT_IN):
        parser.error(f"unknown part(s): {', '.join(sorted(parts - set(PARTS + OPT_IN)))}")
    scale = SCALES[args.scale]
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    engines = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    databases: dict[str, Any] = {}
    started = time.perf_counter()
    for engine in engines:
        print(f"\n== {engine}, scale {scale.name}", flush=True)
        if engine == "postgres" and not _postgres_reachable():
            databases[engine] = {"skipped": f"PostgreSQL is not reachable at {PG_SERVER}"}
            print(f"SKIPPED: {databases[engine]['skipped']}")
            continue
        try:
            databases[engine] = _run_engine(engine, scale, parts, reseed=args.reseed)
        except (Exception, SystemExit) as exc:  # one engine failing must not lose the other's
            databases[engine] = {"skipped": f"failed: {exc}"}
            print(f"FAILED: {exc}", flush=True)
        report.write(RESULTS, scale.name, {engine: databases[engine]}, NOTE)
    print(f"\nBenchmarks at scale {scale.name} in {time.perf_counter() - started:.0f} s. {NOTE}\n")
    print(report.table(databases))
    report.write(RESULTS, scale.name, databases, NOTE)
    print(f"\nWrote {RESULTS.relative_to(ROOT)}")
    return 0


def _run_engine(engine: str, scale: Scale, parts: set[str], *, reseed: bool) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    result: dict[str, Any] = {"rows": rows}
    needs_data = parts & {"seed", "api", "search"}
    datasets = [scale, BASELINE] if "api" in parts else [scale]
    markers: dict[str, Any] = {}
    if needs_data:
        for dataset in datasets:
            print(f"-- dataset {dataset.name} ({dataset.tickets:,} tickets)", flush=True)
            marker = _child("seed", engine, dataset, extra=["--force"] if reseed else [])
            markers[dataset.name] = marker
            rows.append(report.row("seed", dataset.name, marker))
    result["datasets"] = markers
    if "api" in parts:
        if not api.api_available():
            rows.append(
                report.row(
                    "api",
                    scale.name,
                    {"note": "skipped: trustdesk/tickets/api.py is not there yet"},
                )
            )
        else:
            measured = {d.name: _api(engine, d) for d in datasets}
            result["api"] = measured
            rows.extend(
                report.api_rows(measured[scale.name], measured.get(BASELINE.name), scale.name)
            )
    if "search" in parts:
        print("-- search", flush=True)
        searched = _child("search", engine, scale)
        result["search"] = searched
        rows.extend(report.search_rows(searched, scale.name, markers[scale.name]["term_counts"]))
    if "import" in parts:
        print("-- import", flush=True)
        imported = _child("import", engine, scale, url=_import_url(engine))
        result["import"] = imported
        rows.extend(report.import_rows(imported, scale.name))
    if "email" in parts:
        from bench import email_ingest

        print("-- email ingest", flush=True)
        result["email"] = email_ingest.measure(engine, scale)
        rows.extend(email_ingest.rows(engine, result["email"], scale.name))
    return result


def _api(engine: str, dataset: Scale) -> dict[str, Any]:
    print(f"-- api on {dataset.name}", flush=True)
    env = api.server_env(database_url(engine, dataset), DATA_DIR / f"run-{engine}")
    token = api.token(env, lambda: str(_child("token", engine, dataset)))
    with api.server(env, DATA_DIR / f"server-{engine}-{dataset.name}.log") as base:
        return api.api_measure(base, token, dataset, dataset.tickets)


def _import_url(engine: str) -> str:
    if engine == "sqlite":
        return f"sqlite:///{DATA_DIR / 'sqlite-import.sqlite3'}"
    return f"{PG_SERVER}/td_bench_import"


def _child(
    task: str,
    engine: str,
    dataset: Scale,
    *,
    url: str | None = None,
    extra: list[str] | None = None,
) -> Any:
    env = api.server_env(url or database_url(engine, dataset), DATA_DIR / f"run-{engine}")
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.child", task, dataset.name, *(extra or [])],
        env={**env, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    result: Any = None
    for line in process.stdout:
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT ") :])
        else:
            print(line, end="", flush=True)
    if process.wait() != 0 or result is None:
        raise SystemExit(f"bench child {task} on {engine}/{dataset.name} failed")
    return result


def _postgres_reachable() -> bool:
    try:
        psycopg.connect(
            f"{PG_SERVER}/postgres".replace("postgres://", "postgresql://"), connect_timeout=3
        ).close()
    except psycopg.Error:
        return False
    return True


if __name__ == "__main__":
    os.environ.pop("DJANGO_SETTINGS_MODULE", None)
    raise SystemExit(main())
