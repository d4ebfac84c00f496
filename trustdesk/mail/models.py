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


class InboundEmail(models.Model):
    """The durable first step of intake: the raw bytes of one received message.

    Stored (and committed) before anything parses it; unique by ``dedupe_key`` (the Message-ID,
    or a SHA-256 of the bytes when it has none), so the same mail arriving twice, by any way in,
    is recorded once. A task then parses, routes and turns it into ticket messages.
    """

    class State(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSING = "processing", _("Processing")
        DONE = "done", _("Done")
        QUARANTINED = "quarantined", _("Quarantined")

    class Outcome(models.TextChoices):
        CREATED = "created", _("Created a ticket")
        APPENDED = "appended", _("Added to a ticket")
        DUPLICATE = "duplicate", _("Duplicate")
        SUPPRESSED = "suppressed", _("Suppressed (automated)")
        QUARANTINED = "quarantined", _("Quarantined")
        REJECTED = "rejected", _("Rejected")

    dedupe_key = models.CharField(max_length=300, unique=True)
    message_id_header = models.CharField(_("Message-ID"), max_length=300, blank=True, db_index=True)
    raw = models.BinaryField()
    size = models.PositiveIntegerField()
    source = models.CharField(_("source"), max_length=64)  # "pipe", "smtp", "imap:<mailbox id>"
    envelope_from = models.CharField(max_length=320, blank=True)
    envelope_to = models.JSONField(default=list, blank=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.RECEIVED)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    error = models.TextField(_("error"), blank=True)
    automated = models.CharField(max_length=16, blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.ForeignKey(
        "tickets.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    received_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "id"], name="inbound_state_idx")]

    def __str__(self) -> str:
        return f"{self.dedupe_key} ({self.state})"


class Mailbox(models.Model):
    """An IMAP mailbox that ``trustdesk fetch-mail`` polls by UID."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    address = models.EmailField(
        _("support address"), help_text=_("The address customers write to.")
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="mailboxes"
    )
    host = models.CharField(max_length=255)
    port = models.PositiveIntegerField(default=993)
    use_ssl = models.BooleanField(default=True)
    username = models.CharField(max_length=255)
    password = models.CharField(max_length=255)
    folder = models.CharField(max_length=255, default="INBOX")
    processed_folder = models.CharField(
        max_length=255, blank=True, help_text=_("Move fetched mail here; empty: flag it as seen.")
    )
    enabled = models.BooleanField(default=True)
    uidvalidity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AutoAcknowledgement(models.Model):
    """One automatic acknowledgement we sent: at most one per sender address per 24 hours."""

    address = models.CharField(max_length=254)
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["address", "-sent_at"], name="autoack_address_idx")]

    def __str__(self) -> str:
        return f"{self.address} {self.sent_at:%Y-%m-%d %H:%M}"
