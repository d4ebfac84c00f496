"""Separating the new text of a reply from its quoted history and its signature.

Pure functions on plain text. The rules are line based (after mailgun/talon and
zapier/email-reply-parser, re-written here): every line is a quote marker (``>``), empty, or
text, and a *splitter* is the line (or up to six lines) a mail client writes above the history
("On <date>, <person> wrote:", "-----Original Message-----", an Outlook ``From:/Sent:`` block).

* A splitter followed by unmarked text quotes everything to the end (Outlook, Gmail without
  ``>``); followed by ``>`` lines, it quotes those lines only.
* Two or more ``>`` lines in a row are a quote even without a splitter.
* One quote block with the sender's text around it ("reply wraps the quotation"): the block is
  cut out and the text around it kept.
* Several blocks with text between them (an inline or bottom-posted reply): the text keeps the
  quotes it answers, and only the final block, which nothing follows, goes to ``quoted``.
* A forwarded message ("---------- Forwarded message ----------") is never quoted away.
* A signature is what follows ``-- ``, a "Sent from my ..." line, a trailing ``-Name`` or a
  mailing-list footer (a line of underscores) at the end of the sender's text.

Nothing is thrown away: ``text``, ``quoted`` and ``signature`` together hold every line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from trustdesk.core.html import html_to_text

__all__ = ["ReplyParts", "split_reply", "text_from_html"]


@dataclass(frozen=True)
class ReplyParts:
    text: str
    quoted: str
    signature: str


# Lines longer than this are never looked at as splitters (keeps pathological input linear).
_MAX_SPLITTER_LINE = 400
_SPLITTER_WINDOW = 6

_ON = (
    r"on|am|le|el|em|il|w\s+dniu|op|den|på|pa|dne|vào|op\s+de|no\s+dia|el\s+día"
    r"|в|kello|dana|den\s+\d"
)
_WROTE = (
    r"wrote|sent|schrieb|a\s+écrit|écrit|escribió|escreveu|ha\s+scritto|scrisse|napisał"
    r"|napisal|schreef|het\s+volgende\s+geschreven|geschreven|skrev|kirjoitti|написал|написала"
    r"|đã\s+viết|yazd\u0131|έγραψε|napsal|írta"
)
# "On Tue, Apr 3, 2012 at 3:59 PM, Someone <a@b.c> wrote:" (also with the date after the verb,
# Dutch "Op 13-02-2014 3:18 schreef Julius <j@r.com>:"), "------On ... wrote-----".
_ON_WROTE = re.compile(
    rf"^[\s\-\u2013\u2014*]*(?:{_ON})\b.{{0,300}}?\b(?:{_WROTE})\b.{{0,200}}?[:\-]\s*-*\s*$"
    rf"|^[\s\-\u2013\u2014*]*(?:{_ON})\b.{{0,300}}?\b(?:{_WROTE})\s*-*\s*$",
    re.IGNORECASE,
)
# "Someone <a@b.c> wrote:", "Sent from Samsung MobileName <address@example.com> wrote:".
_ADDRESS_WROTE = re.compile(
    rf"^.{{0,200}}?[\w.+-]+@[\w-]+\.[\w.-]+.{{0,80}}?\b(?:{_WROTE})\s*:\s*$", re.IGNORECASE
)
# "---- John Smith wrote ----" (Android).
_DASHED_WROTE = re.compile(rf"^\s*-{{2,}}.{{1,120}}?\b(?:{_WROTE})\s*-{{2,}}\s*$", re.IGNORECASE)
# "2014-10-17 11:28 GMT+03:00 Postmaster <postmaster@example.org>:" (Gmail, some locales),
# "26.06.2014, 14:41, "Alexander L" <abc@example.com>:" (Yandex), "Thu, 26 Jun 2014 14:00:51
# +0400 от Alexander L <abc@example.com>:" (Mail.ru): a date or time, an address, a colon.
_DATE_ADDRESS = re.compile(
    r"^\s*(?:\d{4}[/.-]\d{1,2}[/.-]\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4})\b"
    r".{0,200}<\s*[^<>\s]+@[^<>\s]+\s*>.{0,60}?:?\s*$"
    r"|^.{0,200}\b\d{1,2}:\d{2}\b.{0,200}<\s*[^<>\s]+@[^<>\s]+\s*>\s*:\s*$"
)
_ORIGINAL_MESSAGE = re.compile(
    r"^\s*-{2,}\s*(?:original\s+message|ursprüngliche\s+nachricht|message\s+d'origine"
    r"|oorspronkelijk\s+bericht|mensaje\s+original|messaggio\s+originale|originalmeddelande"
    r"|alkuperäinen\s+viesti|mensagem\s+original|oprindelig\s+meddelelse|исходное\s+сообщение"
    r"|reply\s+message|original)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_FORWARD = re.compile(
    r"^\s*(?:-{2,}\s*(?:forwarded\s+message|weitergeleitete\s+nachricht|message\s+transféré"
    r"|mensaje\s+reenviado|doorgestuurd\s+bericht)\s*-{2,}|begin\s+forwarded\s+message:)\s*$",
    re.IGNORECASE,
)
_HEADER_NAMES = (
    r"from|sent|date|to|cc|subject|von|gesendet|datum|an|betreff|de|envoyé|date|à|objet"
    r"|fra|sendt|til|emne|från|skickat|till|ämne|od|wysłane|do|temat|enviado|para|asunto"
    r"|fecha|inviato|oggetto|da|a|van|verzonden|aan|onderwerp|lähettäjä|lähetetty|vastaanottaja"
    r"|aihe|от|отправлено|кому|тема|dátum|feladó"
)
_HEADER_LINE = re.compile(rf"^\s*\*?(?:{_HEADER_NAMES})\s*:\*?\s*:?", re.IGNORECASE)
_FROM_OR_DATE = re.compile(
    r"^\s*\*?(?:from|date|von|de|od|van|fra|från|lähettäjä|от|da|feladó)\s*:\*?\s*\S",
    re.IGNORECASE,
)
_MAY_WRAP = re.compile(rf"^[\s\-\u2013\u2014*]*(?:{_ON})\b|^\s*\d{{1,4}}[/.-]\d", re.IGNORECASE)
_SEPARATOR = re.compile(r"^\s*(?:[-_=]\s*){5,}$")
_MARKER = re.compile(r"^\s*>")

_SIG_DELIMITER = re.compile(r"^--\s*$")
_SENT_FROM = re.compile(
    r"^\s*(?:sent\s+(?:from|with|via)\s+[\w.\- ]{1,40}(?:\s*\(\S+\))?"
    r"|get\s+outlook\s+for\s+\w+"
    r"|envoyé\s+de\s+mon\s+[\w ]{1,30}|von\s+meinem\s+[\w ]{1,30}\s+gesendet"
    r"|enviado\s+desde\s+mi\s+[\w ]{1,30}|inviato\s+da(?:l)?\s+(?:mio\s+)?[\w ]{1,30}"
    r"|verzonden\s+(?:vanaf|met)\s+(?:mijn\s+)?[\w ]{1,30}|skickat\s+från\s+min\s+[\w ]{1,30}"
    r"|sendt\s+fra\s+min\s+[\w ]{1,30})\s*\.?\s*$",
    re.IGNORECASE,
)
_DASH_NAME = re.compile(r"^-[^\W\d_][\w.' ]{0,40}$")
_FOOTER_RULE = re.compile(r"^\s*_{5,}\s*$")
_URL_FRAGMENT = re.compile(r"^\S{1,200}$")


def split_reply(body: str) -> ReplyParts:
    """Split a plain-text body into the sender's new text, the quoted history and a signature."""
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines = _unshare_splitter_lines(lines)
    kinds = ["e" if not line.strip() else "m" if _MARKER.match(line) else "t" for line in lines]
    blocks = _quote_blocks(lines, kinds)
    forward = next((i for i, line in enumerate(lines) if _FORWARD.match(line)), None)
    if forward is not None and (not blocks or forward < blocks[0][0]):
        return ReplyParts(text=body.strip(), quoted="", signature="")
    if not blocks:
        own, quoted = lines, []
    elif len(blocks) == 1:
        start, end = blocks[0]
        own, quoted = _splice(lines[:start], lines[end:]), lines[start:end]
    else:
        start, end = blocks[-1]
        tail = lines[end:]
        sig = _signature_start(tail, whole=True)
        own_tail = tail if sig is None else tail[:sig]
        if any(line.strip() for line in own_tail):
            own, quoted = lines, []  # the sender wrote last: nothing trails as history
        else:
            own, quoted = _splice(lines[:start], tail), lines[start:end]
    text_lines, signature_lines = _split_signature(own)
    return ReplyParts(
        text=_join(text_lines), quoted=_join(quoted), signature=_join(signature_lines)
    )


