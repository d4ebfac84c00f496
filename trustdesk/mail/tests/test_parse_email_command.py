"""``trustdesk parse-email FILE``: JSON for admins, a clear error for a missing file."""

from __future__ import annotations

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def test_prints_the_parsed_message_as_indented_json() -> None:
    out = StringIO()
    call_command("parse_email", str(FIXTURES / "dsn_bounce.eml"), stdout=out)
    text = out.getvalue()
    assert text.startswith('{\n  "from": {\n    "name": "Mail Delivery System",')
    data = json.loads(text)
    assert data["automated"] == "bounce"
    assert data["from"] == {
        "name": "Mail Delivery System",
        "address": "MAILER-DAEMON@mx.example.net",
    }
    assert data["attachments"] == [
        {
            "filename": "delivery-status-1.bin",
            "content_type": "message/delivery-status",
            "size": 109,
            "content_id": None,
            "inline": False,
        },
        {
            "filename": "Your ticket.eml",
            "content_type": "message/rfc822",
            "size": 83,
            "content_id": None,
            "inline": False,
        },
    ]
    assert data["headers"] == [["Return-Path", "<>"], ["Auto-Submitted", "auto-replied"]]


def test_missing_file_is_a_clear_error() -> None:
    with pytest.raises(CommandError, match=r"^No such file: /nonexistent/mail\.eml$"):
        call_command("parse_email", "/nonexistent/mail.eml")


def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "trustdesk", "parse-email", *args],
        input=stdin,
        capture_output=True,
        check=False,
        timeout=60,
    )


def test_console_reads_stdin_and_exits_zero() -> None:
    result = run("-", stdin=(FIXTURES / "auto_reply.eml").read_bytes())
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["automated"] == "auto-reply"


def test_console_exits_non_zero_on_missing_file_and_on_non_email() -> None:
    missing = run("/nonexistent/mail.eml")
    assert missing.returncode == 1
    assert b"No such file: /nonexistent/mail.eml" in missing.stderr
    empty = run("-", stdin=b"")
    assert empty.returncode == 1
    assert b"Not an email: empty input is not an email" in empty.stderr
