from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from trustdesk.workspace.views import attachments, auth, customers, inbox, search, tickets

app_name = "workspace"
urlpatterns: list[URLPattern | URLResolver] = [
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path(
        "login/set-password/<uidb64>/<token>/",
        auth.PasswordSetView.as_view(),
        name="password_set",
    ),
    path("", inbox.inbox, name="inbox"),
    path("inbox/<slug:view>/", inbox.inbox, name="inbox_view"),
    path("tickets/<int:ticket_id>/", tickets.ticket_detail, name="ticket"),
    path("tickets/<int:ticket_id>/messages/", tickets.message_create, name="message_create"),
    path("tickets/<int:ticket_id>/properties/", tickets.ticket_properties, name="ticket_update"),
    path("tickets/<int:ticket_id>/calls/", tickets.ticket_call, name="ticket_call"),
    path("customers/<int:customer_id>/", customers.customer_detail, name="customer"),
    path("customers/<int:customer_id>/edit/", customers.customer_edit, name="customer_edit"),
    path("customers/<int:customer_id>/calls/", customers.customer_call, name="customer_call"),
    path("search/", search.search_page, name="search"),
    path(
        "attachments/<int:attachment_id>/",
        attachments.attachment_download,
        name="attachment",
    ),
]