def _splice(before: list[str], after: list[str]) -> list[str]:
    """Join the text around a cut-out quote with one blank line."""
    while before and not before[-1].strip():
        before = before[:-1]
    while after and not after[0].strip():
        after = after[1:]
    return [*before, "", *after] if before and after else before or after


def _join(lines: list[str]) -> str:
    return "\n".join(lines).strip("\n").rstrip()


_SHARED_SPLITTER = re.compile(
    rf"(?<=[^\s-])(?=-{{2,}}\s*(?:{_ON})\s.{{0,300}}\b(?:{_WROTE})\b)", re.IGNORECASE
)


def _unshare_splitter_lines(lines: list[str]) -> list[str]:
    """Put a splitter that shares its line with reply text ("bla--- On ... wrote:") on its own."""
    out: list[str] = []
    for line in lines:
        if "-" in line and len(line) <= _MAX_SPLITTER_LINE:
            out.extend(_SHARED_SPLITTER.split(line, maxsplit=1))
        else:
            out.append(line)
    return out


def _splitter_end(lines: list[str], i: int) -> int | None:
    """If a splitter starts at line ``i``, the index of its last line."""
    first = lines[i]
    if len(first) > _MAX_SPLITTER_LINE or not first.strip():
        return None
    if ":" not in first and "-" not in first and not _MAY_WRAP.match(first):
        return None  # every splitter has a colon or dashes, or starts an "On ..." line
    if _ORIGINAL_MESSAGE.match(first) or _DASHED_WROTE.match(first):
        return i
    if _FROM_OR_DATE.match(first) and _is_header_block(lines, i):
        return i
    joined = ""
    for j in range(i, min(i + _SPLITTER_WINDOW, len(lines))):
        if len(lines[j]) > _MAX_SPLITTER_LINE:
            return None
        joined = f"{joined} {lines[j].strip()}".strip() if lines[j].strip() else joined
        if j > i and not lines[j].strip():
            continue
        if _ON_WROTE.match(joined) or _ADDRESS_WROTE.match(joined) or _DATE_ADDRESS.match(joined):
            return j
        if j == i and not _MAY_WRAP.match(joined):
            # Only the "On ..." and dated forms may wrap; others must fit on one line.
            return None
    return None


