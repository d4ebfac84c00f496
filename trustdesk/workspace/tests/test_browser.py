"""The agent's main flow in a real browser (Debian's chromium driven by Playwright)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import PASSWORD
from tests.support.browser import CHROMIUM, chromium_page
from trustdesk.accounts.models import Agent
from trustdesk.customers.models import Customer
from trustdesk.tickets.models import Message, Ticket
from trustdesk.tickets.services import ticket_create

SCREENSHOTS = Path("/tmp")
# Collects CSP violations the page reports, before any page script runs.
CSP_LISTENER = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});
"""

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed"),
]


@pytest.fixture
def page() -> Iterator[Any]:
    with chromium_page(init_script=CSP_LISTENER) as page:
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.problems = problems
        yield page


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def _no_csp_violations(page: Any) -> None:
    assert page.evaluate("window.__csp") == []
    assert [p for p in page.problems if "Content Security Policy" in p] == []


def test_agent_flow(
    transactional_db: None, live_server: Any, page: Any, agent: Agent, customer: Customer
) -> None:
    ticket = ticket_create(
        customer=customer,
        subject="Printer on fire",
        body="The office printer is smoking since the firmware update.",
        channel="email",
    )
    for n in range(6):
        ticket_create(customer=customer, subject=f"Older question {n}", body="Hi", channel="web")
    Ticket.objects.filter(pk=ticket.pk).update(priority=4)
    base = live_server.url

    # Sign in.
    page.goto(f"{base}/login/")
    page.get_by_label("Email address").fill(agent.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")
    _no_csp_violations(page)

    # The inbox: filter with htmx (the URL is pushed, the page is not reloaded).
    page.get_by_role("link", name="All tickets").click()
    page.wait_for_url(f"{base}/inbox/all/")
    page.evaluate("window.__marker = 'same page'")
    page.get_by_label("Channel").select_option("email")
    page.wait_for_url(f"{base}/inbox/all/?*channel=email*")
    page.locator(".ticket-subject", has_text="Printer on fire").wait_for()
    assert page.locator(".ticket-row").count() == 1
    assert page.evaluate("window.__marker") == "same page"
    page.get_by_label("Channel").select_option("")
    expect(page.locator(".ticket-row")).to_have_count(7)
    page.screenshot(path=str(SCREENSHOTS / "trustdesk-inbox.png"))
    _no_csp_violations(page)

    # Keyboard: j moves to the first ticket, Enter opens it.
    page.locator("body").click(position={"x": 600, "y": 80})
    page.keyboard.press("j")
    assert (
        page.evaluate("document.activeElement.textContent").strip().startswith("Older question 5")
    )
    page.get_by_role("link", name="Printer on fire").click()
    page.wait_for_url(f"{base}/tickets/{ticket.pk}/")

    # An empty reply is refused inline; a real one appears in the timeline without a reload.
    page.evaluate("window.__marker = 'ticket page'")
    page.get_by_role("button", name="Send").click()
    page.get_by_text("Write something before sending.").wait_for()
    page.get_by_label("Message", exact=True).fill("Please unplug the printer and wait ten minutes.")
    page.get_by_role("button", name="Send").click()
    page.locator("#timeline").get_by_text("Please unplug the printer").wait_for()
    page.get_by_text("Reply sent.").wait_for()
    assert page.evaluate("window.__marker") == "ticket page"
    assert page.locator("#ticket-header .badge").inner_text() == "Open"
    assert page.get_by_label("Message", exact=True).input_value() == ""
    reply = Message.objects.get(body_text="Please unplug the printer and wait ten minutes.")
    assert reply.author_agent_id == agent.pk

    # An internal note, visually distinct.
    page.get_by_text("Internal note", exact=True).click()
    page.get_by_label("Message", exact=True).fill("Third printer fire this month.")
    page.keyboard.press("Control+Enter")
    page.locator(".message-internal", has_text="Third printer fire").wait_for()

    # Change the properties; the activity section shows it.
    page.get_by_label("Priority").select_option("3")
    page.get_by_label("Tags").fill("hardware, fire")
    page.get_by_role("button", name="Save changes").click()
    page.get_by_text("Ticket updated.").wait_for()
    page.get_by_text("Activity").click()
    page.get_by_text("changed the priority from Urgent to High").wait_for()
    page.screenshot(path=str(SCREENSHOTS / "trustdesk-ticket.png"), full_page=True)
    _no_csp_violations(page)

    # Find the reply with search, then open it.
    page.get_by_label("Search tickets and messages").fill("unplug")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/search/?q=unplug")
    page.locator(".search-snippet mark", has_text="unplug").first.wait_for()
    page.get_by_role("button", name="Search", exact=True).wait_for()
    page.locator(".search-hit-title").first.click()
    page.wait_for_url(f"{base}/tickets/{ticket.pk}/#message-{reply.pk}")
    _no_csp_violations(page)

    # The customer page, and a phone call logged from it onto the ticket.
    page.locator("#ticket-header").get_by_role("link", name="Marie Curie").click()
    page.wait_for_url(f"{base}/customers/{customer.pk}/")
    page.get_by_text("Recent messages on every channel").wait_for()
    page.screenshot(path=str(SCREENSHOTS / "trustdesk-customer.png"), full_page=True)
    page.get_by_text("Log a phone call").click()
    page.get_by_label("We called the customer").check()
    page.get_by_label("Minutes").fill("4")
    page.get_by_label("Seconds").fill("30")
    page.get_by_label("Summary").fill("Called to check the printer: all good now.")
    page.get_by_label("Outcome").fill("Resolved")
    page.get_by_label("Ticket", exact=True).select_option(str(ticket.pk))
    page.get_by_role("button", name="Log call").click()
    page.wait_for_url(f"{base}/tickets/{ticket.pk}/#message-*")
    call = page.locator(".message", has_text="Called to check the printer")
    call.wait_for()
    assert "4 min 30 s" in call.inner_text()
    _no_csp_violations(page)
    # The only failed request is the empty reply we sent on purpose.
    assert page.problems == [
        "Failed to load resource: the server responded with a status of 422 (Unprocessable Content)"
    ]
