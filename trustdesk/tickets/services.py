"""Writes for tickets and messages. Every state change records an event row."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from trustdesk.accounts.models import Agent, Team
from trustdesk.core import registry
from trustdesk.core.errors import PermissionDenied, ValidationFailed
from trustdesk.core.html import html_to_text, sanitize_html, text_to_html
from trustdesk.core.services import counter_take, event_record
from trustdesk.customers.models import Customer
from trustdesk.tickets.attachments import UploadedFile, attachment_store, validate_uploads
from trustdesk.tickets.models import Channel, Message, Priority, Status, Tag, Ticket
from trustdesk.tickets.transitions import can_transition

MAX_SUBJECT = 250
MAX_BODY = 200_000


def _clean_subject(subject: str) -> str:
    subject = " ".join(subject.split())
    if not subject:
        raise ValidationFailed("A ticket needs a subject.", field="subject")
    if len(subject) > MAX_SUBJECT:
        raise ValidationFailed(
            f"The subject is longer than {MAX_SUBJECT} characters.", field="subject"
        )
    return subject


def _clean_body(body: str, html: str | None) -> tuple[str, str]:
    """(text, sanitised html) from a plain body and/or an HTML body."""
    safe_html = sanitize_html(html) if html else ""
    text = body.strip() if body else html_to_text(safe_html)
    if not text:
        raise ValidationFailed("The message is empty.", field="body")
    if len(text) > MAX_BODY:
        raise ValidationFailed(f"The message is longer than {MAX_BODY:,} characters.", field="body")
    return text, safe_html or text_to_html(text)


def _check_choice(value: str, choices: Iterable[str], field_name: str) -> None:
    allowed = list(choices)
    if value not in allowed:
        raise ValidationFailed(
            f"{value!r} is not a valid {field_name}; use one of {', '.join(allowed)}.",
            field=field_name,
        )


def tags_normalize(names: Iterable[str]) -> list[str]:
    cleaned = []
    for name in names:
        slug = slugify(name, allow_unicode=True)[:50]
        if not slug:
            raise ValidationFailed(f"{name!r} is not a usable tag.", field="tags")
        cleaned.append(slug)
    return sorted(set(cleaned))


def _tags_get_or_create(names: list[str]) -> list[Tag]:
    existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    for name in names:
        if name not in existing:
            existing[name], _ = Tag.objects.get_or_create(name=name)
    return [existing[n] for n in names]


def ticket_create(
    *,
    customer: Customer,
    subject: str,
    body: str,
    channel: str,
    html: str | None = None,
    priority: int = Priority.NORMAL,
    team: Team | None = None,
    owner: Agent | None = None,
    tags: Iterable[str] = (),
    author_agent: Agent | None = None,
    attachments: list[UploadedFile] | None = None,
    meta: dict[str, Any] | None = None,
) -> Ticket:
    """Open a ticket with its first message.

    The first message is the customer's (inbound) unless ``author_agent`` is given, as when an
    agent logs a phone call or opens a ticket on a customer's behalf.
    """
    subject = _clean_subject(subject)
    _check_choice(channel, Channel.values, "channel")
    _check_choice(str(priority), [str(v) for v in Priority.values], "priority")
    tag_names = tags_normalize(tags)
    text, safe_html = _clean_body(body, html)
    validate_uploads(attachments or [])
    now = timezone.now()
    with transaction.atomic():
        ticket = Ticket.objects.create(
            number=counter_take(name="ticket"),
            subject=subject,
            status=Status.NEW,
            priority=priority,
            channel=channel,
            customer=customer,
            owner=owner,
            team=team,
            created_at=now,
            updated_at=now,
        )
        if tag_names:
            ticket.tags.set(_tags_get_or_create(tag_names))
        event_record(
            kind="ticket.created",
            subject_type="ticket",
            subject_id=ticket.pk,
            actor_id=author_agent.pk if author_agent else None,
            payload={"channel": channel, "customer": customer.pk},
        )
        _message_insert(
            ticket=ticket,
            text=text,
            safe_html=safe_html,
            direction=Message.Direction.OUTBOUND if author_agent else Message.Direction.INBOUND,
            visibility=Message.Visibility.PUBLIC,
            channel=channel,
            author_agent=author_agent,
            author_customer=None if author_agent else customer,
            attachments=attachments or [],
            meta=meta or {},
            now=now,
            deliver=False,
        )
    return ticket


def _message_insert(
    *,
    ticket: Ticket,
    text: str,
    safe_html: str,
    direction: str,
    visibility: str,
    channel: str,
    author_agent: Agent | None,
    author_customer: Customer | None,
    attachments: list[UploadedFile],
    meta: dict[str, Any],
    now: Any,
    deliver: bool,
) -> Message:
    message = Message.objects.create(
        ticket=ticket,
        direction=direction,
        visibility=visibility,
        channel=channel,
        author_agent=author_agent,
        author_customer=author_customer,
        body_text=text,
        body_html=safe_html,
        meta=meta,
        created_at=now,
    )
    for upload in attachments:
        attachment_store(message=message, upload=upload)
    updates: dict[str, Any] = {"message_count": ticket.message_count + 1, "updated_at": now}
    if visibility == Message.Visibility.PUBLIC:
        updates["last_message_at"] = now
    if (
        direction == Message.Direction.OUTBOUND
        and visibility == Message.Visibility.PUBLIC
        and author_agent is not None
        and ticket.first_response_at is None
        and ticket.message_count > 0
    ):
        updates["first_response_at"] = now
    for name, value in updates.items():
        setattr(ticket, name, value)
    Ticket.objects.filter(pk=ticket.pk).update(**updates)
    event_record(
        kind="message.added",
        subject_type="ticket",
        subject_id=ticket.pk,
        actor_id=author_agent.pk if author_agent else None,
        payload={"message": message.pk, "visibility": visibility, "direction": direction},
    )
    if (
        deliver
        and direction == Message.Direction.OUTBOUND
        and visibility == Message.Visibility.PUBLIC
    ):
        deliverer = registry.deliverer_for(ticket.channel)
        if deliverer is not None:
            message_id = message.pk
            transaction.on_commit(lambda: deliverer(message_id))
    return message


def message_add(
    *,
    ticket: Ticket,
    body: str,
    html: str | None = None,
    visibility: str = Message.Visibility.PUBLIC,
    channel: str | None = None,
    author_agent: Agent | None = None,
    author_customer: Customer | None = None,
    attachments: list[UploadedFile] | None = None,
    meta: dict[str, Any] | None = None,
    reopen: bool = True,
) -> Message:
    """Add a reply, an internal note or an inbound customer message to a ticket.

    A customer's message reopens a new, pending or solved ticket unless ``reopen`` is False
    (automated mail such as an out-of-office reply or a bounce must not).
    """
    if (author_agent is None) == (author_customer is None):
        raise ValidationFailed("A message has exactly one author: an agent or the customer.")
    _check_choice(visibility, Message.Visibility.values, "visibility")
    if author_customer is not None and visibility != Message.Visibility.PUBLIC:
        raise ValidationFailed("Customers cannot write internal notes.", field="visibility")
    if (
        author_agent is not None
        and author_agent.role == Agent.Role.LIGHT
        and visibility == Message.Visibility.PUBLIC
    ):
        raise PermissionDenied("Light agents can add internal notes only.")
    channel = channel or ticket.channel
    _check_choice(channel, Channel.values, "channel")
    if ticket.status == Status.CLOSED and author_customer is not None:
        raise ValidationFailed("This ticket is closed; open a new one.", code="ticket_closed")
    text, safe_html = _clean_body(body, html)
    validate_uploads(attachments or [])
    now = timezone.now()
    direction = Message.Direction.INBOUND if author_customer else Message.Direction.OUTBOUND
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        message = _message_insert(
            ticket=ticket,
            text=text,
            safe_html=safe_html,
            direction=direction,
            visibility=visibility,
            channel=channel,
            author_agent=author_agent,
            author_customer=author_customer,
            attachments=attachments or [],
            meta=meta or {},
            now=now,
            deliver=True,
        )
        # A customer writing again reopens the conversation; a first public reply opens a new one.
        if (
            reopen
            and author_customer is not None
            and ticket.status
            in (
                Status.PENDING,
                Status.SOLVED,
                Status.NEW,
            )
        ):
            _status_apply(
                ticket=ticket, status=Status.OPEN, actor_id=None, reason="customer replied"
            )
        elif (
            author_agent is not None
            and visibility == Message.Visibility.PUBLIC
            and ticket.status == Status.NEW
        ):
            _status_apply(
                ticket=ticket, status=Status.OPEN, actor_id=author_agent.pk, reason="agent replied"
            )
    return message


def ticket_tag_add(*, ticket: Ticket, tag: str, reason: str) -> bool:
    """Tag the ticket (unless it already has the tag); returns whether the tag was added.

    Records ``ticket.tag_added`` with the reason, for the timeline and audit.
    """
    [name] = tags_normalize([tag])
    with transaction.atomic():
        if ticket.tags.filter(name=name).exists():
            return False
        ticket.tags.add(*_tags_get_or_create([name]))
        event_record(
            kind="ticket.tag_added",
            subject_type="ticket",
            subject_id=ticket.pk,
            payload={"tag": name, "reason": reason[:500]},
        )
    return True


def _status_apply(*, ticket: Ticket, status: str, actor_id: int | None, reason: str = "") -> None:
    before = ticket.status
    if before == status:
        return
    if not can_transition(before, status):
        raise ValidationFailed(
            f"A {Status(before).label.lower()} ticket cannot become {Status(status).label.lower()}.",
            code="invalid_transition",
            field="status",
        )
    now = timezone.now()
    ticket.status = status
    ticket.updated_at = now
    if status == Status.SOLVED:
        ticket.solved_at = now
    elif status != Status.CLOSED:
        ticket.solved_at = None
    Ticket.objects.filter(pk=ticket.pk).update(
        status=status, updated_at=now, solved_at=ticket.solved_at
    )
    event_record(
        kind="ticket.status_changed",
        subject_type="ticket",
        subject_id=ticket.pk,
        actor_id=actor_id,
        payload={"from": before, "to": status, "reason": reason},
    )


@dataclass
class TicketChanges:
    """What an agent asked to change. ``None`` means "leave as is"; ``clear_*`` unsets."""

    status: str | None = None
    priority: int | None = None
    owner: Agent | None = None
    clear_owner: bool = False
    team: Team | None = None
    clear_team: bool = False
    tags: list[str] | None = None
    subject: str | None = None
    fields_changed: list[str] = field(default_factory=list)


def ticket_update(*, ticket: Ticket, changes: TicketChanges, actor: Agent) -> Ticket:
    """Apply several changes atomically: all of them or, on any invalid one, none."""
    if actor.role == Agent.Role.LIGHT:
        raise PermissionDenied("Light agents cannot change tickets.")
    if changes.status is not None:
        _check_choice(changes.status, Status.values, "status")
    if changes.priority is not None:
        _check_choice(str(changes.priority), [str(v) for v in Priority.values], "priority")
    subject = _clean_subject(changes.subject) if changes.subject is not None else None
    tag_names = tags_normalize(changes.tags) if changes.tags is not None else None
    if changes.owner is not None and not changes.owner.is_active:
        raise ValidationFailed(f"{changes.owner} is not an active agent.", field="owner")
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if changes.status is not None:
            _status_apply(ticket=ticket, status=changes.status, actor_id=actor.pk)
        simple: dict[str, Any] = {}
        if changes.priority is not None and changes.priority != ticket.priority:
            simple["priority"] = (ticket.priority, changes.priority)
        if subject is not None and subject != ticket.subject:
            simple["subject"] = (ticket.subject, subject)
        new_owner_id = (
            None
            if changes.clear_owner
            else (changes.owner.pk if changes.owner else ticket.owner_id)
        )
        if new_owner_id != ticket.owner_id:
            simple["owner_id"] = (ticket.owner_id, new_owner_id)
        new_team_id = (
            None if changes.clear_team else (changes.team.pk if changes.team else ticket.team_id)
        )
        if new_team_id != ticket.team_id:
            simple["team_id"] = (ticket.team_id, new_team_id)
        for name, (before, after) in simple.items():
            setattr(ticket, name, after)
            event_record(
                kind=f"ticket.{name.removesuffix('_id')}_changed",
                subject_type="ticket",
                subject_id=ticket.pk,
                actor_id=actor.pk,
                payload={"from": before, "to": after},
            )
        if tag_names is not None:
            before_tags = sorted(ticket.tags.values_list("name", flat=True))
            if before_tags != tag_names:
                ticket.tags.set(_tags_get_or_create(tag_names))
                event_record(
                    kind="ticket.tags_changed",
                    subject_type="ticket",
                    subject_id=ticket.pk,
                    actor_id=actor.pk,
                    payload={"from": before_tags, "to": tag_names},
                )
        if simple or tag_names is not None:
            ticket.updated_at = timezone.now()
            Ticket.objects.filter(pk=ticket.pk).update(
                updated_at=ticket.updated_at, **{k: v[1] for k, v in simple.items()}
            )
    return ticket


def phone_call_log(
    *,
    agent: Agent,
    customer: Customer,
    direction: str,
    duration_seconds: int,
    summary: str,
    outcome: str = "",
    ticket: Ticket | None = None,
    subject: str = "",
) -> Message:
    """Record a phone call as a message on an existing ticket or on a new phone ticket."""
    _check_choice(direction, Message.Direction.values, "direction")
    if duration_seconds < 0 or duration_seconds > 24 * 3600:
        raise ValidationFailed(
            "The call duration must be between 0 and 24 hours.", field="duration"
        )
    if ticket is not None and ticket.customer_id != customer.pk:
        raise ValidationFailed("That ticket belongs to another customer.", field="ticket")
    meta = {
        "call": {
            "direction": direction,
            "duration_seconds": duration_seconds,
            "outcome": outcome[:200],
        }
    }
    inbound = direction == Message.Direction.INBOUND
    if ticket is None:
        with transaction.atomic():
            ticket = ticket_create(
                customer=customer,
                subject=subject or _("Phone call"),
                body=summary,
                channel=Channel.PHONE,
                author_agent=None if inbound else agent,
                meta={**meta, "logged_by": agent.pk},
            )
            ticket_update(ticket=ticket, changes=TicketChanges(owner=agent), actor=agent)
        return Message.objects.select_related("ticket").get(ticket_id=ticket.pk)
    return message_add(
        ticket=ticket,
        body=summary,
        channel=Channel.PHONE,
        author_agent=None if inbound else agent,
        author_customer=customer if inbound else None,
        meta={**meta, "logged_by": agent.pk},
    )


def _(text: str) -> str:
    from django.utils.translation import gettext

    return gettext(text)
