"""Release test reports in a real browser (Dutch): an investigator finds the releases through the
navigation, sees the pass-rate bars and the trend drawn inline, and opens a release to read every
test that did not pass with its message (shown as text, not run); an engineer uploads a report
through the form."""

from __future__ import annotations

import datetime
import io
from pathlib import Path

import pytest
from playwright.sync_api import Dialog, Page, expect

from audit.actor import Actor
from test_reports.models import Report
from test_reports.services import release_create, report_upload
from tests import report_samples as samples
from tests.browser.test_hashtotals_flow import sign_in
from tests.personas import Cast

pytestmark = pytest.mark.browser

BY = Actor.command("tests")
SCREENSHOT = "/tmp/ui-release-reports.png"


def _publish(tmp_path: Path) -> None:
    older = release_create(
        version="1.0.0", released_at=datetime.datetime(2026, 10, 1, tzinfo=datetime.UTC), notes="", by=BY
    )
    report_upload(
        release=older, kind="unit", source=io.BytesIO(samples.GRADLE), original_name="unit.xml", by=BY
    )
    newer = release_create(
        version="1.1.0",
        released_at=datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC),
        notes="Nieuwe export",
        by=BY,
    )
    pytest_xml = samples.run_pytest(tmp_path, "xunit2").read_bytes()
    report_upload(release=newer, kind="unit", source=io.BytesIO(pytest_xml), original_name="unit.xml", by=BY)
    report_upload(
        release=newer, kind="regression", source=io.BytesIO(samples.CTRF), original_name="e2e.json", by=BY
    )


def test_an_investigator_reads_the_releases_and_a_release(page: Page, live_server, live_cast: Cast, tmp_path):
    _publish(tmp_path)
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    base = live_server.url
    sign_in(page, base, "investigator")
    page.get_by_role("navigation", name="Hoofdnavigatie").get_by_role("link", name="Testrapporten").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Testrapporten")
    rows = page.locator("table.releases tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).get_by_role("rowheader")).to_have_text("1.1.0")  # newest first
    expect(rows.nth(1).get_by_role("rowheader")).to_have_text("1.0.0")
    expect(rows.nth(0).get_by_role("img", name="33,3% geslaagd (3 van 9 uitgevoerd)")).to_be_visible()
    expect(rows.nth(1).get_by_role("img", name="50,0% geslaagd (1 van 2 uitgevoerd)")).to_be_visible()
    trend = page.get_by_role("img", name="Slagingspercentage per soort over de releases")
    expect(trend).to_be_visible()
    expect(page.locator(".trend-line[data-kind=unit] polyline")).to_have_count(1)
    assert not page.locator("img[src], script[src^=http], link[href^=http]").count()

    rows.nth(0).get_by_role("link", name="1.1.0").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Release 1.1.0")
    unit = page.locator("section#unit")
    expect(unit.get_by_role("heading", level=2)).to_contain_text("Unittests")
    expect(unit.locator("dl.counts div").filter(has_text="Mislukt").locator("dd")).to_have_text("4")
    expect(unit.locator("dl.counts div").filter(has_text="Fouten").locator("dd")).to_have_text("2")
    failing = unit.locator("ul.not-passed > li").filter(has_text="test_fails_then_errors_in_teardown")
    expect(failing.locator(".outcome")).to_have_text("mislukt")
    expect(failing.locator(".test-message")).to_contain_text("failed on teardown")
    escaped = unit.locator("ul.not-passed > li").filter(has_text="test_fails ").locator(".test-message").first
    expect(escaped).to_contain_text("<script>alert('x')</script>")  # shown as text ...
    assert dialogs == []  # ... and never run
    regression = page.locator("section#regression")
    expect(regression.locator("ul.not-passed > li").filter(has_text="uploads a manifest")).to_contain_text(
        "Timeout 15000ms exceeded"
    )
    page.screenshot(path=SCREENSHOT, full_page=True)


def test_an_engineer_uploads_a_report_in_the_browser(page: Page, live_server, live_cast: Cast, tmp_path):
    release_create(
        version="2.0.0", released_at=datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC), notes="", by=BY
    )
    report = tmp_path / "surefire.xml"
    report.write_bytes(samples.SUREFIRE)
    sign_in(page, live_server.url, "engineer")
    page.goto(f"{live_server.url}/releases/2.0.0/")
    form = page.locator("#report-upload")
    form.get_by_label("Soort").select_option("integration")
    form.get_by_label("Testrapport").set_input_files(str(report))
    form.get_by_role("button", name="Uploaden").click()
    expect(page.get_by_role("status")).to_contain_text("(6 tests) is opgeslagen")
    section = page.locator("section#integration")
    expect(
        section.locator("dl.counts div").filter(has_text="Geslaagd na herhaling").locator("dd")
    ).to_have_text("2")
    assert Report.objects.get().kind == "integration"
