"""The agent's "retry" button for an email reply whose delivery failed."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from trustdesk.accounts.models import Agent
from trustdesk.core.errors import NotFound, PermissionDenied
from trustdesk.mail.services import outbound_retry
from trustdesk.tickets.models import Message
from trustdesk.tickets.selectors import ticket_get
from trustdesk.workspace.views.common import agent_view


@require_POST
@agent_view
def outbound_retry_view(request: HttpRequest, agent: Agent, message_id: int) -> HttpResponse:
    ticket_id = Message.objects.filter(pk=message_id).values_list("ticket_id", flat=True).first()
    if ticket_id is None:
        raise NotFound("This message does not exist.")
    ticket = ticket_get(agent=agent, ticket_id=ticket_id)  # NotFound unless visible
    if agent.role == Agent.Role.LIGHT:
        raise PermissionDenied("Light agents cannot send replies.")
    outbound_retry(message_id=message_id, actor=agent)
    messages.success(request, _("The email is queued again."))
    url = reverse("workspace:ticket", args=[ticket.pk])
    return HttpResponseRedirect(f"{url}#message-{message_id}")
