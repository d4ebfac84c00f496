"""Turning a routed message into ticket writes, through the tickets and customers services.

Called by ``pipeline.inbound_process`` inside the transaction that also marks the row done.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from trustdesk.accounts.models import Team
from trustdesk.core.errors import Conflict
from trustdesk.core.services import event_record
from trustdesk.customers.models import ContactPoint, Customer
from trustdesk.customers.selectors import customer_get
from trustdesk.customers.services import ContactInput, customer_create, customer_for_contact
from trustdesk.mail.intake.authresults import Verification
from trustdesk.mail.intake.identity import Entitlement, Sender, entitlement_check
from trustdesk.mail.intake.lookups import Lookups
from trustdesk.mail.intake.loops import (
    OWN_ADDRESS,
    OWN_MESSAGE,
    bounce_report,
    contact_points_mark_undeliverable,
    loop_check,
)
from trustdesk.mail.intake.routing import Route, thread_ids, ticket_for_message_ids
from trustdesk.mail.models import InboundEmail, OutboundEmail
from trustdesk.mail.parsing import Address, ParsedEmail
from trustdesk.tickets.attachments import UploadedFile
from trustdesk.tickets.models import Channel, Message, Status, Ticket
from trustdesk.tickets.services import MAX_BODY, MAX_SUBJECT, message_add, ticket_create

__all__ = [
    "UNVERIFIED_TAG",
    "Context",
    "Decision",
    "NoSender",
    "automated_record",
    "human_record",
]

Outcome = InboundEmail.Outcome
UNVERIFIED_TAG = "unverified-thread"
_MAX_QUOTED = 100_000
_SUBADDRESS = re.compile(r"\+[^@]*@")


class NoSender(ValueError):
    """A message from a person without any usable sender address: quarantined."""


@dataclass(frozen=True)
class Context:
    row: InboundEmail
    parsed: ParsedEmail
    sender: Sender
    verification: Verification
    lookups: Lookups = field(default_factory=Lookups)


@dataclass(frozen=True)
class Decision:
    outcome: str
    reason: str
    automated: str = ""
    ticket: Ticket | None = None
    message: Message | None = None
    acknowledge: str = ""  # acknowledge the new ticket to this address once committed

    @property
    def ticket_id(self) -> int | None:
        return self.ticket.pk if self.ticket else None


# Automated mail ------------------------------------------------------------------------------


def automated_record(context: Context, *, route: Route, automated: str) -> Decision:
    """Record a robot's message on its ticket (never acknowledged) or keep it as suppressed."""
    parsed = context.parsed
    if automated == OWN_MESSAGE:
        found = ticket_for_message_ids([parsed.message_id] if parsed.message_id else [])
        ticket = found[0] if found else None
        if ticket is not None:
            loop_check(ticket=ticket, inbound_id=context.row.pk)
        return Decision(Outcome.SUPPRESSED, "our own message came back", automated, ticket)
    if automated == OWN_ADDRESS:
        return Decision(Outcome.SUPPRESSED, "mail from our own address", automated)
    ticket, author, why = _automated_target(context, route=route, automated=automated)
    if ticket is None:
        reason = f"automated ({automated}), no ticket to attach to"
        return Decision(Outcome.SUPPRESSED, f"{reason}: {why}" if why else reason, automated)
    if ticket.status == Status.CLOSED:
        return Decision(
            Outcome.SUPPRESSED,
            f"automated ({automated}), ticket #{ticket.number} is closed",
            automated,
            ticket,
        )
    if loop_check(ticket=ticket, inbound_id=context.row.pk):
        return Decision(
            Outcome.SUPPRESSED,
            f"ticket #{ticket.number} is flagged as a mail loop",
            automated,
            ticket,
        )
    message = _append(context, ticket=ticket, customer=author, routing=why, automated=automated)
    return Decision(Outcome.APPENDED, why, automated, ticket, message)


