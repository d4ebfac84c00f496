"""The SMTP (or LMTP) receiver: mail for our addresses, stored durably before we say 250.

``trustdesk smtpd`` serves it; ``trustdesk serve`` starts it beside the web process. The
conversation is the contract with the sending server, so every reply means what it says:

- ``RCPT TO`` an address that is not ours: ``550 5.1.1`` (we never accept mail we would drop).
  Ours are every enabled ``Mailbox.address``, every ``Team.email`` and the addresses in
  ``settings.TRUSTDESK_INBOUND_ADDRESSES``, each also with a ``+anything`` sub-address.
- ``SIZE`` is advertised; a declared size or a DATA body over ``TRUSTDESK_MAX_EMAIL_BYTES`` is
  answered ``552`` by aiosmtpd before we see it.
- After DATA we answer ``250`` only once ``inbound_store`` has committed the raw bytes; a
  database error (or any other failure to store) answers ``451 4.3.0`` so the sender keeps the
  message and retries.

Database work runs in a worker thread (``asyncio.to_thread``) so one slow commit does not stall
the other conversations on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import settings
from django.db import DatabaseError, connections

from trustdesk.accounts.models import Team
from trustdesk.mail.intake.store import EmailTooLarge, inbound_store
from trustdesk.mail.models import Mailbox

logger = logging.getLogger(__name__)

UNKNOWN_RECIPIENT = "550 5.1.1 Recipient address rejected: no such mailbox here"
TRY_AGAIN = "451 4.3.0 Temporary failure storing the message, try again later"
TOO_LARGE = "552 5.3.4 Message size exceeds fixed maximum message size"


def address_normalize(address: str) -> str:
    """Lower-case ``local+tag@domain`` to ``local@domain`` (the sub-address routes the same)."""
    local, at, domain = address.strip().strip("<>").rpartition("@")
    if not at or not local or not domain:
        return ""
    return f"{local.split('+', 1)[0]}@{domain}".lower()


def inbound_addresses() -> frozenset[str]:
    """Every address this installation receives mail for (normalised)."""
    found = {address_normalize(a) for a in settings.TRUSTDESK_INBOUND_ADDRESSES}
    found.update(
        address_normalize(a)
        for a in Mailbox.objects.filter(enabled=True).values_list("address", flat=True)
    )
    found.update(
        address_normalize(a) for a in Team.objects.exclude(email="").values_list("email", flat=True)
    )
    found.discard("")
    return frozenset(found)


def address_is_ours(address: str) -> bool:
    normalized = address_normalize(address)
    return bool(normalized) and normalized in inbound_addresses()


def _db_call[T](function: Callable[..., T], /, **kwargs: Any) -> T:
    """Run ``function`` in this executor thread on a fresh connection, closed afterwards.

    Executor threads outlive the call and are never told when the receiver stops, so a
    connection kept open here would linger (and block dropping the database) until exit.
    """
    try:
        return function(**kwargs)
    finally:
        connections.close_all()


@dataclass
class InboundHandler:
    """aiosmtpd handler: recipient check at RCPT, durable store at DATA."""

    lmtp: bool = False

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        try:
            ours = await asyncio.to_thread(_db_call, address_is_ours, address=address)
        except DatabaseError:
            logger.exception("Recipient check failed for %s", address)
            return "451 4.3.0 Temporary failure checking the recipient, try again later"
        if not ours:
            return UNKNOWN_RECIPIENT
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        recipients: Sequence[str] = list(envelope.rcpt_tos)
        status = await self._store(raw, str(envelope.mail_from or ""), recipients)
        # LMTP (RFC 2033) answers DATA once per accepted recipient; one store covers them all.
        return "\r\n".join([status] * len(recipients)) if self.lmtp else status

    async def _store(self, raw: bytes, mail_from: str, recipients: Sequence[str]) -> str:
        try:
            stored = await asyncio.to_thread(
                _db_call,
                inbound_store,
                raw=raw,
                source="lmtp" if self.lmtp else "smtp",
                envelope_from=mail_from,
                envelope_to=recipients,
            )
        except EmailTooLarge:
            return TOO_LARGE
        except Exception:
            # Any failure (the database away, a bug): 4xx keeps the message at the sender,
            # who retries; a 5xx would bounce it for good.
            logger.exception("Could not store a message from %s; answered 451", mail_from)
            return TRY_AGAIN
        what = "duplicate of" if stored.duplicate else "queued as"
        return f"250 2.0.0 OK {what} {stored.inbound_id}"


class ReceiverController(Controller):
    """aiosmtpd's threaded controller serving SMTP, or LMTP when ``lmtp``."""

    def __init__(self, *, host: str, port: int, lmtp: bool = False) -> None:
        super().__init__(
            InboundHandler(lmtp=lmtp),
            hostname=host,
            port=port,
            data_size_limit=settings.TRUSTDESK_MAX_EMAIL_BYTES,
            server_hostname=settings.TRUSTDESK_MAIL_DOMAIN,
            ident="Trustdesk",
        )
        self.lmtp = lmtp

    def factory(self) -> SMTP:
        server_class = LMTP if self.lmtp else SMTP
        return server_class(self.handler, **self.SMTP_kwargs)
