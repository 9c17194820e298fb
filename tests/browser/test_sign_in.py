"""Signing in, seeing one's own cases and switching language, in a real browser without any
JavaScript of ours (the pages have none: every control is a plain form)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.personas import PASSWORD, Cast

pytestmark = pytest.mark.browser

SCREENSHOT = "/tmp/ui-case-list.png"


def sign_in(page: Page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Inloggen")
    page.get_by_label("Gebruikersnaam").fill(username)
    page.get_by_label("Wachtwoord").fill(password)
    page.get_by_role("button", name="Inloggen").click()


def test_it_signs_in_shows_own_cases_and_switches_language(page: Page, live_server, live_cast: Cast):
    sign_in(page, live_server.url, "case_lead", PASSWORD)

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welkom, case_lead")
    expect(page.locator("#task-my-cases")).to_contain_text("Mijn zaken")

    # The first Tab reaches the skip link, and it leads to the main content.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Direct naar de inhoud")).to_be_focused()

    navigation = page.get_by_role("navigation", name="Hoofdnavigatie")
    navigation.get_by_role("link", name="Zaken", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/cases/")
    table = page.get_by_role("table")
    expect(table).to_contain_text("NFI-2026-0001")
    expect(table).to_contain_text("Operation Heron")
    expect(page.locator("main")).not_to_contain_text("NFI-2026-0002")
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    page.screenshot(path=SCREENSHOT, full_page=True)

    page.get_by_role("button", name="English").click()
    expect(page).to_have_url(f"{live_server.url}/cases/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("columnheader", name="Case number")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    page.get_by_role("button", name="Nederlands").click()
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.get_by_role("columnheader", name="Zaaknummer")).to_be_visible()

    # The case's own page, reached by its link, through the same scoping door.
    page.get_by_role("link", name="NFI-2026-0001").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("NFI-2026-0001: Operation Heron")
    expect(page.locator("main")).to_contain_text("Laptop image")
    expect(page.locator("main")).to_contain_text("deputy")


def test_it_says_so_when_the_password_is_wrong(page: Page, live_server, live_cast: Cast):
    sign_in(page, live_server.url, "case_lead", "not-the-password")

    expect(page.get_by_role("alert")).to_have_text(
        "Uw gebruikersnaam en wachtwoord komen niet overeen. Probeer het opnieuw."
    )
    expect(page.get_by_label("Gebruikersnaam")).to_have_value("case_lead")
    expect(page.get_by_label("Wachtwoord")).to_have_value("")
    expect(page.get_by_role("button", name="Uitloggen")).to_have_count(0)