def _automated_target(
    context: Context, *, route: Route, automated: str
) -> tuple[Ticket | None, Customer | None, str]:
    """(ticket, author customer, why). A bounce of one of our replies goes on that reply's
    ticket and flags the failed recipient; other robots only where their sender may write."""
    parsed = context.parsed
    if automated == "bounce":
        report = bounce_report(parsed)
        ids = [*report.original_message_ids, *thread_ids(parsed)]
        outbound = (
            OutboundEmail.objects.select_related("message__ticket")
            .filter(rfc_message_id__in=ids)
            .order_by("pk")
            .first()
        )
        if outbound is not None:
            ticket = outbound.message.ticket
            recipient = outbound.to_address.lower()
            if recipient in report.failed:
                contact_points_mark_undeliverable(addresses=[recipient], inbound_id=context.row.pk)
            return (
                ticket,
                customer_get(customer_id=ticket.customer_id),
                (f"bounce of our reply {outbound.rfc_message_id}"),
            )
    if route.match is None:
        return None, None, ""
    entitlement = entitlement_check(
        sender=context.sender,
        ticket=route.match.ticket,
        via=route.match.via,
        verified=context.verification.verified,
        verification_reason=context.verification.reason,
    )
    if not entitlement.allowed or entitlement.agent is not None:
        return None, None, entitlement.reason
    assert context.sender.customer is not None
    return (
        route.match.ticket,
        context.sender.customer,
        f"matched by {route.match.detail}",
    )


# Mail from people ----------------------------------------------------------------------------


def human_record(context: Context, *, route: Route, entitlement: Entitlement | None) -> Decision:
    """Append to the matched ticket when the sender may write there, else open a ticket."""
    if not context.sender.address:
        raise NoSender("The message has no usable sender address (From or envelope sender).")
    match = route.match
    problems = "; ".join(route.problems)
    if match is not None and entitlement is not None and entitlement.allowed:
        ticket = match.ticket
        routing = f"matched by {match.detail} ({entitlement.reason})"
        if ticket.status != Status.CLOSED:
            if entitlement.agent is not None:
                message = _append(context, ticket=ticket, agent=entitlement, routing=routing)
            else:
                customer = context.sender.customer
                assert customer is not None  # the ticket's customer or a colleague
                message = _append(context, ticket=ticket, customer=customer, routing=routing)
            return Decision(Outcome.APPENDED, _join(routing, problems), "", ticket, message)
        reason = f"ticket #{ticket.number} is closed: opened a follow-up"
        return _open(context, reason=_join(reason, problems), follow_up_of=ticket)
    if match is not None:
        assert entitlement is not None
        reason = f"unverified thread: {entitlement.reason}"
        return _open(context, reason=_join(reason, problems), unverified=match.ticket)
    if route.problems:
        return _open(context, reason=f"unverified thread: {problems}", unverified_claim=True)
    return _open(context, reason="new conversation")


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def _open(
    context: Context,
    *,
    reason: str,
    follow_up_of: Ticket | None = None,
    unverified: Ticket | None = None,
    unverified_claim: bool = False,
) -> Decision:
    sender = context.sender
    customer = sender.customer or _customer_new(sender)
    body, html, uploads, dropped = _content(context.parsed)
    flagged = unverified is not None or unverified_claim
    meta = _meta(context, routing=reason, dropped=dropped)
    if follow_up_of is not None:
        meta["email"]["follow_up_of"] = follow_up_of.number
    ticket = ticket_create(
        customer=customer,
        subject=_subject(context.parsed.subject),
        body=body,
        html=html,
        channel=Channel.EMAIL,
        team=_team_for(context),
        tags=[UNVERIFIED_TAG] if flagged else [],
        attachments=uploads,
        meta=meta,
    )
    if follow_up_of is not None:
        event_record(
            kind="ticket.follow_up_opened",
            subject_type="ticket",
            subject_id=ticket.pk,
            payload={"of": follow_up_of.pk, "of_number": follow_up_of.number},
        )
    if flagged:
        event_record(
            kind="mail.unverified_thread",
            subject_type="ticket",
            subject_id=ticket.pk,
            payload={"claimed": unverified.pk if unverified else None, "reason": reason[:500]},
        )
    acknowledge = ""
    if sender.agent is None and context.verification.verified is not False:
        acknowledge = sender.address
    message = ticket.messages.order_by("id").only("id", "ticket_id").first()
    return Decision(Outcome.CREATED, reason, "", ticket, message, acknowledge)


