"""Hashtotals in a real browser (Dutch): the operator uploads the delivered manifest through the form
with its progress bar (upload throttled, so the bar is seen moving), then a broken imported one (the
refusal names the line, nothing stored), then the real imported one; the verdict shows in words, the
differences filter by kind, and the case lead sees the same page without the upload form."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from hashtotals.models import Manifest
from tests.personas import CASE_PROJECT_ID, IMAGE_ID, PASSWORD, Cast

pytestmark = pytest.mark.browser

SCREENSHOT = "/tmp/ui-hashtotals.png"


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Gebruikersnaam").fill(username)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Welkom, {username}")


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_an_operator_uploads_both_sides_and_sees_the_verdict(
    page: Page, live_server, live_cast: Cast, tmp_path: Path
):
    base = live_server.url
    # About 1.6 MB, sent at 400 kB/s below: the upload takes seconds, long enough to see the bar.
    delivered = tmp_path / "delivered.sha256"
    delivered.write_text("".join(f"{_sha(str(i))}  ./map/bestand {i:05d}.txt\n" for i in range(16000)))
    imported = tmp_path / "imported.sha256"
    imported.write_text(
        "".join(f"{_sha(str(i))}  ./map/bestand {i:05d}.txt\n" for i in range(16000) if i != 7)
        + f"{_sha('extra')}  ./map/nieuw.txt\n"
    )
    broken = tmp_path / "broken.sha256"
    broken.write_text(f"{_sha('a')}  ./a\nthis is not a hash line\n")

    sign_in(page, base, "operator")
    page.get_by_role("navigation", name="Hoofdnavigatie").get_by_role("link", name="Hashtotalen").click()
    page.get_by_role("link", name="Laptop image").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hashtotalen van Laptop image")
    expect(page.locator(".verdict")).to_have_text("Wacht op beide hashlijsten")

    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 400 * 1024},
    )
    form = page.locator("#manifest-upload")
    form.get_by_label("Aangeleverd").check()
    form.get_by_label("Uitvoer van de hashtool").set_input_files(str(delivered))
    form.get_by_role("button", name="Uploaden en vergelijken").click()
    progress = form.locator("progress")
    expect(progress).to_be_visible()
    expect(form.get_by_role("status")).to_have_text("Bezig met uploaden…")
    page.wait_for_function(
        "() => { const p = document.querySelector('#manifest-upload progress');"
        " return p && p.hasAttribute('value') && p.value > 0 && p.value < 100; }"
    )
    expect(page.get_by_role("status").first).to_contain_text("16000 regels", timeout=60_000)
    expect(page.locator(".verdict")).to_have_text("Wacht op de hashlijst van de import")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )

    form = page.locator("#manifest-upload")
    form.get_by_label("Geïmporteerd").check()
    form.get_by_label("Uitvoer van de hashtool").set_input_files(str(broken))
    form.get_by_role("button", name="Uploaden en vergelijken").click()
    expect(form.locator(".upload-errors")).to_contain_text("Regel 2: ")  # in the page's language
    assert Manifest.objects.count() == 1

    form.get_by_label("Uitvoer van de hashtool").set_input_files(str(imported))
    form.get_by_role("button", name="Uploaden en vergelijken").click()
    expect(page.locator(".verdict")).to_have_text(
        "Verschillen: de import komt niet overeen met de aanlevering", timeout=30_000
    )
    counts = page.locator(".counts")
    expect(counts).to_contain_text("Gelijk")
    expect(counts).to_contain_text("15999")
    table = page.get_by_role("table")
    expect(table).to_contain_text("map/bestand 00007.txt")
    expect(table).to_contain_text("map/nieuw.txt")
    page.get_by_label("Tonen").select_option("extra")
    page.get_by_role("button", name="Filteren").click()
    expect(page.get_by_role("table")).not_to_contain_text("bestand 00007")
    expect(page.get_by_role("table")).to_contain_text("map/nieuw.txt")
    expect(page.get_by_role("link", name="Alle verschillen downloaden (CSV)")).to_be_visible()
    page.screenshot(path=SCREENSHOT, full_page=True)
    page.get_by_role("button", name="Uitloggen").click()

    sign_in(page, base, "case_lead")
    page.goto(f"{base}/hashtotals/{CASE_PROJECT_ID}/{IMAGE_ID}/")
    expect(page.locator(".verdict")).to_have_text(
        "Verschillen: de import komt niet overeen met de aanlevering"
    )
    expect(page.locator("#manifest-upload")).to_have_count(0)
