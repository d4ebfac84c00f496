"""Full-text search over tickets and messages, through the search selector."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from trustdesk.accounts.models import Agent
from trustdesk.core.errors import ValidationFailed
from trustdesk.search.selectors import SearchHit, search
from trustdesk.workspace.forms import SearchForm
from trustdesk.workspace.views.common import agent_view, is_htmx, page

RESULTS_PER_PAGE = 20
MAX_PAGES = 25


@require_GET
@agent_view
def search_page(request: HttpRequest, agent: Agent) -> HttpResponse:
    form = SearchForm(request.GET or None)
    hits: list[SearchHit] = []
    query = ""
    order = "relevance"
    page_number = 1
    has_next = False
    status = 200
    if form.is_valid():
        query = form.cleaned_data["q"].strip()
        order = form.cleaned_data["order"] or "relevance"
        page_number = min(form.cleaned_data["page"] or 1, MAX_PAGES)
        if query:
            try:
                found = search(
                    agent=agent,
                    query=query,
                    order="newest" if order == "newest" else "relevance",
                    limit=RESULTS_PER_PAGE + 1,
                    offset=(page_number - 1) * RESULTS_PER_PAGE,
                )
            except ValidationFailed as exc:
                form.add_error("q", exc.message)
                status = exc.status
            else:
                hits = found[:RESULTS_PER_PAGE]
                has_next = len(found) > RESULTS_PER_PAGE and page_number < MAX_PAGES
    elif form.is_bound:
        status = 422
    context = {
        "form": form,
        "query": query,
        "order": order,
        "hits": hits,
        "page_number": page_number,
        "has_next": has_next,
        "has_previous": page_number > 1,
        "base_query": urlencode({"q": query, "order": order}),
        "other_order": urlencode(
            {"q": query, "order": "newest" if order == "relevance" else "relevance"}
        ),
    }
    if is_htmx(request):
        return render(request, "workspace/_search_results.html", context, status=status)
    return page(request, agent, "workspace/search.html", context, status=status, section="search")
