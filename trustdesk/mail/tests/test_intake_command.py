"""``trustdesk ingest-email``: files or stdin in, one JSON line per message out."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from trustdesk.customers.models import Customer
from trustdesk.mail.intake.testing import FIXTURES
from trustdesk.mail.models import InboundEmail
from trustdesk.tickets.models import Ticket

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpora" / "flanker"
OUTCOMES = {"created", "appended", "duplicate", "suppressed", "quarantined", "rejected"}


def run(
    *args: str, stdin: bytes | None = None, monkeypatch: Any = None
) -> tuple[int, list[Any], str]:
    out, err = io.StringIO(), io.StringIO()
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    code = 0
    try:
        call_command("ingest_email", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, [json.loads(line) for line in out.getvalue().splitlines()], err.getvalue()


@pytest.mark.django_db
def test_files_are_stored_processed_and_reported(customer: Customer) -> None:
    new = str(FIXTURES / "new_request.eml")
    code, lines, err = run(new, str(FIXTURES / "mailing_list.eml"), new)

    number = Ticket.objects.get().number
    assert (code, err) == (0, "")
    assert lines == [
        {"source": new, "outcome": "created", "ticket": number, "reason": "new conversation"},
        {
            "source": str(FIXTURES / "mailing_list.eml"),
            "outcome": "suppressed",
            "ticket": None,
            "reason": "automated (list), no ticket to attach to",
        },
        {
            "source": new,
            "outcome": "duplicate",
            "ticket": number,
            "reason": f"already received as inbound {InboundEmail.objects.order_by('id')[0].pk}",
        },
    ]
    assert list(InboundEmail.objects.values_list("source", flat=True)) == ["pipe", "pipe"]


@pytest.mark.django_db
def test_one_message_on_stdin(monkeypatch: Any, customer: Customer) -> None:
    raw = (FIXTURES / "new_request.eml").read_bytes()
    code, lines, _err = run(
        "--envelope-from",
        "marie@example.org",
        "--envelope-to",
        "support@example.com",
        stdin=raw,
        monkeypatch=monkeypatch,
    )
    assert code == 0
    assert [(line["source"], line["outcome"]) for line in lines] == [("stdin", "created")]
    row = InboundEmail.objects.get()
    assert (row.envelope_from, row.envelope_to) == ("marie@example.org", ["support@example.com"])


@pytest.mark.django_db
def test_quarantined_and_rejected_are_outcomes_with_exit_code_zero(settings: Any) -> None:
    settings.TRUSTDESK_MAX_EMAIL_BYTES = 200
    bad = str(FIXTURES / "not_an_email.eml")
    big = str(FIXTURES / "new_request.eml")
    code, lines, _err = run(bad, big)
    assert code == 0
    assert [(line["outcome"], line["ticket"]) for line in lines] == [
        ("quarantined", None),
        ("rejected", None),
    ]
    assert lines[1]["reason"].endswith("the limit is 200 bytes.")
    assert InboundEmail.objects.count() == 1  # the rejected one was not stored


@pytest.mark.django_db
def test_an_unreadable_file_is_an_internal_failure_but_the_others_go_through(
    tmp_path: Path,
) -> None:
    missing = str(tmp_path / "nope.eml")
    code, lines, err = run(missing, str(FIXTURES / "mailing_list.eml"))
    assert code == 75
    assert [line["outcome"] for line in lines] == ["suppressed"]
    assert json.loads(err) == {
        "source": missing,
        "outcome": "error",
        "ticket": None,
        "reason": "cannot read: No such file or directory",
    }


@pytest.mark.django_db(transaction=True)
def test_the_installed_command_reads_a_pipe(customer: Customer) -> None:
    """A real subprocess, as an MTA runs it: needs a database another process can open."""
    settings_db = connection.settings_dict
    if connection.vendor != "postgresql":
        pytest.skip("the subprocess needs a database on disk or on a server")
    url = (
        f"postgres://{settings_db['USER']}:{settings_db['PASSWORD'] or ''}@{settings_db['HOST']}:"
        f"{settings_db['PORT'] or 5432}/{settings_db['NAME']}"
    )
    env = {**os.environ, "TRUSTDESK_DATABASE_URL": url}
    done = subprocess.run(
        [str(Path(sys.executable).with_name("trustdesk")), "ingest-email"],
        input=(FIXTURES / "new_request.eml").read_bytes(),
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    line = json.loads(done.stdout.decode())
    assert (line["source"], line["outcome"]) == ("stdin", "created")
    assert Ticket.objects.get().number == line["ticket"]


@pytest.mark.django_db
def test_every_flanker_message_gets_an_outcome_and_none_crashes() -> None:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpora is not available")
    files = sorted(str(p) for p in CORPUS.rglob("*.eml"))
    assert len(files) == 48
    code, lines, _err = run(*files)

    assert code == 0
    assert len(lines) == 48
    assert {line["outcome"] for line in lines} <= OUTCOMES
    assert InboundEmail.objects.exclude(state__in=["done", "quarantined"]).count() == 0
    quarantined = sorted(
        Path(line["source"]).name for line in lines if line["outcome"] == "quarantined"
    )
    assert quarantined == ["attached-pdf.eml"]  # it has no From and no envelope sender
