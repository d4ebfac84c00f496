"""Websocket routes of every app, collected in one list (filled as channel apps land)."""

from __future__ import annotations

from typing import Any

websocket_urlpatterns: list[Any] = []
