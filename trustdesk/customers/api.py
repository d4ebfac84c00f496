"""REST endpoints for customers, mounted under /api/v1/customers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.params import P, PathEx

from trustdesk.api.auth import request_agent
from trustdesk.api.lookups import require_full_agent
from trustdesk.api.pagination import keyset_page
from trustdesk.api.schemas import ERROR_RESPONSES, MAX_ID, InputSchema, PageQuery
from trustdesk.core.errors import ValidationFailed
from trustdesk.customers.models import ContactPoint, Customer
from trustdesk.customers.selectors import customer_get, customer_list, customer_primary_email
from trustdesk.customers.services import ContactInput, customer_create, customer_update

router = Router(tags=["customers"])

CustomerId = PathEx[int, P(ge=1, le=MAX_ID)]


class ContactOut(Schema):
    kind: str
    value: str
    is_primary: bool


class CustomerOut(Schema):
    id: int
    name: str
    preferred_name: str
    email: str | None = Field(..., description="The primary email address.")
    contacts: list[ContactOut]
    organization: str | None
    language: str
    time_zone: str
    preferences: dict[str, Any]
    notes: str
    created_at: datetime
    updated_at: datetime


class CustomerPage(Schema):
    items: list[CustomerOut]
    next_cursor: str | None
    limit: int


def customer_out(customer: Customer) -> CustomerOut:
    return CustomerOut(
        id=customer.pk,
        name=customer.full_name,
        preferred_name=customer.preferred_name,
        email=customer_primary_email(customer),
        contacts=[
            ContactOut(kind=p.kind, value=p.value, is_primary=p.is_primary)
            for p in customer.contact_points.all()
        ],
        organization=customer.organization.name if customer.organization else None,
        language=customer.language,
        time_zone=customer.time_zone,
        preferences=customer.preferences,
        notes=customer.notes,
        created_at=customer.created_at,
        updated_at=customer.updated_at,
    )


class CustomerFilters(PageQuery):
    q: str = Field("", max_length=200, description="Part of a name, email address or phone.")


class CustomerCreateIn(InputSchema):
    name: str = Field(..., max_length=200)
    preferred_name: str = Field("", max_length=100)
    emails: list[str] = Field(default_factory=list, max_length=20)
    phones: list[str] = Field(default_factory=list, max_length=20)
    language: str = Field("en", min_length=1, max_length=16)
    time_zone: str = Field("UTC", max_length=64)
    preferences: dict[str, Any] = Field(default_factory=dict)
    notes: str = Field("", max_length=20_000)


class CustomerUpdateIn(InputSchema):
    """Only the fields present change."""

    name: str | None = Field(None, max_length=200)
    preferred_name: str | None = Field(None, max_length=100)
    language: str | None = Field(None, min_length=1, max_length=16)
    time_zone: str | None = Field(None, max_length=64)
    preferences: dict[str, Any] | None = None
    notes: str | None = Field(None, max_length=20_000)


@router.get("", response={200: CustomerPage} | ERROR_RESPONSES, summary="List customers")
def customers_list(request: HttpRequest, filters: Query[CustomerFilters]) -> CustomerPage:
    request_agent(request)
    rows, next_cursor = keyset_page(
        customer_list(query=filters.q), cursor=filters.cursor, limit=filters.limit
    )
    return CustomerPage(
        items=[customer_out(c) for c in rows], next_cursor=next_cursor, limit=filters.limit
    )


@router.post("", response={201: CustomerOut} | ERROR_RESPONSES, summary="Create a customer")
def customers_create(request: HttpRequest, payload: CustomerCreateIn) -> Status[CustomerOut]:
    agent = request_agent(request)
    require_full_agent(agent)
    contacts = [ContactInput(kind=ContactPoint.Kind.EMAIL, value=v) for v in payload.emails] + [
        ContactInput(kind=ContactPoint.Kind.PHONE, value=v) for v in payload.phones
    ]
    customer = customer_create(
        full_name=payload.name,
        preferred_name=payload.preferred_name,
        contacts=contacts,
        language=payload.language,
        time_zone=payload.time_zone,
        preferences=payload.preferences,
        notes=payload.notes,
        actor_id=agent.pk,
    )
    return Status(201, customer_out(customer_get(customer_id=customer.pk)))


@router.get(
    "/{customer_id}", response={200: CustomerOut} | ERROR_RESPONSES, summary="Get a customer"
)
def customers_get(request: HttpRequest, customer_id: CustomerId) -> CustomerOut:
    request_agent(request)
    return customer_out(customer_get(customer_id=customer_id))


@router.patch(
    "/{customer_id}", response={200: CustomerOut} | ERROR_RESPONSES, summary="Update a customer"
)
def customers_update(
    request: HttpRequest, customer_id: CustomerId, payload: CustomerUpdateIn
) -> CustomerOut:
    agent = request_agent(request)
    require_full_agent(agent)
    customer = customer_get(customer_id=customer_id)
    changes = payload.model_dump(exclude_unset=True)
    nulls = sorted(name for name, value in changes.items() if value is None)
    if nulls:
        raise ValidationFailed(_("%(field)s cannot be null.") % {"field": nulls[0]}, field=nulls[0])
    if "name" in changes:
        changes["full_name"] = changes.pop("name")
    customer_update(customer=customer, changes=changes, actor_id=agent.pk)
    return customer_out(customer_get(customer_id=customer_id))
