"""Demo teams, agents, organisations and customers (Faker, seeded)."""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from faker import Faker

from trustdesk.accounts.models import Agent, Team
from trustdesk.accounts.services import agent_create, team_get_or_create
from trustdesk.core.errors import ValidationFailed
from trustdesk.core.models import Event
from trustdesk.customers.models import ContactPoint, Customer, Organization
from trustdesk.customers.services import contact_normalize
from trustdesk.demo.content import CUSTOMER_NOTES

DEMO_EMAIL = "demo@trustdesk.local"
# Public and local-only: the password of the demo login, unless TRUSTDESK_DEMO_PASSWORD is set.
DEFAULT_DEMO_PASSWORD = "trustdesk-demo"  # noqa: S105
COMPANY = "Northwind Gadgets"  # the demo helpdesk's own (fictional) company


@dataclass(frozen=True)
class AgentSpec:
    email: str
    name: str
    team: str
    role: str
    lead: bool = False


AGENTS = (
    AgentSpec(DEMO_EMAIL, "Dana Demo", "Support", Agent.Role.ADMIN, lead=True),
    AgentSpec("priya@trustdesk.local", "Priya Raman", "Support", Agent.Role.AGENT),
    AgentSpec("tomas@trustdesk.local", "Tomás Ortega", "Support", Agent.Role.AGENT),
    AgentSpec("mei@trustdesk.local", "Mei Chen", "Billing", Agent.Role.LEAD, lead=True),
    AgentSpec("jonas@trustdesk.local", "Jonas Becker", "Billing", Agent.Role.AGENT),
)
TEAMS = {"Support": "support@trustdesk.local", "Billing": "billing@trustdesk.local"}

# (Faker locale, language, time zones): where the demo customers live.
LOCALES = (
    ("en_US", "en", ("America/New_York", "America/Chicago", "America/Los_Angeles")),
    ("en_GB", "en", ("Europe/London",)),
    ("de_DE", "de", ("Europe/Berlin",)),
    ("fr_FR", "fr", ("Europe/Paris",)),
    ("es_ES", "es", ("Europe/Madrid",)),
    ("nl_NL", "nl", ("Europe/Amsterdam",)),
    ("pt_BR", "pt", ("America/Sao_Paulo",)),
    ("en_AU", "en", ("Australia/Sydney",)),
)
LOCALE_WEIGHTS = (35, 15, 12, 10, 8, 7, 7, 6)
FREE_MAIL = ("example.com", "example.org", "example.net", "mail.example")
NICKNAMES = {
    "Robert": "Bob",
    "William": "Bill",
    "Elizabeth": "Liz",
    "Katherine": "Kate",
    "Jennifer": "Jen",
    "Michael": "Mike",
    "Christopher": "Chris",
    "Alexander": "Alex",
    "Alexandra": "Sasha",
    "Johannes": "Hannes",
    "Margaret": "Maggie",
    "Daniel": "Dan",
    "Thomas": "Tom",
    "Francisco": "Paco",
    "José": "Pepe",
}


def teams_and_agents(*, password: str) -> tuple[dict[str, Team], list[Agent]]:
    """The two demo teams and five agents (existing ones are reused on a forced second run)."""
    teams = {name: team_get_or_create(name=name, email=email) for name, email in TEAMS.items()}
    agents = []
    for spec in AGENTS:
        agent = Agent.objects.filter(email=spec.email).first()
        if agent is None:
            agent = agent_create(
                email=spec.email,
                display_name=spec.name,
                # Only the demo login can sign in; the other demo agents have unusable passwords.
                password=password if spec.email == DEMO_EMAIL else None,
                role=spec.role,
                teams=[teams[spec.team]],
                check_password=False,
            )
            signature = f"{spec.name}\n{spec.team} team, {COMPANY}\n{teams[spec.team].email}"
            Agent.objects.filter(pk=agent.pk).update(signature=signature)
            agent.signature = signature
            if spec.lead:
                agent.teammembership_set.filter(team=teams[spec.team]).update(is_lead=True)
        agents.append(agent)
    return teams, agents


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def organizations(
    *, fake: Faker, rng: random.Random, now: datetime, count: int
) -> list[Organization]:
    existing = set(Organization.objects.values_list("name", flat=True))
    orgs: list[Organization] = []
    while len(orgs) < count:
        name = fake.company()
        if name in existing:
            continue
        existing.add(name)
        slug = _ascii(name.split(",")[0].split(" ")[0]) or "org"
        orgs.append(
            Organization(
                name=name,
                domain=f"{slug}{len(existing)}.example",
                notes=rng.choice(["", "", "Enterprise contract, SSO enabled.", "Reseller."]),
                created_at=now - timedelta(days=rng.randint(200, 900)),
            )
        )
    return Organization.objects.bulk_create(orgs)


