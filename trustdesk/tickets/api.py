"""REST endpoints for tickets and their messages, mounted under /api/v1/tickets.

Thin: parse, authorise through the selectors' visibility rule, call one service, render.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Literal

from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.params import P, PathEx

from trustdesk.accounts.models import Agent
from trustdesk.api.auth import request_agent
from trustdesk.api.lookups import agent_by_email, require_full_agent, team_by_name
from trustdesk.api.pagination import keyset_page
from trustdesk.api.schemas import ERROR_RESPONSES, MAX_ID, InputSchema, PageQuery
from trustdesk.core.errors import NotFound, ValidationFailed
from trustdesk.customers.models import ContactPoint, Customer
from trustdesk.customers.selectors import customer_get, customer_primary_email
from trustdesk.customers.services import customer_for_contact
from trustdesk.tickets.attachments import UploadedFile
from trustdesk.tickets.models import Message, Priority, Ticket
from trustdesk.tickets.selectors import message_list, ticket_get, ticket_list
from trustdesk.tickets.services import TicketChanges, message_add, ticket_create, ticket_update

router = Router(tags=["tickets"])

StatusName = Literal["new", "open", "pending", "on_hold", "solved", "closed"]
PriorityName = Literal["low", "normal", "high", "urgent"]
ChannelName = Literal["email", "web", "chat", "phone", "api"]

MAX_ATTACHMENTS = 20
TicketId = PathEx[int, P(ge=1, le=MAX_ID, description="The ticket's id (not its number).")]


def priority_name(value: int) -> str:
    return Priority(value).name.lower()


def priority_value(name: str) -> int:
    return int(Priority[name.upper()])


# --- Output -----------------------------------------------------------------------------------


class CustomerRef(Schema):
    id: int
    name: str
    email: str | None


class TicketOut(Schema):
    id: int
    number: int
    subject: str
    status: StatusName
    priority: PriorityName
    channel: ChannelName
    owner: str | None = Field(..., description="The owning agent's email address.")
    team: str | None = Field(..., description="The team's name.")
    tags: list[str]
    customer: CustomerRef
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    solved_at: datetime | None
    last_message_at: datetime | None
    message_count: int


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int


class AuthorOut(Schema):
    type: Literal["agent", "customer", "system"]
    id: int | None
    name: str


class MessageOut(Schema):
    id: int
    direction: Literal["in", "out"]
    visibility: Literal["public", "internal"]
    channel: ChannelName
    author: AuthorOut
    body: str
    html: str
    created_at: datetime
    attachments: list[AttachmentOut]


class TicketDetailOut(TicketOut):
    messages: list[MessageOut]


class TicketPage(Schema):
    items: list[TicketOut]
    next_cursor: str | None
    limit: int


class MessagePage(Schema):
    items: list[MessageOut]
    next_cursor: str | None
    limit: int


def ticket_out(ticket: Ticket) -> TicketOut:
    customer = ticket.customer
    return TicketOut(
        id=ticket.pk,
        number=ticket.number,
        subject=ticket.subject,
        status=ticket.status,  # type: ignore[arg-type]
        priority=priority_name(ticket.priority),  # type: ignore[arg-type]
        channel=ticket.channel,  # type: ignore[arg-type]
        owner=ticket.owner.email if ticket.owner else None,
        team=ticket.team.name if ticket.team else None,
        tags=[tag.name for tag in ticket.tags.all()],
        customer=CustomerRef(
            id=customer.pk, name=customer.full_name, email=customer_primary_email(customer)
        ),
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        first_response_at=ticket.first_response_at,
        solved_at=ticket.solved_at,
        last_message_at=ticket.last_message_at,
        message_count=ticket.message_count,
    )


def message_out(message: Message) -> MessageOut:
    if message.author_agent is not None:
        author = AuthorOut(type="agent", id=message.author_agent.pk, name=str(message.author_agent))
    elif message.author_customer is not None:
        author = AuthorOut(
            type="customer", id=message.author_customer.pk, name=str(message.author_customer)
        )
    else:
        author = AuthorOut(type="system", id=None, name=message.author_name)
    return MessageOut(
        id=message.pk,
        direction=message.direction,  # type: ignore[arg-type]
        visibility=message.visibility,  # type: ignore[arg-type]
        channel=message.channel,  # type: ignore[arg-type]
        author=author,
        body=message.body_text,
        html=message.body_html,
        created_at=message.created_at,
        attachments=[
            AttachmentOut(id=a.pk, filename=a.filename, content_type=a.content_type, size=a.size)
            for a in message.attachments.all()
        ],
    )


def _with_representation(queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """What ``ticket_out`` reads, fetched in two extra queries for a whole page."""
    return queryset.prefetch_related(
        "tags",
        Prefetch(
            "customer__contact_points",
            queryset=ContactPoint.objects.order_by("kind", "-is_primary", "id"),
        ),
    )


def _ticket_detail(*, agent: Agent, ticket_id: int) -> TicketDetailOut:
    ticket = ticket_get(agent=agent, ticket_id=ticket_id)
    messages = [message_out(m) for m in message_list(ticket=ticket)]
    return TicketDetailOut(**ticket_out(ticket).model_dump(), messages=messages)


def _after_write(*, agent: Agent, ticket: Ticket) -> TicketDetailOut:
    """The ticket as the writer left it, read back through the visibility rule.

    A write may move a ticket out of the agent's sight (to another team); the writer still gets
    the state they just set, but nothing else ever is read past the rule.
    """
    try:
        return _ticket_detail(agent=agent, ticket_id=ticket.pk)
    except NotFound:
        reloaded = _with_representation(
            Ticket.objects.select_related("customer", "owner", "team")
        ).get(pk=ticket.pk)
        return TicketDetailOut(**ticket_out(reloaded).model_dump(), messages=[])


# --- Input ------------------------------------------------------------------------------------


class TicketFilters(PageQuery):
    status: StatusName | Literal["active"] | None = Field(
        None, description="A status, or active for every open status."
    )
    priority: PriorityName | None = None
    channel: ChannelName | None = None
    owner: str | None = Field(None, max_length=254, description="An agent's email address, or me.")
    team: str | None = Field(None, max_length=80, description="A team's name.")
    customer: int | None = Field(None, ge=1, le=MAX_ID, description="A customer id.")
    tag: str | None = Field(None, max_length=50)
    view: Literal["all", "mine", "unassigned", "team"] = "all"


class CustomerIn(InputSchema):
    id: int | None = Field(None, ge=1, le=MAX_ID)
    email: str | None = Field(None, max_length=254)
    name: str = Field("", max_length=200)


class AttachmentIn(InputSchema):
    filename: str = Field(..., max_length=255)
    content_base64: str


class TicketCreateIn(InputSchema):
    customer: CustomerIn
    subject: str = Field(..., max_length=1000)
    body: str = ""
    html: str | None = None
    channel: ChannelName = "api"
    priority: PriorityName = "normal"
    owner: str | None = Field(None, max_length=254, description="An agent's email address.")
    team: str | None = Field(None, max_length=80, description="A team's name.")
    tags: list[str] = Field(default_factory=list, max_length=50)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)


class TicketUpdateIn(InputSchema):
    """Only the fields present change; ``null`` clears owner or team."""

    subject: str | None = Field(None, max_length=1000)
    status: StatusName | None = None
    priority: PriorityName | None = None
    owner: str | None = Field(None, max_length=254)
    team: str | None = Field(None, max_length=80)
    tags: list[str] | None = Field(None, max_length=50)


class MessageIn(InputSchema):
    body: str = ""
    html: str | None = None
    visibility: Literal["public", "internal"] = "public"
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)


def _uploads(attachments: list[AttachmentIn]) -> list[UploadedFile]:
    uploads = []
    for index, item in enumerate(attachments):
        try:
            content = base64.b64decode(item.content_base64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValidationFailed(
                _("Attachment %(index)d is not valid base64.") % {"index": index},
                field=f"attachments.{index}.content_base64",
            ) from exc
        uploads.append(UploadedFile(filename=item.filename, content=content))
    return uploads


def _customer_for(payload: CustomerIn, *, agent: Agent) -> Customer:
    if (payload.id is None) == (payload.email is None):
        raise ValidationFailed(
            _("Identify the customer by id or by email address, not both."), field="customer"
        )
    if payload.id is not None:
        return customer_get(customer_id=payload.id)
    assert payload.email is not None
    customer, _created = customer_for_contact(
        kind=ContactPoint.Kind.EMAIL,
        value=payload.email,
        full_name=payload.name,
        actor_id=agent.pk,
    )
    return customer


# --- Endpoints --------------------------------------------------------------------------------


@router.get("", response={200: TicketPage} | ERROR_RESPONSES, summary="List tickets")
def tickets_list(request: HttpRequest, filters: Query[TicketFilters]) -> TicketPage:
    agent = request_agent(request)
    owner_id = None
    if filters.owner == "me":
        owner_id = agent.pk
    elif filters.owner:
        owner_id = agent_by_email(filters.owner).pk
    queryset = ticket_list(
        agent=agent,
        view=filters.view,
        status=filters.status,
        priority=priority_value(filters.priority) if filters.priority else None,
        channel=filters.channel,
        owner_id=owner_id,
        team_id=team_by_name(filters.team).pk if filters.team else None,
        customer_id=filters.customer,
        tag=filters.tag,
    )
    rows, next_cursor = keyset_page(
        _with_representation(queryset), cursor=filters.cursor, limit=filters.limit
    )
    return TicketPage(
        items=[ticket_out(t) for t in rows], next_cursor=next_cursor, limit=filters.limit
    )


@router.post("", response={201: TicketDetailOut} | ERROR_RESPONSES, summary="Create a ticket")
def tickets_create(request: HttpRequest, payload: TicketCreateIn) -> Status[TicketDetailOut]:
    agent = request_agent(request)
    require_full_agent(agent)
    owner = agent_by_email(payload.owner) if payload.owner else None
    team = team_by_name(payload.team) if payload.team else None
    uploads = _uploads(payload.attachments)
    with transaction.atomic():  # a refused ticket must not leave a new customer behind
        customer = _customer_for(payload.customer, agent=agent)
        ticket = ticket_create(
            customer=customer,
            subject=payload.subject,
            body=payload.body,
            html=payload.html,
            channel=payload.channel,
            priority=priority_value(payload.priority),
            team=team,
            owner=owner,
            tags=payload.tags,
            attachments=uploads,
        )
    return Status(201, _after_write(agent=agent, ticket=ticket))


@router.get(
    "/{ticket_id}", response={200: TicketDetailOut} | ERROR_RESPONSES, summary="Get a ticket"
)
def tickets_get(request: HttpRequest, ticket_id: TicketId) -> TicketDetailOut:
    return _ticket_detail(agent=request_agent(request), ticket_id=ticket_id)


@router.patch(
    "/{ticket_id}", response={200: TicketDetailOut} | ERROR_RESPONSES, summary="Update a ticket"
)
def tickets_update(
    request: HttpRequest, ticket_id: TicketId, payload: TicketUpdateIn
) -> TicketDetailOut:
    agent = request_agent(request)
    ticket = ticket_get(agent=agent, ticket_id=ticket_id)
    sent = payload.model_fields_set
    changes = TicketChanges(
        subject=payload.subject,
        status=payload.status,
        priority=priority_value(payload.priority) if payload.priority else None,
        tags=payload.tags,
        clear_owner="owner" in sent and payload.owner is None,
        clear_team="team" in sent and payload.team is None,
    )
    if payload.owner:
        changes.owner = agent_by_email(payload.owner)
    if payload.team:
        changes.team = team_by_name(payload.team)
    changes.fields_changed = sorted(sent)
    ticket = ticket_update(ticket=ticket, changes=changes, actor=agent)
    return _after_write(agent=agent, ticket=ticket)


@router.get(
    "/{ticket_id}/messages",
    response={200: MessagePage} | ERROR_RESPONSES,
    summary="List a ticket's messages, oldest first",
)
def messages_list(request: HttpRequest, ticket_id: TicketId, page: Query[PageQuery]) -> MessagePage:
    ticket = ticket_get(agent=request_agent(request), ticket_id=ticket_id)
    rows, next_cursor = keyset_page(
        message_list(ticket=ticket), cursor=page.cursor, limit=page.limit, ascending=True
    )
    return MessagePage(
        items=[message_out(m) for m in rows], next_cursor=next_cursor, limit=page.limit
    )


@router.post(
    "/{ticket_id}/messages",
    response={201: MessageOut} | ERROR_RESPONSES,
    summary="Add a reply or an internal note",
)
def messages_add(
    request: HttpRequest, ticket_id: TicketId, payload: MessageIn
) -> Status[MessageOut]:
    agent = request_agent(request)
    ticket = ticket_get(agent=agent, ticket_id=ticket_id)
    message = message_add(
        ticket=ticket,
        body=payload.body,
        html=payload.html,
        visibility=payload.visibility,
        author_agent=agent,
        attachments=_uploads(payload.attachments),
    )
    return Status(201, message_out(message))
