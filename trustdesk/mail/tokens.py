"""Signed reply tokens: which ticket an inbound reply belongs to, unforgeable without our key.

A token travels in the Reply-To address of every mail we send about a ticket
(``support+<token>@example.com``) and in the subject (``[td:<token>]``). It encodes the ticket
id and the day it was issued, authenticated with a 128-bit truncated HMAC-SHA256 under a key
derived from ``SECRET_KEY``. Tokens older than ``TRUSTDESK_REPLY_TOKEN_MAX_AGE_DAYS`` are
stale. Base32 without padding keeps them case-insensitive, as mail systems may lowercase the
local part of an address.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.utils import timezone

MAC_BYTES = 16  # 128 bits
_EPOCH = date(2020, 1, 1)
_TOKEN_RE = re.compile(r"^[a-z2-7]{40}$")
# version (1 byte) + ticket id (6 bytes, 2^48 tickets) + issue day (2 bytes) + MAC (16 bytes)
# = 25 bytes = exactly 40 base32 characters.
VERSION = 1


@dataclass(frozen=True)
class TokenCheck:
    ticket_id: int | None
    reason: str  # "ok", "malformed", "forged", "stale"

    @property
    def valid(self) -> bool:
        return self.reason == "ok"


def _key() -> bytes:
    return hashlib.sha256(b"trustdesk.mail.reply-token:" + settings.SECRET_KEY.encode()).digest()


def _mac(payload: bytes) -> bytes:
    return hmac.new(_key(), payload, hashlib.sha256).digest()[:MAC_BYTES]


def _today(now: datetime | None) -> int:
    current = (now or timezone.now()).date()
    return (current - _EPOCH).days


def reply_token(*, ticket_id: int, now: datetime | None = None) -> str:
    """The token for replies to ``ticket_id``: 25 bytes, 40 base32 characters."""
    payload = bytes([VERSION]) + ticket_id.to_bytes(6, "big") + _today(now).to_bytes(2, "big")
    raw = payload + _mac(payload)
    return base64.b32encode(raw).decode().rstrip("=").lower()


def reply_token_check(token: str, *, now: datetime | None = None) -> TokenCheck:
    """Verify a token in constant time; never raises."""
    token = token.strip().lower()
    if not _TOKEN_RE.match(token):
        return TokenCheck(None, "malformed")
    try:
        raw = base64.b32decode(token.upper())
    except (binascii.Error, ValueError):
        return TokenCheck(None, "malformed")
    payload, mac = raw[:9], raw[9:]
    if not hmac.compare_digest(mac, _mac(payload)):
        return TokenCheck(None, "forged")
    ticket_id = int.from_bytes(payload[1:7], "big")
    issued_day = int.from_bytes(payload[7:9], "big")
    max_age = int(getattr(settings, "TRUSTDESK_REPLY_TOKEN_MAX_AGE_DAYS", 365))
    if _today(now) - issued_day > max_age:
        return TokenCheck(ticket_id, "stale")
    return TokenCheck(ticket_id, "ok")


_ADDRESS_TOKEN = re.compile(r"\+([a-z2-7]{40})@", re.IGNORECASE)
_SUBJECT_TOKEN = re.compile(r"\[td:([a-z2-7]{40})\]", re.IGNORECASE)


def tokens_in_addresses(addresses: list[str]) -> list[str]:
    return [m.group(1).lower() for a in addresses for m in [_ADDRESS_TOKEN.search(a)] if m]


def token_in_subject(subject: str) -> str | None:
    match = _SUBJECT_TOKEN.search(subject or "")
    return match.group(1).lower() if match else None


def reply_address(*, base_address: str, ticket_id: int, now: datetime | None = None) -> str:
    """``support@example.com`` -> ``support+<token>@example.com``."""
    local, _, domain = base_address.partition("@")
    return f"{local}+{reply_token(ticket_id=ticket_id, now=now)}@{domain}"
