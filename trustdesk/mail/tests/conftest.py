from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from trustdesk.mail.testing import SmtpSink


@pytest.fixture
def smtp(settings: Any) -> Iterator[SmtpSink]:
    """A real SMTP server on a loopback port; settings.MAILERS points at it."""
    sink = SmtpSink().start()
    settings.MAILERS = sink.mailers_setting()
    try:
        yield sink
    finally:
        sink.stop()
