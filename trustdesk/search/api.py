"""The search endpoint, mounted at /api/v1/search: a thin wrapper over ``search.selectors``."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from trustdesk.api.auth import request_agent
from trustdesk.api.schemas import ERROR_RESPONSES, InputSchema
from trustdesk.search.selectors import SearchHit, search

router = Router(tags=["search"])


class SearchQuery(InputSchema):
    q: str = Field(..., max_length=500, description="Words to find in subjects and messages.")
    order: Literal["relevance", "newest"] = "relevance"
    limit: int = Field(25, ge=1, le=100)
    offset: int = Field(0, ge=0, le=10_000)


class SearchItem(Schema):
    id: int = Field(..., description="The ticket's id.")
    number: int
    subject: str
    status: str
    customer_id: int
    customer_name: str
    message_id: int | None = Field(..., description="null when the subject matched.")
    snippet: str = Field(..., description="HTML-safe text, matches wrapped in <mark>.")
    rank: float
    created_at: datetime


class SearchResults(Schema):
    items: list[SearchItem]


def search_item(hit: SearchHit) -> SearchItem:
    return SearchItem(
        id=hit.ticket_id,
        number=hit.ticket_number,
        subject=hit.subject,
        status=hit.status,
        customer_id=hit.customer_id,
        customer_name=hit.customer_name,
        message_id=hit.message_id,
        snippet=hit.snippet,
        rank=hit.rank,
        created_at=hit.created_at,
    )


@router.get("", response={200: SearchResults} | ERROR_RESPONSES, summary="Search tickets")
def search_tickets(request: HttpRequest, params: Query[SearchQuery]) -> SearchResults:
    hits = search(
        agent=request_agent(request),
        query=params.q,
        order=params.order,
        limit=params.limit,
        offset=params.offset,
    )
    return SearchResults(items=[search_item(hit) for hit in hits])
