"""Keyset (cursor) pagination on the primary key: constant cost per page, no COUNT(*)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any

from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _

from trustdesk.api.schemas import MAX_ID
from trustdesk.core.errors import DomainError

_PREFIX = "id:"


class InvalidCursor(DomainError):
    code = "invalid_cursor"
    status = 400


def cursor_encode(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{last_id}".encode()).decode().rstrip("=")


def cursor_decode(cursor: str) -> int:
    """The id a cursor points after. Raises ``InvalidCursor`` for anything we did not hand out."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    value = raw.removeprefix(_PREFIX)
    if not raw.startswith(_PREFIX) or not value.isdigit() or not 0 < int(value) <= MAX_ID:
        raise InvalidCursor(
            _("The cursor is not valid; use the next_cursor of a previous page."), field="cursor"
        )
    return int(value)


def keyset_page[R](
    queryset: QuerySet[Any, R], *, cursor: str | None, limit: int, ascending: bool = False
) -> tuple[Sequence[R], str | None]:
    """One page of ``queryset`` ordered by id, and the cursor of the next page (or None).

    The queryset's own ordering is replaced by the id; reads ``limit + 1`` rows to learn whether
    another page follows, which keeps every page an index range scan. Rows are model instances,
    or dicts with an ``"id"`` key when the queryset was shaped with ``.values()``.
    """
    if cursor:
        after = cursor_decode(cursor)
        queryset = queryset.filter(pk__gt=after) if ascending else queryset.filter(pk__lt=after)
    rows = list(queryset.order_by("pk" if ascending else "-pk")[: limit + 1])
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, cursor_encode(_row_id(rows[-1]))
    return rows, None


def _row_id(row: object) -> int:
    if isinstance(row, Model):
        return int(row.pk)
    if isinstance(row, dict):
        return int(row["id"])
    raise TypeError(f"cannot paginate rows of type {type(row).__name__}")  # pragma: no cover
