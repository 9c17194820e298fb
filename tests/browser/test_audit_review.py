"""The privacy officer reviews a revoked grant: finds its history in the trail (who granted and who
revoked, and why), sees who could act on the case while it was in force, and downloads the trail as
CSV — walked in headless Chromium, in Dutch.

The case lead's grant and revocation are made through ``authz.services`` in the setup (the grant
pages have their own browser test); the grant is made two hours back, so that an hour ago it was in
force and now it is not.
"""

from __future__ import annotations

import csv
import datetime
import io
from pathlib import Path
from unittest import mock

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from audit.actor import Actor
from authz.services import grant_create, grant_revoke
from cases.models import Case
from tests.browser.second_factor import answer_second_factor
from tests.personas import CASE_PROJECT_ID, PASSWORD, Cast

pytestmark = pytest.mark.browser

SCREENSHOT_SEARCH = "/tmp/review-search.png"
SCREENSHOT_TIMELINE = "/tmp/review-timeline.png"
SCREENSHOT_ACCESS_AT = "/tmp/review-access-at.png"
GRANT_REASON = "Tactische analyse van de laptop"
REVOKE_REASON = "Vertrokken uit het onderzoeksteam"


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Gebruikersnaam").fill(username)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    answer_second_factor(page, username)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Welkom, {username}")


def granted_and_revoked(cast: Cast) -> int:
    Case.objects.filter(pk=cast.case.pk).update(created_at=timezone.now() - datetime.timedelta(days=1))
    two_hours_ago = timezone.now() - datetime.timedelta(hours=2)
    lead = Actor(username="case_lead", channel="browser")
    with mock.patch("django.utils.timezone.now", return_value=two_hours_ago):
        held, _ = grant_create(
            case=cast.case,
            grantee=cast["investigator"],
            rights=["read", "search"],
            environments=["production"],
            valid_until=two_hours_ago + datetime.timedelta(days=30),
            reason=GRANT_REASON,
            granted_by=cast["case_lead"],
            by=lead,
        )
    grant_revoke(grant=held, reason=REVOKE_REASON, revoked_by=cast["case_lead"], by=lead)
    return held.pk


def test_the_privacy_officer_finds_a_revoked_grants_history_and_exports_it(
    page: Page, live_server, live_cast: Cast
):
    base = live_server.url
    grant_id = granted_and_revoked(live_cast)
    sign_in(page, base, "privacy_officer")

    # The search: by case number, through the navigation, with a plain GET form.
    page.get_by_role("navigation", name="Hoofdnavigatie").get_by_role("link", name="Auditspoor").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Auditspoor")
    page.get_by_label("Zaak", exact=True).fill("NFI-2026-0001")
    page.get_by_role("button", name="Zoeken").click()
    expect(page).to_have_url(
        f"{base}/audit/?person=&case=NFI-2026-0001&action=&outcome=&date_from=&date_until="
    )
    events = page.locator("table#events")
    revoked = events.locator("tr", has=page.locator("code", has_text="grant.revoked"))
    created = events.locator("tr", has=page.locator("code", has_text="grant.created"))
    expect(revoked).to_have_count(1)
    expect(created).to_have_count(1)
    expect(revoked.get_by_role("rowheader")).to_contain_text("case_lead")
    expect(revoked).to_contain_text(REVOKE_REASON)
    expect(revoked).to_contain_text("investigator")
    expect(created).to_contain_text(GRANT_REASON)
    page.screenshot(path=SCREENSHOT_SEARCH, full_page=True)

    # The grant's history: the link in the revoke row opens the case's timeline of that grant.
    revoked.get_by_role("link", name=f"autorisatie {grant_id}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tijdlijn van zaak NFI-2026-0001")
    expect(page.get_by_role("heading", level=2)).to_have_text(f"Gebeurtenissen van autorisatie {grant_id}")
    actions = page.locator("table#events tbody tr code")
    expect(actions).to_have_text(["grant.created", "grant.revoked"])
    page.screenshot(path=SCREENSHOT_TIMELINE, full_page=True)

    # Access at a moment when the grant was in force: the investigator is listed, with the reason.
    an_hour_ago = timezone.localtime(timezone.now() - datetime.timedelta(hours=1))
    page.get_by_role("link", name="Toegang tot een zaak op een moment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Toegang tot een zaak op een moment")
    page.get_by_label("Zaak", exact=True).fill("NFI-2026-0001")
    page.get_by_label("Datum").fill(an_hour_ago.date().isoformat())
    page.get_by_label("Tijd").fill(an_hour_ago.strftime("%H:%M"))
    page.get_by_role("button", name="Toon wie toegang had").click()
    access = page.locator("table#access")
    investigator = access.locator("tr", has=page.get_by_role("rowheader", name="investigator"))
    expect(investigator).to_have_count(1)
    expect(investigator).to_contain_text("case_lead")  # granted by
    expect(investigator).to_contain_text(GRANT_REASON)
    expect(investigator).to_contain_text("Lezen, Zoeken")
    expect(investigator.get_by_role("link", name=f"Geschiedenis (autorisatie {grant_id})")).to_be_visible()
    page.screenshot(path=SCREENSHOT_ACCESS_AT, full_page=True)

    # The CSV of the search, downloaded as a browser does, holds the revoke row.
    page.goto(f"{base}/audit/?case=NFI-2026-0001")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Downloaden als CSV").click()
    download = download_info.value
    assert download.suggested_filename == "audit-trail.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    [revoke_row] = [row for row in rows if row["action"] == "grant.revoked"]
    assert revoke_row["actor"] == "case_lead"
    assert revoke_row["project_id"] == str(CASE_PROJECT_ID)
    assert revoke_row["grant_id"] == str(grant_id)
    assert REVOKE_REASON in revoke_row["details"]
