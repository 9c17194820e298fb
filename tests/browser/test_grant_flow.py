"""The case lead grants, the investigator sees the access, the case lead revokes, and the decision
API that Hansken asks says ``grant_revoked`` — walked in headless Chromium, in Dutch, with one page
checked in English. Two browser contexts: two people, two sessions, side by side."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.utils import formats, timezone, translation
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.personas import CASE_PROJECT_ID, PASSWORD, Cast

pytestmark = pytest.mark.browser

SCREENSHOT_FORM = "/tmp/grants-form.png"
SCREENSHOT_FORM_ERROR = "/tmp/grants-form-error.png"
SCREENSHOT_ACCESS = "/tmp/grants-access.png"
SCREENSHOT_REVOKE = "/tmp/grants-revoke.png"
SCREENSHOT_MY_ACCESS = "/tmp/grants-my-access.png"


def new_context(chromium: Browser) -> BrowserContext:
    context = chromium.new_context(locale="nl-NL", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    return context


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Gebruikersnaam").fill(username)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Welkom, {username}")


def decide(hansken: BrowserContext, base_url: str, cast: Cast, user: str, action: str) -> dict[str, Any]:
    """Ask the decision API as Hansken production does: over HTTP, with the client's bearer token,
    from a context of its own (no browser session of anybody)."""
    response = hansken.request.post(
        f"{base_url}/api/v1/authz/check",
        data={"user": user, "project_id": str(CASE_PROJECT_ID), "action": action},
        headers={"Authorization": f"Bearer {cast.tokens['hansken_production']}"},
    )
    assert response.status == 200, response.text()
    return response.json()


def test_it_grants_shows_revokes_and_the_decision_api_agrees(chromium: Browser, live_server, live_cast: Cast):
    base = live_server.url
    until = timezone.localdate() + datetime.timedelta(days=30)
    lead_context, investigator_context = new_context(chromium), new_context(chromium)
    hansken = chromium.new_context()
    try:
        lead = lead_context.new_page()
        sign_in(lead, base, "case_lead")

        # From the navigation to the case's access page.
        lead.get_by_role("navigation", name="Hoofdnavigatie").get_by_role("link", name="Mijn zaken").click()
        expect(lead.get_by_role("heading", level=1)).to_have_text("Mijn zaken")
        lead.get_by_role("link", name="NFI-2026-0001", exact=True).click()
        expect(lead.get_by_role("heading", level=1)).to_have_text("Toegang tot zaak NFI-2026-0001")
        expect(lead.locator("main")).to_contain_text(
            "Behalve de zaakverantwoordelijke en de plaatsvervangers"
        )

        # The grant form: production ticked, experiment not; a mistake is named next to its field.
        lead.get_by_role("link", name="Toegang verlenen").click()
        expect(lead.get_by_role("heading", level=1)).to_have_text("Toegang verlenen tot zaak NFI-2026-0001")
        expect(lead.get_by_label("Productie")).to_be_checked()
        expect(lead.get_by_label("Experiment")).not_to_be_checked()
        lead.get_by_label("Persoon (gebruikersnaam)").fill("investigator")
        lead.get_by_label("Lezen", exact=True).check()
        lead.get_by_label("Zoeken", exact=True).check()
        lead.get_by_label("Geldig tot en met").fill(until.isoformat())
        lead.get_by_role("button", name="Toegang verlenen").click()
        expect(lead.get_by_role("alert")).to_contain_text("Er is niets opgeslagen.")
        expect(lead.locator("#id_reason_error")).to_have_text("Geef aan waarom de toegang wordt verleend.")
        expect(lead.get_by_label("Reden")).to_have_attribute("aria-invalid", "true")
        # What was entered is still there.
        expect(lead.get_by_label("Persoon (gebruikersnaam)")).to_have_value("investigator")
        expect(lead.get_by_label("Zoeken", exact=True)).to_be_checked()
        lead.screenshot(path=SCREENSHOT_FORM_ERROR, full_page=True)
        lead.get_by_label("Reden").fill("Tactische analyse van de laptop")
        lead.screenshot(path=SCREENSHOT_FORM, full_page=True)
        lead.get_by_role("button", name="Toegang verlenen").click()

        # Back on the access page, with the grant and its first version.
        expect(lead).to_have_url(re.compile(rf"/cases/{CASE_PROJECT_ID}/access/#grant-\d+$"))
        expect(lead.get_by_role("status")).to_contain_text(
            "investigator heeft nu toegang tot zaak NFI-2026-0001"
        )
        current = lead.get_by_role("table", name="Wie heeft nu toegang")
        row = current.get_by_role("row").filter(has_text="investigator")
        expect(row).to_contain_text("Lezen, Zoeken")
        expect(row).to_contain_text("Productie")
        expect(row).to_contain_text("case_lead")
        expect(row).to_contain_text("Actief")
        lead.locator("details.history summary").first.click()
        expect(
            lead.get_by_role("table", name="Geschiedenis van de toegang van investigator")
        ).to_contain_text("Tactische analyse van de laptop")
        lead.screenshot(path=SCREENSHOT_ACCESS, full_page=True)
        assert decide(hansken, base, live_cast, "investigator", "search")["allowed"] is True

        # The investigator, in a session of his own, sees the access.
        investigator = investigator_context.new_page()
        sign_in(investigator, base, "investigator")
        investigator.get_by_role("navigation", name="Hoofdnavigatie").get_by_role(
            "link", name="Mijn toegang"
        ).click()
        mine = investigator.get_by_role("table", name="Uw huidige toegang")
        expect(mine).to_contain_text("NFI-2026-0001")
        expect(mine).to_contain_text("Lezen, Zoeken")
        expect(mine).to_contain_text("Productie")
        with translation.override("nl"):
            expect(mine).to_contain_text(formats.date_format(until, "DATE_FORMAT"))
        investigator.screenshot(path=SCREENSHOT_MY_ACCESS, full_page=True)

        # The case lead revokes: first a question, then nothing happens without a reason.
        lead.get_by_role("link", name="Intrekken (investigator)").click()
        expect(lead.get_by_role("heading", level=1)).to_have_text(
            "De toegang van investigator tot zaak NFI-2026-0001 intrekken?"
        )
        lead.get_by_role("button", name="Ja, toegang intrekken").click()
        expect(lead.locator("#id_reason_error")).to_have_text("Geef aan waarom de toegang wordt ingetrokken.")
        assert decide(hansken, base, live_cast, "investigator", "search")["allowed"] is True
        lead.get_by_label("Reden van intrekking").fill("Heeft het onderzoeksteam verlaten")
        lead.screenshot(path=SCREENSHOT_REVOKE, full_page=True)
        lead.get_by_role("button", name="Ja, toegang intrekken").click()
        expect(lead.get_by_role("status")).to_contain_text(
            "De toegang van investigator tot zaak NFI-2026-0001 is ingetrokken."
        )
        expect(lead.get_by_role("table", name="Beëindigde en ingetrokken toegang")).to_contain_text(
            "Ingetrokken"
        )

        # The investigator's page says so too, and Hansken's next question is denied.
        investigator.reload()
        expect(investigator.locator("main")).to_contain_text(
            "U hebt op dit moment geen toegang tot een zaak."
        )
        expect(investigator.get_by_role("table", name="Beëindigde en ingetrokken toegang")).to_contain_text(
            "Heeft het onderzoeksteam verlaten"
        )
        decision = decide(hansken, base, live_cast, "investigator", "search")
        assert {key: decision[key] for key in ("allowed", "reason")} == {
            "allowed": False,
            "reason": "grant_revoked",
        }

        # One page in English: the same access page, after the language switch.
        lead.get_by_role("button", name="English").click()
        expect(lead.locator("html")).to_have_attribute("lang", "en")
        expect(lead.get_by_role("heading", level=1)).to_have_text("Access to case NFI-2026-0001")
        expect(lead.get_by_role("table", name="Ended and revoked access")).to_contain_text("Revoked")
        expect(lead.get_by_role("link", name="Grant access")).to_be_visible()
        lead.locator("details.history summary").first.click()
        history = lead.get_by_role("table", name="History of the access of investigator")
        expect(history).to_contain_text("Granted")
        expect(history).to_contain_text("Revoked")
        expect(history).to_contain_text("Heeft het onderzoeksteam verlaten")
    finally:
        lead_context.close()
        investigator_context.close()
        hansken.close()
