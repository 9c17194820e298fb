"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright's sync API against Django's
live server. Playwright never downloads a browser here: we point it at the system one."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.personas import Cast, build_cast

# Playwright's sync API keeps an asyncio loop running in this thread; Django refuses database calls
# from a thread with a running loop unless told that this is deliberate.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    # Module scope: Playwright's loop ends with the browser tests instead of lingering beside the
    # rest of the suite.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    # A Dutch browser, as at the institute; a fresh context per test, so no cookie leaks between tests.
    context = chromium.new_context(locale="nl-NL", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def live_cast(transactional_db: None, live_server, settings) -> Cast:
    """The cast, committed, so that the live server's thread sees it (with in-memory SQLite the
    thread shares this connection; with PostgreSQL it reads what transactional_db let us commit)."""
    settings.LANGUAGE_CODE = "nl"  # the product's default; the test settings use English
    return build_cast()
