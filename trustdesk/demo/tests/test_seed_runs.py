from __future__ import annotations

from typing import Any

import pytest
from django.core.management import CommandError, call_command

from trustdesk.accounts.models import Agent, Team
from trustdesk.core.errors import Conflict
from trustdesk.core.models import Event
from trustdesk.customers.models import Customer
from trustdesk.demo.services import demo_login, demo_seed
from trustdesk.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_the_demo_agent_logs_in_with_the_default_password() -> None:
    demo_seed(customers=5, tickets=5)

    assert Agent.objects.get(email="demo@trustdesk.local").check_password("trustdesk-demo")


def test_a_password_from_the_environment_is_not_printed(settings: Any) -> None:
    settings.TRUSTDESK_DEMO_PASSWORD = "something-else"
    assert demo_login() is None
    demo_seed(customers=5, tickets=5)

    assert demo_login() == ("demo@trustdesk.local", "(the value of TRUSTDESK_DEMO_PASSWORD)")


def test_a_second_run_is_refused(settings: Any) -> None:
    settings.TRUSTDESK_DEMO_PASSWORD = "from-the-environment"
    demo_seed(customers=20, tickets=30)
    before = (Ticket.objects.count(), Customer.objects.count(), Event.objects.count())

    with pytest.raises(Conflict, match="already loaded"):
        demo_seed(customers=20, tickets=30)
    with pytest.raises(CommandError, match="already loaded"):
        call_command("demo")

    assert (Ticket.objects.count(), Customer.objects.count(), Event.objects.count()) == before
    assert Agent.objects.get(email="demo@trustdesk.local").check_password("from-the-environment")


def test_force_adds_another_set_with_the_same_agents() -> None:
    demo_seed(customers=20, tickets=30)
    call_command("demo", "--force", "--customers", "10", "--tickets", "15", stdout=_Null())

    assert (Agent.objects.count(), Team.objects.count()) == (5, 2)
    assert (Customer.objects.count(), Ticket.objects.count()) == (30, 45)
    assert len(set(Ticket.objects.values_list("number", flat=True))) == 45
    assert Event.objects.filter(kind="demo.seeded").count() == 2


class _Null:
    def write(self, text: str) -> None:
        pass

    def flush(self) -> None:
        pass
