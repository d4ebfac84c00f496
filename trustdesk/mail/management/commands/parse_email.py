"""``trustdesk parse-email FILE``: show how Trustdesk reads one message, as JSON.

For admins asking "why did this mail land there?": the addresses, threading headers, automated
classification, the new text separated from quoted history and signature, attachments.
``-`` reads the message from standard input.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from trustdesk.mail.parsing import EmailParseError, parse_email


class Command(BaseCommand):
    help = "Parse an email message (a .eml file, or - for stdin) and print the result as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="path to an RFC 5322 message, or - for standard input")

    def handle(self, *args: Any, **options: Any) -> None:
        raw = self._read(str(options["file"]))
        try:
            parsed = parse_email(raw)
        except EmailParseError as error:
            raise CommandError(f"Not an email: {error}") from error
        self.stdout.write(json.dumps(parsed.as_json(), indent=2, ensure_ascii=False))

    def _read(self, name: str) -> bytes:
        if name == "-":
            return sys.stdin.buffer.read()
        path = Path(name)
        try:
            return path.read_bytes()
        except FileNotFoundError as error:
            raise CommandError(f"No such file: {name}") from error
        except OSError as error:
            raise CommandError(f"Cannot read {name}: {error.strerror}") from error
