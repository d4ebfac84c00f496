from __future__ import annotations

from django.apps import AppConfig

# The ticket channels whose public replies go out by email to the customer's primary address.
EMAIL_REPLY_CHANNELS = ("email", "web", "api")


class MailConfig(AppConfig):
    name = "trustdesk.mail"
    label = "mail"
    verbose_name = "Email"

    def ready(self) -> None:
        from trustdesk.core.registry import register_deliverer, register_worker_start
        from trustdesk.mail.intake.tasks import inbound_worker_started
        from trustdesk.mail.services import outbound_queue

        def deliver(message_id: int) -> None:
            outbound_queue(message_id)

        for channel in EMAIL_REPLY_CHANNELS:
            register_deliverer(channel, deliver)
        register_worker_start(inbound_worker_started)
