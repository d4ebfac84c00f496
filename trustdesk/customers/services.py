"""Writes for customers, organisations and contact points."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from trustdesk.core.errors import Conflict, ValidationFailed
from trustdesk.core.services import event_record
from trustdesk.customers.models import ContactPoint, Customer, Organization

_PHONE_KEEP = re.compile(r"[^\d+]")


def contact_normalize(*, kind: str, value: str) -> str:
    """The canonical form under which a contact point is unique. Raises ``ValidationFailed``."""
    value = value.strip()
    if kind == ContactPoint.Kind.EMAIL:
        value = value.lower()
        try:
            validate_email(value)
        except ValidationError as exc:
            raise ValidationFailed(
                f"{value!r} is not a valid email address.", field="email"
            ) from exc
        return value
    if kind == ContactPoint.Kind.PHONE:
        digits = _PHONE_KEEP.sub("", value)
        if len(digits.lstrip("+")) < 5 or "+" in digits[1:]:
            raise ValidationFailed(f"{value!r} is not a valid phone number.", field="phone")
        return digits
    if kind == ContactPoint.Kind.CHAT:
        if not value or len(value) > 254:
            raise ValidationFailed("A chat visitor id is required.", field="chat")
        return value
    raise ValidationFailed(f"Unknown contact kind {kind!r}.", field="kind")


def _validate_name(full_name: str) -> str:
    full_name = " ".join(full_name.split())
    if not full_name:
        raise ValidationFailed("A customer needs a name.", field="full_name")
    if len(full_name) > 200:
        raise ValidationFailed("The name is longer than 200 characters.", field="full_name")
    return full_name


@dataclass(frozen=True)
class ContactInput:
    kind: str
    value: str


def customer_create(
    *,
    full_name: str,
    contacts: list[ContactInput] | None = None,
    preferred_name: str = "",
    organization: Organization | None = None,
    language: str = "en",
    time_zone: str = "UTC",
    preferences: dict[str, Any] | None = None,
    notes: str = "",
    actor_id: int | None = None,
) -> Customer:
    full_name = _validate_name(full_name)
    normalised = [
        ContactInput(kind=c.kind, value=contact_normalize(kind=c.kind, value=c.value))
        for c in contacts or []
    ]
    _validate_time_zone(time_zone)
    now = timezone.now()
    with transaction.atomic():
        for contact in normalised:
            if ContactPoint.objects.filter(kind=contact.kind, value=contact.value).exists():
                raise Conflict(
                    f"{contact.value} already belongs to another customer.", code="contact_taken"
                )
        customer = Customer.objects.create(
            full_name=full_name,
            preferred_name=preferred_name.strip()[:100],
            organization=organization,
            language=language or "en",
            time_zone=time_zone,
            preferences=preferences or {},
            notes=notes,
            created_at=now,
            updated_at=now,
        )
        seen_kinds: set[str] = set()
        for contact in normalised:
            ContactPoint.objects.create(
                customer=customer,
                kind=contact.kind,
                value=contact.value,
                is_primary=contact.kind not in seen_kinds,
                created_at=now,
            )
            seen_kinds.add(contact.kind)
        event_record(
            kind="customer.created",
            subject_type="customer",
            subject_id=customer.pk,
            actor_id=actor_id,
        )
    return customer


def _validate_time_zone(name: str) -> None:
    from zoneinfo import available_timezones

    if name not in _time_zones(available_timezones):
        raise ValidationFailed(f"Unknown time zone {name!r}.", field="time_zone")


_TZ_CACHE: set[str] = set()


def _time_zones(source: Any) -> set[str]:
    if not _TZ_CACHE:
        _TZ_CACHE.update(source())
        _TZ_CACHE.add("UTC")
    return _TZ_CACHE


UPDATABLE_FIELDS = ("full_name", "preferred_name", "language", "time_zone", "preferences", "notes")


def customer_update(
    *, customer: Customer, changes: dict[str, Any], actor_id: int | None = None
) -> Customer:
    """Apply ``changes`` (a subset of ``UPDATABLE_FIELDS`` plus ``organization``)."""
    unknown = set(changes) - {*UPDATABLE_FIELDS, "organization"}
    if unknown:
        raise ValidationFailed(f"Cannot change {', '.join(sorted(unknown))}.")
    if "full_name" in changes:
        changes["full_name"] = _validate_name(changes["full_name"])
    if "time_zone" in changes:
        _validate_time_zone(changes["time_zone"])
    if "preferences" in changes and not isinstance(changes["preferences"], dict):
        raise ValidationFailed("Preferences must be an object.", field="preferences")
    before = {name: getattr(customer, name) for name in changes}
    for name, value in changes.items():
        setattr(customer, name, value)
    customer.updated_at = timezone.now()
    with transaction.atomic():
        customer.save()
        event_record(
            kind="customer.updated",
            subject_type="customer",
            subject_id=customer.pk,
            actor_id=actor_id,
            payload={"fields": sorted(changes), "before": _jsonable(before)},
        )
    return customer


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.pk if hasattr(v, "pk") else v) for k, v in values.items()}


def contact_point_add(
    *, customer: Customer, kind: str, value: str, actor_id: int | None = None
) -> ContactPoint:
    value = contact_normalize(kind=kind, value=value)
    try:
        with transaction.atomic():
            point = ContactPoint.objects.create(
                customer=customer,
                kind=kind,
                value=value,
                is_primary=not customer.contact_points.filter(kind=kind).exists(),
                created_at=timezone.now(),
            )
            event_record(
                kind="customer.contact_added",
                subject_type="customer",
                subject_id=customer.pk,
                actor_id=actor_id,
                payload={"kind": kind, "value": value},
            )
    except IntegrityError as exc:
        raise Conflict(f"{value} already belongs to a customer.", code="contact_taken") from exc
    return point


def customer_for_contact(
    *, kind: str, value: str, full_name: str = "", actor_id: int | None = None
) -> tuple[Customer, bool]:
    """The customer known at this contact point, creating one when nobody is. ``(customer, created)``."""
    value = contact_normalize(kind=kind, value=value)
    point = ContactPoint.objects.select_related("customer").filter(kind=kind, value=value).first()
    if point is not None:
        return point.customer, False
    name = full_name.strip() or (value.split("@")[0] if kind == ContactPoint.Kind.EMAIL else value)
    try:
        customer = customer_create(
            full_name=name, contacts=[ContactInput(kind=kind, value=value)], actor_id=actor_id
        )
    except Conflict:
        # Another process created it between our read and our write: use theirs.
        point = ContactPoint.objects.select_related("customer").get(kind=kind, value=value)
        return point.customer, False
    return customer, True


def contact_point_mark_undeliverable(*, kind: str, value: str, reason: str) -> bool:
    """Flag the contact point at ``value`` as undeliverable (mail to it bounces).

    Returns whether it was newly flagged; an unknown or already flagged one changes nothing.
    Records ``customer.contact_undeliverable``.
    """
    value = contact_normalize(kind=kind, value=value)
    point = (
        ContactPoint.objects.filter(kind=kind, value=value, undeliverable=False)
        .values_list("pk", "customer_id")
        .first()
    )
    if point is None:
        return False
    pk, customer_id = point
    with transaction.atomic():
        if not ContactPoint.objects.filter(pk=pk, undeliverable=False).update(undeliverable=True):
            return False
        event_record(
            kind="customer.contact_undeliverable",
            subject_type="customer",
            subject_id=customer_id,
            payload={"kind": kind, "value": value, "reason": reason[:500]},
        )
    return True
