"""Throughput of ``trustdesk.mail.parsing.parse_email`` on a generated helpdesk corpus.

    .venv/bin/python -m bench.email_parse [N]

The corpus is ../shared/peerbench/gen_corpus.py when present (40% plain, 50% text+HTML, 10%
with a 20 KB PDF, 30% replies with quoted history), else a small built-in equivalent. Prints
messages/s for parse_email and, for comparison, for the standard library's parsers alone.
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

PEERBENCH = Path(__file__).resolve().parents[1].parent / "shared" / "peerbench"


def corpus(n: int) -> list[bytes]:
    if (PEERBENCH / "gen_corpus.py").exists():
        sys.path.insert(0, str(PEERBENCH))
        import gen_corpus  # type: ignore[import-not-found]

        messages: list[bytes] = gen_corpus.corpus(n)
        return messages
    return _builtin_corpus(n)


def _builtin_corpus(n: int) -> list[bytes]:
    rng = random.Random(7)
    out = []
    for i in range(n):
        message = EmailMessage(policy=policy.SMTP)
        message["From"] = f"Customer {i} <customer{i}@example.org>"
        message["To"] = "support@helpdesk.example.com"
        message["Subject"] = f"Problem with order {10000 + i}"
        message["Message-ID"] = f"<msg{i}@mail.example.org>"
        text = "Hello,\n\nmy order has not arrived.\n\nKind regards,\nCustomer\n"
        if rng.random() < 0.3:
            text += "\nOn Mon, Support wrote:\n> when will it ship?\n"
        message.set_content(text)
        kind = rng.choices(["plain", "alt", "att"], [0.4, 0.5, 0.1])[0]
        if kind != "plain":
            message.add_alternative(f"<p>{text}</p>", subtype="html")
        if kind == "att":
            message.add_attachment(
                os.urandom(20000), maintype="application", subtype="pdf", filename="a.pdf"
            )
        out.append(message.as_bytes())
    return out


def rate(function: Callable[[bytes], Any], messages: list[bytes], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for raw in messages:
            function(raw)
        best = min(best, time.perf_counter() - start)
    return len(messages) / best


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trustdesk.settings")
    import django

    django.setup()
    from trustdesk.mail.parsing import parse_email

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    messages = corpus(n)
    size = sum(map(len, messages)) / len(messages)
    print(f"{len(messages)} messages, {size:,.0f} bytes on average")
    print(f"parse_email                      {rate(parse_email, messages):8,.0f} messages/s")
    compat = rate(lambda raw: message_from_bytes(raw, policy=policy.compat32), messages)
    print(f"stdlib compat32 parse only       {compat:8,.0f} messages/s")
    default = rate(lambda raw: message_from_bytes(raw, policy=policy.default).get_body(), messages)
    print(f"stdlib policy.default + get_body {default:8,.0f} messages/s")


if __name__ == "__main__":
    main()
