"""Reads for customers."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from trustdesk.core.errors import NotFound
from trustdesk.customers.models import ContactPoint, Customer


def customer_queryset() -> QuerySet[Customer]:
    return Customer.objects.select_related("organization").prefetch_related(
        Prefetch(
            "contact_points", queryset=ContactPoint.objects.order_by("kind", "-is_primary", "id")
        )
    )


def customer_get(*, customer_id: int) -> Customer:
    customer = customer_queryset().filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(f"Customer {customer_id} does not exist.")
    return customer


def customer_list(*, query: str = "", organization_id: int | None = None) -> QuerySet[Customer]:
    qs = customer_queryset().order_by("-id")
    if organization_id is not None:
        qs = qs.filter(organization_id=organization_id)
    query = query.strip()
    if query:
        qs = qs.filter(full_name__icontains=query) | qs.filter(
            contact_points__value__icontains=query.lower()
        )
        qs = qs.distinct()
    return qs


def customer_primary_email(customer: Customer) -> str | None:
    for point in customer.contact_points.all():
        if point.kind == ContactPoint.Kind.EMAIL:
            return point.value
    return None
