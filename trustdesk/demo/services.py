"""``demo_seed``: realistic demo data for a first start, written through a fast bulk path.

The seed is deterministic (Faker and ``random`` are seeded; times are relative to now). It
writes rows in bulk rather than through ``tickets.services`` one message at a time, but keeps
the invariants those services keep: ticket numbers come from ``core.services.counter_take``,
``message_count``/``last_message_at``/``first_response_at``/``solved_at`` agree with the
messages, and every ticket has its ``ticket.created``, ``message.added`` and status events.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from faker import Faker

from trustdesk.accounts.models import Agent
from trustdesk.core.errors import Conflict
from trustdesk.core.html import text_to_html
from trustdesk.core.models import Event
from trustdesk.core.services import counter_take, event_record
from trustdesk.demo import people
from trustdesk.demo.conversations import Plan, Planner, Step, schedule
from trustdesk.tickets.models import Message, Tag, Ticket

SEED_EVENT = "demo.seeded"


@dataclass(frozen=True)
class SeedResult:
    agents: int
    customers: int
    tickets: int
    messages: int
    seconds: float


def demo_seeded() -> bool:
    return Event.objects.filter(kind=SEED_EVENT).exists()


def demo_login() -> tuple[str, str] | None:
    """The demo login to print (email, password), or None when there is no demo agent.

    The default password is printed as is: it is public, local-only demo data. A password set
    through the environment is not echoed.
    """
    if not Agent.objects.filter(email=people.DEMO_EMAIL, is_active=True).exists():
        return None
    if people.demo_password() == people.DEFAULT_DEMO_PASSWORD:
        return people.DEMO_EMAIL, people.DEFAULT_DEMO_PASSWORD
    return people.DEMO_EMAIL, "(the value of TRUSTDESK_DEMO_PASSWORD)"


def demo_seed(
    *,
    customers: int = 200,
    tickets: int = 1000,
    seed: int = 2024,
    force: bool = False,
    password: str | None = None,
) -> SeedResult:
    """Seed demo teams, agents, customers and tickets. Refuses a second run unless ``force``."""
    started = time.monotonic()
    runs = Event.objects.filter(kind=SEED_EVENT).count()
    if runs and not force:
        raise Conflict(
            "Demo data is already loaded; run with --force to add another set.",
            code="demo_already_seeded",
        )
    rng = random.Random(seed + runs)  # noqa: S311 (demo data, not secrets)
    fake = Faker()
    fake.seed_instance(seed + runs)
    now = timezone.now()
    with transaction.atomic():
        teams, agents = people.teams_and_agents(password=password or people.demo_password())
        orgs = people.organizations(fake=fake, rng=rng, now=now, count=max(customers // 16, 1))
        demo_customers = people.customers(
            rng=rng, seed=seed + runs, now=now, count=customers, orgs=orgs, run=runs
        )
        by_team: dict[str, list[Agent]] = {name: [] for name in teams}
        for spec, agent in zip(people.AGENTS, agents, strict=True):
            by_team[spec.team].append(agent)
        planner = Planner(rng=rng, now=now, agents_by_team=by_team)
        # A few customers write a lot, most write once or twice.
        weights = [1 / (rank + 1) ** 0.7 for rank in range(len(demo_customers))]
        plans = [planner.plan(c) for c in rng.choices(demo_customers, weights=weights, k=tickets)]
        for plan in plans:
            schedule(plan, now)
        plans.sort(key=lambda p: p.created_at)
        message_count = _tickets_write(plans, teams=teams, now=now, rng=rng)
        event_record(
            kind=SEED_EVENT,
            subject_type="demo",
            subject_id=runs + 1,
            payload={"customers": customers, "tickets": tickets, "seed": seed},
        )
    return SeedResult(
        agents=len(agents),
        customers=len(demo_customers),
        tickets=len(plans),
        messages=message_count,
        seconds=round(time.monotonic() - started, 2),
    )


@dataclass
class _Outcome:
    """What a plan's steps add up to, computed by the rules of ``tickets.services``."""

    status: str
    first_response_at: datetime | None
    last_message_at: datetime | None
    solved_at: datetime | None
    updated_at: datetime
    status_changes: list[tuple[datetime, str, str, bool]]  # at, from, to, by the agent


def _outcome(plan: Plan) -> _Outcome:
    status = "new"
    first_response = last_public = solved = None
    changes: list[tuple[datetime, str, str, bool]] = []

    def move(at: datetime, to: str, by_agent: bool) -> None:
        nonlocal status, solved
        if to != status:
            changes.append((at, status, to, by_agent))
            status = to
            solved = at if to == "solved" else (solved if to == "closed" else None)

    for index, step in enumerate(plan.steps):
        assert step.at is not None
        public = step.kind not in ("note", "status")
        if public:
            last_public = step.at
        if (
            index
            and step.kind in ("customer", "call_in")
            and status in ("new", "pending", "solved")
        ):
            move(step.at, "open", by_agent=False)
        if step.kind in ("agent", "call_out"):
            first_response = first_response or step.at
            if status == "new":
                move(step.at, "open", by_agent=True)
        if step.sets:
            move(step.at, step.sets, by_agent=True)
    last = plan.steps[-1].at
    assert last is not None
    return _Outcome(status, first_response, last_public, solved, last, changes)


