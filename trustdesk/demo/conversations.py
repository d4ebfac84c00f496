"""Believable ticket conversations: who writes what, when, and which status it leads to.

A conversation is planned as a list of steps with gaps between them, then squeezed into the
time between the ticket's creation and now. Status changes follow the same rules as
``tickets.services`` (a customer writing reopens, an agent's first public reply opens, the
agent sets pending, on hold or solved), so the final status, ``first_response_at``,
``last_message_at`` and ``solved_at`` agree with the messages and the events.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from trustdesk.accounts.models import Agent
from trustdesk.demo import content
from trustdesk.demo.content import Topic
from trustdesk.demo.people import DemoCustomer

CHANNELS = ("email", "web", "chat", "phone")
CHANNEL_WEIGHTS = (45, 25, 15, 15)
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 3, 6, 10, 12, 12, 11, 9, 10, 11, 10, 9, 7, 5, 4, 3, 2, 2, 1)


@dataclass
class Step:
    """One message (kind customer/agent/note/call_in/call_out) or a bare status change."""

    kind: str
    gap: float  # minutes since the previous step
    text: str = ""
    sets: str | None = None  # the status an agent sets with this step
    meta: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None


@dataclass
class Plan:
    customer: DemoCustomer
    topic: Topic
    channel: str
    agent: Agent
    created_at: datetime
    subject: str
    priority: int
    status: str  # the intended final status
    assigned: bool
    tags: list[str]
    steps: list[Step]


def _age_status(rng: random.Random, age_days: float) -> str:
    statuses = ("new", "open", "pending", "on_hold", "solved", "closed")
    if age_days < 2:
        weights: tuple[int, ...] = (35, 30, 20, 5, 10, 0)
    elif age_days < 7:
        weights = (4, 25, 25, 10, 36, 0)
    elif age_days < 30:
        weights = (0, 8, 10, 5, 27, 50)
    else:
        weights = (0, 2, 3, 2, 8, 85)
    return rng.choices(statuses, weights=weights)[0]


def _created_at(rng: random.Random, now: datetime) -> datetime:
    day = now - timedelta(days=90 * rng.random() ** 1.15)
    if day.weekday() >= 5 and rng.random() < 0.6:
        day -= timedelta(days=2)
    hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
    at = day.replace(hour=hour, minute=rng.randint(0, 59), second=rng.randint(0, 59))
    if at > now - timedelta(minutes=20):
        at -= timedelta(days=1)
    return at


def _minutes(rng: random.Random, median: float, spread: float, low: float, high: float) -> float:
    return min(max(rng.lognormvariate(math.log(median), spread), low), high)


class Planner:
    def __init__(
        self, *, rng: random.Random, now: datetime, agents_by_team: dict[str, list[Agent]]
    ):
        self.rng = rng
        self.now = now
        self.agents_by_team = agents_by_team

    def plan(self, customer: DemoCustomer) -> Plan:
        rng = self.rng
        topic = rng.choice(content.TOPICS)
        channel = rng.choices(CHANNELS, weights=CHANNEL_WEIGHTS)[0]
        created = _created_at(rng, self.now)
        status = _age_status(rng, (self.now - created).total_seconds() / 86400)
        agent = rng.choice(self.agents_by_team[topic.team])
        org = customer.customer.organization
        self.values = {
            "name": customer.customer.greeting_name,
            "agent": agent.get_short_name(),
            "org": org.name if org else "my company",
            "order": f"NW-{rng.randint(100000, 999999)}",
            "invoice": f"INV-{created.year}-{rng.randint(1, 99999):05d}",
            "amount": f"€{rng.randint(9, 499)}.{rng.choice(['00', '50', '99'])}",
            "product": rng.choice(content.PRODUCTS),
            "date": (created - timedelta(days=rng.randint(1, 20))).strftime("%d %B"),
        }
        case = rng.randrange(len(topic.subjects))
        self.values["opening"] = self.fill(topic.openings[case % len(topic.openings)])
        self.values["resolution"] = self.fill(topic.resolutions[case % len(topic.resolutions)])
        steps = self._chat(topic, status) if channel == "chat" else self._thread(topic, status)
        if channel == "phone":
            steps[0] = self._call("call_in", self.fill(rng.choice(content.CALL_IN_SUMMARIES)))
        tags = list(topic.tags)
        if org is not None and rng.random() < 0.15:
            tags.append("vip")
        if status != "new" and rng.random() < 0.3:
            tags.append(rng.choice(["follow-up", "needs-docs", "churn-risk", "escalated"]))
        return Plan(
            customer=customer,
            topic=topic,
            channel=channel,
            agent=agent,
            created_at=created,
            subject=self.fill(topic.subjects[case]),
            priority=rng.choices((1, 2, 3, 4), weights=topic.priority_weights)[0],
            status=status,
            assigned=status != "new" or rng.random() < 0.3,
            tags=tags,
            steps=steps,
        )

    def fill(self, template: str) -> str:
        return template.format(**self.values)

    def _pick(self, options: tuple[str, ...]) -> str:
        return self.fill(self.rng.choice(options))

    def _reply_gap(self) -> float:
        return _minutes(self.rng, 150, 0.9, 4, 60 * 30)

    def _customer_gap(self) -> float:
        return _minutes(self.rng, 240, 1.0, 3, 60 * 72)

    def _call(self, kind: str, text: str) -> Step:
        rng = self.rng
        return Step(
            kind=kind,
            gap=0 if kind == "call_in" else self._reply_gap(),
            text=text,
            meta={
                "call": {
                    "direction": "in" if kind == "call_in" else "out",
                    "duration_seconds": rng.randint(45, 1500),
                    "outcome": rng.choice(content.CALL_OUTCOMES),
                }
            },
        )

    def _thread(self, topic: Topic, status: str) -> list[Step]:
        """An email, web or phone conversation that ends in ``status``."""
        rng = self.rng
        steps = [Step("customer", 0, self.values["opening"])]
        if status == "new":
            if rng.random() < 0.15:
                steps.append(Step("note", self._reply_gap(), self._pick(content.INTERNAL_NOTES)))
            return steps
        ask_first = status == "pending" or rng.random() < 0.55
        if ask_first:
            steps.append(Step("agent", self._reply_gap(), self._pick(topic.questions), "pending"))
            if status == "pending" and rng.random() < 0.5:
                return self._maybe_note(steps)
            steps.append(Step("customer", self._customer_gap(), self._pick(topic.answers)))
        if rng.random() < 0.12:
            steps.append(self._call("call_out", self._pick(content.CALL_OUT_SUMMARIES)))
            steps[-1].sets = "pending"
        if status == "open":
            if rng.random() < 0.5:
                steps.append(Step("agent", self._reply_gap(), self.values["resolution"], "pending"))
                steps.append(
                    Step("customer", self._customer_gap(), self._pick(content.STILL_BROKEN))
                )
            elif rng.random() < 0.4 or steps[-1].kind != "customer":
                steps.append(Step("customer", self._customer_gap(), self._pick(content.FOLLOW_UPS)))
        elif status == "pending":
            steps.append(Step("agent", self._reply_gap(), self.values["resolution"], "pending"))
        elif status == "on_hold":
            steps.append(
                Step("agent", self._reply_gap(), self._pick(content.ON_HOLD_REPLIES), "on_hold")
            )
            steps.append(Step("note", 5, self._pick(content.INTERNAL_NOTES)))
        else:  # solved or closed
            steps.append(Step("agent", self._reply_gap(), self.values["resolution"], "solved"))
            if rng.random() < 0.35:
                steps.append(Step("customer", self._customer_gap(), self._pick(content.THANKS)))
                steps.append(Step("status", _minutes(rng, 30, 1, 1, 600), sets="solved"))
            if status == "closed":
                steps.append(Step("status", 60 * 24 * 4, sets="closed"))
        return self._maybe_note(steps)

    def _maybe_note(self, steps: list[Step]) -> list[Step]:
        if len(steps) > 1 and self.rng.random() < 0.25:
            position = self.rng.randint(2, len(steps)) if len(steps) > 2 else 2
            steps.insert(position, Step("note", 10, self._pick(content.INTERNAL_NOTES)))
        return steps

    def _chat(self, topic: Topic, status: str) -> list[Step]:
        """A live chat transcript: short lines, minutes apart."""
        rng = self.rng

        def quick() -> float:
            return _minutes(rng, 1.2, 0.6, 0.2, 6)

        steps = [
            Step("customer", 0, rng.choice(content.CHAT_OPENINGS)),
            Step("customer", 0.3, self.values["opening"]),
        ]
        if status == "new":
            return steps
        steps.append(Step("agent", quick(), self.fill(content.CHAT_AGENT_LINES[0])))
        steps.append(Step("agent", quick(), self._pick(topic.questions), "pending"))
        if status == "pending":
            return steps
        steps.append(Step("customer", quick(), self._pick(topic.answers)))
        if status == "open":
            return steps
        if status == "on_hold":
            steps.append(Step("agent", quick(), self._pick(content.ON_HOLD_REPLIES), "on_hold"))
            return steps
        steps.append(Step("agent", quick(), self.fill(content.CHAT_AGENT_LINES[1])))
        steps.append(Step("agent", quick() + 2, self.values["resolution"]))
        steps.append(Step("customer", quick(), rng.choice(content.CHAT_CUSTOMER_LINES)))
        steps.append(Step("agent", quick(), self.fill(content.CHAT_AGENT_LINES[3]), "solved"))
        if status == "closed":
            steps.append(Step("status", 60 * 24 * 4, sets="closed"))
        return steps


def schedule(plan: Plan, now: datetime) -> None:
    """Give every step a time: planned gaps, squeezed to end at least a minute before now."""
    room = (now - plan.created_at).total_seconds() / 60 - 1
    total = sum(step.gap for step in plan.steps)
    factor = min(1.0, room / total) if total > 0 else 1.0
    at = plan.created_at
    for step in plan.steps:
        at += timedelta(minutes=step.gap * factor)
        step.at = at
