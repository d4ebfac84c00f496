"""Agents (the user model), teams and API tokens."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _


class AgentManager(UserManager["Agent"]):
    def _create_user_object(self, username: Any, email: Any, password: Any, **extra: Any) -> Agent:
        email = self.normalize_email(email or username).lower()
        agent = self.model(email=email, **extra)
        agent.password = ""
        if password:
            agent.set_password(password)
        else:
            agent.set_unusable_password()
        return agent

    def create_user(  # type: ignore[override]
        self, email: str, password: str | None = None, **extra: Any
    ) -> Agent:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        agent = self._create_user_object(email, email, password, **extra)
        agent.save(using=self._db)
        return agent

    def create_superuser(  # type: ignore[override]
        self, email: str, password: str | None = None, **extra: Any
    ) -> Agent:
        extra.update(is_staff=True, is_superuser=True, role=Agent.Role.ADMIN)
        return self.create_user(email, password, **extra)


class Agent(AbstractUser):
    """A person who works in the helpdesk. Customers are not users (see ``customers``)."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("Administrator")
        LEAD = "lead", _("Team lead")
        AGENT = "agent", _("Agent")
        LIGHT = "light", _("Light agent")

    username = None  # type: ignore[assignment]
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    email = models.EmailField(_("email address"), unique=True)
    display_name = models.CharField(_("display name"), max_length=120)
    signature = models.TextField(_("signature"), blank=True)
    avatar = models.FileField(_("avatar"), upload_to="avatars/", blank=True)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.AGENT)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["display_name"]
    objects: ClassVar[AgentManager] = AgentManager()

    class Meta:
        ordering = ["display_name"]

    def __str__(self) -> str:
        return self.display_name or self.email

    def get_full_name(self) -> str:
        return self.display_name

    def get_short_name(self) -> str:
        return self.display_name.split(" ")[0] if self.display_name else self.email

    @property
    def initials(self) -> str:
        parts = [p for p in self.display_name.split() if p]
        return "".join(p[0] for p in parts[:2]).upper() or self.email[:1].upper()


class Team(models.Model):
    name = models.CharField(_("name"), max_length=80, unique=True)
    email = models.EmailField(_("support address"), blank=True)
    members = models.ManyToManyField(Agent, through="TeamMembership", related_name="teams")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TeamMembership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE)
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE)
    is_lead = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "agent"], name="team_member_unique")]

    def __str__(self) -> str:
        return f"{self.agent} in {self.team}"


class ApiToken(models.Model):
    """A bearer token. Only its SHA-256 is stored; the clear token is shown once at creation."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80, blank=True)
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.agent})"
