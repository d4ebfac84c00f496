"""Parsing an email: a pure function from the raw bytes to a frozen dataclass.

``parse_email(raw)`` never raises for a malformed message; only input that is not an email at
all (empty, or without a single header field) raises ``EmailParseError``. Problems it worked
around are listed in ``ParsedEmail.defects``.

The standard library's ``email`` package does the MIME work with the ``compat32`` policy, which
parses about six times faster than ``policy.default`` because it does not build header objects;
the few headers we need are decoded here (RFC 2047 encoded words, raw 8-bit bytes, unknown
charsets), each with a fallback rather than an exception.
"""

from __future__ import annotations

import binascii
import mimetypes
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message
from email.policy import Compat32
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

from trustdesk.core.html import sanitize_html
from trustdesk.mail.automated import Automated, classify_automated
from trustdesk.mail.charsets import decode_bytes
from trustdesk.mail.quotes import split_reply, text_from_html
from trustdesk.tickets.attachments import safe_filename

__all__ = [
    "Address",
    "Attachment",
    "EmailParseError",
    "ParsedEmail",
    "parse_email",
]

# Headers the intake pipeline may need besides the ones parsed into fields. ``X-Trustdesk-*``
# (our own outbound markers) are always kept too, so the pipeline can see and ignore them.
KEPT_HEADERS = (
    "Authentication-Results",
    "ARC-Authentication-Results",
    "Received-SPF",
    "Return-Path",
    "Delivered-To",
    "X-Original-To",
    "Auto-Submitted",
    "Precedence",
    "List-Id",
    "List-Unsubscribe",
    "X-Auto-Response-Suppress",
    "X-Failed-Recipients",
    "X-Spam-Flag",
    "X-Spam-Status",
)
INTERNAL_HEADER_PREFIX = "x-trustdesk-"
_KEPT = {name.lower() for name in KEPT_HEADERS}
_MAX_HEADER = 65536  # characters of one header value that are decoded; the rest is dropped
_MAX_DEPTH = 40  # MIME nesting deeper than this is not walked
_MAX_PARTS = 2000


class _RawHeaderPolicy(Compat32):
    """compat32, but header values stay raw strings: 8-bit bytes as surrogate escapes.

    Plain compat32 turns such a value into a ``Header`` whose ``str()`` replaces the bytes with
    U+FFFD; we decode them ourselves (``decode_header_value``).
    """

    def header_fetch_parse(self, name: str, value: str) -> str:
        return value


_POLICY = _RawHeaderPolicy()


class EmailParseError(ValueError):
    """The input is not an email at all (empty, or no header field)."""


@dataclass(frozen=True)
class Address:
    name: str
    address: str


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int
    content: bytes = field(repr=False)
    content_id: str | None = None
    inline: bool = False


