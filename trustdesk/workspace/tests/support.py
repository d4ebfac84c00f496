"""Helpers shared by the workspace tests."""

from __future__ import annotations

from typing import Any

HTMX = {"HX-Request": "true"}


def text(response: Any) -> str:
    body: bytes = response.content
    return body.decode()
