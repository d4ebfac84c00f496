"""Workspace pages of the mail app: the intake quarantine, for administrators."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from trustdesk.accounts.models import Agent
from trustdesk.core.errors import PermissionDenied
from trustdesk.mail.intake.pipeline import inbound_retry
from trustdesk.mail.intake.selectors import quarantine_count, quarantine_list
from trustdesk.workspace.views.common import agent_view, page

PAGE_SIZE = 100


def _require_admin(agent: Agent) -> None:
    if agent.role != Agent.Role.ADMIN and not agent.is_superuser:
        raise PermissionDenied(_("Only administrators can see quarantined email."))


@require_GET
@agent_view
def quarantine(request: HttpRequest, agent: Agent) -> HttpResponse:
    _require_admin(agent)
    context = {"items": quarantine_list(limit=PAGE_SIZE), "total": quarantine_count()}
    return page(request, agent, "mail/quarantine.html", context, section="quarantine")


@require_POST
@agent_view
def quarantine_retry(request: HttpRequest, agent: Agent, inbound_id: int) -> HttpResponseRedirect:
    _require_admin(agent)
    result = inbound_retry(inbound_id=inbound_id, actor=agent)
    if result.outcome == "quarantined":
        messages.error(request, _("Still quarantined: %(reason)s") % {"reason": result.reason})
    elif result.ticket_number is not None:
        messages.success(
            request,
            _("Message %(id)s: %(outcome)s (ticket #%(number)s).")
            % {"id": inbound_id, "outcome": result.outcome, "number": result.ticket_number},
        )
    else:
        messages.success(
            request,
            _("Message %(id)s: %(outcome)s.") % {"id": inbound_id, "outcome": result.outcome},
        )
    return redirect("mail:quarantine")