@dataclass(frozen=True)
class ParsedEmail:
    from_: Address | None
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    subject: str
    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    date: datetime | None
    automated: Automated | None
    text: str
    quoted: str
    signature: str
    html: str
    attachments: tuple[Attachment, ...]
    headers: tuple[tuple[str, str], ...]
    defects: tuple[str, ...] = ()

    def header(self, name: str) -> list[str]:
        """Every value of one of the kept headers (case-insensitive name)."""
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]

    @property
    def internal_headers(self) -> tuple[tuple[str, str], ...]:
        """Our own ``X-Trustdesk-*`` headers: never to be trusted on inbound mail."""
        return tuple(
            (key, value)
            for key, value in self.headers
            if key.lower().startswith(INTERNAL_HEADER_PREFIX)
        )

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dict (what ``trustdesk parse-email`` prints); attachment bytes left out."""

        def address(item: Address) -> dict[str, str]:
            return {"name": item.name, "address": item.address}

        return {
            "from": address(self.from_) if self.from_ else None,
            "to": [address(a) for a in self.to],
            "cc": [address(a) for a in self.cc],
            "reply_to": [address(a) for a in self.reply_to],
            "subject": self.subject,
            "message_id": self.message_id,
            "in_reply_to": self.in_reply_to,
            "references": list(self.references),
            "date": self.date.isoformat() if self.date else None,
            "automated": self.automated,
            "text": self.text,
            "quoted": self.quoted,
            "signature": self.signature,
            "html": self.html,
            "attachments": [
                {
                    "filename": a.filename,
                    "content_type": a.content_type,
                    "size": a.size,
                    "content_id": a.content_id,
                    "inline": a.inline,
                }
                for a in self.attachments
            ],
            "headers": [[key, value] for key, value in self.headers],
            "defects": list(self.defects),
        }


def parse_email(raw: bytes) -> ParsedEmail:
    """Parse one RFC 5322 message. Raises ``EmailParseError`` only for non-email input."""
    if not isinstance(raw, bytes | bytearray | memoryview) or not bytes(raw).strip():
        raise EmailParseError("empty input is not an email")
    message = message_from_bytes(bytes(raw), policy=_POLICY)
    if not message.keys():
        raise EmailParseError("no header fields: not an email")
    headers = _Headers(message)
    body = _Body()
    _walk(message, body, depth=0)
    from_list = _addresses(headers.raw("From")) or _addresses(headers.raw("Sender"))
    sender = from_list[0] if from_list else None
    content_type = _content_type(message)
    automated = classify_automated(
        headers.raw,
        content_type=content_type,
        report_type=_param(message, "report-type"),
        from_address=sender.address if sender else "",
    )
    html = sanitize_html("\n".join(body.html)) if body.html else ""
    plain = "\n\n".join(body.plain) if body.plain else text_from_html(html)
    parts = split_reply(plain.replace("\x00", ""))
    return ParsedEmail(
        from_=sender,
        to=_addresses(headers.raw("To")),
        cc=_addresses(headers.raw("Cc")),
        reply_to=_addresses(headers.raw("Reply-To")),
        subject=decode_header_value(headers.raw("Subject") or ""),
        message_id=_first_msgid(headers.raw("Message-ID")),
        in_reply_to=_first_msgid(headers.raw("In-Reply-To")),
        references=_msgids(headers.raw("References")),
        date=_date(headers.raw("Date")),
        automated=automated,
        text=parts.text,
        quoted=parts.quoted,
        signature=parts.signature,
        html=html,
        attachments=tuple(body.attachments),
        headers=headers.kept(),
        defects=tuple(dict.fromkeys([*_defects(message), *body.defects])),
    )


# Headers -------------------------------------------------------------------------------------


class _Headers:
    """The message's header fields as raw strings (8-bit bytes kept as surrogate escapes)."""

    def __init__(self, message: Message) -> None:
        self._items = [(str(key), _raw_str(value)) for key, value in message.raw_items()]
        self._first: dict[str, str] = {}
        for key, value in self._items:
            self._first.setdefault(key.lower(), value)

    def raw(self, name: str) -> str | None:
        return self._first.get(name.lower())

    def kept(self) -> tuple[tuple[str, str], ...]:
        return tuple(
            (key, decode_header_value(value))
            for key, value in self._items
            if key.lower() in _KEPT or key.lower().startswith(INTERNAL_HEADER_PREFIX)
        )


def _raw_str(value: object) -> str:
    return value if isinstance(value, str) else str(value)


_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([QqBb])\?([^?\s]*)\?=")
_FOLD = re.compile(r"\r?\n[ \t]*")
_SURROGATE = re.compile("[\udc80-\udcff]")
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")
_QP_HEX = re.compile(rb"=([0-9A-Fa-f]{2})")


def decode_header_value(value: str) -> str:
    """Unfold a raw header value and decode RFC 2047 words and raw 8-bit bytes, never failing."""
    text = _FOLD.sub(" ", value[:_MAX_HEADER])
    if _SURROGATE.search(text):
        # Undeclared 8-bit bytes in the header (the parser kept them as surrogate escapes).
        text = decode_bytes(text.encode("ascii", "surrogateescape"))
    if "=?" in text:
        text = _decode_words(text)
    return _CONTROL.sub("", text).strip()


