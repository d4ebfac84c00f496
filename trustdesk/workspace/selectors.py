"""Reads the workspace needs on top of the tickets and customers selectors.

Paging never counts the whole result: the default sorts walk the id index with a keyset cursor,
the others use a capped offset, and sidebar counts stop at ``COUNT_CAP``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from trustdesk.accounts.models import Agent, Team
from trustdesk.core.models import Event
from trustdesk.tickets.models import Channel, Message, Priority, Status, Ticket
from trustdesk.tickets.selectors import ticket_list

INBOX_VIEWS = ("mine", "unassigned", "team", "all")
PAGE_SIZE = 25
COUNT_CAP = 100
MAX_OFFSET_PAGES = 40
ACTIVITY_LIMIT = 200

Sort = Literal["newest", "oldest", "updated", "priority"]
KEYSET_SORTS = ("newest", "oldest")
_ORDERING: dict[str, tuple[str, ...]] = {
    "newest": ("-id",),
    "oldest": ("id",),
    "updated": ("-updated_at", "-id"),
    "priority": ("-priority", "-id"),
}


@dataclass(frozen=True)
class CappedCount:
    value: int
    capped: bool

    def __str__(self) -> str:
        return f"{self.value}+" if self.capped else str(self.value)


def inbox_counts(*, agent: Agent, cap: int = COUNT_CAP) -> dict[str, CappedCount]:
    """Active tickets per inbox view, each counted over at most ``cap + 1`` rows."""
    counts = {}
    for view in INBOX_VIEWS:
        n = ticket_list(agent=agent, view=view, status="active")[: cap + 1].count()
        counts[view] = CappedCount(min(n, cap), n > cap)
    return counts


@dataclass(frozen=True)
class TicketPage:
    tickets: list[Ticket]
    sort: str
    # Keyset sorts: the cursors for the pages before and after this one (None at either end).
    before: int | None = None
    after: int | None = None
    # Offset sorts: the current page number and whether neighbours exist.
    page: int | None = None
    has_previous: bool = False
    has_next: bool = False
    depth_limited: bool = False


def ticket_page(
    *,
    queryset: QuerySet[Ticket],
    sort: str = "newest",
    before: int | None = None,
    after: int | None = None,
    page: int = 1,
    size: int = PAGE_SIZE,
) -> TicketPage:
    """One page of ``queryset`` in ``sort`` order, without counting the whole result.

    For the id sorts, ``after=<id>`` is the page following that ticket in display order and
    ``before=<id>`` the page preceding it. Other sorts take ``page`` (1-based, capped at
    ``MAX_OFFSET_PAGES``).
    """
    qs = queryset.prefetch_related("tags")
    if sort in KEYSET_SORTS:
        return _keyset_page(qs, sort=sort, before=before, after=after, size=size)
    page = max(1, min(page, MAX_OFFSET_PAGES))
    start = (page - 1) * size
    rows = list(qs.order_by(*_ORDERING[sort])[start : start + size + 1])
    return TicketPage(
        tickets=rows[:size],
        sort=sort,
        page=page,
        has_previous=page > 1,
        has_next=len(rows) > size and page < MAX_OFFSET_PAGES,
        depth_limited=len(rows) > size and page >= MAX_OFFSET_PAGES,
    )


def _keyset_page(
    qs: QuerySet[Ticket], *, sort: str, before: int | None, after: int | None, size: int
) -> TicketPage:
    descending = sort == "newest"
    forward = ("-id",) if descending else ("id",)
    backward = ("id",) if descending else ("-id",)
    if before is not None:
        # Walk backwards from the cursor, then restore display order.
        cond = {"id__gt": before} if descending else {"id__lt": before}
        rows = list(qs.filter(**cond).order_by(*backward)[: size + 1])
        more_before = len(rows) > size
        rows = rows[:size][::-1]
        return TicketPage(
            tickets=rows,
            sort=sort,
            before=rows[0].pk if rows and more_before else None,
            after=rows[-1].pk if rows else None,
        )
    if after is not None:
        qs = qs.filter(**({"id__lt": after} if descending else {"id__gt": after}))
    rows = list(qs.order_by(*forward)[: size + 1])
    more_after = len(rows) > size
    rows = rows[:size]
    return TicketPage(
        tickets=rows,
        sort=sort,
        before=rows[0].pk if rows and after is not None else None,
        after=rows[-1].pk if rows and more_after else None,
    )


def owner_choices() -> QuerySet[Agent]:
    return Agent.objects.filter(is_active=True).only("id", "display_name", "email")


def team_choices() -> QuerySet[Team]:
    return Team.objects.only("id", "name")


@dataclass(frozen=True)
class ActivityItem:
    created_at: datetime
    actor: str
    text: str
    kind: str


def ticket_activity(*, ticket: Ticket, limit: int = ACTIVITY_LIMIT) -> list[ActivityItem]:
    """The ticket's event rows, newest first, described for people (three queries at most)."""
    events = list(
        Event.objects.filter(subject_type="ticket", subject_id=ticket.pk)
        .select_related("actor")
        .order_by("-id")[:limit]
    )
    agent_ids: set[int] = set()
    team_ids: set[int] = set()
    for event in events:
        if event.kind == "ticket.owner_changed":
            agent_ids.update(v for v in (event.payload.get("from"), event.payload.get("to")) if v)
        elif event.kind == "ticket.team_changed":
            team_ids.update(v for v in (event.payload.get("from"), event.payload.get("to")) if v)
    names: dict[str, dict[int, str]] = {
        "owner": {a.pk: str(a) for a in Agent.objects.filter(pk__in=agent_ids)}
        if agent_ids
        else {},
        "team": {t.pk: t.name for t in Team.objects.filter(pk__in=team_ids)} if team_ids else {},
    }
    return [
        ActivityItem(
            created_at=event.created_at,
            actor=_actor(event, ticket),
            text=_describe(event, names),
            kind=event.kind,
        )
        for event in events
    ]


