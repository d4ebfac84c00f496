"""The customer page: who they are, what they prefer, every ticket and recent message."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from trustdesk.accounts.models import Agent
from trustdesk.core.errors import DomainError
from trustdesk.customers.models import Customer
from trustdesk.customers.selectors import customer_get
from trustdesk.customers.services import customer_update
from trustdesk.tickets.models import Ticket
from trustdesk.tickets.selectors import customer_messages, ticket_get, ticket_list
from trustdesk.tickets.services import phone_call_log
from trustdesk.tickets.transitions import OPEN_STATUSES
from trustdesk.workspace.forms import CustomerForm, PhoneCallForm, add_domain_error
from trustdesk.workspace.views.common import agent_view, is_htmx, page
from trustdesk.workspace.views.tickets import ticket_url

CUSTOMER_TICKETS = 50
CUSTOMER_MESSAGES = 20


def _open_tickets(tickets: list[Ticket]) -> list[Ticket]:
    return [t for t in tickets if t.status in OPEN_STATUSES]


def _context(agent: Agent, customer: Customer, **forms: Any) -> dict[str, Any]:
    tickets = list(
        ticket_list(agent=agent, view="all", customer_id=customer.pk)[: CUSTOMER_TICKETS + 1]
    )
    return {
        "customer": customer,
        "tickets": tickets[:CUSTOMER_TICKETS],
        "more_tickets": len(tickets) > CUSTOMER_TICKETS,
        "recent": customer_messages(agent=agent, customer_id=customer.pk, limit=CUSTOMER_MESSAGES),
        "profile_form": forms.get("profile_form")
        or CustomerForm(initial=CustomerForm.initial_for(customer)),
        "call_form": forms.get("call_form")
        or PhoneCallForm(tickets=_open_tickets(tickets[:CUSTOMER_TICKETS])),
    }


@require_GET
@agent_view
def customer_detail(request: HttpRequest, agent: Agent, customer_id: int) -> HttpResponse:
    customer = customer_get(customer_id=customer_id)
    return page(
        request, agent, "workspace/customer.html", _context(agent, customer), section="customer"
    )


@require_POST
@agent_view
def customer_edit(request: HttpRequest, agent: Agent, customer_id: int) -> HttpResponse:
    customer = customer_get(customer_id=customer_id)
    form = CustomerForm(request.POST, initial=CustomerForm.initial_for(customer))
    status = 422
    if form.is_valid():
        try:
            customer_update(customer=customer, changes=form.changes(customer), actor_id=agent.pk)
        except DomainError as exc:
            add_domain_error(form, exc)
            status = exc.status
        else:
            if not is_htmx(request):
                return HttpResponseRedirect(reverse("workspace:customer", args=[customer.pk]))
            customer = customer_get(customer_id=customer.pk)
            fresh = CustomerForm(initial=CustomerForm.initial_for(customer))
            return render(
                request,
                "workspace/_customer_profile.html",
                {"customer": customer, "profile_form": fresh, "notice": _("Customer saved.")},
            )
    if is_htmx(request):
        return render(
            request,
            "workspace/_customer_profile.html",
            {"customer": customer, "profile_form": form},
            status=status,
        )
    context = _context(agent, customer, profile_form=form)
    return page(request, agent, "workspace/customer.html", context, status=status)


@require_POST
@agent_view
def customer_call(request: HttpRequest, agent: Agent, customer_id: int) -> HttpResponse:
    customer = customer_get(customer_id=customer_id)
    tickets = _open_tickets(
        list(ticket_list(agent=agent, view="all", customer_id=customer.pk)[:CUSTOMER_TICKETS])
    )
    form = PhoneCallForm(request.POST, tickets=tickets)
    status = 422
    if form.is_valid():
        data = form.cleaned_data
        try:
            ticket = ticket_get(agent=agent, ticket_id=data["ticket"]) if data["ticket"] else None
            message = phone_call_log(
                agent=agent,
                customer=customer,
                direction=data["direction"],
                duration_seconds=form.duration_seconds,
                summary=data["summary"],
                outcome=data["outcome"],
                ticket=ticket,
                subject=data["subject"],
            )
        except DomainError as exc:
            add_domain_error(form, exc, PhoneCallForm.field_map)
            status = exc.status
        else:
            url = ticket_url(message.ticket, message)
            if is_htmx(request):
                response = HttpResponse(status=204)
                response.headers["HX-Redirect"] = url
                return response
            return HttpResponseRedirect(url)
    if is_htmx(request):
        return render(
            request,
            "workspace/_call_form.html",
            {"call_form": form, "customer": customer},
            status=status,
        )
    context = _context(agent, customer, call_form=form)
    return page(request, agent, "workspace/customer.html", context, status=status)
