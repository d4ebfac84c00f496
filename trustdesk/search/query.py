"""Parse free-text search input into terms that each engine quotes for itself.

User syntax never reaches FTS5 ``MATCH`` or ``to_tsquery``: the input becomes a list of
``Term`` values (a word, a "quoted phrase", or a trailing ``prefix*``) and every engine renders
each term as a quoted literal of its own query language. The terms are ANDed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from trustdesk.core.errors import ValidationFailed

MAX_QUERY_LENGTH = 200

TermKind = Literal["word", "phrase", "prefix"]

_TOKEN = re.compile(r'"([^"]*)"|(\S+)')
# A run of letters or digits: what both engines' tokenizers treat as a word character.
WORD_PIECE = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Term:
    kind: TermKind
    text: str  # never empty; no quotes, control characters or surrogates

    @property
    def pieces(self) -> list[str]:
        """The runs of letters and digits in ``text``."""
        return WORD_PIECE.findall(self.text)


@dataclass(frozen=True)
class ParsedQuery:
    terms: tuple[Term, ...]  # empty when the input has no searchable word (only punctuation)


def _clean(text: str) -> str:
    """Drop control characters (NUL included), surrogates and unassigned code points."""
    return "".join(
        " " if unicodedata.category(ch) in {"Cc", "Cs", "Cn", "Zl", "Zp"} else ch for ch in text
    )


def parse_query(query: str) -> ParsedQuery:
    """Words, "quoted phrases" and a trailing ``prefix*``, all required.

    Raises ``ValidationFailed`` (code ``invalid_query``) for empty or over-long input. Input with
    nothing searchable in it (``"*"``, ``"!!"``, an emoji) parses to no terms: no hits.
    """
    if len(query) > MAX_QUERY_LENGTH:
        raise ValidationFailed(
            f"Search queries are limited to {MAX_QUERY_LENGTH} characters.",
            code="invalid_query",
            field="query",
        )
    text = _clean(query).strip()
    if not text:
        raise ValidationFailed("Type a word to search for.", code="invalid_query", field="query")
    matches = list(_TOKEN.finditer(text))
    terms: list[Term] = []
    for index, match in enumerate(matches):
        phrase, bare = match.group(1), match.group(2)
        if phrase is not None:
            words = " ".join(phrase.split())
            if WORD_PIECE.search(words):
                terms.append(Term("phrase", words))
            continue
        is_last = index == len(matches) - 1
        word = bare.replace('"', "")
        kind: TermKind = "prefix" if is_last and word.endswith("*") else "word"
        word = word.replace("*", "")
        if WORD_PIECE.search(word):
            terms.append(Term(kind, word))
    return ParsedQuery(tuple(terms))
