"""Attachment downloads: authorised, always a download, never rendered by the browser."""

from __future__ import annotations

from django.http import FileResponse, HttpRequest
from django.views.decorators.http import require_GET

from trustdesk.accounts.models import Agent
from trustdesk.tickets.attachments import safe_filename
from trustdesk.tickets.selectors import attachment_get
from trustdesk.workspace.views.common import agent_view

# Types that are harmless to label truthfully; anything else goes out as opaque bytes.
PASSIVE_TYPES = frozenset(
    {
        "application/pdf",
        "application/zip",
        "image/gif",
        "image/jpeg",
        "image/png",
        "image/webp",
        "text/plain",
    }
)


@require_GET
@agent_view
def attachment_download(request: HttpRequest, agent: Agent, attachment_id: int) -> FileResponse:
    attachment = attachment_get(agent=agent, attachment_id=attachment_id)
    content_type = (
        attachment.content_type
        if attachment.content_type in PASSIVE_TYPES
        else "application/octet-stream"
    )
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=safe_filename(attachment.filename),
        content_type=content_type,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response
