from __future__ import annotations

from django.contrib import admin

from trustdesk.tickets.models import Tag, Ticket


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin[Ticket]):
    list_display = [
        "number",
        "subject",
        "status",
        "priority",
        "channel",
        "owner",
        "team",
        "created_at",
    ]
    list_filter = ["status", "priority", "channel"]
    list_select_related = ["owner", "team"]
    raw_id_fields = ["customer", "owner", "team"]
    search_fields = ["=number"]
    show_full_result_count = False
    readonly_fields = ["number", "created_at", "updated_at", "first_response_at", "solved_at"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin[Tag]):
    search_fields = ["name"]
