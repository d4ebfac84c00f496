"""Targets, pass/fail, the stdout table and ``bench/results.json``."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.config import TARGETS_MS as T


def machine() -> dict[str, Any]:
    cpu = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split()[1])
        memory = f"{kib / 1024 / 1024:.1f} GiB"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }


def row(
    name: str, dataset: str, stats: dict[str, Any], target: str = "", passed: bool | None = None
) -> dict[str, Any]:
    return {"name": name, "dataset": dataset, **stats, "target": target, "pass": passed}


def api_rows(
    results: dict[str, Any], baseline: dict[str, Any] | None, dataset: str
) -> list[dict[str, Any]]:
    if "skipped" in results:
        return [row("api", dataset, {"note": results["skipped"]})]
    lst, det = results["list"], results["detail"]
    ok = lst.get("p99", 1e9) < T["list_p99"] and not lst["errors"]
    out = [row("api list (open, newest)", dataset, lst, f"p99 < {T['list_p99']:.0f} ms", ok)]
    ok = det.get("p99", 1e9) < T["detail_p99"] and not det["errors"]
    out.append(row("api detail", dataset, det, f"p99 < {T['detail_p99']:.0f} ms", ok))
    if baseline and "list" in baseline:
        base_list = baseline["list"]
        out.append(row("api list (open, newest)", "10k", base_list, "baseline"))
        out.append(row("api detail", "10k", baseline["detail"], "baseline"))
        ratio = lst["p99"] / base_list["p99"] if base_list.get("p99") else float("inf")
        out.append(
            row(
                "api list p99 growth",
                f"{dataset}/10k",
                {"ratio": round(ratio, 2)},
                f"<= {T['list_growth']}x",
                ratio <= T["list_growth"],
            )
        )
    return out


def search_rows(
    results: dict[str, Any], dataset: str, term_counts: dict[str, int]
) -> list[dict[str, Any]]:
    if "skipped" in results:
        return [row("search", dataset, {"note": results["skipped"]})]
    out = []
    for key, stats in results.items():
        name, order = key.split("/")
        limit = T["search_newest_p95"] if order == "newest" else T["search_relevance_p95"]
        ok = stats["p95"] <= limit and stats["max"] <= T["search_max"]
        label = f"search {name} ({term_counts.get(name, '?')} msgs) {order}"
        out.append(row(label, dataset, stats, f"p95 <= {limit:.0f}, max <= 1000 ms", ok))
    return out


def import_rows(results: dict[str, Any], dataset: str) -> list[dict[str, Any]]:
    rate = results["tickets_per_s"]
    target = T["import_tickets_per_s"]
    stats = dict(results)
    return [row("import", dataset, stats, f">= {target:.0f} tickets/s", rate >= target)]


def table(databases: dict[str, Any]) -> str:
    lines = []
    header = f"{'db':8} {'measurement':44} {'dataset':9} {'n':>5} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}  {'target':28} result"
    lines.append(header)
    lines.append("-" * len(header))
    for db, data in databases.items():
        if "skipped" in data:
            lines.append(f"{db:8} SKIPPED: {data['skipped']}")
            continue
        for r in data["rows"]:
            if "note" in r:
                lines.append(f"{db:8} {r['name']:44} {r['dataset']:9} {r['note']}")
                continue
            if r["name"] == "import":
                numbers = (
                    f"{r['tickets']:>5} {r['tickets_per_s']:>8.0f} tickets/s, "
                    f"{r['messages_per_s']:.0f} messages/s, {r['seconds']} s"
                )
                lines.append(
                    f"{db:8} {r['name']:44} {r['dataset']:9} {numbers}  {r['target']:28} {_verdict(r)}"
                )
                continue
            if "ratio" in r:
                numbers = f"{'':>5} {'':>8} {'':>8} {r['ratio']:>7.2f}x {'':>8}"
            elif "seconds" in r:
                numbers = (
                    f"{r['tickets']:>5} tickets, {r['messages']} messages, seeded in {r['seconds']['total']} s"
                    if not r.get("reused")
                    else f"{r['tickets']:>5} tickets, {r['messages']} messages (reused)"
                )
            else:
                numbers = " ".join(
                    f"{r.get(k, ''):>8}" if k != "n" else f"{r.get(k, ''):>5}"
                    for k in ("n", "p50", "p95", "p99", "max")
                )
            lines.append(
                f"{db:8} {r['name']:44} {r['dataset']:9} {numbers}  {r['target']:28} {_verdict(r)}"
            )
    return "\n".join(lines)


def _verdict(r: dict[str, Any]) -> str:
    return {True: "PASS", False: "FAIL", None: ""}[r["pass"]]


def write(path: Path, scale: str, databases: dict[str, Any], note: str) -> None:
    """Merge this run into ``path``: one entry per scale, one per database within it.

    Running ``--scale small`` keeps the last full-scale numbers, ``--db sqlite`` the last
    PostgreSQL ones and ``--only import`` the last API and search rows (a row is replaced by a
    row of the same measurement and dataset); every row carries the date it was measured.
    """
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError):
        document = {}
    if not isinstance(document.get("runs"), dict):
        document = {"runs": {}}
    now = datetime.now(UTC).isoformat(timespec="seconds")
    run = document["runs"].setdefault(scale, {"databases": {}})
    run.update({"date": now, "scale": scale, "machine": machine(), "note": note, "targets": T})
    for engine, data in databases.items():
        before = run["databases"].get(engine, {})
        if "skipped" in data and before.get("rows"):
            run["databases"][engine] = {**before, "last_failure": {"date": now, **data}}
            continue
        if "skipped" in data or "skipped" in before:
            run["databases"][engine] = {"date": now, **data}
            continue
        for r in data["rows"]:
            r.setdefault("date", now)
        fresh = {(r["name"], r["dataset"]) for r in data["rows"]}
        kept = [r for r in before.get("rows", []) if (r["name"], r["dataset"]) not in fresh]
        run["databases"][engine] = {**before, **data, "date": now, "rows": kept + data["rows"]}
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")


def markdown(path: Path) -> str:
    """``bench/results.json`` as Markdown tables, one per scale (``python -m bench.report``)."""
    document = json.loads(path.read_text())
    out = []
    for scale, run in document["runs"].items():
        out.append(f"### Scale {scale} ({run['machine']['cores']} cores, {run['machine']['cpu']})")
        out.append("")
        out.append(
            "| db | measurement | dataset | n | p50 | p95 | p99 | max | target | result | date |"
        )
        out.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for engine, data in run["databases"].items():
            if "skipped" in data:
                out.append(f"| {engine} | skipped: {data['skipped']} | | | | | | | | | |")
                continue
            for r in data["rows"]:
                out.append(_markdown_row(engine, r, r.get("date", data["date"])[:16]))
        out.append("")
    return "\n".join(out)


def _markdown_row(engine: str, r: dict[str, Any], date: str) -> str:
    head = f"| {engine} | {r['name']} | {r['dataset']} |"
    tail = f" {r['target']} | {_verdict(r)} | {date} |"
    if "note" in r:
        return f"{head} {r['note']} | | | | |{tail}"
    if r["name"] == "import":
        numbers = (
            f"{r['tickets']} tickets | {r['tickets_per_s']:.0f} tickets/s | "
            f"{r['messages_per_s']:.0f} messages/s | {r['seconds']} s | |"
        )
        return f"{head} {numbers}{tail}"
    if "ratio" in r:
        return f"{head} | | | {r['ratio']}x | |{tail}"
    if r["name"] == "seed":
        how = "reused" if r.get("reused") else f"seeded in {r['seconds']['total']} s"
        return f"{head} {r['tickets']} tickets | {r['messages']} messages | {how} | | |{tail}"
    numbers = " | ".join(str(r.get(k, "")) for k in ("n", "p50", "p95", "p99", "max"))
    return f"{head} {numbers} |{tail}"


if __name__ == "__main__":
    from bench.config import RESULTS

    print(markdown(RESULTS))
