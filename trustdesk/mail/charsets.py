"""Turning bytes of unknown or mislabelled encoding into text, without ever failing."""

from __future__ import annotations

import codecs

__all__ = ["decode_bytes", "normalize_charset"]

# Labels that mail clients write for what is really a superset (the WHATWG Encoding Standard
# does the same for browsers): decoding with the superset is never worse.
_SUPERSETS = {
    "ascii": "ascii",
    "us-ascii": "ascii",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "iso8859-1": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "shift_jis": "cp932",
    "x-sjis": "cp932",
    "iso-8859-8-i": "iso-8859-8",
    "windows-874": "cp874",
    "tis-620": "cp874",
    "utf8": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
}
# What we try after the declared charset: real-world 8-bit mail is UTF-8 or Windows-1252, and
# Latin-1 decodes any byte, so the chain always ends in text.
_FALLBACKS = ("utf-8", "cp1252", "latin-1")


def normalize_charset(label: str | None) -> str | None:
    """The Python codec for a declared charset label, or None if there is no usable one."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    name = _SUPERSETS.get(name, name)
    try:
        info = codecs.lookup(name)
    except LookupError:
        return None
    if not getattr(info, "_is_text_encoding", True):
        return None  # base64, rot13, zlib ...: not a text encoding
    return info.name


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Decode with the declared charset if it works, else UTF-8, else Windows-1252, else Latin-1.

    UTF-8 with a few broken sequences (a name cut in the middle of a character) stays UTF-8,
    with U+FFFD for the broken bytes, rather than turning the whole text into mojibake.
    """
    first = normalize_charset(declared)
    for codec in (first, *_FALLBACKS) if first else _FALLBACKS:
        try:
            return data.decode(codec)
        except UnicodeDecodeError as error:
            if codec == "utf-8" and (mostly := _mostly_utf8(data, error)) is not None:
                return mostly
        except (UnicodeError, LookupError):
            continue
    return data.decode("latin-1")  # pragma: no cover - latin-1 decodes every byte


def _mostly_utf8(data: bytes, error: UnicodeDecodeError) -> str | None:
    """UTF-8 cut short at the end, or with at most one broken sequence in twenty characters."""
    text = data.decode("utf-8", "replace")
    if error.reason == "unexpected end of data" and error.start >= len(data) - 3:
        head = data[: error.start]
        if not head.isascii():  # real multi-byte UTF-8 before the cut, and none of it broken
            return text
    broken = text.count("\ufffd") - data.count(b"\xef\xbf\xbd")
    non_ascii = sum(1 for ch in text if ch > "\x7f")
    return text if non_ascii >= 20 and broken * 20 <= non_ascii else None
