"""REST endpoints for tickets and their messages, mounted under /api/v1/tickets.

Thin: parse, authorise through the selectors' visibility rule, call one service, render.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.params import P, PathEx

from trustdesk.accounts.models import Agent
from trustdesk.api.auth import request_agent
from trustdesk.api.lookups import agent_by_email, require_full_agent, team_by_name
from trustdesk.api.pagination import keyset_page
from trustdesk.api.responses import rendered
from trustdesk.api.schemas import ERROR_RESPONSES, MAX_ID, InputSchema, PageQuery
from trustdesk.core.errors import NotFound, ValidationFailed
from trustdesk.customers.models import ContactPoint, Customer
from trustdesk.customers.selectors import customer_get
from trustdesk.customers.services import customer_for_contact
from trustdesk.tickets.attachments import UploadedFile
from trustdesk.tickets.models import Priority, Tag, Ticket
from trustdesk.tickets.selectors import (
    message_attachments,
    ticket_get,
    ticket_list,
    ticket_messages,
    ticket_not_found,
    tickets_visible,
)
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


# --- Representation ---------------------------------------------------------------------------
#
# Bodies are built once, as plain dicts in the shape of the schemas above, from ``.values()``
# rows: no model instances and a fixed number of queries per response (a list page: the tickets
# with their customer's email, then their tags; a detail adds its messages and their attachments).

_PRIORITY_NAMES = {int(p): p.name.lower() for p in Priority}

_TICKET_COLUMNS = (
    "id",
    "number",
    "subject",
    "status",
    "priority",
    "channel",
    "owner__email",
    "team__name",
    "customer_id",
    "customer__full_name",
    "created_at",
    "updated_at",
    "first_response_at",
    "solved_at",
    "last_message_at",
    "message_count",
)

_MESSAGE_COLUMNS = (
    "id",
    "direction",
    "visibility",
    "channel",
    "author_agent_id",
    "author_agent__display_name",
    "author_agent__email",
    "author_customer_id",
    "author_customer__full_name",
    "body_text",
    "body_html",
    "created_at",
)

Row = dict[str, Any]


def _ticket_rows(queryset: QuerySet[Ticket]) -> QuerySet[Ticket, Row]:
    """The columns ``_tickets_out`` reads; the customer's email as a correlated subquery.

    The email follows ``customer_primary_email``: the primary email contact point, else the
    oldest one.
    """
    email = (
        ContactPoint.objects.filter(
            customer_id=OuterRef("customer_id"), kind=ContactPoint.Kind.EMAIL
        )
        .order_by("-is_primary", "id")
        .values("value")[:1]
    )
    shaped: QuerySet[Ticket, Row] = queryset.annotate(customer_email=Subquery(email)).values(
        *_TICKET_COLUMNS, "customer_email"
    )
    return shaped


def _tickets_out(rows: Sequence[Row]) -> list[Row]:
    tags: dict[int, list[str]] = {}
    if rows:
        pairs = (
            Tag.objects.filter(tickets__in=[row["id"] for row in rows])
            .order_by("name")
            .values_list("tickets", "name")
        )
        for ticket_id, name in pairs:
            tags.setdefault(ticket_id, []).append(name)
    return [
        {
            "id": row["id"],
            "number": row["number"],
            "subject": row["subject"],
            "status": row["status"],
            "priority": _PRIORITY_NAMES[row["priority"]],
            "channel": row["channel"],
            "owner": row["owner__email"],
            "team": row["team__name"],
            "tags": tags.get(row["id"], []),
            "customer": {
                "id": row["customer_id"],
                "name": row["customer__full_name"],
                "email": row["customer_email"],
            },
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
            "first_response_at": row["first_response_at"],
            "solved_at": row["solved_at"],
            "last_message_at": row["last_message_at"],
            "message_count": row["message_count"],
        }
        for row in rows
    ]


def _messages_out(rows: Sequence[Row]) -> list[Row]:
    attachments: dict[int, list[Row]] = {}
    if rows:
        found = message_attachments(message_ids=[row["id"] for row in rows]).values_list(
            "message_id", "id", "filename", "content_type", "size"
        )
        for message_id, pk, filename, content_type, size in found:
            attachments.setdefault(message_id, []).append(
                {"id": pk, "filename": filename, "content_type": content_type, "size": size}
            )
    system = str(_("System"))
    return [
        {
            "id": row["id"],
            "direction": row["direction"],
            "visibility": row["visibility"],
            "channel": row["channel"],
            "author": _author_out(row, system),
            "body": row["body_text"],
            "html": row["body_html"],
            "created_at": row["created_at"],
            "attachments": attachments.get(row["id"], []),
        }
        for row in rows
    ]


def _author_out(row: Row, system: str) -> Row:
    """As ``Message.author_name``: the agent, else the customer, else the system."""
    if row["author_agent_id"] is not None:
        name = row["author_agent__display_name"] or row["author_agent__email"]
        return {"type": "agent", "id": row["author_agent_id"], "name": name}
    if row["author_customer_id"] is not None:
        return {
            "type": "customer",
            "id": row["author_customer_id"],
            "name": row["author_customer__full_name"],
        }
    return {"type": "system", "id": None, "name": system}


def _detail_out(row: Row) -> Row:
    out = _tickets_out([row])[0]
    messages = ticket_messages(ticket_id=row["id"]).values(*_MESSAGE_COLUMNS)
    out["messages"] = _messages_out(list(messages))
    return out


def _ticket_detail(*, agent: Agent, ticket_id: int) -> Row:
    row = _ticket_rows(tickets_visible(agent=agent).filter(pk=ticket_id)).first()
    if row is None:
        raise ticket_not_found(ticket_id)
    return _detail_out(row)


def _after_write(*, agent: Agent, ticket: Ticket) -> Row:
    """The ticket as the writer left it, read back through the visibility rule.

    A write may move a ticket out of the agent's sight (to another team); the writer still gets
    the state they just set, but nothing else ever is read past the rule.
    """
    try:
        return _ticket_detail(agent=agent, ticket_id=ticket.pk)
    except NotFound:
        out = _tickets_out([_ticket_rows(Ticket.objects.filter(pk=ticket.pk)).get()])[0]
        out["messages"] = []
        return out


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
def tickets_list(request: HttpRequest, filters: Query[TicketFilters]) -> HttpResponse:
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
        _ticket_rows(queryset), cursor=filters.cursor, limit=filters.limit
    )
    return rendered(
        {"items": _tickets_out(rows), "next_cursor": next_cursor, "limit": filters.limit}
    )


@router.post("", response={201: TicketDetailOut} | ERROR_RESPONSES, summary="Create a ticket")
def tickets_create(request: HttpRequest, payload: TicketCreateIn) -> Status[Row]:
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
def tickets_get(request: HttpRequest, ticket_id: TicketId) -> HttpResponse:
    return rendered(_ticket_detail(agent=request_agent(request), ticket_id=ticket_id))


@router.patch(
    "/{ticket_id}", response={200: TicketDetailOut} | ERROR_RESPONSES, summary="Update a ticket"
)
def tickets_update(request: HttpRequest, ticket_id: TicketId, payload: TicketUpdateIn) -> Row:
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
def messages_list(
    request: HttpRequest, ticket_id: TicketId, page: Query[PageQuery]
) -> HttpResponse:
    if not tickets_visible(agent=request_agent(request)).filter(pk=ticket_id).exists():
        raise ticket_not_found(ticket_id)
    rows, next_cursor = keyset_page(
        ticket_messages(ticket_id=ticket_id).values(*_MESSAGE_COLUMNS),
        cursor=page.cursor,
        limit=page.limit,
        ascending=True,
    )
    return rendered({"items": _messages_out(rows), "next_cursor": next_cursor, "limit": page.limit})


@router.post(
    "/{ticket_id}/messages",
    response={201: MessageOut} | ERROR_RESPONSES,
    summary="Add a reply or an internal note",
)
def messages_add(request: HttpRequest, ticket_id: TicketId, payload: MessageIn) -> Status[Row]:
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
    added = ticket_messages(ticket_id=ticket.pk).filter(pk=message.pk).values(*_MESSAGE_COLUMNS)
    return Status(201, _messages_out(list(added))[0])
