"""Search latency, in process and warm, for query classes of known frequency."""

from __future__ import annotations

import time
from typing import Any

from bench.config import BENCH_AGENT, Scale
from bench.stats import summary
from bench.textgen import QUERIES
from trustdesk.search.selectors import Order

ORDERS: tuple[Order, ...] = ("newest", "relevance")


def search_measure(scale: Scale) -> dict[str, Any]:
    from trustdesk.accounts.models import Agent
    from trustdesk.search.selectors import search

    agent = Agent.objects.get(email=BENCH_AGENT)
    try:
        search(agent=agent, query=QUERIES["rare"], order="newest", limit=25)
    except NotImplementedError:
        return {"skipped": "trustdesk.search.selectors.search is not implemented yet"}
    hits: dict[str, int] = {}
    for name, query in QUERIES.items():  # warm-up, and the size of the first page
        for order in ORDERS:
            hits[f"{name}/{order}"] = len(search(agent=agent, query=query, order=order, limit=25))
    samples: dict[str, list[float]] = {f"{n}/{o}": [] for n in QUERIES for o in ORDERS}
    for _ in range(scale.search_repeats):
        for name, query in QUERIES.items():
            for order in ORDERS:
                started = time.perf_counter()
                search(agent=agent, query=query, order=order, limit=25)
                samples[f"{name}/{order}"].append((time.perf_counter() - started) * 1000)
    return {
        key: {**summary(values), "first_page_hits": hits[key]} for key, values in samples.items()
    }
