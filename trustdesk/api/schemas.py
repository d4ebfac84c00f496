"""Schemas shared by every API module: the error body, the input base class, pagination."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import ConfigDict, model_validator

MAX_ID = 2**63 - 1  # the largest id a BigAutoField can hold on every database


def _unstorable_text(value: Any, path: str) -> str | None:
    """The path of the first string that no database can store (NUL, lone surrogates), if any."""
    if isinstance(value, str):
        if "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value):
            return path or "body"
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            found = _unstorable_text(key, child) or _unstorable_text(item, child)
            if found:
                return found
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _unstorable_text(item, f"{path}.{index}" if path else str(index))
            if found:
                return found
    return None


class InputSchema(Schema):
    """Base for request bodies and query strings: unknown fields and unstorable text are refused."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _refuse_unstorable_text(cls, data: Any) -> Any:
        found = _unstorable_text(data, "")
        if found:
            raise ValueError(
                _("%(field)s contains a NUL character or an invalid code point.") % {"field": found}
            )
        return data


class PageQuery(InputSchema):
    cursor: str | None = Field(
        None, max_length=200, description="Opaque cursor from a previous page's next_cursor."
    )
    limit: int = Field(25, ge=1, le=100, description="Items per page, 1 to 100.")


class ErrorDetail(Schema):
    field: str | None = None
    message: str
    code: str | None = None


class ErrorOut(Schema):
    code: str = Field(..., examples=["not_found"])
    message: str
    details: list[ErrorDetail] | None = None


ERROR_RESPONSES: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    413: ErrorOut,
    422: ErrorOut,
}
