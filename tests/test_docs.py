"""Documentation that must stay true: every setting read from the environment is in the README."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_environment_variable_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    used: set[str] = set()
    for path in (ROOT / "trustdesk").rglob("*.py"):
        used.update(
            re.findall(r"""env(?:_bool)?\(\s*["'](TRUSTDESK_[A-Z0-9_]+)""", path.read_text())
        )
    assert used, "found no settings: the pattern is out of date"
    missing = sorted(name for name in used if f"`{name}`" not in readme)
    assert missing == []


def test_readme_shows_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme
    assert "make test" in readme
