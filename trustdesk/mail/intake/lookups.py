"""Reads that are the same for every message of a batch: agents, our addresses, teams, mailboxes.

``inbound_drain`` builds one ``Lookups`` per batch of messages, ``inbound_process`` one per
message; each table is read once, on first use, and nothing intake writes changes them.
"""

from __future__ import annotations

from collections.abc import Iterable

from trustdesk.accounts.models import Agent, Team
from trustdesk.mail.models import Mailbox, OutboundEmail

__all__ = ["Lookups"]


class Lookups:
    def __init__(self) -> None:
        self._agents: dict[str, Agent] | None = None
        self._teams: list[Team] | None = None
        self._mailboxes: list[Mailbox] | None = None
        # Which of a batch's own Message-IDs are our outbound mail (see ``outbound_prime``).
        self.outbound_message_ids: frozenset[str] | None = None

    def outbound_prime(self, message_ids: Iterable[str]) -> None:
        """Read at once which of these Message-IDs (a batch's own) belong to our outbound mail.

        Intake creates no outbound rows before its batch commits (replies are sent after commit),
        so the answer holds for the whole batch.
        """
        wanted = list(set(message_ids))
        self.outbound_message_ids = frozenset(
            OutboundEmail.objects.filter(rfc_message_id__in=wanted).values_list(
                "rfc_message_id", flat=True
            )
            if wanted
            else ()
        )

    def active_agent(self, address: str) -> Agent | None:
        """The active agent with this email address (case-insensitive; the oldest if several)."""
        if self._agents is None:
            self._agents = {}
            for agent in Agent.objects.filter(is_active=True).order_by("pk"):
                self._agents.setdefault(agent.email.lower(), agent)
        return self._agents.get(address.lower())

    def is_support_address(self, address: str) -> bool:
        """A team's or a mailbox's address (case-insensitive)."""
        address = address.lower()
        return any(t.email.lower() == address for t in self.teams()) or any(
            m.address.lower() == address for m in self.mailboxes()
        )

    def mailbox_team(self, mailbox_id: int) -> Team | None:
        mailbox = next((m for m in self.mailboxes() if m.pk == mailbox_id), None)
        return mailbox.team if mailbox is not None else None

    def team_for_addresses(self, addresses: Iterable[str]) -> Team | None:
        """The first team (by id) at one of these addresses, else the team of the first mailbox."""
        wanted = set(addresses)
        team = next((t for t in self.teams() if t.email in wanted), None)
        if team is not None:
            return team
        mailbox = next(
            (m for m in self.mailboxes() if m.address in wanted and m.team is not None), None
        )
        return mailbox.team if mailbox is not None else None

    def teams(self) -> list[Team]:
        if self._teams is None:
            self._teams = list(Team.objects.order_by("pk"))
        return self._teams

    def mailboxes(self) -> list[Mailbox]:
        if self._mailboxes is None:
            self._mailboxes = list(Mailbox.objects.select_related("team").order_by("pk"))
        return self._mailboxes
