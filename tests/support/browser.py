"""Debian's chromium driven by Playwright, launched the same way by every browser test."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CHROMIUM = shutil.which("chromium")
# Headless, and quiet: without the background-networking flags chromium keeps dialing out of
# this machine's closed network.
LAUNCH_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def chromium_page(*, init_script: str, width: int = 1440, height: int = 900) -> Iterator[Any]:
    """A fresh page whose ``init_script`` runs before any of the site's own scripts.

    Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still
    plain synchronous code, hence DJANGO_ALLOW_ASYNC_UNSAFE for the duration.
    """
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            try:
                page = browser.new_page(viewport={"width": width, "height": height})
                page.add_init_script(init_script)
                yield page
            finally:
                browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous
