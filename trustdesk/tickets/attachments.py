"""Validating and storing uploaded files."""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import PurePath

import filetype
from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone

from trustdesk.core.errors import ValidationFailed
from trustdesk.tickets.models import Attachment, Message

# Types that a browser could execute if they were ever rendered inline: always downloads,
# and we never label them with their real type on the way out.
_TEXTUAL_FALLBACK = "text/plain"
_BINARY_FALLBACK = "application/octet-stream"


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    content: bytes


def safe_filename(name: str) -> str:
    """A display name without paths, control characters or leading dots."""
    name = unicodedata.normalize("NFC", name or "")
    name = PurePath(name.replace("\\", "/")).name
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().lstrip(".")
    return name[:200] or "attachment"


def sniff_content_type(content: bytes) -> str:
    """The content type from the bytes themselves, never from the client's claim."""
    kind = filetype.guess(content[:8192])
    if kind is not None:
        return str(kind.mime)
    try:
        content[:65536].decode("utf-8")
    except UnicodeDecodeError:
        return _BINARY_FALLBACK
    return _TEXTUAL_FALLBACK


def validate_uploads(files: list[UploadedFile]) -> None:
    limit = settings.TRUSTDESK_MAX_ATTACHMENT_BYTES
    for upload in files:
        if len(upload.content) > limit:
            raise ValidationFailed(
                f"{safe_filename(upload.filename)} is {len(upload.content):,} bytes; "
                f"the limit is {limit:,} bytes.",
                code="attachment_too_large",
                field="attachments",
            )


def attachment_store(*, message: Message, upload: UploadedFile) -> Attachment:
    key = secrets.token_hex(16)
    attachment = Attachment(
        message=message,
        storage_key=key,
        filename=safe_filename(upload.filename),
        content_type=sniff_content_type(upload.content),
        size=len(upload.content),
        created_at=timezone.now(),
    )
    attachment.file.save(key, ContentFile(upload.content), save=False)
    attachment.save()
    return attachment
