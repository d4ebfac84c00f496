"""Tasks of the mail app: thin wrappers that take ids and call a service."""

from __future__ import annotations

from django.tasks import task

from trustdesk.mail.services import outbound_send


@task()
def message_send(message_id: int) -> str:
    """Send the queued email of a public agent reply; safe to run twice or on several workers."""
    return outbound_send(message_id=message_id)
