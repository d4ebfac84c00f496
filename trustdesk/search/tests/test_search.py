from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.db import connection

from trustdesk.accounts.models import Agent, Team
from trustdesk.core.errors import ValidationFailed
from trustdesk.customers.models import Customer
from trustdesk.search.selectors import SearchHit, search, search_problems, search_rebuild
from trustdesk.tickets.models import Message, Ticket
from trustdesk.tickets.services import message_add, ticket_create

pytestmark = pytest.mark.django_db


@dataclass
class Corpus:
    printer: Ticket  # Support team
    printer_first: Message
    printer_note: Message  # internal note
    invoice: Ticket  # Billing team: invisible to ``agent``
    password: Ticket  # no team: visible to everyone


@pytest.fixture
def corpus(customer: Customer, team: Team, other_team: Team, agent: Agent) -> Corpus:
    printer = ticket_create(
        customer=customer,
        subject="Printer on fire",
        body="The office printer is smoking after the firmware update.",
        channel="email",
        team=team,
    )
    note = message_add(
        ticket=printer,
        body="Replaced the toner cartridge; the printer works again.",
        visibility=Message.Visibility.INTERNAL,
        author_agent=agent,
    )
    invoice = ticket_create(
        customer=customer,
        subject="Invoice question",
        body="Why was my printer invoice charged twice?",
        channel="web",
        team=other_team,
    )
    password = ticket_create(
        customer=customer,
        subject="Password reset",
        body="I cannot reset my password: the link expired.",
        channel="web",
    )
    return Corpus(printer, printer.messages.order_by("id")[0], note, invoice, password)


def keys(hits: list[SearchHit]) -> list[tuple[int, int | None]]:
    return [(hit.ticket_id, hit.message_id) for hit in hits]


def test_newest_lists_visible_messages_and_subjects(agent: Agent, corpus: Corpus) -> None:
    hits = search(agent=agent, query="printer", order="newest")
    # The note is newest; the subject was written with the first message and follows it.
    assert keys(hits) == [
        (corpus.printer.pk, corpus.printer_note.pk),
        (corpus.printer.pk, corpus.printer_first.pk),
        (corpus.printer.pk, None),
    ]
    note = hits[0]
    assert (note.ticket_number, note.subject, note.status) == (
        corpus.printer.number,
        "Printer on fire",
        "new",
    )
    assert (note.customer_id, note.customer_name) == (corpus.printer.customer_id, "Marie Curie")
    assert note.created_at == corpus.printer_note.created_at
    assert note.snippet == "Replaced the toner cartridge; the <mark>printer</mark> works again."
    assert hits[2].snippet == "<mark>Printer</mark> on fire"


def test_another_teams_ticket_is_never_returned(agent: Agent, corpus: Corpus) -> None:
    assert search(agent=agent, query="invoice", order="newest") == []
    assert search(agent=agent, query="invoice", order="relevance") == []
    assert corpus.invoice.pk not in {h.ticket_id for h in search(agent=agent, query="printer")}


def test_admin_sees_every_team(admin_agent: Agent, corpus: Corpus) -> None:
    hits = search(agent=admin_agent, query="invoice", order="newest")
    invoice_first = corpus.invoice.messages.get()
    assert keys(hits) == [(corpus.invoice.pk, invoice_first.pk), (corpus.invoice.pk, None)]
    assert hits[0].snippet == "Why was my printer <mark>invoice</mark> charged twice?"


def test_owner_sees_own_ticket_of_another_team(agent: Agent, corpus: Corpus) -> None:
    Ticket.objects.filter(pk=corpus.invoice.pk).update(owner=agent)
    assert [h.ticket_id for h in search(agent=agent, query="invoice")] == [
        corpus.invoice.pk,
        corpus.invoice.pk,
    ]


def test_agent_without_team_sees_only_unteamed_tickets(corpus: Corpus) -> None:
    loner = Agent.objects.create_user(email="solo@example.com", display_name="Solo")
    assert search(agent=loner, query="printer") == []
    assert {h.ticket_id for h in search(agent=loner, query="password")} == {corpus.password.pk}


def test_internal_notes_are_searchable(agent: Agent, corpus: Corpus) -> None:
    hits = search(agent=agent, query="toner")
    assert keys(hits) == [(corpus.printer.pk, corpus.printer_note.pk)]


def test_relevance_ranks_denser_matches_first(agent: Agent, customer: Customer, team: Team) -> None:
    sparse = ticket_create(
        customer=customer,
        subject="Office supplies",
        body="We ordered paper, pens, staples, folders and one spare cartridge for the office.",
        channel="email",
        team=team,
    )
    dense = ticket_create(
        customer=customer,
        subject="Cartridge cartridge",
        body="Cartridge empty. Cartridge leaking. Cartridge gone.",
        channel="email",
        team=team,
    )
    hits = search(agent=agent, query="cartridge", order="relevance")
    dense_first = dense.messages.get().pk
    sparse_first = sparse.messages.get().pk
    assert set(keys(hits)) == {(dense.pk, dense_first), (dense.pk, None), (sparse.pk, sparse_first)}
    assert keys(hits)[-1] == (sparse.pk, sparse_first)
    assert hits[0].rank >= hits[1].rank > hits[2].rank > 0


def test_all_terms_are_required_and_phrases_are_exact(agent: Agent, corpus: Corpus) -> None:
    assert keys(search(agent=agent, query="printer toner")) == [
        (corpus.printer.pk, corpus.printer_note.pk)
    ]
    assert keys(search(agent=agent, query='"toner cartridge"')) == [
        (corpus.printer.pk, corpus.printer_note.pk)
    ]
    assert search(agent=agent, query='"cartridge toner"') == []


