"""IMAP polling: fetch new mail from each ``Mailbox`` by UID, crash-safe at every step.

For each batch of new UIDs the order is always: fetch with ``BODY.PEEK[]`` (nothing is marked
seen by the fetch), ``inbound_store`` each message (committed), THEN move the batch to
``processed_folder`` (or flag it ``\\Seen`` + ``$TrustdeskFetched`` when there is none), THEN
advance ``Mailbox.last_uid``. A crash between any two steps leaves the message either still on
the server to be fetched again, where ``inbound_store`` recognises it (by Message-ID, or by the
digest of the identical bytes when it has none), or already stored: never lost, never doubled.

A changed UIDVALIDITY means the server renumbered the folder: ``last_uid`` restarts at 0 and the
dedupe of ``inbound_store`` absorbs whatever comes again. Any IMAP or network failure is
recorded in ``Mailbox.last_error`` (with ``last_polled_at``) and returned, never raised.
"""

from __future__ import annotations

import logging
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils import timezone
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from trustdesk.mail.intake.store import EmailTooLarge, inbound_store
from trustdesk.mail.models import Mailbox

logger = logging.getLogger(__name__)

BATCH = 50
TIMEOUT = 30.0
FETCHED_FLAG = b"$TrustdeskFetched"
TOO_LARGE_FLAG = b"$TrustdeskTooLarge"
_ERRORS = (IMAPClientError, OSError, socket.timeout, ssl.SSLError)


@dataclass(frozen=True)
class PollResult:
    mailbox_id: int
    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    too_large: int = 0
    error: str = ""


def mailbox_poll_once(*, mailbox_id: int, batch: int = BATCH) -> PollResult:
    """Fetch every new message of one mailbox; records ``last_polled_at`` and ``last_error``."""
    mailbox = Mailbox.objects.get(pk=mailbox_id)
    counts = _Counts()
    error = ""
    try:
        with _connect(mailbox) as client:
            _poll(client, mailbox, counts, batch=batch)
    except _ERRORS as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000] or type(exc).__name__
        logger.warning("Polling mailbox %s failed: %s", mailbox.name, error)
    Mailbox.objects.filter(pk=mailbox.pk).update(last_polled_at=timezone.now(), last_error=error)
    return PollResult(
        mailbox_id=mailbox.pk,
        fetched=counts.fetched,
        stored=counts.stored,
        duplicates=counts.duplicates,
        too_large=counts.too_large,
        error=error,
    )


def mailboxes_to_poll(*, name: str | None = None) -> list[int]:
    """Ids of the enabled mailboxes (or the one called ``name``, enabled or not)."""
    if name is not None:
        return list(Mailbox.objects.filter(name=name).values_list("pk", flat=True))
    return list(Mailbox.objects.filter(enabled=True).values_list("pk", flat=True))


@dataclass
class _Counts:
    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    too_large: int = 0


class _connect:
    """A logged-in IMAPClient for ``mailbox``; logged out (or dropped) on exit."""

    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox
        self.client: IMAPClient | None = None

    def __enter__(self) -> IMAPClient:
        mailbox = self.mailbox
        client = IMAPClient(mailbox.host, port=mailbox.port, ssl=mailbox.use_ssl, timeout=TIMEOUT)
        self.client = client
        client.login(mailbox.username, mailbox.password)
        return client

    def __exit__(self, *exc: object) -> None:
        if self.client is None:
            return
        try:
            self.client.logout()
        except (*_ERRORS, ValueError):
            try:
                self.client.shutdown()
            except (*_ERRORS, ValueError):
                logger.debug("IMAP connection already gone")


def _poll(client: IMAPClient, mailbox: Mailbox, counts: _Counts, *, batch: int) -> None:
    selected: dict[bytes, Any] = client.select_folder(mailbox.folder)
    uidvalidity = int(selected[b"UIDVALIDITY"])
    if mailbox.uidvalidity != uidvalidity:
        if mailbox.uidvalidity is not None:
            logger.warning(
                "UIDVALIDITY of %s changed (%s -> %s): fetching the folder again",
                mailbox.name,
                mailbox.uidvalidity,
                uidvalidity,
            )
        mailbox.uidvalidity, mailbox.last_uid = uidvalidity, 0
        Mailbox.objects.filter(pk=mailbox.pk).update(uidvalidity=uidvalidity, last_uid=0)
    criteria: list[str | bytes] = ["UID", f"{mailbox.last_uid + 1}:*"]
    if not mailbox.processed_folder:
        criteria += ["UNKEYWORD", FETCHED_FLAG]
    # "n:*" always matches the highest UID, even when it is below n: filter again.
    uids = sorted(int(uid) for uid in client.search(criteria) if int(uid) > mailbox.last_uid)
    for start in range(0, len(uids), batch):
        _batch(client, mailbox, uids[start : start + batch], counts)


def _batch(client: IMAPClient, mailbox: Mailbox, uids: Sequence[int], counts: _Counts) -> None:
    fetched: dict[int, dict[bytes, Any]] = client.fetch(list(uids), [b"BODY.PEEK[]"])
    done: list[int] = []
    too_large: list[int] = []
    for uid in uids:
        data = fetched.get(uid)
        if data is None or b"BODY[]" not in data:
            continue  # expunged meanwhile by another client: nothing to store
        counts.fetched += 1
        try:
            stored = inbound_store(
                raw=bytes(data[b"BODY[]"]),
                source=f"imap:{mailbox.pk}",
                envelope_to=[mailbox.address],
            )
        except EmailTooLarge:
            logger.warning("Message UID %s of %s is too large: left flagged", uid, mailbox.name)
            counts.too_large += 1
            too_large.append(uid)
            continue
        counts.duplicates += stored.duplicate
        counts.stored += not stored.duplicate
        done.append(uid)
    if too_large:
        client.add_flags(too_large, [TOO_LARGE_FLAG, FETCHED_FLAG])
    if done:
        _mark_processed(client, mailbox, done)
    # Monotonic: a slower concurrent poller never moves the mark back.
    Mailbox.objects.filter(Q(pk=mailbox.pk), Q(last_uid__lt=uids[-1])).update(last_uid=uids[-1])
    mailbox.last_uid = max(mailbox.last_uid, uids[-1])


def _mark_processed(client: IMAPClient, mailbox: Mailbox, uids: list[int]) -> None:
    if mailbox.processed_folder:
        message_move(client, uids, mailbox.processed_folder)
    else:
        client.add_flags(uids, [b"\\Seen", FETCHED_FLAG])


def message_move(
    client: IMAPClient, uids: list[int], folder: str, *, use_move: bool | None = None
) -> None:
    """Move ``uids`` of the selected folder to ``folder`` (created when missing).

    MOVE (RFC 6851) when the server has it, else COPY, flag ``\\Deleted`` and expunge just
    those UIDs (UID EXPUNGE with UIDPLUS, else a plain EXPUNGE). ``use_move`` overrides the
    capability check (tests of the fallback).
    """
    if not client.folder_exists(folder):
        client.create_folder(folder)
    if use_move is None:
        use_move = client.has_capability("MOVE")
    if use_move:
        client.move(uids, folder)
        return
    client.copy(uids, folder)
    client.add_flags(uids, [b"\\Deleted"], silent=True)
    if client.has_capability("UIDPLUS"):
        client.uid_expunge(uids)
    else:
        client.expunge()
