from __future__ import annotations

import pytest

from trustdesk.core.errors import ValidationFailed
from trustdesk.search.engines.postgres import tsquery_sql
from trustdesk.search.engines.sqlite import match_expression
from trustdesk.search.query import ParsedQuery, Term, parse_query
from trustdesk.search.snippets import MARK_CLOSE, MARK_OPEN, render_snippet


def test_words_phrases_and_trailing_prefix() -> None:
    assert parse_query(' printer  "toner  cartridge" inv* ') == ParsedQuery(
        (Term("word", "printer"), Term("phrase", "toner cartridge"), Term("prefix", "inv*"[:-1]))
    )


def test_star_only_counts_at_the_end_and_stray_quotes_are_dropped() -> None:
    assert parse_query('pri*nt "unclosed') == ParsedQuery(
        (Term("word", "print"), Term("word", "unclosed"))
    )


def test_nothing_searchable_parses_to_no_terms() -> None:
    assert parse_query('* "" !! 😀 -') == ParsedQuery(())


def test_control_characters_and_surrogates_are_removed() -> None:
    assert parse_query("a\x00b \ud800c") == ParsedQuery(
        (Term("word", "a"), Term("word", "b"), Term("word", "c"))
    )


@pytest.mark.parametrize("query", ["", " \t\n", "\x00\x01", "x" * 201])
def test_invalid(query: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_query(query)
    assert exc.value.code == "invalid_query"


def test_fts5_expression_quotes_every_term() -> None:
    parsed = parse_query('NEAR(a b) "x y" c-d*')
    assert match_expression(parsed) == '"NEAR(a" "b)" "x y" "c" "d" *'


def test_tsquery_passes_user_text_as_parameters_only() -> None:
    sql, params = tsquery_sql(parse_query('it\'s "a b" c-d*'))
    assert sql == (
        "(plainto_tsquery('english'::regconfig, %s) && phraseto_tsquery('english'::regconfig, %s)"
        " && plainto_tsquery('english'::regconfig, %s) && to_tsquery('english'::regconfig, %s))"
    )
    assert params == ("it's", "a b", "c", "'d':*")


def test_render_snippet_escapes_and_balances() -> None:
    marked = f"<b>x</b> {MARK_OPEN}hit{MARK_CLOSE} & {MARK_CLOSE}{MARK_OPEN}open"
    assert render_snippet(marked) == "&lt;b&gt;x&lt;/b&gt; <mark>hit</mark> &amp; <mark>open</mark>"


def test_render_snippet_cuts_about_thirty_words_around_the_first_match() -> None:
    words = [f"w{i}" for i in range(100)]
    words[50] = f"{MARK_OPEN}hit{MARK_CLOSE}"
    assert render_snippet(" ".join(words)) == (
        "… " + " ".join(f"w{i}" for i in range(40, 50)) + " <mark>hit</mark> "
        + " ".join(f"w{i}" for i in range(51, 70)) + " …"
    )  # fmt: skip


def test_render_snippet_closes_a_match_cut_at_the_end() -> None:
    words = [f"w{i}" for i in range(100)]
    words[0] = MARK_OPEN + "w0"
    words[60] = "w60" + MARK_CLOSE
    snippet = render_snippet(" ".join(words))
    assert snippet == "<mark>" + " ".join(f"w{i}" for i in range(30)) + "</mark> …"
