"""Forms of the workspace: they parse and validate input; services make the changes."""

from __future__ import annotations

import json
import zoneinfo
from functools import cache
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, SetPasswordForm
from django.utils.translation import gettext_lazy as _

from trustdesk.accounts.models import Agent, Team
from trustdesk.core.errors import DomainError
from trustdesk.customers.models import Customer
from trustdesk.tickets.models import Channel, Message, Priority, Status, Ticket
from trustdesk.tickets.transitions import TRANSITIONS
from trustdesk.workspace.selectors import MAX_OFFSET_PAGES

SORT_CHOICES = [
    ("newest", _("Newest first")),
    ("oldest", _("Oldest first")),
    ("updated", _("Last updated")),
    ("priority", _("Priority")),
]
STATUS_FILTER_CHOICES = [("active", _("Active")), ("any", _("Any status")), *Status.choices]


class WorkspaceForm(forms.Form):
    """Labels without the trailing colon; the layout sets them apart."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class SignInForm(AuthenticationForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class PasswordSetForm(SetPasswordForm[Agent]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def add_domain_error(
    form: forms.Form, exc: DomainError, fields: dict[str, str] | None = None
) -> None:
    """Show a service's refusal on the field it names, or on the form as a whole."""
    name = (fields or {}).get(exc.field or "", exc.field or "")
    form.add_error(name if name in form.fields else None, exc.message)


class InboxFilterForm(WorkspaceForm):
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_FILTER_CHOICES, required=False)
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        choices=[("", _("Any priority")), *Priority.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    channel = forms.ChoiceField(
        label=_("Channel"), choices=[("", _("Any channel")), *Channel.choices], required=False
    )
    tag = forms.SlugField(label=_("Tag"), max_length=50, required=False, allow_unicode=True)
    sort = forms.ChoiceField(label=_("Sort"), choices=SORT_CHOICES, required=False)
    before = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)
    after = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)
    page = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)

    def filters(self) -> dict[str, Any]:
        """The valid filters; an invalid value falls back to its default (errors are shown)."""
        data = self.cleaned_data if self.is_bound else {}
        values = {name: data.get(name) for name in self.fields}
        status = values["status"] or "active"
        return {
            "status": None if status == "any" else status,
            "priority": values["priority"],
            "channel": values["channel"] or None,
            "tag": values["tag"] or None,
            "sort": values["sort"] or "newest",
            "before": values["before"],
            "after": values["after"],
            "page": min(values["page"] or 1, MAX_OFFSET_PAGES),
        }


class MessageForm(WorkspaceForm):
    visibility = forms.ChoiceField(
        label=_("Type"),
        choices=Message.Visibility.choices,
        initial=Message.Visibility.PUBLIC,
        widget=forms.RadioSelect,
    )
    body = forms.CharField(
        label=_("Message"),
        max_length=200_000,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": _("Write something before sending.")},
    )

    def __init__(self, *args: Any, agent: Agent, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "composer_%s")
        super().__init__(*args, **kwargs)
        if agent.role == Agent.Role.LIGHT:
            # Only notes are offered; a public reply posted anyway is refused by the service.
            field = self.fields["visibility"]
            field.widget.choices = [
                (Message.Visibility.INTERNAL, Message.Visibility.INTERNAL.label)
            ]
            field.initial = Message.Visibility.INTERNAL


def _tag_list(value: str) -> list[str]:
    return [t for t in value.replace(",", " ").split() if t]


