"""Authentication-Results (RFC 8601): believed only when a relay we trust wrote them.

Anyone can write an ``Authentication-Results`` header into a message, so only a header whose
authserv-id is in ``TRUSTDESK_TRUSTED_AUTHSERV_IDS`` counts, and of those the topmost one (the
one our nearest relay added). The verdict about the From address:

- ``dmarc=pass`` -> verified; ``dmarc=fail`` -> unverified.
- no DMARC result: ``spf=fail`` -> unverified; an SPF or DKIM pass whose domain is the From
  domain (or a parent of it) -> verified.
- anything else (none, neutral, temperror, no trusted header) -> not checked (``None``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["Verification", "verification_read"]

_COMMENT = re.compile(r"\([^()]*\)")
_RESULT = re.compile(r"^\s*([a-z0-9-]+)\s*=\s*([a-z]+)(.*)$", re.IGNORECASE | re.DOTALL)
_PROPERTY = re.compile(r"\b(smtp\.mailfrom|header\.d|header\.from|header\.i)\s*=\s*([^\s;]+)", re.I)


@dataclass(frozen=True)
class Verification:
    verified: bool | None
    reason: str


def verification_read(
    headers: Iterable[str], *, from_address: str, trusted: Sequence[str]
) -> Verification:
    """The verdict from the first ``Authentication-Results`` value written by a trusted relay."""
    wanted = {t.strip().lower() for t in trusted if t.strip()}
    if not wanted:
        return Verification(None, "no trusted relay configured")
    for value in headers:
        authserv_id, results = _split(value)
        if authserv_id in wanted:
            return _verdict(results, from_domain=from_address.rpartition("@")[2].lower())
    return Verification(None, "no Authentication-Results from a trusted relay")


def _split(value: str) -> tuple[str, dict[str, tuple[str, str]]]:
    """``(authserv-id, {method: (result, properties)})``; the first result of a method wins."""
    parts = _COMMENT.sub(" ", value).split(";")
    head = parts[0].split()
    authserv_id = head[0].lower() if head else ""
    results: dict[str, tuple[str, str]] = {}
    for part in parts[1:]:
        match = _RESULT.match(part)
        if match:
            results.setdefault(match.group(1).lower(), (match.group(2).lower(), match.group(3)))
    return authserv_id, results


def _verdict(results: dict[str, tuple[str, str]], *, from_domain: str) -> Verification:
    if "dmarc" in results:
        outcome = results["dmarc"][0]
        if outcome == "pass":
            return Verification(True, "dmarc=pass")
        if outcome == "fail":
            return Verification(False, "dmarc=fail")
        return Verification(None, f"dmarc={outcome}")
    if results.get("spf", ("", ""))[0] == "fail":
        return Verification(False, "spf=fail")
    for method in ("dkim", "spf"):
        outcome, properties = results.get(method, ("", ""))
        if outcome == "pass" and _aligned(properties, from_domain):
            return Verification(True, f"{method}=pass (aligned)")
    if not results:
        return Verification(None, "no results")
    summary = " ".join(f"{m}={r}" for m, (r, _) in sorted(results.items()))
    return Verification(None, summary)


def _aligned(properties: str, from_domain: str) -> bool:
    if not from_domain:
        return False
    for _name, value in _PROPERTY.findall(properties):
        domain = value.strip("<>\"'").rpartition("@")[2].lower().rstrip(".")
        if domain and (from_domain == domain or from_domain.endswith("." + domain)):
            return True
    return False
