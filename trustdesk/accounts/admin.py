from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from trustdesk.accounts.models import Agent, ApiToken, Team, TeamMembership


class MembershipInline(admin.TabularInline[TeamMembership, Team]):
    model = TeamMembership
    extra = 1
    autocomplete_fields = ["agent"]


@admin.register(Agent)
class AgentAdmin(UserAdmin[Agent]):
    ordering = ["display_name"]
    list_display = ["email", "display_name", "role", "is_active", "last_login"]
    list_filter = ["role", "is_active"]
    search_fields = ["email", "display_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("display_name", "signature", "avatar", "time_zone")}),
        ("Access", {"fields": ("role", "is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "display_name", "role", "password1", "password2"),
            },
        ),
    )


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin[Team]):
    list_display = ["name", "email"]
    search_fields = ["name"]
    inlines = [MembershipInline]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = [
        "prefix",
        "agent",
        "name",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    ]
    readonly_fields = ["prefix", "key_hash", "created_at", "last_used_at"]
    list_select_related = ["agent"]

    def has_add_permission(self, request: object) -> bool:
        # Tokens are shown once at creation: create them with `trustdesk create-token`.
        return False
