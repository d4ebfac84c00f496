"""HTML sanitising (nh3) and plain-text helpers shared by every channel."""

from __future__ import annotations

import html
import re

import nh3

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "div",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
    "img",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "abbr": {"title"},
}
# Only inline (cid:) and data images: remote images are tracking pixels.
URL_SCHEMES = {"http", "https", "mailto", "tel", "cid"}


# nh3 drops URLs with a forbidden scheme, but "\u2028javascript:..." (Unicode space first) is a
# "relative" URL to it and survives; DOMPurify's corpus has such payloads. No browser runs them
# today, but we drop every URL whose scheme is a script one once all spaces are removed.
_SCRIPT_URL = re.compile(r"^(?:javascript|vbscript|data|livescript|mocha):", re.IGNORECASE)
_URL_ATTRIBUTES = {"href", "src"}
_INVISIBLE = re.compile(r"[\s\x00-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]+")


def _drop_script_urls(tag: str, attribute: str, value: str) -> str | None:
    if attribute in _URL_ATTRIBUTES and _SCRIPT_URL.match(_INVISIBLE.sub("", value)):
        return None
    return value


def _clean_once(raw: str) -> str:
    return nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        attribute_filter=_drop_script_urls,
    )


def sanitize_html(raw: str) -> str:
    """Return HTML that is safe to place in any page: no script, no event handlers, no styles.

    Mis-nested markup can re-parse differently once cleaned (an HTML parser repairs it in a
    second way), so cleaning repeats until the output is stable: sanitising is idempotent.
    """
    cleaned = _clean_once(raw)
    for _ in range(3):
        again = _clean_once(cleaned)
        if again == cleaned:
            break
        cleaned = again
    return cleaned


_BLOCK_END = re.compile(r"</(p|div|h[1-6]|li|tr|blockquote|pre)>|<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_BLANKS = re.compile(r"\n{3,}")


def html_to_text(raw: str) -> str:
    """A readable plain-text rendering of (already sanitised) HTML, for search and previews."""
    text = _BLOCK_END.sub("\n", raw)
    text = _TAG.sub("", text)
    text = html.unescape(text)
    lines = [line.strip() for line in text.splitlines()]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def text_to_html(text: str) -> str:
    """Escape plain text and keep its paragraphs and line breaks."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p]
    return "".join("<p>" + html.escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs)
