"""What every workspace view shares: the signed-in agent, their time zone, errors, htmx."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from functools import wraps
from typing import Any, Concatenate

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from trustdesk.accounts.models import Agent
from trustdesk.core.errors import DomainError
from trustdesk.workspace.selectors import inbox_counts

AgentView = Callable[Concatenate[HttpRequest, Agent, ...], HttpResponseBase]


def is_htmx(request: HttpRequest) -> bool:
    """An htmx request for a fragment (a history restore wants the whole page)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def agent_time_zone(agent: Agent) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(agent.time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def agent_view(view: AgentView) -> Callable[..., HttpResponseBase]:
    """Sign-in required; the agent's time zone is active; a DomainError is a 4xx, never a 500."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        agent = request.user
        assert isinstance(agent, Agent)
        response: HttpResponseBase
        with timezone.override(agent_time_zone(agent)):
            try:
                response = view(request, agent, *args, **kwargs)
            except DomainError as exc:
                response = error_response(request, agent, exc)
        response.headers["Vary"] = ", ".join(
            v for v in (response.headers.get("Vary"), "HX-Request") if v
        )
        return response

    return wrapper


def error_response(request: HttpRequest, agent: Agent, exc: DomainError) -> HttpResponse:
    """An error banner: into the page's flash area for htmx, else a whole page."""
    if is_htmx(request):
        response = render(
            request, "workspace/_flash.html", {"error": exc.message}, status=exc.status
        )
        response.headers["HX-Retarget"] = "#flash"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    title = _("Not found") if exc.status == 404 else _("That did not work")
    return page(
        request,
        agent,
        "workspace/error.html",
        {"error": exc.message, "title": title},
        status=exc.status,
    )


def page(
    request: HttpRequest,
    agent: Agent,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    section: str = "",
) -> HttpResponse:
    """A whole page inside the workspace shell (sidebar with capped counts, top bar)."""
    shell = {"counts": inbox_counts(agent=agent), "section": section, "agent": agent}
    return render(request, template, {**shell, **context}, status=status)
