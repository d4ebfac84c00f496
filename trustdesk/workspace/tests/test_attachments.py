from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from trustdesk.accounts.models import Team
from trustdesk.tickets.attachments import UploadedFile
from trustdesk.tickets.models import Attachment
from trustdesk.workspace.tests.conftest import MakeTicket

pytestmark = pytest.mark.django_db


def _attachment(make_ticket: MakeTicket, name: str, content: bytes, **kw: object) -> Attachment:
    ticket = make_ticket(attachments=[UploadedFile(filename=name, content=content)], **kw)
    return Attachment.objects.get(message__ticket=ticket)


def test_download_is_always_an_attachment(agent_client: Client, make_ticket: MakeTicket) -> None:
    attachment = _attachment(make_ticket, "evil.html", b"<script>alert(1)</script>")
    response = agent_client.get(reverse("workspace:attachment", args=[attachment.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="evil.html"'
    assert response["Content-Type"] == "text/plain"  # sniffed from the bytes, never claimed
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert b"".join(response.streaming_content) == b"<script>alert(1)</script>"  # type: ignore[attr-defined]


def test_unknown_types_go_out_as_opaque_bytes(
    agent_client: Client, make_ticket: MakeTicket
) -> None:
    attachment = _attachment(make_ticket, "page.svg", b"<svg/>")
    Attachment.objects.filter(pk=attachment.pk).update(content_type="image/svg+xml")
    response = agent_client.get(reverse("workspace:attachment", args=[attachment.pk]))
    assert response["Content-Type"] == "application/octet-stream"


def test_passive_types_keep_their_type(agent_client: Client, make_ticket: MakeTicket) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
    attachment = _attachment(make_ticket, "photo.png", png)
    response = agent_client.get(reverse("workspace:attachment", args=[attachment.pk]))
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'attachment; filename="photo.png"'


def test_filename_is_made_safe(agent_client: Client, make_ticket: MakeTicket) -> None:
    attachment = _attachment(make_ticket, 'résumé "final".txt', b"hi")
    Attachment.objects.filter(pk=attachment.pk).update(filename='../../etc/pa"ss\r\nwd')
    response = agent_client.get(reverse("workspace:attachment", args=[attachment.pk]))
    disposition = response["Content-Disposition"]
    assert disposition == 'attachment; filename="pa\\"sswd"'


def test_unicode_filename(agent_client: Client, make_ticket: MakeTicket) -> None:
    attachment = _attachment(make_ticket, "résumé.txt", b"hi")
    response = agent_client.get(reverse("workspace:attachment", args=[attachment.pk]))
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''r%C3%A9sum%C3%A9.txt"


def test_invisible_attachment_is_404(
    agent_client: Client, make_ticket: MakeTicket, other_team: Team
) -> None:
    attachment = _attachment(make_ticket, "secret.txt", b"s", team=other_team)
    response = agent_client.get(reverse("workspace:attachment", args=[attachment.pk]))
    assert response.status_code == 404
    assert b"secret" not in response.content


def test_download_needs_sign_in(make_ticket: MakeTicket) -> None:
    attachment = _attachment(make_ticket, "a.txt", b"a")
    response = Client().get(reverse("workspace:attachment", args=[attachment.pk]))
    assert response.status_code == 302
