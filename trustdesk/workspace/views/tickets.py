"""The ticket page: timeline, reply and note composer, properties, phone calls, activity."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from trustdesk.accounts.models import Agent
from trustdesk.core.errors import DomainError
from trustdesk.customers.selectors import customer_get
from trustdesk.tickets.attachments import UploadedFile
from trustdesk.tickets.models import Message, Ticket
from trustdesk.tickets.selectors import message_list, ticket_get, ticket_list
from trustdesk.tickets.services import TicketChanges, message_add, phone_call_log, ticket_update
from trustdesk.workspace.forms import (
    MessageForm,
    PhoneCallForm,
    TicketPropertiesForm,
    add_domain_error,
)
from trustdesk.workspace.selectors import owner_choices, team_choices, ticket_activity
from trustdesk.workspace.views.common import agent_view, is_htmx, page

RELATED_TICKETS = 5


def ticket_url(ticket: Ticket, message: Message | None = None) -> str:
    url = reverse("workspace:ticket", args=[ticket.pk])
    return f"{url}#message-{message.pk}" if message else url


def _properties_form(ticket: Ticket, data: Any = None) -> TicketPropertiesForm:
    return TicketPropertiesForm(data, ticket=ticket, owners=owner_choices(), teams=team_choices())


def _ticket_context(agent: Agent, ticket: Ticket, **forms: Any) -> dict[str, Any]:
    customer = customer_get(customer_id=ticket.customer_id)
    related = [
        t
        for t in ticket_list(agent=agent, view="all", customer_id=customer.pk)[
            : RELATED_TICKETS + 1
        ]
        if t.pk != ticket.pk
    ][:RELATED_TICKETS]
    return {
        "ticket": ticket,
        "customer": customer,
        "related": related,
        "timeline": message_list(ticket=ticket),
        "composer": forms.get("composer") or MessageForm(agent=agent),
        "properties": forms.get("properties") or _properties_form(ticket),
        "call_form": forms.get("call_form") or PhoneCallForm(),
        "can_edit": agent.role != Agent.Role.LIGHT,
    }


def _oob_context(agent: Agent, ticket_id: int) -> dict[str, Any]:
    ticket = ticket_get(agent=agent, ticket_id=ticket_id)
    return {
        "ticket": ticket,
        "activity": ticket_activity(ticket=ticket),
        "properties": _properties_form(ticket),
        "can_edit": agent.role != Agent.Role.LIGHT,
    }


@require_GET
@agent_view
def ticket_detail(request: HttpRequest, agent: Agent, ticket_id: int) -> HttpResponse:
    ticket = ticket_get(agent=agent, ticket_id=ticket_id)
    context = _ticket_context(agent, ticket)
    context["activity"] = ticket_activity(ticket=ticket)
    return page(request, agent, "workspace/ticket.html", context, section="ticket")


def _uploads(request: HttpRequest, form: MessageForm) -> list[UploadedFile] | None:
    uploads = []
    limit = settings.TRUSTDESK_MAX_ATTACHMENT_BYTES
    for f in request.FILES.getlist("attachments"):
        if f.size is not None and f.size > limit:
            form.add_error(
                None,
                _("%(name)s is larger than the limit of %(limit)s bytes.")
                % {"name": f.name, "limit": f"{limit:,}"},
            )
            return None
        uploads.append(UploadedFile(filename=f.name or "attachment", content=f.read()))
    return uploads


def _form_failed(
    request: HttpRequest,
    agent: Agent,
    ticket: Ticket,
    partial: str,
    status: int,
    **forms: Any,
) -> HttpResponse:
    """Re-render the form with its errors and the input kept: the fragment or the whole page."""
    if is_htmx(request):
        context = {
            "ticket": ticket,
            "can_edit": agent.role != Agent.Role.LIGHT,
            "composer": forms.get("composer"),
            "properties": forms.get("properties"),
            "call_form": forms.get("call_form"),
        }
        return render(request, partial, context, status=status)
    context = _ticket_context(agent, ticket, **forms)
    context["activity"] = ticket_activity(ticket=ticket)
    return page(request, agent, "workspace/ticket.html", context, status=status, section="ticket")


def _succeeded(
    request: HttpRequest,
    agent: Agent,
    ticket: Ticket,
    partial: str,
    notice: str,
    message: Message | None = None,
) -> HttpResponse:
    if not is_htmx(request):
        return HttpResponseRedirect(ticket_url(ticket, message))
    context = _oob_context(agent, ticket.pk)
    context.update(
        {
            "composer": MessageForm(agent=agent),
            "call_form": PhoneCallForm(),
            "new_message": message,
            "notice": notice,
            "partial": partial,
        }
    )
    return render(request, "workspace/_ticket_changed.html", context)


@require_POST
@agent_view
def message_create(request: HttpRequest, agent: Agent, ticket_id: int) -> HttpResponse:
    ticket = ticket_get(agent=agent, ticket_id=ticket_id)
    form = MessageForm(request.POST, agent=agent)
    status = 422
    if form.is_valid() and (uploads := _uploads(request, form)) is not None:
        visibility = form.cleaned_data["visibility"]
        try:
            message = message_add(
                ticket=ticket,
                body=form.cleaned_data["body"],
                visibility=visibility,
                author_agent=agent,
                attachments=uploads,
            )
        except DomainError as exc:
            add_domain_error(form, exc, {"attachments": "body"})
            status = exc.status
        else:
            notice = (
                _("Internal note added.")
                if visibility == Message.Visibility.INTERNAL
                else _("Reply sent.")
            )
            message = message_list(ticket=ticket).get(pk=message.pk)
            return _succeeded(request, agent, ticket, "workspace/_composer.html", notice, message)
    return _form_failed(request, agent, ticket, "workspace/_composer.html", status, composer=form)


@require_POST
@agent_view
def ticket_properties(request: HttpRequest, agent: Agent, ticket_id: int) -> HttpResponse:
    ticket = ticket_get(agent=agent, ticket_id=ticket_id)
    form = _properties_form(ticket, request.POST)
    status = 422
    if form.is_valid():
        data = form.cleaned_data
        changes = TicketChanges(
            status=data["status"],
            priority=data["priority"],
            owner=data["owner"],
            clear_owner=data["owner"] is None,
            team=data["team"],
            clear_team=data["team"] is None,
            tags=form.tag_names(),
        )
        try:
            ticket_update(ticket=ticket, changes=changes, actor=agent)
        except DomainError as exc:
            add_domain_error(form, exc)
            status = exc.status
        else:
            return _succeeded(
                request, agent, ticket, "workspace/_properties.html", _("Ticket updated.")
            )
    return _form_failed(
        request, agent, ticket, "workspace/_properties.html", status, properties=form
    )


@require_POST
@agent_view
def ticket_call(request: HttpRequest, agent: Agent, ticket_id: int) -> HttpResponse:
    ticket = ticket_get(agent=agent, ticket_id=ticket_id)
    form = PhoneCallForm(request.POST)
    status = 422
    if form.is_valid():
        data = form.cleaned_data
        try:
            message = phone_call_log(
                agent=agent,
                customer=ticket.customer,
                direction=data["direction"],
                duration_seconds=form.duration_seconds,
                summary=data["summary"],
                outcome=data["outcome"],
                ticket=ticket,
            )
        except DomainError as exc:
            add_domain_error(form, exc, PhoneCallForm.field_map)
            status = exc.status
        else:
            message = message_list(ticket=ticket).get(pk=message.pk)
            return _succeeded(
                request, agent, ticket, "workspace/_call_form.html", _("Call logged."), message
            )
    return _form_failed(request, agent, ticket, "workspace/_call_form.html", status, call_form=form)
