from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from trustdesk.mail import views, views_outbound

app_name = "mail"
urlpatterns: list[URLPattern | URLResolver] = [
    path("quarantine/", views.quarantine, name="quarantine"),
    path("quarantine/<int:inbound_id>/retry/", views.quarantine_retry, name="quarantine_retry"),
    path(
        "outbound/<int:message_id>/retry/",
        views_outbound.outbound_retry_view,
        name="outbound_retry",
    ),
]
