"""Turn an engine's marked-up excerpt into HTML-safe text with ``<mark>`` around the matches."""

from __future__ import annotations

import html
import re

# Private-use code points as start/stop markers: the engines put them around each match, then
# ``render_snippet`` escapes everything and turns them into the only markup we emit.
MARK_OPEN = "\ue000"
MARK_CLOSE = "\ue001"
SNIPPET_WORDS = 30

_SPLIT = re.compile(f"([{MARK_OPEN}{MARK_CLOSE}])")
_SPACE = re.compile(r"\s+")


def excerpt(marked: str, words: int = SNIPPET_WORDS) -> str:
    """About ``words`` words of ``marked`` around its first match, with "…" where cut."""
    tokens = marked.split()
    first = next((i for i, token in enumerate(tokens) if MARK_OPEN in token), 0)
    start = max(0, min(first - words // 3, len(tokens) - words))
    end = min(len(tokens), start + words)
    text = " ".join(tokens[start:end])
    if text.rfind(MARK_OPEN) > text.rfind(MARK_CLOSE):  # a match runs past the cut
        text += MARK_CLOSE
    return ("… " if start else "") + text + (" …" if end < len(tokens) else "")


def render_snippet(marked: str) -> str:
    """An excerpt of ``marked``, escaped, with the markers as balanced ``<mark>`` tags."""
    out: list[str] = []
    is_open = False
    for part in _SPLIT.split(excerpt(_SPACE.sub(" ", marked).strip())):
        if part == MARK_OPEN:
            if not is_open:
                out.append("<mark>")
                is_open = True
        elif part == MARK_CLOSE:
            if is_open:
                out.append("</mark>")
                is_open = False
        else:
            out.append(html.escape(part, quote=True))
    if is_open:
        out.append("</mark>")
    return "".join(out).replace("<mark></mark>", "")
