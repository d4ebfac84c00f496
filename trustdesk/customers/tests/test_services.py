"""Customer services called by other apps."""

from __future__ import annotations

import pytest

from trustdesk.core.models import Event
from trustdesk.customers.models import Customer
from trustdesk.customers.services import contact_point_mark_undeliverable

pytestmark = pytest.mark.django_db


def test_contact_point_mark_undeliverable_flags_once_and_records_why(customer: Customer) -> None:
    assert contact_point_mark_undeliverable(
        kind="email", value=" Marie@Example.org ", reason="bounced"
    )
    assert not contact_point_mark_undeliverable(kind="email", value="marie@example.org", reason="x")
    assert customer.contact_points.get().undeliverable is True
    events = Event.objects.filter(kind="customer.contact_undeliverable")
    assert [(e.subject_id, e.payload) for e in events] == [
        (customer.pk, {"kind": "email", "value": "marie@example.org", "reason": "bounced"})
    ]


def test_contact_point_mark_undeliverable_ignores_unknown_addresses(customer: Customer) -> None:
    assert not contact_point_mark_undeliverable(kind="email", value="x@example.org", reason="r")
    assert customer.contact_points.get().undeliverable is False
    assert not Event.objects.filter(kind="customer.contact_undeliverable").exists()
