"""Reads for tickets and messages, with the visibility rule for agents built in."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from trustdesk.accounts.models import Agent
from trustdesk.core.errors import NotFound
from trustdesk.tickets.models import Attachment, Message, Ticket
from trustdesk.tickets.transitions import OPEN_STATUSES


def ticket_visibility_q(agent: Agent) -> Q:
    """Admins see everything; others see their teams' tickets, tickets without a team, and their own."""
    if agent.role == Agent.Role.ADMIN or agent.is_superuser:
        return Q()
    team_ids = list(agent.teams.values_list("pk", flat=True))
    return Q(team_id__in=team_ids) | Q(team__isnull=True) | Q(owner_id=agent.pk)


def ticket_list(
    *,
    agent: Agent,
    view: str = "all",
    status: str | None = None,
    priority: int | None = None,
    channel: str | None = None,
    owner_id: int | None = None,
    team_id: int | None = None,
    customer_id: int | None = None,
    tag: str | None = None,
) -> QuerySet[Ticket]:
    """Tickets the agent may see, newest first. ``view`` is mine, unassigned, team or all."""
    qs = Ticket.objects.filter(ticket_visibility_q(agent))
    if view == "mine":
        qs = qs.filter(owner_id=agent.pk)
    elif view == "unassigned":
        qs = qs.filter(owner__isnull=True)
    elif view == "team":
        qs = qs.filter(team_id__in=list(agent.teams.values_list("pk", flat=True)))
    if status == "active":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif status:
        qs = qs.filter(status=status)
    if priority is not None:
        qs = qs.filter(priority=priority)
    if channel:
        qs = qs.filter(channel=channel)
    if owner_id is not None:
        qs = qs.filter(owner_id=owner_id)
    if team_id is not None:
        qs = qs.filter(team_id=team_id)
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    if tag:
        qs = qs.filter(tags__name=tag)
    return qs.select_related("customer", "owner", "team").order_by("-id")


def tickets_visible(*, agent: Agent) -> QuerySet[Ticket]:
    """Every ticket the agent may see, unordered, for callers that pick their columns."""
    return Ticket.objects.filter(ticket_visibility_q(agent))


def ticket_not_found(ticket_id: int) -> NotFound:
    return NotFound(f"Ticket {ticket_id} does not exist or is not visible to you.")


def ticket_get(*, agent: Agent, ticket_id: int) -> Ticket:
    ticket = (
        Ticket.objects.filter(ticket_visibility_q(agent), pk=ticket_id)
        .select_related("customer", "customer__organization", "owner", "team")
        .prefetch_related("tags")
        .first()
    )
    if ticket is None:
        raise ticket_not_found(ticket_id)
    return ticket


def ticket_get_by_number(*, agent: Agent, number: int) -> Ticket:
    ticket = Ticket.objects.filter(ticket_visibility_q(agent), number=number).only("pk").first()
    if ticket is None:
        raise NotFound(f"Ticket #{number} does not exist or is not visible to you.")
    return ticket_get(agent=agent, ticket_id=ticket.pk)


def message_list(*, ticket: Ticket, include_internal: bool = True) -> QuerySet[Message]:
    qs = ticket.messages.select_related("author_agent", "author_customer").prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("id"))
    )
    if not include_internal:
        qs = qs.filter(visibility=Message.Visibility.PUBLIC)
    return qs.order_by("id")


def ticket_messages(*, ticket_id: int) -> QuerySet[Message]:
    """A ticket's messages, oldest first, without related rows: for callers that pick columns.

    The caller has checked that the agent may see the ticket.
    """
    return Message.objects.filter(ticket_id=ticket_id).order_by("id")


def message_attachments(*, message_ids: list[int]) -> QuerySet[Attachment]:
    """The attachments of these messages, oldest first."""
    return Attachment.objects.filter(message_id__in=message_ids).order_by("id")


def customer_messages(*, agent: Agent, customer_id: int, limit: int = 50) -> QuerySet[Message]:
    """The newest messages of a customer on every channel, across the tickets the agent may see."""
    return (
        Message.objects.filter(ticket__customer_id=customer_id)
        .filter(Q(ticket__in=Ticket.objects.filter(ticket_visibility_q(agent))))
        .select_related("ticket", "author_agent", "author_customer")
        .order_by("-id")[:limit]
    )


def attachment_get(*, agent: Agent, attachment_id: int) -> Attachment:
    attachment = (
        Attachment.objects.filter(pk=attachment_id)
        .filter(message__ticket__in=Ticket.objects.filter(ticket_visibility_q(agent)))
        .first()
    )
    if attachment is None:
        raise NotFound("That attachment does not exist or is not visible to you.")
    return attachment
