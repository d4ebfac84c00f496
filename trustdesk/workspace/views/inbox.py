"""Inbox views: mine, unassigned, my team's and all tickets, filtered, sorted and paged."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from trustdesk.accounts.models import Agent
from trustdesk.tickets.selectors import ticket_list
from trustdesk.workspace.forms import InboxFilterForm
from trustdesk.workspace.selectors import INBOX_VIEWS, ticket_page
from trustdesk.workspace.views.common import agent_view, is_htmx, page

PAGING_PARAMS = ("before", "after", "page")
TITLES = {
    "mine": _("My tickets"),
    "unassigned": _("Unassigned"),
    "team": _("My teams"),
    "all": _("All tickets"),
}


@agent_view
def inbox(request: HttpRequest, agent: Agent, view: str = "mine") -> HttpResponse:
    if view not in INBOX_VIEWS:
        raise Http404
    form = InboxFilterForm(request.GET or None)
    if form.is_bound:
        form.is_valid()
    f = form.filters()
    queryset = ticket_list(
        agent=agent,
        view=view,
        status=f["status"],
        priority=f["priority"],
        channel=f["channel"],
        tag=f["tag"],
    )
    result = ticket_page(
        queryset=queryset, sort=f["sort"], before=f["before"], after=f["after"], page=f["page"]
    )
    base_query: dict[str, str] = {
        k: v for k in form.fields if k not in PAGING_PARAMS and (v := str(request.GET.get(k) or ""))
    }
    context = {
        "view": view,
        "title": TITLES[view],
        "partial": is_htmx(request),
        "form": form,
        "result": result,
        "filtered": any(k != "sort" for k in base_query),
        "query": urlencode(base_query),
        "status_filter": f["status"],
    }
    if is_htmx(request):
        return render(request, "workspace/_ticket_list.html", context)
    return page(request, agent, "workspace/inbox.html", context, section=view)
