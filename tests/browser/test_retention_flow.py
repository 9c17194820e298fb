"""Retention end to end in a real browser (Dutch, no JavaScript of ours): the sweep raises a notice,
the case lead chooses delete, the operator confirms the removal, and the decision API then denies
every trace of the image with ``dataset_deleted``."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from cases.models import Dataset
from tests.personas import CASE_PROJECT_ID, IMAGE_ID, PASSWORD, Cast

pytestmark = pytest.mark.browser

SCREENSHOT = "/tmp/ui-retention-removals.png"


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Gebruikersnaam").fill(username)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Welkom, {username}")


def check_trace(page: Page, base_url: str, cast: Cast) -> dict:
    response = page.request.post(
        f"{base_url}/api/v1/authz/check",
        headers={"Authorization": f"Bearer {cast.tokens['hansken_production']}"},
        data={
            "user": "case_lead",
            "project_id": str(CASE_PROJECT_ID),
            "action": "read",
            "trace_uid": f"{IMAGE_ID}:0-1",
        },
    )
    assert response.status == 200, response.text()
    return response.json()


def test_a_notice_leads_to_deletion_and_the_decision_api_denies(page: Page, live_server, live_cast: Cast):
    base = live_server.url
    assert check_trace(page, base, live_cast)["allowed"] is True
    Dataset.objects.filter(pk=live_cast.dataset.pk).update(
        imported_at=timezone.now() - datetime.timedelta(days=200)
    )
    call_command("retention_sweep", stdout=open("/dev/null", "w"))  # noqa: SIM115

    # The case lead finds the notice through the navigation and chooses delete.
    sign_in(page, base, "case_lead")
    page.get_by_role("navigation", name="Hoofdnavigatie").get_by_role("link", name="Bewaarmeldingen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bewaarmeldingen")
    table = page.get_by_role("table")
    expect(table).to_contain_text("NFI-2026-0001")
    expect(table).to_contain_text("Niet gebruikt")
    page.get_by_role("link", name="Beslissen over Laptop image").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Laptop image in zaak NFI-2026-0001")
    delete_form = page.get_by_role("form", name="De gegevens verwijderen")
    delete_form.get_by_label("Waarom de gegevens weg mogen").fill("Zaak afgedaan, geen hoger beroep")
    delete_form.get_by_role("button", name="Verwijderen").click()
    expect(page).to_have_url(f"{base}/retention/notices/")
    expect(page.get_by_role("status")).to_contain_text("Verwijdering aangevraagd")
    expect(page.locator("main")).to_contain_text("Verwijdering aangevraagd")
    page.get_by_role("button", name="Uitloggen").click()

    # The operator confirms the removal from production.
    sign_in(page, base, "operator")
    page.get_by_role("navigation", name="Hoofdnavigatie").get_by_role("link", name="Verwijderingen").click()
    task = page.get_by_role("form", name="Laptop image verwijderen uit Productie")
    expect(task).to_contain_text("Aangevraagd door case_lead")
    task.get_by_label("Verwijderd op").fill(timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
    task.get_by_label("Referentie (optioneel)").fill("CHG-2026-0042")
    task.get_by_role("button", name="Verwijdering bevestigen").click()
    expect(page).to_have_url(f"{base}/retention/removals/")
    expect(page.get_by_role("status")).to_contain_text("Verwijdering uit Productie bevestigd")
    expect(page.get_by_role("table")).to_contain_text("CHG-2026-0042")
    expect(page.get_by_role("table")).to_contain_text("Verwijderd")
    expect(page.get_by_role("table")).to_contain_text("Productie")
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    page.screenshot(path=SCREENSHOT, full_page=True)

    decision = check_trace(page, base, live_cast)
    assert decision["allowed"] is False
    assert decision["reason"] == "dataset_deleted"
