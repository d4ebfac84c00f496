"""Whatever an agent types, search answers with hits or ``invalid_query``, never a DB error."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trustdesk.accounts.models import Agent, Team
from trustdesk.core.errors import ValidationFailed
from trustdesk.customers.models import Customer
from trustdesk.search.selectors import Order, SearchHit, search
from trustdesk.tickets.services import ticket_create

pytestmark = pytest.mark.django_db

SYNTAX = [
    '"', "*", "AND", "OR", "NOT", "NEAR(", "NEAR/2", "(", ")", ":", "^", "-", "+", "&", "|",
    "!", "<->", "<2>", "'", "''", "\\", "\x00", "\ud800", ":*", "{", "}", "body_text:",
    "subject :", "printer", "toner", "Printer*", "😀", "é", "ß", "\u0301", "\ue000", "\ue001",
    "'; DROP TABLE tickets_ticket; --", "%s", "%(x)s", "?", "$1", "\t", "\n", " ",
]  # fmt: skip
queries = st.one_of(
    st.text(max_size=220),
    st.lists(st.sampled_from(SYNTAX), max_size=40).map("".join),
    st.lists(st.sampled_from(SYNTAX), max_size=40).map(" ".join),
)
MARKUP = re.compile(r"<(?!/?mark>)")


@pytest.fixture
def corpus(customer: Customer, team: Team, other_team: Team) -> None:
    ticket_create(
        customer=customer,
        subject="Printer on fire",
        body='The printer <b>smokes</b> & "toner" spills; café NEAR(ß) * AND OR',
        channel="email",
        team=team,
    )
    ticket_create(
        customer=customer,
        subject="Printer invoice",
        body="Billing printer toner invoice",
        channel="email",
        team=other_team,
    )


def _search_or_error_code(agent: Agent, query: str, order: Order) -> list[SearchHit] | str:
    try:
        return search(agent=agent, query=query, order=order)
    except ValidationFailed as exc:
        return exc.code


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=queries)
def test_any_input_gives_hits_or_invalid_query(agent: Agent, corpus: None, query: str) -> None:
    orders: list[Order] = ["relevance", "newest"]
    for order in orders:
        hits = _search_or_error_code(agent, query, order)
        if isinstance(hits, str):
            assert hits == "invalid_query"
            continue
        assert {hit.subject for hit in hits} <= {"Printer on fire"}
        for hit in hits:
            assert MARKUP.search(hit.snippet) is None
            assert hit.snippet.count("<mark>") == hit.snippet.count("</mark>")
