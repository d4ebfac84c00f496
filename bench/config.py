"""Scales, targets and where benchmark databases live."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "results.json"
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
SEED_VERSION = 1  # bump when the generated data changes: seeded databases are rebuilt
BENCH_AGENT = "bench-admin@example.com"
CLIENTS = 4
WARMUP_REQUESTS = 10  # per client, before each measured run


@dataclass(frozen=True)
class Scale:
    name: str
    tickets: int
    messages_per_ticket: int  # the mean: each ticket gets 1 to 2*mean-1 messages
    list_requests: int  # per client
    detail_requests: int  # per client
    search_repeats: int  # runs of each query, per order
    import_tickets: int


SCALES = {
    "full": Scale("full", 1_000_000, 5, 150, 250, 20, 20_000),
    "small": Scale("small", 20_000, 5, 40, 60, 10, 2_000),
}
# The list API must stay flat as the table grows: its p99 is compared with the same run at 10k.
BASELINE = Scale("10k", 10_000, 5, 40, 60, 0, 0)

TARGETS_MS = {
    "list_p99": 60.0,
    "list_growth": 1.5,  # p99 at scale / p99 at 10k
    "detail_p99": 20.0,
    "search_newest_p95": 50.0,
    "search_relevance_p95": 150.0,
    "search_max": 1000.0,
    "import_tickets_per_s": 2000.0,
}


def sqlite_path(scale: Scale) -> Path:
    return DATA_DIR / f"sqlite-{scale.name}.sqlite3"


def pg_name(scale: Scale) -> str:
    return f"td_bench_{scale.name}"


def database_url(engine: str, scale: Scale) -> str:
    if engine == "sqlite":
        return f"sqlite:///{sqlite_path(scale)}"
    return f"{PG_SERVER}/{pg_name(scale)}"