def _actor(event: Event, ticket: Ticket) -> str:
    if event.actor is not None:
        return str(event.actor)
    if event.kind == "message.added" and event.payload.get("direction") == "in":
        return str(ticket.customer)
    return _("Trustdesk")


def _label(choices: Any, value: Any) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def _describe(event: Event, names: dict[str, dict[int, str]]) -> str:
    p = event.payload
    kind = event.kind
    if kind == "ticket.created":
        return _("opened the ticket via %(channel)s") % {
            "channel": _label(Channel, p.get("channel"))
        }
    if kind == "message.added":
        if p.get("visibility") == Message.Visibility.INTERNAL:
            return _("added an internal note")
        if p.get("direction") == Message.Direction.INBOUND:
            return _("wrote a message")
        return _("sent a public reply")
    if kind == "ticket.status_changed":
        text = _("changed the status from %(from)s to %(to)s") % {
            "from": _label(Status, p.get("from")),
            "to": _label(Status, p.get("to")),
        }
        return f"{text} ({p['reason']})" if p.get("reason") else text
    if kind == "ticket.priority_changed":
        return _("changed the priority from %(from)s to %(to)s") % {
            "from": _label(Priority, p.get("from")),
            "to": _label(Priority, p.get("to")),
        }
    if kind in ("ticket.owner_changed", "ticket.team_changed"):
        which = "owner" if kind == "ticket.owner_changed" else "team"
        nobody = _("nobody") if which == "owner" else _("no team")
        before = names[which].get(p.get("from") or 0, nobody)
        after = names[which].get(p.get("to") or 0, nobody)
        if which == "owner":
            return _("changed the owner from %(from)s to %(to)s") % {"from": before, "to": after}
        return _("changed the team from %(from)s to %(to)s") % {"from": before, "to": after}
    if kind == "ticket.tags_changed":
        return _("set the tags to %(tags)s") % {"tags": ", ".join(p.get("to") or []) or "—"}
    if kind == "ticket.subject_changed":
        return _("renamed the ticket to “%(subject)s”") % {"subject": p.get("to", "")}
    return kind
