from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from trustdesk.accounts.models import Agent, Team
from trustdesk.tickets.models import Ticket
from trustdesk.tickets.services import TicketChanges, ticket_update
from trustdesk.workspace.selectors import PAGE_SIZE, CappedCount, inbox_counts, ticket_page
from trustdesk.workspace.tests.conftest import MakeTicket
from trustdesk.workspace.tests.support import HTMX, text

pytestmark = pytest.mark.django_db


def _subjects(response: Any) -> list[str]:
    return [t.subject for t in response.context["result"].tickets]


def test_all_view_lists_visible_tickets_newest_first(
    agent_client: Client, make_ticket: MakeTicket, other_team: Team
) -> None:
    make_ticket(subject="First")
    make_ticket(subject="Second")
    make_ticket(subject="Billing secret", team=other_team)
    response = agent_client.get(reverse("workspace:inbox_view", args=["all"]))
    assert response.status_code == 200
    assert _subjects(response) == ["Second", "First"]
    body = text(response)
    assert "Billing secret" not in body
    assert '<h1 id="list-heading">All tickets</h1>' in body


def test_views_mine_unassigned_and_team(
    agent: Agent, agent_client: Client, make_ticket: MakeTicket, team: Team
) -> None:
    mine = make_ticket(subject="Mine")
    ticket_update(ticket=mine, changes=TicketChanges(owner=agent), actor=agent)
    make_ticket(subject="Nobody's", team=team)
    make_ticket(subject="No team")

    def subjects(view: str) -> list[str]:
        return _subjects(agent_client.get(reverse("workspace:inbox_view", args=[view])))

    assert subjects("mine") == ["Mine"]
    assert subjects("unassigned") == ["No team", "Nobody's"]
    assert subjects("team") == ["Nobody's"]
    assert _subjects(agent_client.get(reverse("workspace:inbox"))) == ["Mine"]


def test_unknown_view_is_404(agent_client: Client) -> None:
    assert agent_client.get(reverse("workspace:inbox_view", args=["everything"])).status_code == 404


def test_filters_status_priority_channel_and_tag(
    agent: Agent, agent_client: Client, make_ticket: MakeTicket
) -> None:
    solved = make_ticket(subject="Solved one")
    ticket_update(ticket=solved, changes=TicketChanges(status="solved"), actor=agent)
    make_ticket(subject="Urgent chat", priority=4, channel="chat", tags=["vip"])
    make_ticket(subject="Plain")
    url = reverse("workspace:inbox_view", args=["all"])

    assert _subjects(agent_client.get(url)) == ["Plain", "Urgent chat"]  # active by default
    assert _subjects(agent_client.get(url, {"status": "any"})) == [
        "Plain",
        "Urgent chat",
        "Solved one",
    ]
    assert _subjects(agent_client.get(url, {"status": "solved"})) == ["Solved one"]
    assert _subjects(agent_client.get(url, {"priority": "4"})) == ["Urgent chat"]
    assert _subjects(agent_client.get(url, {"channel": "chat"})) == ["Urgent chat"]
    assert _subjects(agent_client.get(url, {"tag": "vip"})) == ["Urgent chat"]
    empty = agent_client.get(url, {"tag": "nothing-here"})
    assert _subjects(empty) == []
    assert "No tickets match these filters" in text(empty)


def test_invalid_filters_are_ignored_with_a_message(
    agent_client: Client, make_ticket: MakeTicket
) -> None:
    make_ticket(subject="Plain")
    response = agent_client.get(
        reverse("workspace:inbox_view", args=["all"]), {"priority": "99", "sort": "sideways"}
    )
    assert response.status_code == 200
    assert _subjects(response) == ["Plain"]
    assert "Some filters were not valid and were ignored" in text(response)


def test_sorts(agent: Agent, agent_client: Client, make_ticket: MakeTicket) -> None:
    low = make_ticket(subject="Low", priority=1)
    make_ticket(subject="Urgent", priority=4)
    make_ticket(subject="Normal", priority=2)
    ticket_update(ticket=low, changes=TicketChanges(subject="Low, touched"), actor=agent)
    url = reverse("workspace:inbox_view", args=["all"])
    assert _subjects(agent_client.get(url, {"sort": "oldest"})) == [
        "Low, touched",
        "Urgent",
        "Normal",
    ]
    assert _subjects(agent_client.get(url, {"sort": "priority"})) == [
        "Urgent",
        "Normal",
        "Low, touched",
    ]
    assert _subjects(agent_client.get(url, {"sort": "updated"}))[0] == "Low, touched"


