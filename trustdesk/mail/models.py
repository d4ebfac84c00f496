"""Outbound email: one row per public agent reply that leaves by email."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboundEmail(models.Model):
    """The delivery state of one outbound message.

    A worker claims a row by moving it from ``queued`` to ``sending`` with a conditional UPDATE;
    only the claimer talks to the SMTP server, so a reply is sent once however many workers run.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    message = models.OneToOneField(
        "tickets.Message", on_delete=models.CASCADE, related_name="outbound_email"
    )
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    to_address = models.EmailField(_("recipient"), blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(_("last error"), blank=True)
    # Generated when the row is queued and reused on every attempt, so a retry that reaches the
    # customer twice is recognisably the same message.
    rfc_message_id = models.CharField(_("Message-ID"), max_length=255, unique=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["state", "id"], name="outbound_state_idx")]

    def __str__(self) -> str:
        return f"{self.rfc_message_id} ({self.state})"
