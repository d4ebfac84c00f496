"""Rows shared by every app: the event log and named counters."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Event(models.Model):
    """One state change, written by the service that made it (no signals).

    ``subject_type``/``subject_id`` name the changed object ("ticket", 42); ``payload`` holds
    what changed. Audit views, webhooks and metrics read these rows.
    """

    kind = models.CharField(max_length=64)
    subject_type = models.CharField(max_length=32)
    subject_id = models.BigIntegerField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["subject_type", "subject_id", "id"], name="event_subject_idx")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject_type}#{self.subject_id}"


class Counter(models.Model):
    """A named monotonic counter (ticket numbers); see ``core.services.counter_take``."""

    name = models.CharField(max_length=32, primary_key=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"
