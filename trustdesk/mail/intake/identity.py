"""Who wrote a message, and whether they may write on the ticket it points at.

The policy (documented in docs/email.md, "Intake"):

- A message that failed authentication (``verified is False``) attaches to no existing ticket.
- The ticket's own customer (the From address is one of their email contact points) may attach
  by thread headers, by a valid reply token, and by a bare ``[#1234]`` subject tag.
- A colleague (a contact point of another customer in the same organisation) may attach by
  thread headers or a valid token, never by a bare subject tag: colleagues are routinely copied
  on a thread, but a guessable number alone proves nothing.
- An agent who may see the ticket (``ticket_visibility_q``) may attach by thread headers or a
  valid token, not by a bare subject tag (From is trivial to forge; a Message-ID or a token of
  ours is a secret the real recipient holds). Their mail becomes a public agent reply, which is
  delivered to the customer; a light agent's becomes an internal note.
- Anybody else's message opens a new ticket instead (tagged ``unverified-thread``).
"""

from __future__ import annotations

from dataclasses import dataclass

from trustdesk.accounts.models import Agent
from trustdesk.core.errors import ValidationFailed
from trustdesk.customers.models import ContactPoint, Customer
from trustdesk.customers.services import contact_normalize
from trustdesk.mail.intake.lookups import Lookups
from trustdesk.mail.parsing import ParsedEmail
from trustdesk.tickets.models import Ticket
from trustdesk.tickets.selectors import ticket_visibility_q

__all__ = ["Entitlement", "Sender", "entitlement_check", "sender_identify"]

# How a message was matched to a ticket (routing.Match.via). The first two carry a secret.
SECRET_VIAS = frozenset({"thread", "token"})


@dataclass(frozen=True)
class Sender:
    address: str  # normalised (lower-case), "" when the message has no usable sender address
    name: str
    agent: Agent | None
    customer_id: int | None  # the customer known at this address, if any
    organization_id: int | None
    customer: Customer | None = None  # that customer, loaded with the same query


@dataclass(frozen=True)
class Entitlement:
    allowed: bool
    reason: str
    agent: Agent | None = None  # write as this agent (else as the sender's customer)
    internal: bool = False  # a light agent's reply: an internal note


def sender_identify(
    parsed: ParsedEmail, *, envelope_from: str, lookups: Lookups | None = None
) -> Sender:
    """The From address (the envelope sender when From is missing or unusable), and who it is."""
    candidates = [parsed.from_.address if parsed.from_ else "", envelope_from]
    address = ""
    for candidate in candidates:
        try:
            address = contact_normalize(kind=ContactPoint.Kind.EMAIL, value=candidate.strip("<>"))
        except ValidationFailed:
            continue
        break
    name = " ".join((parsed.from_.name if parsed.from_ else "").split())[:200]
    if not address:
        return Sender("", name, None, None, None)
    agent = (lookups or Lookups()).active_agent(address)
    point = (
        ContactPoint.objects.select_related("customer")
        .filter(kind=ContactPoint.Kind.EMAIL, value=address)
        .first()
    )
    if point is None:
        return Sender(address, name, agent, None, None)
    customer = point.customer
    return Sender(address, name, agent, customer.pk, customer.organization_id, customer)


def entitlement_check(
    *, sender: Sender, ticket: Ticket, via: str, verified: bool | None, verification_reason: str
) -> Entitlement:
    """May this sender's message go on ``ticket`` (matched ``via`` thread/token/subject-tag)?"""
    number = ticket.number
    if verified is False:
        return Entitlement(False, f"the sender failed authentication ({verification_reason})")
    if not sender.address:
        return Entitlement(False, "the message has no usable sender address")
    if sender.agent is not None and via in SECRET_VIAS:
        agent = sender.agent
        if Ticket.objects.filter(ticket_visibility_q(agent), pk=ticket.pk).exists():
            return Entitlement(
                True,
                f"agent {sender.address}",
                agent=agent,
                internal=agent.role == Agent.Role.LIGHT,
            )
    if sender.customer_id is not None and sender.customer_id == ticket.customer_id:
        return Entitlement(True, "the ticket's customer")
    if (
        via in SECRET_VIAS
        and sender.organization_id is not None
        and sender.organization_id == _organization_of(ticket)
    ):
        return Entitlement(True, "a colleague of the ticket's customer (same organisation)")
    return Entitlement(
        False, f"{sender.address} may not write on ticket #{number} (matched by {via})"
    )


def _organization_of(ticket: Ticket) -> int | None:
    from trustdesk.customers.models import Customer

    return (
        Customer.objects.filter(pk=ticket.customer_id)
        .values_list("organization_id", flat=True)
        .first()
    )