def test_keyset_pages_walk_older_and_back_newer(
    agent_client: Client, make_ticket: MakeTicket
) -> None:
    tickets = [make_ticket() for _ in range(PAGE_SIZE + 5)]
    newest_first = [t.pk for t in reversed(tickets)]
    url = reverse("workspace:inbox_view", args=["all"])

    first = agent_client.get(url).context["result"]
    assert [t.pk for t in first.tickets] == newest_first[:PAGE_SIZE]
    assert first.before is None
    assert first.after == newest_first[PAGE_SIZE - 1]

    second = agent_client.get(url, {"after": first.after}).context["result"]
    assert [t.pk for t in second.tickets] == newest_first[PAGE_SIZE:]
    assert second.after is None
    assert second.before == newest_first[PAGE_SIZE]

    back = agent_client.get(url, {"before": second.before}).context["result"]
    assert [t.pk for t in back.tickets] == newest_first[:PAGE_SIZE]
    assert back.before is None
    assert back.after == newest_first[PAGE_SIZE - 1]


def test_keyset_pages_for_oldest_first(agent: Agent, make_ticket: MakeTicket) -> None:
    ids = [make_ticket().pk for _ in range(5)]
    qs = Ticket.objects.all()
    first = ticket_page(queryset=qs, sort="oldest", size=2)
    assert [t.pk for t in first.tickets] == ids[:2]
    assert (first.before, first.after) == (None, ids[1])
    last = ticket_page(queryset=qs, sort="oldest", after=ids[3], size=2)
    assert [t.pk for t in last.tickets] == ids[4:]
    assert (last.before, last.after) == (ids[4], None)
    back = ticket_page(queryset=qs, sort="oldest", before=ids[4], size=2)
    assert [t.pk for t in back.tickets] == ids[2:4]
    assert (back.before, back.after) == (ids[2], ids[3])


def test_offset_pages_are_capped(make_ticket: MakeTicket) -> None:
    for _ in range(5):
        make_ticket()
    qs = Ticket.objects.all()
    page = ticket_page(queryset=qs, sort="priority", page=2, size=2)
    assert (page.page, page.has_previous, page.has_next) == (2, True, True)
    deep = ticket_page(queryset=qs, sort="updated", page=10_000, size=2)
    assert deep.page == 40
    assert deep.tickets == []


def test_pager_links_keep_the_filters(agent_client: Client, make_ticket: MakeTicket) -> None:
    for _ in range(PAGE_SIZE + 1):
        make_ticket(channel="web")
    response = agent_client.get(reverse("workspace:inbox_view", args=["all"]), {"channel": "web"})
    after = response.context["result"].after
    assert f'href="?channel=web&amp;after={after}"' in text(response)


def test_capped_counts(agent: Agent, make_ticket: MakeTicket) -> None:
    for _ in range(4):
        make_ticket()
    counts = inbox_counts(agent=agent, cap=3)
    assert counts["all"] == CappedCount(3, True)
    assert str(counts["all"]) == "3+"
    assert counts["mine"] == CappedCount(0, False)
    assert str(inbox_counts(agent=agent)["unassigned"]) == "4"


def test_counts_never_count_the_whole_table(agent: Agent, make_ticket: MakeTicket) -> None:
    make_ticket()
    with CaptureQueriesContext(connection) as ctx:
        inbox_counts(agent=agent)
    counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 4
    assert all("LIMIT 101" in sql for sql in counts)


def test_htmx_request_gets_only_the_list(agent_client: Client, make_ticket: MakeTicket) -> None:
    make_ticket(subject="Only this")
    response = agent_client.get(
        reverse("workspace:inbox_view", args=["all"]), {"status": "any"}, headers=HTMX
    )
    body = text(response)
    assert response.status_code == 200
    assert "Only this" in body
    assert "<html" not in body
    assert 'class="sidebar"' not in body
    assert 'id="list-status"' in body
    assert 'hx-swap-oob="true"' in body
    assert "HX-Request" in response["Vary"]


def test_inbox_query_count_does_not_grow_with_rows(
    agent_client: Client,
    make_ticket: MakeTicket,
    django_assert_max_num_queries: Any,
    agent: Agent,
) -> None:
    for n in range(PAGE_SIZE):
        t = make_ticket(tags=[f"tag-{n}"])
        ticket_update(ticket=t, changes=TicketChanges(owner=agent), actor=agent)
    url = reverse("workspace:inbox_view", args=["all"])
    # session, agent, 4 capped counts (each with the agent's teams), the list's teams, the page,
    # its tags.
    with django_assert_max_num_queries(14):
        response = agent_client.get(url)
    assert len(response.context["result"].tickets) == PAGE_SIZE
    with django_assert_max_num_queries(5):
        agent_client.get(url, headers=HTMX)


def test_rows_escape_customer_supplied_text(agent_client: Client, make_ticket: MakeTicket) -> None:
    make_ticket(subject="<img src=x onerror=alert(1)>")
    body = text(agent_client.get(reverse("workspace:inbox_view", args=["all"])))
    assert "<img src=x" not in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body
