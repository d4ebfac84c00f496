from __future__ import annotations

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from conftest import PASSWORD
from trustdesk.accounts.models import Agent
from trustdesk.workspace.tests.support import text

pytestmark = pytest.mark.django_db


def test_login_page_is_styled_and_has_csrf() -> None:
    response = Client().get(reverse("workspace:login"))
    assert response.status_code == 200
    body = text(response)
    assert 'name="csrfmiddlewaretoken"' in body
    assert '<label for="id_username">Email address</label>' in body
    assert "workspace/css/app.css" in body
    assert 'style="' not in body


def test_login_with_the_right_password_opens_the_inbox(agent: Agent) -> None:
    client = Client()
    response = client.post(
        reverse("workspace:login"), {"username": "ada@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("workspace:inbox")
    assert client.get(reverse("workspace:inbox")).status_code == 200


def test_login_with_a_wrong_password_shows_an_error(agent: Agent) -> None:
    client = Client()
    response = client.post(
        reverse("workspace:login"), {"username": "ada@example.com", "password": "nope"}
    )
    assert response.status_code == 200
    assert "Please enter a correct email address and password." in text(response)
    assert "_auth_user_id" not in client.session


def test_workspace_pages_need_a_signed_in_agent() -> None:
    response = Client().get(reverse("workspace:inbox"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('workspace:login')}?next=/"


def test_logout_is_a_post(agent_client: Client) -> None:
    assert agent_client.get(reverse("workspace:logout")).status_code == 405
    response = agent_client.post(reverse("workspace:logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("workspace:login")
    assert agent_client.get(reverse("workspace:inbox")).status_code == 302


def _link(agent: Agent) -> str:
    uid = urlsafe_base64_encode(force_bytes(agent.pk))
    token = default_token_generator.make_token(agent)
    return reverse("workspace:password_set", args=[uid, token])


def test_one_time_link_sets_the_password_and_signs_in() -> None:
    agent = Agent.objects.create_user("new@example.com", None, display_name="New Agent")
    client = Client()
    response = client.get(_link(agent))
    assert response.status_code == 302
    form_url = response["Location"]
    assert form_url.endswith("/set-password/")
    page = client.get(form_url)
    assert page.status_code == 200
    assert "Choose your password" in text(page)
    assert "new@example.com" in text(page)
    new_password = "a much better passphrase 42"
    done = client.post(form_url, {"new_password1": new_password, "new_password2": new_password})
    assert done.status_code == 302
    assert done["Location"] == reverse("workspace:inbox")
    agent.refresh_from_db()
    assert agent.check_password(new_password)
    assert client.get(reverse("workspace:inbox")).status_code == 200


def test_a_used_link_does_not_work_twice() -> None:
    agent = Agent.objects.create_user("new@example.com", None, display_name="New Agent")
    link = _link(agent)
    agent.set_password("a much better passphrase 42")
    agent.save()
    response = Client().get(link)
    assert response.status_code == 200
    assert "This link no longer works" in text(response)
    assert "new_password1" not in text(response)
