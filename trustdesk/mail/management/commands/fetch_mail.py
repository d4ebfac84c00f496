"""``trustdesk fetch-mail``: poll every enabled IMAP mailbox once (or one, with --mailbox).

``--schedule`` instead starts the periodic ``mailbox_poll`` task chain of each enabled mailbox
that has none waiting (safe to run any number of times; ``trustdesk serve`` runs it).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from trustdesk.mail.imap import mailbox_poll_once, mailboxes_to_poll
from trustdesk.mail.polling_tasks import mailbox_poll_schedule_all


class Command(BaseCommand):
    help = "Fetch new mail from the IMAP mailboxes now, or --schedule their periodic polling."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--mailbox", metavar="NAME", help="Poll only this mailbox.")
        parser.add_argument(
            "--schedule",
            action="store_true",
            help="Start the polling task chain of each enabled mailbox instead of polling now.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["schedule"]:
            started = mailbox_poll_schedule_all()
            self.stdout.write(f"Scheduled polling of {started} mailbox(es).")
            return
        name = options["mailbox"]
        ids = mailboxes_to_poll(name=name)
        if name is not None and not ids:
            raise CommandError(f"No mailbox called {name!r}.")
        failed = 0
        for mailbox_id in ids:
            result = mailbox_poll_once(mailbox_id=mailbox_id)
            if result.error:
                failed += 1
                self.stderr.write(f"mailbox {mailbox_id}: {result.error}")
            elif int(options["verbosity"]) > 0:
                self.stdout.write(
                    f"mailbox {mailbox_id}: fetched {result.fetched}, stored {result.stored}, "
                    f"duplicates {result.duplicates}, too large {result.too_large}"
                )
        if failed:
            raise CommandError(f"{failed} of {len(ids)} mailbox(es) could not be polled.")