def _decode_words(text: str) -> str:
    """RFC 2047: adjacent encoded words of one charset are joined before decoding, so that a
    character split across two words survives; whitespace between encoded words is dropped."""
    out: list[str] = []
    pending = b""
    pending_charset = ""
    position = 0
    for match in _ENCODED_WORD.finditer(text):
        gap = text[position : match.start()]
        charset = match.group(1).split("*")[0]
        if pending and (gap.strip() or charset.lower() != pending_charset.lower()):
            out.append(decode_bytes(pending, pending_charset))
            pending = b""
        if not pending:
            out.append(gap if gap.strip() or not out else "")
        pending += _word_bytes(match.group(2), match.group(3))
        pending_charset = charset
        position = match.end()
    if pending:
        out.append(decode_bytes(pending, pending_charset))
    out.append(text[position:])
    return "".join(out)


def _word_bytes(encoding: str, payload: str) -> bytes:
    data = payload.encode("ascii", "replace")
    if encoding in "Bb":
        try:
            return binascii.a2b_base64(data + b"=" * (-len(data) % 4))
        except binascii.Error:
            return data
    return _QP_HEX.sub(lambda m: bytes([int(m.group(1), 16)]), data.replace(b"_", b" "))


# The common forms "Name <a@b.c>", "\"Name\" <a@b.c>" and "a@b.c": no need for the full parser.
_SIMPLE_ADDRESS = re.compile(
    r'^\s*(?:"([^"\\]*)"|([^"<>,;:()\\@]*?))\s*<([^<>\s,;:()"\\@]+@[^<>\s,;:()"\\@]+)>\s*$'
    r'|^\s*([^<>\s,;:()"\\@]+@[^<>\s,;:()"\\@]+)\s*$'
)


def _addresses(raw: str | None) -> tuple[Address, ...]:
    if not raw:
        return ()
    unfolded = _FOLD.sub(" ", raw)
    simple = _SIMPLE_ADDRESS.match(unfolded)
    if simple:
        quoted, bare, bracketed, plain = simple.groups()
        name = decode_header_value(quoted if quoted is not None else bare or "")
        return (Address(name=name, address=bracketed or plain),)
    pairs = getaddresses([unfolded])
    if pairs == [("", "")]:
        pairs = getaddresses([unfolded], strict=False)
    result = []
    for name, address in pairs:
        address = decode_header_value(address)
        if not _ADDR_SPEC.match(address):
            continue
        result.append(Address(name=decode_header_value(name), address=address))
    if not result:
        # A malformed header (markup or unquoted specials in the display name) defeats the
        # RFC 5322 parser; the address in the last angle brackets is still the sender's.
        bracketed_all = _BRACKETED.findall(unfolded)
        if bracketed_all:
            name = unfolded[: unfolded.rfind("<" + bracketed_all[-1])].strip().strip('"')
            result.append(Address(name=decode_header_value(name), address=bracketed_all[-1]))
    return tuple(result)


_ADDR_SPEC = re.compile(r"^[^<>\s,;:()\"\\@]+@[^<>\s,;:()\"\\@]+$")
_BRACKETED = re.compile(r"<([^<>\s,;:()\"\\@]+@[^<>\s,;:()\"\\@]+\.[^<>\s,;:()\"\\@]+)>")


_MSGID = re.compile(r"<([^<>\s]+)>")


def _msgids(raw: str | None) -> tuple[str, ...]:
    if not raw:
        return ()
    found = _MSGID.findall(raw)
    if not found:
        found = [token for token in raw.split() if "@" in token]
    return tuple(dict.fromkeys(f"<{item.strip('<>')}>" for item in found))


def _first_msgid(raw: str | None) -> str | None:
    ids = _msgids(raw)
    return ids[0] if ids else None