def _customer_new(sender: Sender) -> Customer:
    """A customer for an address that ``sender_identify`` found nobody at (one read fewer than
    ``customer_for_contact``; a concurrent creation of the same address falls back to it)."""
    contact = ContactInput(kind=ContactPoint.Kind.EMAIL, value=sender.address)
    try:
        return customer_create(
            full_name=sender.name.strip() or sender.address.split("@")[0], contacts=[contact]
        )
    except Conflict:
        customer, _created = customer_for_contact(
            kind=ContactPoint.Kind.EMAIL, value=sender.address, full_name=sender.name
        )
        return customer


def _append(
    context: Context,
    *,
    ticket: Ticket,
    routing: str,
    customer: Customer | None = None,
    agent: Entitlement | None = None,
    automated: str = "",
) -> Message:
    body, html, uploads, dropped = _content(context.parsed)
    visibility = Message.Visibility.PUBLIC
    if agent is not None and agent.internal:
        visibility = Message.Visibility.INTERNAL
    return message_add(
        ticket=ticket,
        body=body,
        html=html,
        visibility=visibility,
        channel=Channel.EMAIL,
        author_agent=agent.agent if agent is not None else None,
        author_customer=customer if agent is None else None,
        attachments=uploads,
        meta=_meta(context, routing=routing, dropped=dropped, automated=automated),
        reopen=not automated,  # an out-of-office reply or a bounce reopens nothing
    )


# Content -------------------------------------------------------------------------------------


def _subject(subject: str) -> str:
    subject = " ".join(subject.split())
    if not subject:
        return _("(no subject)")
    return subject[: MAX_SUBJECT - 1] + "…" if len(subject) > MAX_SUBJECT else subject


def _content(parsed: ParsedEmail) -> tuple[str, str | None, list[UploadedFile], list[str]]:
    """(body, html, attachments kept, notes on attachments dropped for their size)."""
    limit = settings.TRUSTDESK_MAX_ATTACHMENT_BYTES
    uploads: list[UploadedFile] = []
    dropped: list[str] = []
    for attachment in parsed.attachments:
        if attachment.size > limit:
            dropped.append(
                _(
                    "%(name)s (%(size)s bytes) was not kept: attachments are limited to %(limit)s bytes."
                )
                % {
                    "name": attachment.filename,
                    "size": f"{attachment.size:,}",
                    "limit": f"{limit:,}",
                }
            )
        else:
            uploads.append(UploadedFile(filename=attachment.filename, content=attachment.content))
    body = parsed.text.strip() or parsed.quoted.strip() or _("(no text)")
    notes = "\n".join(f"[{note}]" for note in dropped)
    room = MAX_BODY - len(notes) - 2
    if len(body) > room:
        body = body[: room - 1] + "…"
    if notes:
        body = f"{body}\n\n{notes}"
    return body, parsed.html or None, uploads, dropped


def _address(item: Address | None) -> dict[str, str] | None:
    return {"name": item.name, "address": item.address} if item else None


def _meta(
    context: Context, *, routing: str, dropped: list[str], automated: str = ""
) -> dict[str, Any]:
    parsed = context.parsed
    return {
        "email": {
            "message_id": parsed.message_id,
            "from": _address(parsed.from_),
            "to": [_address(a) for a in parsed.to],
            "cc": [_address(a) for a in parsed.cc],
            "subject": parsed.subject,
            "quoted": parsed.quoted[:_MAX_QUOTED],
            "signature": parsed.signature,
            "automated": automated or None,
            "verified": context.verification.verified,
            "verification_reason": context.verification.reason,
            "inbound_id": context.row.pk,
            "routing": routing,
            "dropped_attachments": dropped,
        }
    }


def _team_for(context: Context) -> Team | None:
    """The team whose mailbox or support address the message came to, if any."""
    source = context.row.source
    if source.startswith("imap:") and source[5:].isdigit():
        team = context.lookups.mailbox_team(int(source[5:]))
        if team is not None:
            return team
    parsed = context.parsed
    addresses = [str(a) for a in context.row.envelope_to]
    addresses += [a.address for a in (*parsed.to, *parsed.cc)] + parsed.header("Delivered-To")
    wanted = {_SUBADDRESS.sub("@", a.strip().strip("<>").lower()) for a in addresses if "@" in a}
    if not wanted:
        return None
    return context.lookups.team_for_addresses(wanted)