def _is_header_block(lines: list[str], i: int) -> bool:
    """A ``From:``/``Date:`` line followed within three lines by another header line."""
    return any(_HEADER_LINE.match(lines[j]) for j in range(i + 1, min(i + 4, len(lines))))


def _quote_blocks(lines: list[str], kinds: list[str]) -> list[tuple[int, int]]:
    """Every quote block as (first line, line after the last)."""
    blocks: list[tuple[int, int]] = []
    n = len(lines)
    i = 0
    while i < n:
        end = _block_at(lines, kinds, i)
        if end is None:
            i += 1
            continue
        blocks.append((_with_separator(lines, kinds, i), end))
        i = end
    return blocks


def _with_separator(lines: list[str], kinds: list[str], start: int) -> int:
    """Move a block's start up over a separator line (``____``, ``-----``) right above it."""
    j = start - 1
    while j >= 0 and kinds[j] == "e" and start - j <= 2:
        j -= 1
    if j >= 0 and _SEPARATOR.match(lines[j]):
        return j
    return start


def _block_at(lines: list[str], kinds: list[str], i: int) -> int | None:
    n = len(lines)
    if kinds[i] == "t":
        last = _splitter_end(lines, i)
        if last is None:
            return None
        k = last + 1
        while k < n and kinds[k] == "e":
            k += 1
        if k < n and kinds[k] == "t":
            return n  # an unmarked history: everything to the end
        return _marker_run_end(lines, kinds, k)
    if kinds[i] == "m":
        end = _marker_run_end(lines, kinds, i)
        markers = sum(1 for k in range(i, end) if kinds[k] == "m")
        return end if markers >= 2 else None
    return None


def _marker_run_end(lines: list[str], kinds: list[str], k: int) -> int:
    n = len(lines)
    while k < n:
        if kinds[k] in "me" or (
            # A wrapped link continues the quote: "> (http://x/a\n_nonce=3)\n>".
            k > 0
            and kinds[k - 1] == "m"
            and k + 1 < n
            and kinds[k + 1] == "m"
            and _URL_FRAGMENT.match(lines[k])
        ):
            k += 1
        else:
            break
    while k > 0 and kinds[k - 1] == "e":
        k -= 1
    return k


def _signature_start(lines: list[str], *, whole: bool = False) -> int | None:
    """Index of the first signature line at the end of ``lines``, if there is one.

    Unless ``whole``, the first line of text is never a signature's start.
    """
    content = [i for i, line in enumerate(lines) if line.strip()]
    if not content:
        return None
    first = -1 if whole else content[0]
    found: int | None = None
    for rank, i in enumerate(reversed(content)):
        line = lines[i]
        if (
            (rank < 12 and _SIG_DELIMITER.match(line) and i != first)
            or (rank < 3 and _SENT_FROM.match(line))
            or (rank < 8 and _FOOTER_RULE.match(line))
            or (rank < 1 and _DASH_NAME.match(line.strip()) and i != first)
            or (
                # "-Name" above a mailing-list footer
                found is not None
                and rank < 12
                and _DASH_NAME.match(line.strip())
                and i != first
                and _FOOTER_RULE.match(lines[next(c for c in content if c > i)])
            )
        ):
            found = i
    return found


def _split_signature(lines: list[str]) -> tuple[list[str], list[str]]:
    start = _signature_start(lines)
    if start is None:
        return lines, []
    return lines[:start], lines[start:]


_PRE = re.compile(r"(<pre\b.*?</pre>)", re.IGNORECASE | re.DOTALL)
_WHITESPACE = re.compile(r"\s+")


def text_from_html(sanitized: str) -> str:
    """Plain text of sanitised HTML, for splitting: source line breaks are not text breaks."""
    pieces = _PRE.split(sanitized)
    collapsed = "".join(
        piece if index % 2 else _WHITESPACE.sub(" ", piece) for index, piece in enumerate(pieces)
    )
    return html_to_text(collapsed)
