from __future__ import annotations

from django.contrib import admin

from trustdesk.customers.models import ContactPoint, Customer, Organization


class ContactPointInline(admin.TabularInline[ContactPoint, Customer]):
    model = ContactPoint
    extra = 0
    fields = ["kind", "value", "is_primary", "undeliverable"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin[Customer]):
    list_display = ["full_name", "preferred_name", "organization", "language", "time_zone"]
    search_fields = ["full_name", "preferred_name", "contact_points__value"]
    list_select_related = ["organization"]
    raw_id_fields = ["organization"]
    inlines = [ContactPointInline]
    show_full_result_count = False


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin[Organization]):
    list_display = ["name", "domain"]
    search_fields = ["name", "domain"]