def _tickets_write(
    plans: list[Plan], *, teams: dict[str, Any], now: datetime, rng: random.Random
) -> int:
    first_number = counter_take(name="ticket", count=len(plans))
    outcomes = [_outcome(plan) for plan in plans]
    rows = [
        Ticket(
            number=first_number + index,
            subject=plan.subject,
            status=outcome.status,
            priority=plan.priority,
            channel=plan.channel,
            customer=plan.customer.customer,
            owner=plan.agent if plan.assigned else None,
            team=teams[plan.topic.team],
            created_at=plan.created_at,
            updated_at=outcome.updated_at,
            first_response_at=outcome.first_response_at,
            solved_at=outcome.solved_at,
            last_message_at=outcome.last_message_at,
            message_count=sum(1 for s in plan.steps if s.kind != "status"),
        )
        for index, (plan, outcome) in enumerate(zip(plans, outcomes, strict=True))
    ]
    saved = Ticket.objects.bulk_create(rows, batch_size=500)
    _tags_write(plans, saved)
    messages: list[Message] = []
    for plan, ticket in zip(plans, saved, strict=True):
        messages.extend(
            _message(plan, ticket, step, rng) for step in plan.steps if step.kind != "status"
        )
    Message.objects.bulk_create(messages, batch_size=1000)
    _events_write(plans, saved, outcomes, messages)
    return len(messages)


def _tags_write(plans: list[Plan], tickets: list[Ticket]) -> None:
    names = sorted({name for plan in plans for name in plan.tags})
    Tag.objects.bulk_create([Tag(name=name) for name in names], ignore_conflicts=True)
    tag_ids = dict(Tag.objects.filter(name__in=names).values_list("name", "pk"))
    through = Ticket.tags.through
    Ticket.tags.through.objects.bulk_create(
        [
            through(ticket_id=ticket.pk, tag_id=tag_ids[name])
            for plan, ticket in zip(plans, tickets, strict=True)
            for name in sorted(set(plan.tags))
        ],
        batch_size=1000,
    )


def _message(plan: Plan, ticket: Ticket, step: Step, rng: random.Random) -> Message:
    agent = plan.agent
    customer = plan.customer.customer
    by_customer = step.kind in ("customer", "call_in")
    channel = plan.channel
    text = step.text
    meta: dict[str, Any] = dict(step.meta)
    if step.kind in ("call_in", "call_out"):
        channel = "phone"
        meta["logged_by"] = agent.pk
    elif channel == "phone":
        channel = "email"  # phone tickets continue by email after the first call
    if step.kind == "agent" and channel in ("email", "web"):
        text = f"Hi {customer.greeting_name},\n\n{text}\n\nBest regards,\n{agent.get_short_name()}"
        text += f"\n\n-- \n{agent.signature}"
    elif step.kind == "customer" and channel in ("email", "web"):
        text = f"{text}\n\n{customer.full_name}"
    if channel == "email" and step.kind in ("customer", "agent"):
        domain = plan.customer.email.rpartition("@")[2] if by_customer else "trustdesk.local"
        meta["email"] = {"message_id": f"<{rng.getrandbits(64):016x}@{domain}>"}
    assert step.at is not None
    return Message(
        ticket=ticket,
        direction="in" if by_customer else "out",
        visibility="internal" if step.kind == "note" else "public",
        channel=channel,
        author_agent=None if by_customer else agent,
        author_customer=customer if by_customer else None,
        body_text=text,
        body_html=text_to_html(text),
        meta=meta,
        created_at=step.at,
    )


def _events_write(
    plans: list[Plan], tickets: list[Ticket], outcomes: list[Any], messages: list[Message]
) -> None:
    events: list[Event] = []
    by_ticket: dict[int, list[Message]] = {}
    for message in messages:
        by_ticket.setdefault(message.ticket_id, []).append(message)
    for plan, ticket, outcome in zip(plans, tickets, outcomes, strict=True):
        events.append(
            Event(
                kind="ticket.created",
                subject_type="ticket",
                subject_id=ticket.pk,
                payload={"channel": plan.channel, "customer": plan.customer.customer.pk},
                created_at=plan.created_at,
            )
        )
        for message in by_ticket[ticket.pk]:
            events.append(
                Event(
                    kind="message.added",
                    subject_type="ticket",
                    subject_id=ticket.pk,
                    actor_id=message.author_agent_id,
                    payload={
                        "message": message.pk,
                        "visibility": message.visibility,
                        "direction": message.direction,
                    },
                    created_at=message.created_at,
                )
            )
        for at, before, after, by_agent in outcome.status_changes:
            events.append(
                Event(
                    kind="ticket.status_changed",
                    subject_type="ticket",
                    subject_id=ticket.pk,
                    actor_id=plan.agent.pk if by_agent else None,
                    payload={"from": before, "to": after, "reason": "demo"},
                    created_at=at,
                )
            )
    events.sort(key=lambda e: e.created_at)
    Event.objects.bulk_create(events, batch_size=1000)
