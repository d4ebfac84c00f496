"""Small registries through which core and tickets reach the apps built on them.

``tickets`` never imports a channel: a channel app (mail, chat) registers a deliverer for its
channel name in its ``AppConfig.ready()``, and the tickets service looks it up after commit.
``core`` imports no domain app: an app that must recover work when a worker starts (claims left
by a killed worker) registers a worker-start hook, which ``trustdesk worker`` runs first.
"""

from __future__ import annotations

from collections.abc import Callable

Deliverer = Callable[[int], None]
_deliverers: dict[str, Deliverer] = {}


def register_deliverer(channel: str, deliverer: Deliverer) -> None:
    _deliverers[channel] = deliverer


def deliverer_for(channel: str) -> Deliverer | None:
    return _deliverers.get(channel)


WorkerStartHook = Callable[[], None]
_worker_start_hooks: list[WorkerStartHook] = []


def register_worker_start(hook: WorkerStartHook) -> None:
    if hook not in _worker_start_hooks:
        _worker_start_hooks.append(hook)


def worker_start_hooks() -> list[WorkerStartHook]:
    return list(_worker_start_hooks)