@dataclass
class DemoCustomer:
    customer: Customer
    email: str
    chat_id: str | None


def customers(
    *, rng: random.Random, seed: int, now: datetime, count: int, orgs: list[Organization], run: int
) -> list[DemoCustomer]:
    """``count`` customers with email (all), phone (most) and chat (some) contact points."""
    fakers = {}
    for locale, _, _ in LOCALES:
        fakers[locale] = Faker(locale)
        fakers[locale].seed_instance(seed)
    taken = set(ContactPoint.objects.values_list("kind", "value"))
    rows: list[tuple[Customer, str, str | None, str | None]] = []
    for index in range(count):
        locale, language, zones = rng.choices(LOCALES, weights=LOCALE_WEIGHTS)[0]
        fake = fakers[locale]
        first, last = fake.first_name(), fake.last_name()
        org = rng.choice(orgs) if orgs and rng.random() < 0.4 else None
        domain = org.domain if org else rng.choice(FREE_MAIL)
        local = f"{_ascii(first)}.{_ascii(last)}" + (f".{run}" if run else "")
        email = f"{local}@{domain}"
        if ("email", email) in taken:
            email = f"{local}{index}@{domain}"
        taken.add(("email", email))
        phone = _phone(fake, rng, taken) if rng.random() < 0.65 else None
        chat = f"visitor-{seed}-{run}-{index}" if rng.random() < 0.3 else None
        created = now - timedelta(days=rng.randint(95, 700), minutes=rng.randint(0, 1439))
        rows.append(
            (
                Customer(
                    full_name=f"{first} {last}",
                    preferred_name=NICKNAMES.get(first, first if rng.random() < 0.2 else ""),
                    organization=org,
                    language=language,
                    time_zone=rng.choice(zones),
                    preferences={
                        "preferred_channel": rng.choice(["email", "email", "phone", "chat"]),
                        "contact_hours": rng.choice(["09:00-17:00", "08:00-12:00", "any"]),
                        "newsletter": rng.random() < 0.3,
                    },
                    notes=rng.choice(CUSTOMER_NOTES) if rng.random() < 0.25 else "",
                    created_at=created,
                    updated_at=created,
                ),
                email,
                phone,
                chat,
            )
        )
    saved = Customer.objects.bulk_create([row[0] for row in rows])
    points: list[ContactPoint] = []
    for customer, (_, email, phone, chat) in zip(saved, rows, strict=True):
        for kind, value in (("email", email), ("phone", phone), ("chat", chat)):
            if value is not None:
                points.append(
                    ContactPoint(
                        customer=customer,
                        kind=kind,
                        value=value,
                        is_primary=True,
                        created_at=customer.created_at,
                    )
                )
    ContactPoint.objects.bulk_create(points)
    Event.objects.bulk_create(
        Event(
            kind="customer.created",
            subject_type="customer",
            subject_id=c.pk,
            payload={"source": "demo"},
            created_at=c.created_at,
        )
        for c in saved
    )
    return [
        DemoCustomer(customer=c, email=row[1], chat_id=row[3])
        for c, row in zip(saved, rows, strict=True)
    ]


def _phone(fake: Faker, rng: random.Random, taken: set[tuple[str, str]]) -> str | None:
    for _ in range(5):
        try:
            value = contact_normalize(kind="phone", value=fake.phone_number())
        except ValidationFailed:
            continue
        if ("phone", value) not in taken:
            taken.add(("phone", value))
            return value
    return None


def demo_password() -> str:
    return str(settings.TRUSTDESK_DEMO_PASSWORD)
