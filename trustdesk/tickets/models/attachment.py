from __future__ import annotations

from django.db import models

from trustdesk.tickets.models.message import Message


def attachment_path(instance: Attachment, filename: str) -> str:
    # The stored name never comes from the client: a random key keeps paths unguessable.
    return f"attachments/{instance.storage_key[:2]}/{instance.storage_key}"


class Attachment(models.Model):
    """A file on a message. Always served as a download with its sniffed content type."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=200)
    storage_key = models.CharField(max_length=64, unique=True)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=127)
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.filename
