"""sanitize_html against real XSS corpora (DOMPurify, bleach) and Hypothesis-generated HTML.

The output is checked with html.parser (tags and attributes), not with regular expressions
alone: no script-capable element, no event handler, no script URL may survive.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trustdesk.core.html import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, sanitize_html

CORPORA = Path(__file__).resolve().parents[3].parent / "shared" / "corpora"
FORBIDDEN_TAGS = {
    "script",
    "iframe",
    "object",
    "embed",
    "svg",
    "math",
    "style",
    "form",
    "meta",
    "base",
    "link",
}
URL_ATTRIBUTES = {"href", "src"}
# nh3 keeps these on every element, and adds rel to links.
HARMLESS_ATTRIBUTES = {"title", "lang", "rel"}
BAD_SCHEMES = ("javascript:", "vbscript:", "data:text/html", "data:")


class _Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in FORBIDDEN_TAGS or tag not in ALLOWED_TAGS:
            self.problems.append(f"<{tag}>")
        allowed = ALLOWED_ATTRIBUTES.get(tag, set()) | HARMLESS_ATTRIBUTES
        for name, value in attrs:
            if name.startswith("on") or name not in allowed:
                self.problems.append(f"<{tag} {name}>")
            squeezed = "".join((value or "").split()).lower()
            if name in URL_ATTRIBUTES and squeezed.startswith(BAD_SCHEMES):
                self.problems.append(f"<{tag} {name}={value}>")

    handle_startendtag = handle_starttag


def problems(clean: str) -> list[str]:
    audit = _Audit()
    audit.feed(clean)
    audit.close()
    lowered = clean.lower()
    # Belt and braces: markup that html.parser would see as text is escaped, never raw.
    found = [f"raw {needle}" for needle in ("<script", "<iframe", "<svg") if needle in lowered]
    return audit.problems + found


def dompurify_payloads() -> list[str]:
    path = CORPORA / "dompurify" / "expect.json"
    return [case["payload"] for case in json.loads(path.read_text())] if path.exists() else []


def bleach_payloads() -> list[str]:
    path = CORPORA / "bleach" / "regressions.jsonl"
    if not path.exists():
        return []
    return [json.loads(line)["input"] for line in path.read_text().splitlines() if line.strip()]


@pytest.mark.skipif(not dompurify_payloads(), reason="../shared/corpora/dompurify is absent")
def test_dompurify_payloads_come_out_inert() -> None:
    payloads = dompurify_payloads()
    assert len(payloads) == 223
    bad = {i: problems(sanitize_html(p)) for i, p in enumerate(payloads)}
    assert {i: found for i, found in bad.items() if found} == {}


@pytest.mark.skipif(not bleach_payloads(), reason="../shared/corpora/bleach is absent")
def test_bleach_regressions_come_out_inert() -> None:
    payloads = bleach_payloads()
    assert len(payloads) == 20
    bad = {i: problems(sanitize_html(p)) for i, p in enumerate(payloads)}
    assert {i: found for i, found in bad.items() if found} == {}


_TAGS = st.sampled_from(
    sorted(ALLOWED_TAGS | FORBIDDEN_TAGS | {"a", "img", "textarea", "noscript", "template"})
)
_ATTRS = st.sampled_from(
    ["href", "src", "onclick", "onerror", "style", "title", "xlink:href", "formaction", "srcdoc"]
)
_VALUES = st.sampled_from(
    [
        "javascript:alert(1)",
        " jav&#x09;ascript:x",
        "data:text/html,<script>",
        "https://x.test/",
        "cid:a@b",
        "vbscript:x",
        'x" onerror="y',
        "&#106;avascript:z",
    ]
)
_ELEMENT = st.builds(
    lambda tag, attr, value, text: f'<{tag} {attr}="{value}">{text}</{tag}>',
    _TAGS,
    _ATTRS,
    _VALUES,
    st.text(alphabet="ab<>&\"'/= ", max_size=8),
)
_HTML = st.lists(st.one_of(_ELEMENT, st.text(max_size=20)), max_size=8).map("".join)


@settings(max_examples=300, deadline=None)
@given(_HTML)
def test_sanitize_html_is_idempotent_and_never_lets_markup_through(raw: str) -> None:
    clean = sanitize_html(raw)
    assert sanitize_html(clean) == clean
    assert problems(clean) == []


@pytest.mark.parametrize(
    "raw",
    [
        "<h1><h1></h1></h1>",
        "<h3 title=\"x\">'&&<a</h3><h3>'&&<a</h3>a<",
    ],
)
def test_regression_sanitize_is_idempotent_on_misnested_markup(raw: str) -> None:
    # Found by Hypothesis: one nh3 pass left markup that a second pass repaired differently.
    clean = sanitize_html(raw)
    assert sanitize_html(clean) == clean
