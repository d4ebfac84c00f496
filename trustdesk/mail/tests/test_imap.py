"""IMAP polling against a real dovecot on loopback (tests/support/imap.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.support.imap import DovecotServer, require_dovecot
from trustdesk.mail.imap import FETCHED_FLAG, PollResult, mailbox_poll_once, message_move
from trustdesk.mail.intake.store import inbound_store
from trustdesk.mail.models import InboundEmail, Mailbox
from trustdesk.mail.polling_tasks import mailbox_poll, mailbox_poll_schedule

pytestmark = pytest.mark.django_db

USER = "support@example.com"


def message(n: int, *, message_id: bool = True, body: str = "") -> bytes:
    header = f"Message-ID: <request-{n}@example.org>\r\n" if message_id else ""
    return (
        f"From: Customer {n} <customer{n}@example.org>\r\n"
        f"To: {USER}\r\n"
        f"Subject: Help request {n}\r\n"
        f"{header}"
        "Date: Mon, 03 Nov 2025 10:00:00 +0000\r\n"
        "\r\n"
        f"Hello, this is request {n}.{body}\r\n"
    ).encode()


def mailbox_for(server: DovecotServer, **fields: Any) -> Mailbox:
    return Mailbox.objects.create(
        **{
            "name": "Support",
            "address": USER,
            "host": server.host,
            "port": server.port,
            "use_ssl": False,
            "username": USER,
            "password": server.password(USER),
            "processed_folder": "Processed",
            **fields,
        }
    )


@pytest.fixture
def dovecot() -> Iterator[DovecotServer]:
    """A real dovecot for this test (skipped, or failed under CI=true, when not installed)."""
    require_dovecot()
    with DovecotServer() as server:
        yield server


def stored_ids() -> list[str]:
    return sorted(InboundEmail.objects.values_list("dedupe_key", flat=True))


def test_poll_stores_every_message_once_and_moves_it(dovecot: DovecotServer) -> None:
    raws = [message(n) for n in range(5)] + [message(5, message_id=False)]
    for raw in raws:
        dovecot.append(USER, raw)
    mailbox = mailbox_for(dovecot)

    result = mailbox_poll_once(mailbox_id=mailbox.pk, batch=2)

    assert result == PollResult(mailbox_id=mailbox.pk, fetched=6, stored=6)
    rows = InboundEmail.objects.order_by("pk")
    assert [bytes(r.raw) for r in rows] == raws
    assert {(r.source, tuple(r.envelope_to)) for r in rows} == {(f"imap:{mailbox.pk}", (USER,))}
    assert dovecot.message_count(USER, "INBOX") == 0
    assert dovecot.message_count(USER, "Processed") == 6
    mailbox.refresh_from_db()
    assert (mailbox.last_uid, mailbox.last_error) == (6, "")
    assert mailbox.uidvalidity is not None
    assert mailbox.last_polled_at is not None

    assert mailbox_poll_once(mailbox_id=mailbox.pk) == PollResult(mailbox_id=mailbox.pk)

    # The same bytes again, without a Message-ID: recognised by their digest, moved, not stored.
    dovecot.append(USER, raws[-1])
    again = mailbox_poll_once(mailbox_id=mailbox.pk)
    assert again == PollResult(mailbox_id=mailbox.pk, fetched=1, duplicates=1)
    assert InboundEmail.objects.count() == 6
    assert dovecot.message_count(USER, "Processed") == 7


def test_a_crash_after_storing_but_before_moving_neither_loses_nor_doubles(
    dovecot: DovecotServer,
) -> None:
    raws = [message(1), message(2, message_id=False)]
    for raw in raws:
        dovecot.append(USER, raw)
    mailbox = mailbox_for(dovecot)
    # As if a poll had committed both messages and died before touching the server.
    for raw in raws:
        inbound_store(raw=raw, source=f"imap:{mailbox.pk}")

    result = mailbox_poll_once(mailbox_id=mailbox.pk)

    assert result == PollResult(mailbox_id=mailbox.pk, fetched=2, duplicates=2)
    assert InboundEmail.objects.count() == 2
    assert dovecot.message_count(USER, "INBOX") == 0
    assert dovecot.message_count(USER, "Processed") == 2


def test_without_a_processed_folder_messages_are_flagged_and_not_fetched_again(
    dovecot: DovecotServer,
) -> None:
    for n in range(3):
        dovecot.append(USER, message(n))
    mailbox = mailbox_for(dovecot, processed_folder="")

    assert mailbox_poll_once(mailbox_id=mailbox.pk).stored == 3

    with dovecot.session(USER) as client:
        client.select_folder("INBOX", readonly=True)
        flags = client.get_flags(client.search("ALL"))
    assert {frozenset(f) for f in flags.values()} == {frozenset({b"\\Seen", FETCHED_FLAG})}
    # Even with the high-water mark lost, flagged messages are not fetched again.
    Mailbox.objects.filter(pk=mailbox.pk).update(last_uid=0)
    assert mailbox_poll_once(mailbox_id=mailbox.pk) == PollResult(mailbox_id=mailbox.pk)
    assert InboundEmail.objects.count() == 3


def test_fetching_does_not_mark_seen_and_a_too_large_message_is_left_flagged(
    dovecot: DovecotServer, settings: Any
) -> None:
    settings.TRUSTDESK_MAX_EMAIL_BYTES = 1000
    dovecot.append(USER, message(1, body="x" * 2000))
    dovecot.append(USER, message(2))
    mailbox = mailbox_for(dovecot)

    result = mailbox_poll_once(mailbox_id=mailbox.pk)

    assert result == PollResult(mailbox_id=mailbox.pk, fetched=2, stored=1, too_large=1)
    assert stored_ids() == ["mid:<request-2@example.org>"]
    with dovecot.session(USER) as client:
        client.select_folder("INBOX", readonly=True)
        flags = client.get_flags(client.search("ALL"))
    assert [set(f) for f in flags.values()] == [{b"$TrustdeskTooLarge", FETCHED_FLAG}]


def test_a_changed_uidvalidity_fetches_the_folder_again_and_dedupes(
    dovecot: DovecotServer,
) -> None:
    for n in (1, 2):
        dovecot.append(USER, message(n), folder="Support")
    mailbox = mailbox_for(dovecot, folder="Support", processed_folder="")
    assert mailbox_poll_once(mailbox_id=mailbox.pk).stored == 2
    mailbox.refresh_from_db()
    before = mailbox.uidvalidity
    # The folder is recreated (a restore, a server migration): new UIDVALIDITY, UIDs from 1.
    with dovecot.session(USER) as client:
        client.delete_folder("Support")
    for n in (1, 2, 3):
        dovecot.append(USER, message(n), folder="Support")

    result = mailbox_poll_once(mailbox_id=mailbox.pk)

    assert result == PollResult(mailbox_id=mailbox.pk, fetched=3, stored=1, duplicates=2)
    mailbox.refresh_from_db()
    assert mailbox.uidvalidity != before
    assert mailbox.last_uid == 3
    assert stored_ids() == [f"mid:<request-{n}@example.org>" for n in (1, 2, 3)]


def test_a_wrong_password_is_recorded_not_raised(dovecot: DovecotServer) -> None:
    dovecot.append(USER, message(1))
    mailbox = mailbox_for(dovecot, password="wrong")

    result = mailbox_poll_once(mailbox_id=mailbox.pk)

    assert result.error.startswith("LoginError: ")
    assert (result.fetched, result.stored) == (0, 0)
    mailbox.refresh_from_db()
    assert mailbox.last_error == result.error
    assert mailbox.last_polled_at is not None
    assert InboundEmail.objects.count() == 0
    assert dovecot.message_count(USER, "INBOX") == 1

    Mailbox.objects.filter(pk=mailbox.pk).update(password=dovecot.password(USER))
    assert mailbox_poll_once(mailbox_id=mailbox.pk).stored == 1
    assert Mailbox.objects.get(pk=mailbox.pk).last_error == ""


def test_an_unreachable_server_is_recorded(dovecot: DovecotServer) -> None:
    mailbox = mailbox_for(dovecot)
    dovecot.stop()

    result = mailbox_poll_once(mailbox_id=mailbox.pk)

    assert result.error.startswith("ConnectionRefusedError: ")
    assert Mailbox.objects.get(pk=mailbox.pk).last_error == result.error


def test_move_falls_back_to_copy_delete_expunge(dovecot: DovecotServer) -> None:
    uids = [dovecot.append(USER, message(n)) for n in range(3)]
    with dovecot.session(USER) as client:
        client.select_folder("INBOX")
        message_move(client, uids[:2], "Done", use_move=False)
    assert dovecot.message_count(USER, "INBOX") == 1
    assert dovecot.message_count(USER, "Done") == 2


def test_fetch_mail_command_polls_each_enabled_mailbox(
    dovecot: DovecotServer, capsys: pytest.CaptureFixture[str]
) -> None:
    dovecot.append(USER, message(1))
    mailbox = mailbox_for(dovecot)
    mailbox_for(dovecot, name="Off", enabled=False, password="never used")

    call_command("fetch_mail")

    assert capsys.readouterr().out == (
        f"mailbox {mailbox.pk}: fetched 1, stored 1, duplicates 0, too large 0\n"
    )
    with pytest.raises(CommandError, match="No mailbox called 'Nope'"):
        call_command("fetch_mail", mailbox="Nope")
    Mailbox.objects.filter(pk=mailbox.pk).update(password="wrong")
    with pytest.raises(CommandError, match=r"^1 of 1 mailbox\(es\) could not be polled\.$"):
        call_command("fetch_mail")


def poll_tasks() -> list[tuple[str, list[int]]]:
    return [
        (str(row.status), list(row.args_kwargs["args"]))
        for row in DBTaskResult.objects.filter(task_path=mailbox_poll.module_path).order_by(
            "enqueued_at"
        )
    ]


def test_the_poll_chain_never_forks(
    dovecot: DovecotServer,
    run_tasks: Callable[[], int],
    settings: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings.TRUSTDESK_IMAP_POLL_SECONDS = 60
    dovecot.append(USER, message(1))
    mailbox = mailbox_for(dovecot)
    mailbox_for(dovecot, name="Off", enabled=False)

    call_command("fetch_mail", schedule=True)
    call_command("fetch_mail", schedule=True)
    assert capsys.readouterr().out == (
        "Scheduled polling of 1 mailbox(es).\nScheduled polling of 0 mailbox(es).\n"
    )
    assert poll_tasks() == [("READY", [mailbox.pk])]

    assert run_tasks() == 1

    assert InboundEmail.objects.count() == 1
    assert poll_tasks() == [("SUCCESSFUL", [mailbox.pk]), ("READY", [mailbox.pk])]
    following = DBTaskResult.objects.get(status=TaskResultStatus.READY)
    expected = timezone.now() + timedelta(seconds=60)
    assert expected - timedelta(seconds=10) < following.run_after <= expected
    assert mailbox_poll_schedule(mailbox_id=mailbox.pk) is False
    assert len(poll_tasks()) == 2

    Mailbox.objects.filter(pk=mailbox.pk).update(enabled=False)
    DBTaskResult.objects.filter(pk=following.pk).update(run_after=timezone.now())
    assert run_tasks() == 1
    assert poll_tasks() == [("SUCCESSFUL", [mailbox.pk])] * 2  # disabled: the chain ends
