"""Small registry through which tickets hand outbound messages to the channel that owns them.

``tickets`` never imports a channel. A channel app (mail, chat) registers a deliverer for its
channel name in its ``AppConfig.ready()``; the tickets service looks it up after commit.
"""

from __future__ import annotations

from collections.abc import Callable

Deliverer = Callable[[int], None]
_deliverers: dict[str, Deliverer] = {}


def register_deliverer(channel: str, deliverer: Deliverer) -> None:
    _deliverers[channel] = deliverer


def deliverer_for(channel: str) -> Deliverer | None:
    return _deliverers.get(channel)