class TicketPropertiesForm(WorkspaceForm):
    """Status, priority, owner, team and tags. Every status is accepted here so that the service
    can refuse an invalid move with its own message; only valid moves are offered."""

    status = forms.ChoiceField(label=_("Status"), choices=Status.choices)
    priority = forms.TypedChoiceField(label=_("Priority"), choices=Priority.choices, coerce=int)
    owner = forms.ModelChoiceField(
        label=_("Owner"), queryset=Agent.objects.none(), required=False, empty_label=_("Nobody")
    )
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.none(), required=False, empty_label=_("No team")
    )
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        max_length=1000,
        help_text=_("Separated by spaces or commas."),
    )

    def __init__(
        self,
        *args: Any,
        ticket: Ticket,
        owners: Any,
        teams: Any,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault(
            "initial",
            {
                "status": ticket.status,
                "priority": ticket.priority,
                "owner": ticket.owner_id,
                "team": ticket.team_id,
                "tags": " ".join(t.name for t in ticket.tags.all()),
            },
        )
        kwargs.setdefault("auto_id", "prop_%s")
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        team = self.fields["team"]
        status = self.fields["status"]
        assert isinstance(owner, forms.ModelChoiceField)
        assert isinstance(team, forms.ModelChoiceField)
        assert isinstance(status, forms.ChoiceField)
        owner.queryset = owners
        team.queryset = teams
        allowed = {ticket.status, *TRANSITIONS.get(ticket.status, ())}
        status.widget.choices = [(v, label) for v, label in Status.choices if v in allowed]

    def tag_names(self) -> list[str]:
        return _tag_list(self.cleaned_data.get("tags") or "")


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


def preferences_to_text(preferences: dict[str, Any]) -> str:
    return "\n".join(
        f"{key}: {value if isinstance(value, str) else json.dumps(value)}"
        for key, value in preferences.items()
    )


_BOOLEANS = {"true": True, "false": False}


def preferences_from_text(text: str) -> dict[str, Any]:
    prefs: dict[str, Any] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep or not key.strip():
            raise forms.ValidationError(
                _("Line %(number)s is not in the form “key: value”."),
                params={"number": number},
                code="invalid",
            )
        value = value.strip()
        prefs[key.strip()] = _BOOLEANS.get(value, value)
    return prefs


class CustomerForm(WorkspaceForm):
    full_name = forms.CharField(label=_("Full name"), max_length=200)
    preferred_name = forms.CharField(label=_("Preferred name"), max_length=100, required=False)
    language = forms.CharField(label=_("Language"), max_length=16)
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=time_zone_choices)
    preferences = forms.CharField(
        label=_("Preferences"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line, as “key: value” (for example “contact: email only”)."),
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 5})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "customer_%s")
        super().__init__(*args, **kwargs)

    @classmethod
    def initial_for(cls, customer: Customer) -> dict[str, Any]:
        return {
            "full_name": customer.full_name,
            "preferred_name": customer.preferred_name,
            "language": customer.language,
            "time_zone": customer.time_zone,
            "preferences": preferences_to_text(customer.preferences),
            "notes": customer.notes,
        }

    def clean_preferences(self) -> dict[str, Any]:
        return preferences_from_text(self.cleaned_data.get("preferences") or "")

    def changes(self, customer: Customer) -> dict[str, Any]:
        """Only what differs from the stored customer."""
        changes = {
            name: value
            for name, value in self.cleaned_data.items()
            if getattr(customer, name) != value
        }
        # "2" typed back for a stored 2 is not a change.
        if "preferences" in changes and preferences_to_text(
            changes["preferences"]
        ) == preferences_to_text(customer.preferences):
            del changes["preferences"]
        return changes


class PhoneCallForm(WorkspaceForm):
    direction = forms.ChoiceField(
        label=_("Direction"),
        choices=[
            (Message.Direction.INBOUND, _("The customer called us")),
            (Message.Direction.OUTBOUND, _("We called the customer")),
        ],
        initial=Message.Direction.INBOUND,
        widget=forms.RadioSelect,
    )
    minutes = forms.IntegerField(label=_("Minutes"), min_value=0, max_value=24 * 60, initial=0)
    seconds = forms.IntegerField(label=_("Seconds"), min_value=0, max_value=59, initial=0)
    summary = forms.CharField(
        label=_("Summary"),
        max_length=200_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Summarise the call.")},
    )
    outcome = forms.CharField(label=_("Outcome"), max_length=200, required=False)
    ticket = forms.TypedChoiceField(
        label=_("Ticket"), coerce=int, empty_value=None, required=False, choices=[]
    )
    subject = forms.CharField(
        label=_("Subject of the new ticket"),
        max_length=250,
        required=False,
        help_text=_("Leave empty for “Phone call”."),
    )

    field_map = {"duration": "minutes"}

    def __init__(self, *args: Any, tickets: list[Ticket] | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "call_%s")
        super().__init__(*args, **kwargs)
        ticket = self.fields["ticket"]
        assert isinstance(ticket, forms.TypedChoiceField)
        if tickets is None:  # logged from a ticket page: the ticket is fixed by the URL
            del self.fields["ticket"]
            del self.fields["subject"]
        else:
            ticket.choices = [
                ("", _("A new phone ticket")),
                *((t.pk, f"#{t.number} {t.subject}") for t in tickets),
            ]

    @property
    def duration_seconds(self) -> int:
        return int(self.cleaned_data["minutes"]) * 60 + int(self.cleaned_data["seconds"])


class SearchForm(WorkspaceForm):
    q = forms.CharField(label=_("Search"), max_length=200, required=False)
    order = forms.ChoiceField(
        label=_("Order"),
        choices=[("relevance", _("Best match")), ("newest", _("Newest"))],
        required=False,
    )
    page = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)
