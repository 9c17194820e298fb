"""The privacy statement end to end in a real browser (Dutch, no JavaScript of ours): the privacy
officer drafts a version in Dutch and English side by side, previews it and publishes it; an
investigator then sees the notice on every page, reads the statement and acknowledges it, and the
notice is gone; the privacy officer sees the acknowledgement; the API serves the same text."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from privacy_statement.models import Acknowledgement
from tests.browser.second_factor import answer_second_factor
from tests.personas import PASSWORD, Cast

pytestmark = pytest.mark.browser

SCREENSHOT = "/tmp/ui-privacy-statement.png"


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Gebruikersnaam").fill(username)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    answer_second_factor(page, username)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Welkom, {username}")


def test_draft_publish_notice_acknowledge(page: Page, live_server, live_cast: Cast, settings):
    base = live_server.url
    settings.HG_AUDIT_RETENTION_DAYS = 2555  # the value the texts below expect, whatever the environment

    # The privacy officer starts a draft and writes both languages side by side.
    sign_in(page, base, "privacy_officer")
    expect(page.get_by_role("complementary", name="Privacyverklaring")).to_have_count(0)
    page.get_by_role("navigation", name="Hoofdnavigatie").get_by_role(
        "link", name="Privacyverklaring"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Privacyverklaring")
    page.get_by_role("button", name="Nieuw concept").click()
    expect(page.get_by_role("status")).to_contain_text("Er staat een nieuw concept klaar.")
    text = page.get_by_role("form", name="Tekst van het concept")
    text.get_by_label("Titel in het Nederlands").fill("Privacyverklaring Hansken")
    text.get_by_label("Titel in het Engels").fill("Hansken privacy statement")
    text.get_by_label("Tekst in het Nederlands (Markdown)").fill(
        "## Bewaartermijn\n\nHet auditspoor bewaart elke gebeurtenis {{ audit_retention_days }} dagen."
        "\n\n<script>alert(1)</script>"
    )
    text.get_by_label("Tekst in het Engels (Markdown)").fill(
        "## Retention\n\nThe audit trail keeps every event for {{ audit_retention_days }} days."
    )

    # The preview renders both languages, with the live value and without the script.
    text.get_by_role("button", name="Voorbeeld").click()
    dutch = page.get_by_role("article", name="Voorbeeld in het Nederlands")
    expect(dutch.get_by_role("heading", name="Bewaartermijn")).to_be_visible()
    expect(dutch).to_contain_text("Het auditspoor bewaart elke gebeurtenis 2555 dagen.")
    expect(dutch).to_contain_text("<script>alert(1)</script>")  # shown as text, never run
    english = page.get_by_role("article", name="Voorbeeld in het Engels")
    expect(english).to_contain_text("The audit trail keeps every event for 2555 days.")
    page.screenshot(path="/tmp/ui-privacy-draft.png", full_page=True)
    page.get_by_role("form", name="Tekst van het concept").get_by_role(
        "button", name="Concept opslaan"
    ).click()
    expect(page.get_by_role("status")).to_contain_text("Concept opgeslagen.")

    # Publish, in force from today.
    publish = page.get_by_role("form", name="Dit concept publiceren")
    publish.get_by_label("Geldig vanaf").fill(timezone.localdate().isoformat())
    publish.get_by_label("Wat er veranderde, in het Nederlands").fill("Eerste versie")
    publish.get_by_label("Wat er veranderde, in het Engels").fill("First version")
    publish.get_by_role("button", name="Publiceren").click()
    expect(page).to_have_url(f"{base}/privacy/manage/")
    expect(page.get_by_role("status")).to_contain_text("Versie 1 is gepubliceerd")
    expect(page.get_by_role("table", name="Versies")).to_contain_text("Geldig")
    page.get_by_role("button", name="Uitloggen").click()

    # An investigator sees the notice on every page until he acknowledges.
    sign_in(page, base, "investigator")
    notice = page.get_by_role("complementary", name="Privacyverklaring")
    expect(notice).to_contain_text("Versie 1 van de privacyverklaring van Hansken geldt sinds")
    page.goto(f"{base}/my-access/")
    expect(notice).to_be_visible()
    notice.get_by_role("link", name="De privacyverklaring lezen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Privacyverklaring Hansken")
    expect(page.get_by_role("heading", name="Bewaartermijn")).to_be_visible()
    page.screenshot(path="/tmp/ui-privacy-notice.png", full_page=True)
    page.get_by_role("button", name="Ik heb de privacyverklaring gelezen").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Dank u: u hebt bevestigd dat u versie 1 hebt gelezen."
    )
    expect(page.get_by_text("U hebt op")).to_be_visible()
    page.goto(f"{base}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welkom, investigator")
    expect(page.get_by_role("complementary", name="Privacyverklaring")).to_have_count(0)
    page.screenshot(path=SCREENSHOT, full_page=True)
    page.get_by_role("button", name="Uitloggen").click()

    ack = Acknowledgement.objects.get()
    assert ack.person.username == "investigator" and ack.channel == "browser"

    # The privacy officer sees who acknowledged.
    sign_in(page, base, "privacy_officer")
    page.goto(f"{base}/privacy/manage/versions/1/acknowledgements/")
    expect(page.get_by_role("table")).to_contain_text("investigator")
    expect(page.get_by_role("table")).to_contain_text("in deze applicatie")

    # Hansken reads the same version through the API, without signing in.
    response = page.request.get(f"{base}/api/v1/privacy-statement?lang=en")
    assert response.status == 200
    assert response.json()["body_markdown"].endswith("for 2555 days.")
    again = page.request.get(
        f"{base}/api/v1/privacy-statement?lang=en", headers={"If-None-Match": response.headers["etag"]}
    )
    assert again.status == 304
