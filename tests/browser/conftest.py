"""Playwright (sync API) against pytest-django's live server, with Debian's chromium.

The sync API runs an event loop in the test's thread; Django refuses ORM calls from a thread with a running
loop unless told that this is safe here (it is: the loop only drives the browser).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.db import connections

from tests.services import require_chromium

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Screenshots of the pages the journeys visit, kept as CI artefacts under var/screenshots/ (not
# committed); ORDERBRIDGE_UI_SCREENSHOTS=/some/dir puts them elsewhere, empty turns them off.
SCREENSHOT_DIR = os.environ.get(
    "ORDERBRIDGE_UI_SCREENSHOTS", os.path.join(os.environ.get("ORDERBRIDGE_VAR_DIR", "var"), "screenshots")
)


@pytest.fixture
def page(live_server) -> Iterator:
    from playwright.sync_api import sync_playwright

    executable = require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        # An English-speaking laptop user; the journey switches to Chinese itself.
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1366, "height": 900}, locale="en-US"
        )
        context.set_default_timeout(10_000)
        page = context.new_page()
        try:
            yield page
        finally:
            context.close()
            browser.close()
            # Django's connections are context-local and Playwright's sync API runs the test under its own
            # context: the test's ORM calls got a connection of their own, which Django's teardown never sees.
            connections.close_all()


@pytest.fixture
def screenshot():
    def take(page, name: str) -> None:
        if SCREENSHOT_DIR:
            os.makedirs(SCREENSHOT_DIR, exist_ok=True)
            page.screenshot(path=os.path.join(SCREENSHOT_DIR, f"ui-{name}.png"), full_page=True)

    return take
