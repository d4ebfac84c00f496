from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from trustdesk.accounts.models import Agent, Team
from trustdesk.core.models import Counter as NamedCounter
from trustdesk.core.models import Event
from trustdesk.customers.models import ContactPoint, Customer
from trustdesk.demo.services import demo_login, demo_seed
from trustdesk.tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db


def test_full_seed_is_consistent_and_realistic() -> None:
    """One full-size seed (it takes seconds), checked from every side."""
    result = demo_seed()

    check_counts(result)
    check_ticket_numbers_come_from_the_counter()
    check_ticket_counters_and_times_agree_with_messages()
    check_statuses_follow_the_events()
    check_the_spread_is_realistic()
    check_phone_calls_carry_duration_and_outcome()
    check_agent_email_replies_are_signed()
    check_customers_have_rich_profiles()
    check_only_the_demo_agent_can_log_in()


def check_counts(result: Any) -> None:
    assert (result.agents, result.customers, result.tickets) == (5, 200, 1000)
    assert result.messages == Message.objects.count()
    assert result.messages > 3000
    assert sorted(Team.objects.values_list("name", flat=True)) == ["Billing", "Support"]
    assert Agent.objects.count() == 5
    assert Agent.objects.filter(role="admin").count() == 1
    assert Customer.objects.count() == 200
    assert Ticket.objects.count() == 1000


def check_ticket_numbers_come_from_the_counter() -> None:
    numbers = sorted(Ticket.objects.values_list("number", flat=True))
    assert numbers == list(range(numbers[0], numbers[0] + 1000))
    assert NamedCounter.objects.get(name="ticket").value == numbers[-1]
    # Numbers grow with creation time.
    by_time = list(Ticket.objects.order_by("created_at", "id").values_list("number", flat=True))
    assert by_time == numbers


def check_ticket_counters_and_times_agree_with_messages() -> None:
    now = timezone.now()
    tickets = Ticket.objects.annotate(
        n=Count("messages"),
        last_public=Max("messages__created_at", filter=Q(messages__visibility="public")),
        first_reply=Min(
            "messages__created_at",
            filter=Q(messages__direction="out", messages__visibility="public"),
        ),
        first_at=Min("messages__created_at"),
        last_at=Max("messages__created_at"),
    )
    for t in tickets:
        assert t.message_count == t.n, t.number
        assert t.last_message_at == t.last_public, t.number
        assert t.first_response_at == t.first_reply, t.number
        assert t.first_at == t.created_at, t.number
        assert now - timedelta(days=93) < t.created_at <= t.last_at < now, t.number
        assert t.updated_at >= t.last_at, t.number
        assert (t.solved_at is not None) == (t.status in ("solved", "closed")), t.number
        if t.status == "new":
            assert t.first_response_at is None, t.number


def check_statuses_follow_the_events() -> None:
    last_to: dict[int, str] = {}
    for subject_id, payload in (
        Event.objects.filter(kind="ticket.status_changed")
        .order_by("created_at", "id")
        .values_list("subject_id", "payload")
    ):
        last_to[subject_id] = payload["to"]
    for pk, status in Ticket.objects.values_list("pk", "status"):
        assert last_to.get(pk, "new") == status
    created = Event.objects.filter(kind="ticket.created")
    assert created.count() == 1000
    assert set(created.values_list("subject_id", flat=True)) == set(
        Ticket.objects.values_list("pk", flat=True)
    )
    assert Event.objects.filter(kind="message.added").count() == Message.objects.count()


def check_the_spread_is_realistic() -> None:
    statuses = Counter(Ticket.objects.values_list("status", flat=True))
    assert set(statuses) == {"new", "open", "pending", "on_hold", "solved", "closed"}
    assert statuses.most_common(1)[0][0] == "closed"
    channels = Counter(Ticket.objects.values_list("channel", flat=True))
    assert set(channels) == {"email", "web", "chat", "phone"}
    assert len(set(Ticket.objects.values_list("priority", flat=True))) == 4
    assert Ticket.tags.through.objects.count() >= 1000
    assert Message.objects.filter(visibility="internal").count() > 50


def check_phone_calls_carry_duration_and_outcome() -> None:
    calls = list(Message.objects.filter(meta__has_key="call"))
    assert len(calls) > 100
    for message in calls:
        call = message.meta["call"]
        assert message.channel == "phone"
        assert call["direction"] == message.direction
        assert 45 <= call["duration_seconds"] <= 1500
        assert call["outcome"]


def check_agent_email_replies_are_signed() -> None:
    replies = Message.objects.filter(direction="out", channel="email", visibility="public")
    assert replies.exists()
    for message in replies.select_related("author_agent")[:200]:
        assert message.author_agent is not None
        assert message.body_text.endswith("\n\n-- \n" + message.author_agent.signature)


def check_customers_have_rich_profiles() -> None:
    customers = Customer.objects.all()
    assert customers.filter(organization__isnull=False).count() > 40
    assert customers.exclude(preferred_name="").count() > 20
    assert customers.exclude(notes="").count() > 20
    assert len(set(customers.values_list("language", flat=True))) >= 5
    assert len(set(customers.values_list("time_zone", flat=True))) >= 8
    assert all(c.preferences["preferred_channel"] for c in customers)
    emails = ContactPoint.objects.filter(kind="email", is_primary=True)
    assert emails.count() == 200
    assert ContactPoint.objects.filter(kind="phone").count() > 80


def check_only_the_demo_agent_can_log_in() -> None:
    demo = Agent.objects.get(email="demo@trustdesk.local")
    assert demo.has_usable_password()
    assert (demo.role, demo.is_staff, demo.is_superuser) == ("admin", True, True)
    others = Agent.objects.exclude(pk=demo.pk)
    assert [a.has_usable_password() for a in others] == [False] * 4
    assert demo_login() == ("demo@trustdesk.local", "trustdesk-demo")