def _date(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        parsed = parsedate_to_datetime(_FOLD.sub(" ", raw).strip())
    except (ValueError, TypeError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)  # "-0000": UTC, time zone unknown (RFC 5322)
    return parsed


# Body ----------------------------------------------------------------------------------------


@dataclass
class _Body:
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    parts: int = 0


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:  # a header that even compat32 cannot read
        return "text/plain"


def _walk(part: Message, body: _Body, *, depth: int) -> None:
    body.parts += 1
    if depth > _MAX_DEPTH or body.parts > _MAX_PARTS:
        body.defects.append("TooDeeplyNested")
        return
    content_type = _content_type(part) if "content-type" in part else "text/plain"
    if content_type == "message/rfc822" or content_type.startswith("message/"):
        _add_attachment(part, body, content_type)
        return
    if part.is_multipart():
        for child in _children(part):
            _walk(child, body, depth=depth + 1)
        return
    if content_type.startswith("multipart/"):
        # A multipart without a usable boundary: its body is the only text we have.
        body.plain.append(decode_bytes(_payload(part), _param(part, "charset")))
        return
    try:
        disposition = (part.get_content_disposition() or "").lower()
        filename = part.get_filename()
    except Exception:
        disposition, filename = "attachment", None
    if content_type in ("text/plain", "text/html") and disposition != "attachment" and not filename:
        text = decode_bytes(_payload(part), _param(part, "charset"))
        (body.plain if content_type == "text/plain" else body.html).append(text)
        return
    _add_attachment(part, body, content_type)


def _children(part: Message) -> Iterator[Message]:
    payload = part.get_payload()
    if isinstance(payload, list):
        yield from (child for child in payload if isinstance(child, Message))


def _payload(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("ascii", "surrogateescape")
    return b""


def _param(part: Message, name: str) -> str | None:
    """A Content-Type parameter, lower-cased, or None."""
    try:
        value = part.get_param(name)
    except Exception:
        return None
    if isinstance(value, tuple):  # RFC 2231 form
        value = value[2]
    return str(value).strip().lower() if value else None


def _add_attachment(part: Message, body: _Body, content_type: str) -> None:
    message = content_type.startswith("message/")
    content = _message_bytes(part) if message else _payload(part)
    try:
        name = part.get_filename() or part.get_param("name")
        disposition = (part.get_content_disposition() or "").lower()
    except Exception:
        name, disposition = None, ""
    if isinstance(name, tuple):
        name = name[2]
    filename = decode_header_value(str(name)) if name else ""
    content_id = _first_msgid(_raw_str(part.get("Content-ID") or "")) or None
    if not filename:
        filename = _default_filename(part, content_type, len(body.attachments) + 1)
    body.attachments.append(
        Attachment(
            filename=safe_filename(filename),
            content_type=content_type,
            size=len(content),
            content=content,
            content_id=content_id,
            inline=disposition == "inline" or (disposition == "" and content_id is not None),
        )
    )


def _message_bytes(part: Message) -> bytes:
    """The enclosed message (message/rfc822) or report blocks (message/delivery-status)."""
    blocks = list(_children(part))
    if not blocks:
        return _payload(part)
    return b"\n".join(_as_bytes(block) for block in blocks)


def _as_bytes(message: Message) -> bytes:
    try:
        return message.as_bytes()
    except Exception:
        return message.as_string().encode("utf-8", "surrogateescape")


def _default_filename(part: Message, content_type: str, number: int) -> str:
    if content_type == "message/rfc822":
        inner = part.get_payload()
        subject = ""
        if isinstance(inner, list) and inner and isinstance(inner[0], Message):
            subject = decode_header_value(_raw_str(inner[0].get("Subject") or ""))
        return f"{subject or 'message'}.eml"
    extension = mimetypes.guess_extension(content_type, strict=False) or ".bin"
    stem = content_type.split("/")[-1] if content_type.startswith("message/") else "attachment"
    return f"{stem}-{number}{extension}"


def _defects(message: Message) -> Iterator[str]:
    stack = [message]
    seen = 0
    while stack and seen < _MAX_PARTS:
        part = stack.pop()
        seen += 1
        yield from (type(defect).__name__ for defect in part.defects)
        stack.extend(_children(part))
