"""Recognising mail that no person wrote: bounces, auto-replies and mailing-list traffic."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal

__all__ = ["Automated", "classify_automated"]

Automated = Literal["auto-reply", "bounce", "list"]

_DAEMON = re.compile(r"^(?:mailer-daemon|postmaster|mail-daemon|mailerdaemon)@", re.IGNORECASE)
_NULL_PATH = re.compile(r"^\s*<\s*>\s*$")
_BULK_PRECEDENCE = {"bulk", "junk", "list"}
_REPORT_BOUNCE = {"delivery-status", "feedback-report"}


def classify_automated(
    header: Callable[[str], str | None],
    *,
    content_type: str,
    report_type: str | None,
    from_address: str,
) -> Automated | None:
    """Why a message is automated, or None when a person (probably) wrote it.

    ``header`` returns a header's raw value or None. The first matching rule wins, bounces
    first: a bounce of an auto-reply is still a bounce.
    """
    if _is_bounce(header, content_type=content_type, report_type=report_type, sender=from_address):
        return "bounce"
    if _is_auto_reply(header, content_type=content_type, report_type=report_type):
        return "auto-reply"
    precedence = (header("Precedence") or "").strip().lower()
    if precedence in _BULK_PRECEDENCE or header("List-Id") is not None:
        return "list"
    return None


def _is_bounce(
    header: Callable[[str], str | None], *, content_type: str, report_type: str | None, sender: str
) -> bool:
    if content_type == "multipart/report" and (report_type or "") in _REPORT_BOUNCE:
        return True
    if content_type in ("message/delivery-status", "message/feedback-report"):
        return True
    if header("X-Failed-Recipients") is not None:
        return True
    return bool(_DAEMON.match(sender))


def _is_auto_reply(
    header: Callable[[str], str | None], *, content_type: str, report_type: str | None
) -> bool:
    if content_type == "multipart/report":
        return True  # read receipts (disposition-notification) and other reports
    auto_submitted = (header("Auto-Submitted") or "no").split(";")[0].strip().lower()
    if auto_submitted != "no":
        return True  # RFC 3834: auto-replied, auto-generated, auto-notified
    if header("X-Auto-Response-Suppress") is not None:
        return True  # Exchange marks its own out-of-office replies so
    if (header("Precedence") or "").strip().lower() == "auto_reply":
        return True
    if header("X-Autoreply") is not None or header("X-Autorespond") is not None:
        return True
    return bool(_NULL_PATH.match(header("Return-Path") or ""))
