from __future__ import annotations

import io
from typing import Any

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.utils.http import urlsafe_base64_encode

from trustdesk.__main__ import main
from trustdesk.accounts.models import Agent, ApiToken, Team
from trustdesk.accounts.services import token_authenticate

# The console entry point closes database connections when it finishes, as in production:
# these tests need real transactions rather than the per-test rollback.
pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRUSTDESK_AGENT_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO())


def run(*argv: str) -> int:
    try:
        main(["trustdesk", *argv])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_create_agent_with_password_from_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRUSTDESK_AGENT_PASSWORD", PASSWORD)
    code = run(
        "create-agent",
        "--email",
        "Ada@Example.com",
        "--name",
        "Ada  Lovelace",
        "--admin",
        "--team",
        "Support",
    )
    out, err = capsys.readouterr()
    assert (code, out, err) == (0, "Created administrator ada@example.com.\n", "")
    agent = Agent.objects.get()
    assert (agent.email, agent.display_name, agent.role, agent.is_superuser) == (
        "ada@example.com",
        "Ada Lovelace",
        "admin",
        True,
    )
    assert agent.check_password(PASSWORD)
    assert list(agent.teams.values_list("name", flat=True)) == ["Support"]


def test_create_agent_joins_an_existing_team(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRUSTDESK_AGENT_PASSWORD", PASSWORD)
    Team.objects.create(name="Support")
    assert (
        run("create-agent", "--email", "bo@example.com", "--name", "Bo", "--team", "Support") == 0
    )
    assert Team.objects.count() == 1
    assert Agent.objects.get().role == "agent"


def test_create_agent_without_terminal_prints_a_one_time_link(
    capsys: pytest.CaptureFixture[str], settings: Any
) -> None:
    settings.SITE_URL = "https://help.example.com"
    code = run("create-agent", "--email", "ada@example.com", "--name", "Ada")
    out, err = capsys.readouterr()
    agent = Agent.objects.get()
    assert (code, err) == (0, "")
    assert not agent.has_usable_password()
    lines = out.splitlines()
    assert lines[0] == "Created agent ada@example.com."
    uidb64 = urlsafe_base64_encode(str(agent.pk).encode())
    prefix = f"https://help.example.com/login/set-password/{uidb64}/"
    assert lines[-1].startswith(prefix)
    token = lines[-1].removeprefix(prefix).rstrip("/")
    assert default_token_generator.check_token(agent, token)


@pytest.mark.parametrize(
    ("argv", "password", "message"),
    [
        (
            ["--email", "not-an-email", "--name", "X"],
            PASSWORD,
            "'not-an-email' is not a valid email",
        ),
        (["--email", "x@example.com", "--name", "   "], PASSWORD, "An agent needs a name."),
        (["--email", "x@example.com", "--name", "X", "--team", "New"], "123", "too short"),
    ],
)
def test_create_agent_refuses_bad_input_and_writes_nothing(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    password: str,
    message: str,
) -> None:
    monkeypatch.setenv("TRUSTDESK_AGENT_PASSWORD", password)
    code = run("create-agent", *argv)
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert err.startswith("CommandError: ")
    assert message in err
    assert (Agent.objects.count(), Team.objects.count()) == (0, 0)


def test_create_agent_refuses_an_existing_email(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRUSTDESK_AGENT_PASSWORD", PASSWORD)
    assert run("create-agent", "--email", "ada@example.com", "--name", "Ada") == 0
    capsys.readouterr()
    code = run("create-agent", "--email", "ADA@example.com", "--name", "Other")
    out, err = capsys.readouterr()
    assert (code, out, err) == (
        1,
        "",
        "CommandError: An agent with ada@example.com already exists.\n",
    )
    assert Agent.objects.get().display_name == "Ada"


def test_create_token_prints_only_the_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRUSTDESK_AGENT_PASSWORD", PASSWORD)
    run("create-agent", "--email", "ada@example.com", "--name", "Ada")
    capsys.readouterr()
    code = run("create-token", "--agent", "Ada@example.com")
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    token = out.removesuffix("\n")
    assert "\n" not in token
    assert token_authenticate(token) == Agent.objects.get()


def test_create_token_for_unknown_agent_fails(capsys: pytest.CaptureFixture[str]) -> None:
    code = run("create-token", "--agent", "ghost@example.com")
    out, err = capsys.readouterr()
    assert (code, out) == (1, "")
    assert err == "CommandError: No agent has the email address ghost@example.com.\n"
    assert ApiToken.objects.count() == 0
