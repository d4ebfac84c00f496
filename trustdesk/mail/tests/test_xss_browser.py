"""Stored XSS through email never runs in the agent workspace (issue: email channel, point 4).

Every DOMPurify payload arrives as the HTML body of a real email (and, for a sample, in the
subject and the sender's name), goes through the real intake pipeline, and is then rendered on
the ticket page in Debian's chromium. Any script that ran would call ``alert``/``confirm``/
``prompt``/``print`` (the payloads' usual sinks, replaced by recorders before the page loads),
open a dialog, or trip the Content Security Policy; we assert none of that happened and that the
rendered timeline holds no script element and no event-handler attribute.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import pytest

from conftest import PASSWORD
from tests.support.browser import CHROMIUM, chromium_page
from trustdesk.accounts.models import Agent
from trustdesk.mail.intake.testing import ingest
from trustdesk.tickets.models import Ticket

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpora" / "dompurify"
# Runs before any page script: records script sinks and CSP violations.
RECORDERS = """
window.__ran = [];
for (const name of ["alert", "confirm", "prompt", "print"]) {
  window[name] = (...args) => { window.__ran.push(name + ":" + String(args[0])); };
}
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});
"""
DANGEROUS_DOM = """
() => {
  const found = [];
  for (const el of document.querySelectorAll("#timeline *")) {
    const tag = el.tagName.toLowerCase();
    if (["script", "iframe", "object", "embed", "form", "base", "meta", "style"].includes(tag)) {
      found.push(tag);
    }
    for (const attr of el.attributes) {
      const value = attr.value.replace(/\\s/g, "").toLowerCase();
      const isUrl = ["href", "src", "action", "formaction", "xlink:href", "data"].includes(attr.name);
      if (attr.name.startsWith("on") || (isUrl && /^(javascript|vbscript|data):/.test(value))) {
        found.push(tag + "[" + attr.name + "]");
      }
    }
  }
  return found;
}
"""

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed"),
    pytest.mark.skipif(not CORPUS.exists(), reason="../shared/corpora/dompurify is absent"),
]


def payloads() -> list[str]:
    cases = json.loads((CORPUS / "expect.json").read_text())
    return [str(case["payload"]) for case in cases]


def email(payload: str, *, first_id: str | None, n: int) -> bytes:
    message = EmailMessage()
    # A sample of payloads also travels in the subject and the display name (one line each).
    flat = " ".join(payload.split())[:150]
    name = flat if n % 10 == 0 else "Marie Curie"
    message["From"] = Address(display_name=name, username="marie", domain="example.org")
    message["To"] = "support@example.com"
    message["Subject"] = flat if n % 10 == 5 else f"Payload {n}"
    message["Message-ID"] = make_msgid(f"xss{n}", domain="example.org")
    if first_id:
        message["In-Reply-To"] = first_id
        message["References"] = first_id
    message.set_content(f"Payload {n} (see the HTML part).")
    message.add_alternative(f"<p>Payload {n}</p>{payload}", subtype="html")
    return message.as_bytes()


@pytest.fixture
def page() -> Iterator[Any]:
    with chromium_page(init_script=RECORDERS, width=1280) as page:
        dialogs: list[str] = []

        def on_dialog(dialog: Any) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.dialogs = dialogs
        yield page


def test_no_dompurify_payload_runs_in_the_workspace(
    transactional_db: None, live_server: Any, page: Any, admin_agent: Agent
) -> None:
    cases = payloads()
    first_id: str | None = None
    numbers: set[int] = set()
    for n, payload in enumerate(cases):
        raw = email(payload, first_id=first_id, n=n)
        result = ingest(raw, source="xss-test")
        assert result.outcome in {"created", "appended"}, (n, result)
        assert result.ticket_number is not None
        numbers.add(result.ticket_number)
        if first_id is None:
            first_id = raw.split(b"Message-ID: ", 1)[1].split(b"\n", 1)[0].decode().strip()

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email address").fill(admin_agent.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")

    rendered = 0
    for ticket in Ticket.objects.filter(number__in=numbers).order_by("id"):
        page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
        page.locator("#timeline").wait_for()
        page.wait_for_timeout(300)  # room for anything that would fire on load or error
        rendered += page.locator("#timeline .message").count()
        assert page.evaluate(DANGEROUS_DOM) == []
        assert page.evaluate("window.__ran") == []
        assert page.evaluate("window.__csp") == []
    assert page.dialogs == []
    # Every payload reached a rendered timeline (the pipeline lost none of them).
    assert rendered >= len(cases)