def test_trailing_prefix(agent: Agent, corpus: Corpus) -> None:
    assert keys(search(agent=agent, query="firm*", order="newest")) == [
        (corpus.printer.pk, corpus.printer_first.pk)
    ]
    assert search(agent=agent, query="firm", order="newest") == []


def test_snippet_escapes_html_and_marks_only_the_match(
    agent: Agent, customer: Customer, team: Team
) -> None:
    ticket = ticket_create(
        customer=customer,
        subject="Weird",
        body='<script>alert("hi")</script> & the gizmo broke',
        channel="email",
        team=team,
    )
    [hit] = search(agent=agent, query="gizmo")
    assert hit.message_id == ticket.messages.get().pk
    assert hit.snippet == (
        "&lt;script&gt;alert(&quot;hi&quot;)&lt;/script&gt; &amp; the <mark>gizmo</mark> broke"
    )


def test_long_message_snippet_is_about_thirty_words_around_the_match(
    agent: Agent, customer: Customer, team: Team
) -> None:
    words = [f"filler{i}" for i in range(200)]
    words[120] = "needle"
    ticket_create(
        customer=customer, subject="Long", body=" ".join(words), channel="email", team=team
    )
    [hit] = search(agent=agent, query="needle")
    text = hit.snippet.replace("…", " ").split()
    assert "<mark>needle</mark>" in text
    assert 15 <= len(text) <= 35
    assert "filler0" not in text


def test_updates_and_deletes_are_reflected(agent: Agent, corpus: Corpus) -> None:
    Message.objects.filter(pk=corpus.printer_note.pk).update(body_text="Ordered a new drum unit.")
    assert search(agent=agent, query="toner") == []
    assert keys(search(agent=agent, query="drum")) == [(corpus.printer.pk, corpus.printer_note.pk)]
    Ticket.objects.filter(pk=corpus.printer.pk).update(subject="Burnt smell upstairs")
    assert keys(search(agent=agent, query="smell")) == [(corpus.printer.pk, None)]
    Message.objects.filter(pk=corpus.printer_note.pk).delete()
    assert search(agent=agent, query="drum") == []
    corpus.printer.delete()
    assert search(agent=agent, query="printer") == []


def test_bulk_create_and_raw_inserts_are_indexed(agent: Agent, corpus: Corpus) -> None:
    template = corpus.printer_first
    Message.objects.bulk_create(
        [
            Message(
                ticket=corpus.printer,
                direction="in",
                channel="email",
                body_text=f"Bulk message about zeppelins number {i}",
                created_at=template.created_at,
            )
            for i in range(3)
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO tickets_message (ticket_id, direction, visibility, channel, body_text, "
            "body_html, meta, created_at) VALUES (%s, 'in', 'public', 'email', %s, '', '{}', %s)",
            [corpus.printer.pk, "Raw import mentions a zeppelin too", template.created_at],
        )
    hits = search(agent=agent, query="zeppelin", order="newest")
    ids = list(
        Message.objects.filter(body_text__contains="eppelin")
        .order_by("-id")
        .values_list("id", flat=True)
    )
    assert [h.message_id for h in hits] == ids
    assert len(ids) == 4


def test_pagination(agent: Agent, customer: Customer, team: Team) -> None:
    ticket = ticket_create(
        customer=customer, subject="Paging", body="widget 0", channel="email", team=team
    )
    for i in range(1, 7):
        message_add(ticket=ticket, body=f"widget {i}", author_customer=customer)
    ordered = list(ticket.messages.order_by("-id").values_list("id", flat=True))
    page1 = search(agent=agent, query="widget", order="newest", limit=3)
    page2 = search(agent=agent, query="widget", order="newest", limit=3, offset=3)
    page3 = search(agent=agent, query="widget", order="newest", limit=3, offset=6)
    assert [h.message_id for h in page1 + page2 + page3] == ordered
    ranked = search(agent=agent, query="widget", order="relevance", limit=100)
    assert {h.message_id for h in ranked} == set(ordered)
    assert len(ranked) == len(ordered)


@pytest.mark.parametrize("query", ["", "   ", "\t\n", "\x00", "x" * 201])
def test_bad_queries_are_refused(agent: Agent, query: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        search(agent=agent, query=query)
    assert exc.value.code == "invalid_query"
    assert exc.value.field == "query"


def test_query_of_exactly_200_characters_is_accepted(agent: Agent, corpus: Corpus) -> None:
    assert search(agent=agent, query="printer " + "x" * 192) == []


@pytest.mark.parametrize(
    "query", ["*", '""', "!!", "😀", "-", 'zebra" OR "printer', "NEAR(printer toner)"]
)
def test_syntax_is_never_interpreted(agent: Agent, corpus: Corpus, query: str) -> None:
    assert search(agent=agent, query=query) == []


def test_operators_are_plain_words(agent: Agent, corpus: Corpus) -> None:
    # "OR", "NOT" and "-" are not operators: every word is required.
    assert search(agent=agent, query="printer OR invoice") == []
    assert keys(search(agent=agent, query="toner -printer")) == [
        (corpus.printer.pk, corpus.printer_note.pk)
    ]


def test_bad_page_arguments(agent: Agent) -> None:
    with pytest.raises(ValidationFailed):
        search(agent=agent, query="x", limit=0)
    with pytest.raises(ValidationFailed):
        search(agent=agent, query="x", offset=-1)
    with pytest.raises(ValidationFailed):
        search(agent=agent, query="x", order="oldest")  # type: ignore[arg-type]


def test_index_is_ready_and_rebuild_keeps_results(agent: Agent, corpus: Corpus) -> None:
    assert search_problems() == []
    before = keys(search(agent=agent, query="printer"))
    search_rebuild()
    assert keys(search(agent=agent, query="printer")) == before
