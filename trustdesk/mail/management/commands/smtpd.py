"""``trustdesk smtpd``: receive mail for our addresses over SMTP (or LMTP with ``--lmtp``).

Put it behind your MTA (an LMTP transport, or a relay to this port) or, on a small
installation, expose it directly. Ctrl-C or SIGTERM stops it cleanly. A message is acknowledged only
once stored, so one cut off by the stop is retried by its sender (and deduplicated should the
store have committed just before).
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from trustdesk.mail.receiver import ReceiverController


class Command(BaseCommand):
    help = "Receive inbound email over SMTP (or LMTP) and store it for the intake pipeline."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=2525)
        parser.add_argument("--lmtp", action="store_true", help="Speak LMTP instead of SMTP.")

    def handle(self, *args: Any, **options: Any) -> None:
        host, port, lmtp = options["host"], options["port"], options["lmtp"]
        controller = ReceiverController(host=host, port=port, lmtp=lmtp)
        stopping = threading.Event()

        def stop(signum: int, frame: FrameType | None) -> None:
            stopping.set()

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            try:
                controller.start()
            except (OSError, RuntimeError) as exc:
                raise CommandError(f"Could not listen on {host}:{port}: {exc}") from exc
            protocol = "LMTP" if lmtp else "SMTP"
            self.stdout.write(f"Receiving mail over {protocol} on {host}:{port}.")
            self.stdout.flush()
            while not stopping.wait(0.5):
                pass
            controller.stop()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write("Mail receiver stopped.")
