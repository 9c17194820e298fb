"""The browser pages of release test reports (Django's test client): every signed-in person reads
the releases and each release; engineers create releases and upload reports; the pages show counts
per kind, every test that did not pass with its message (escaped), a pass-rate bar per kind and the
trend as inline SVG; a refused upload names the problem and stores nothing."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from audit.actor import Actor
from audit.models import AuditEvent
from test_reports.models import NotPassedTest, Release, Report
from test_reports.services import release_create, report_upload
from tests import report_samples as samples
from tests.personas import PASSWORD, PEOPLE, Cast

BY = Actor.command("tests")
PAGE = "/releases/1.0.0/"


def _signed_in(username: str, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    assert client.login(username=username, password=PASSWORD)
    return client


def _rows() -> tuple[int, int, int, int]:
    return (
        Release.objects.count(),
        Report.objects.count(),
        NotPassedTest.objects.count(),
        AuditEvent.objects.count(),
    )


def _release(version: str = "1.0.0", day: int = 1) -> Release:
    return release_create(
        version=version,
        released_at=datetime.datetime(2026, 11, day, 10, tzinfo=datetime.UTC),
        notes="",
        by=BY,
    )


def _report(release: Release, data: bytes, kind: str = "unit") -> Report:
    from io import BytesIO

    return report_upload(release=release, kind=kind, source=BytesIO(data), original_name=f"{kind}.xml", by=BY)


def _upload(client: Client, data: bytes, kind: str = "unit", **extra):
    return client.post(PAGE, {"kind": kind, "file": SimpleUploadedFile("report.xml", data)}, **extra)


@pytest.mark.parametrize("username", list(PEOPLE))
def test_every_person_reads_the_pages_and_only_engineers_may_publish(cast: Cast, username: str):
    release = _release()
    _report(release, samples.GRADLE)
    client = _signed_in(username)
    listing = client.get("/releases/")
    page = client.get(PAGE)
    assert listing.status_code == page.status_code == 200
    engineer = username == "engineer"
    assert ('id="release-create"' in listing.text) is engineer
    assert ('id="report-upload"' in page.text) is engineer
    nav = re.search(r'<nav aria-label="Main navigation">.*?</nav>', listing.text, re.S)
    assert nav and 'href="/releases/"' in nav.group(0) and "Test reports" in nav.group(0)
    before = _rows()
    created = client.post("/releases/", {"version": "2.0.0", "released_on": "2026-12-01", "notes": ""})
    uploaded = _upload(client, samples.ANT)
    if engineer:
        assert created.status_code == 302 and created.headers["Location"] == "/releases/2.0.0/"
        assert uploaded.status_code == 302
        assert Release.objects.filter(version="2.0.0").exists()
        assert Report.objects.filter(release=release, tool="ant").exists()
        assert [event.action for event in AuditEvent.objects.order_by("-sequence")[:2]] == [
            "test_report.uploaded",
            "release.created",
        ]
        assert AuditEvent.objects.order_by("-sequence")[0].channel == "browser"
    else:
        assert created.status_code == uploaded.status_code == 403
        assert _rows() == before


def test_anonymous_callers_are_sent_to_sign_in(cast: Cast):
    _release()
    for path in ("/releases/", PAGE):
        response = Client().get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/accounts/login/")
    before = _rows()
    assert _upload(Client(enforce_csrf_checks=True), samples.GRADLE).status_code == 403
    assert _rows() == before


def test_the_upload_form_checks_its_csrf_token(cast: Cast):
    _release()
    client = Client(enforce_csrf_checks=True)
    assert client.login(username="engineer", password=PASSWORD)
    before = _rows()
    assert _upload(client, samples.GRADLE).status_code == 403
    assert _rows() == before
    token = client.get(PAGE).context["csrf_token"]
    assert _upload(client, samples.GRADLE, HTTP_X_CSRFTOKEN=str(token)).status_code == 302


def test_the_release_page_shows_each_kind_with_counts_and_every_test_that_did_not_pass(cast: Cast):
    release = _release()
    _report(release, samples.SUREFIRE, kind="unit")
    _report(release, samples.CTRF, kind="regression")
    page = _signed_in("investigator").get(PAGE).text
    assert page.index('id="kind-unit"') < page.index('id="kind-regression"')
    assert 'id="kind-integration"' not in page
    unit = page[page.index('id="kind-unit"') : page.index('id="kind-regression"')]
    counts = dict(re.findall(r"<dt>([^<]+)</dt><dd>(\d+)</dd>", unit))
    assert counts == {
        "Tests": "6",
        "Passed": "3",
        "Failed": "1",
        "Errors": "1",
        "Skipped": "1",
        "Passed after a rerun": "2",
    }
    for name in ("alwaysFails", "brokenSetup", "ignored", "flakyNetwork", "flakyTimeout"):
        assert name in unit
    assert "expected:&lt;1&gt; but was:&lt;2&gt;" in unit
    assert "60.0% passed (3 of 5 that ran)" in unit
    for secret in samples.SUREFIRE_SECRETS:
        assert secret not in page


def test_messages_are_shown_escaped(cast: Cast, tmp_path):
    release = _release()
    _report(release, samples.run_pytest(tmp_path, "xunit2").read_bytes())
    page = _signed_in("investigator").get(PAGE).text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "<script>alert(" not in page


def test_the_list_is_newest_first_with_a_pass_rate_bar_per_kind_and_an_inline_trend(cast: Cast):
    first, second = _release("1.0.0", 1), _release("1.1.0", 10)
    _release("1.2.0", 20)
    _report(first, samples.GRADLE, "unit")  # 1 of 2 that ran
    _report(second, samples.ANT, "unit")  # 1 of 3
    _report(second, samples.CTRF, "regression")  # 2 of 4
    listing = _signed_in("operator").get("/releases/").text
    table = listing[listing.index('<table class="releases">') :]
    assert table.index(">1.2.0<") < table.index(">1.1.0<") < table.index(">1.0.0<")
    assert "50.0% passed (1 of 2 that ran)" in listing
    assert "33.3% passed (1 of 3 that ran)" in listing
    assert "50.0% passed (2 of 4 that ran)" in listing
    assert "No reports yet." in listing  # 1.2.0
    trend = listing[listing.index('<figure class="trend">') : listing.index("</figure>")]
    lines = re.findall(r'data-kind="(\w+)">\s*<polyline points="([^"]+)"', trend)
    assert [kind for kind, _ in lines] == ["unit", "regression"]
    unit_points = [tuple(map(float, point.split(","))) for point in lines[0][1].split()]
    assert len(unit_points) == 2 and unit_points[0][0] < unit_points[1][0]  # oldest left
    assert unit_points[0][1] < unit_points[1][1]  # 50 % drawn higher than 33.3 %
    assert "1.0.0 50.0%" in trend  # the chart's text alternative
    # Inline only: nothing is loaded from elsewhere.
    assert not re.search(r'(?:src|href)="(?:https?:)?//', listing)


def test_the_pages_are_in_dutch(cast: Cast):
    release = _release()
    _report(release, samples.GRADLE)
    client = _signed_in("engineer", "nl")
    listing = client.get("/releases/").text
    assert "Testrapporten" in listing and "Nieuwe release" in listing
    page = client.get(PAGE).text
    assert "Tests die niet slaagden" in page and "Een testrapport uploaden" in page
    refused = _upload(client, samples.XML_BOMB)
    assert refused.status_code == 400
    assert "entiteiten" in refused.text
    # Every refusal a report file can meet has Dutch words, details kept where the file gives them.
    cut_off = _upload(client, b'{"results": {"tests": [{"name": "a", "status": "passed"}')
    assert "De JSON is niet goed gevormd" in cut_off.text
    nameless = _upload(client, b'{"results": {"tests": [{"status": "passed"}]}}')
    assert "results.tests[0] is niet te lezen" in nameless.text
    nameless_case = _upload(client, samples.JUNIT_NAMELESS)
    assert "&lt;testcase&gt; number 2 is niet te lezen" in nameless_case.text
    twice = _upload(client, samples.CTRF_TESTS_TWICE)
    assert "Het veld results.tests staat er twee keer in." in twice.text
    kinds = client.post(
        PAGE, {"kind": ["unit", "integration"], "file": SimpleUploadedFile("r.xml", samples.GRADLE)}
    )
    assert "Het veld kind staat er twee keer in." in kinds.text


@pytest.mark.parametrize(
    ("data", "words"), [(samples.XML_BOMB, "entities"), (samples.NOT_A_REPORT_JSON, "not a test report")]
)
def test_a_refused_upload_names_the_problem_on_the_field_and_stores_nothing(
    cast: Cast, data: bytes, words: str
):
    _release()
    client = _signed_in("engineer")
    before = _rows()
    response = _upload(client, data)
    assert response.status_code == 400
    field_error = re.search(r'<p class="field-error" id="id_file_error">([^<]+)</p>', response.text)
    assert field_error and words in field_error.group(1)
    assert _rows() == before


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        pytest.param({"kind": ["unit", "integration"]}, ["kind"], id="two-kinds"),
        pytest.param(
            {"file": [SimpleUploadedFile("a.xml", samples.GRADLE), SimpleUploadedFile("b.xml", samples.ANT)]},
            ["file"],
            id="two-files",
        ),
    ],
)
def test_a_form_field_given_twice_in_the_browser_is_refused_on_it(cast: Cast, fields, named):
    _release()
    client = _signed_in("engineer")
    before = _rows()
    body = {"kind": "unit", "file": SimpleUploadedFile("r.xml", samples.GRADLE), **fields}
    response = client.post(PAGE, body)
    assert response.status_code == 400
    for name in named:
        assert re.search(rf'id="id_{name}_error">The field {name} is given twice.<', response.text)
    assert _rows() == before


def test_a_version_twice_in_the_browser_is_refused_on_its_field(cast: Cast):
    _release()
    client = _signed_in("engineer")
    before = _rows()
    response = client.post("/releases/", {"version": "1.0.0", "released_on": "2026-12-01"})
    assert response.status_code == 400
    assert re.search(r'id="id_version_error">Release 1.0.0 exists already.<', response.text)
    assert _rows() == before


def test_a_file_over_the_cap_is_refused_in_the_browser(cast: Cast, settings):
    settings.TEST_REPORT_MAX_BYTES = 1_000
    _release()
    client = _signed_in("engineer")
    before = _rows()
    data = b'<testsuite name="big">' + b'<testcase classname="c" name="t"/>' * 200 + b"</testsuite>"
    response = _upload(client, data)
    assert response.status_code == 413
    assert "larger than 1000 bytes" in response.text
    assert _rows() == before


def test_an_unknown_release_is_404(cast: Cast):
    assert _signed_in("investigator").get("/releases/9.9.9/").status_code == 404


def test_the_list_and_the_api_take_as_many_queries_for_many_releases_as_for_one(cast: Cast):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = _signed_in("investigator")
    api = cast.api("investigator")

    def queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as page:
            assert client.get("/releases/").status_code == 200
        with CaptureQueriesContext(connection) as listed:
            assert api.get("/api/v1/releases").status_code == 200
        return len(page), len(listed)

    _report(_release("1.0.0", 1), samples.GRADLE)
    queries()  # the first use of a token notes it (one write); measured from the second on
    one = queries()
    for day in range(2, 8):
        release = _release(f"1.{day}.0", day)
        _report(release, samples.ANT)
        _report(release, samples.CTRF, "regression")
    assert queries() == one
