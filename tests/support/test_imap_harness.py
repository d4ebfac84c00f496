"""The IMAP harness itself: a real dovecot per test, reached with imapclient like the app will."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest
from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from tests.support import imap
from tests.support.imap import (
    DovecotServer,
    dovecot_factory,  # noqa: F401  (fixture)
    imap_server,  # noqa: F401  (fixture)
)

SUPPORT = "support@example.com"


def message(n: int, to: str = SUPPORT) -> bytes:
    return (
        f"From: Customer {n} <customer{n}@example.org>\r\n"
        f"To: {to}\r\n"
        f"Subject: Help request {n}\r\n"
        f"Message-ID: <request-{n}@example.org>\r\n"
        "Date: Mon, 03 Nov 2025 10:00:00 +0000\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        f"Ticket body number {n}. Caf\u00e9 \u2615\r\n"
    ).encode()


def test_append_fetch_by_uid_and_move(imap_server: DovecotServer) -> None:  # noqa: F811
    raws = [message(n) for n in (1, 2, 3)]
    uids = [imap_server.append(SUPPORT, raw) for raw in raws]
    assert uids == [1, 2, 3]
    assert imap_server.message_count(SUPPORT, "INBOX") == 3

    imap_server.create_folder(SUPPORT, "Processed")
    assert "Processed" in imap_server.folders(SUPPORT)

    client = imap_server.client(SUPPORT)
    client.select_folder("INBOX")
    assert sorted(client.search(["UNSEEN"])) == uids
    fetched = client.fetch(uids, ["BODY.PEEK[]", "FLAGS"])
    assert [fetched[uid][b"BODY[]"] for uid in uids] == raws
    assert all(b"\\Seen" not in fetched[uid][b"FLAGS"] for uid in uids)

    client.move([uids[1]], "Processed")
    client.logout()

    assert imap_server.message_count(SUPPORT, "INBOX") == 2
    assert imap_server.message_count(SUPPORT, "Processed") == 1
    assert imap_server.uids(SUPPORT, "INBOX") == [1, 3]
    with imap_server.session(SUPPORT) as session:
        session.select_folder("Processed", readonly=True)
        (moved_uid,) = session.search("ALL")
        assert session.fetch([moved_uid], ["BODY.PEEK[]"])[moved_uid][b"BODY[]"] == raws[1]
    assert " Error: " not in imap_server.log()
    assert " Fatal: " not in imap_server.log()


def test_users_have_separate_mailboxes_and_passwords_are_checked(
    imap_server: DovecotServer,  # noqa: F811
) -> None:
    imap_server.append(SUPPORT, message(1))
    assert imap_server.message_count("billing@example.com") == 0
    assert imap_server.append("billing@example.com", message(2), folder="Archive/2025") == 1
    assert "Archive/2025" not in imap_server.folders(SUPPORT)

    client = IMAPClient(imap_server.host, port=imap_server.port, ssl=False, timeout=5)
    with client, pytest.raises(LoginError):
        client.login(SUPPORT, "wrong password")


def test_two_servers_at_once(dovecot_factory: Callable[..., DovecotServer]) -> None:  # noqa: F811
    first = dovecot_factory()
    second = dovecot_factory(users={"helpdesk@example.net": "another-password"})
    assert first.port != second.port
    assert first.directory != second.directory
    assert first.running
    assert second.running

    first.append(SUPPORT, message(1))
    second.append("helpdesk@example.net", message(2, to="helpdesk@example.net"))
    second.append("helpdesk@example.net", message(3, to="helpdesk@example.net"))
    assert first.message_count(SUPPORT) == 1
    assert second.message_count("helpdesk@example.net") == 2
    client = IMAPClient(second.host, port=second.port, ssl=False, timeout=5)
    with client, pytest.raises(LoginError):
        client.login(SUPPORT, first.password(SUPPORT))


def test_stop_removes_everything() -> None:
    imap.require_dovecot()
    with DovecotServer({"solo@example.com": "pw"}) as server:
        directory, port = server.directory, server.port
        assert directory is not None
        assert directory.is_dir()
        server.client("solo@example.com")  # left open on purpose: stop() logs it out
    assert not directory.exists()
    assert not server.running
    with pytest.raises(ConnectionRefusedError), socket.create_connection((imap.HOST, port), 1):
        pass


def test_missing_dovecot_skips_locally_and_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imap, "dovecot_binary", lambda: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"run scripts/ensure-system-deps"):
        imap.require_dovecot()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"dovecot not installed"):
        imap.require_dovecot()
    with pytest.raises(imap.DovecotNotInstalled):
        DovecotServer().start()
