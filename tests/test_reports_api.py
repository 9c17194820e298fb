"""The release test reports API (contract "Release test reports"): reports from real pytest runs and
from Surefire, Gradle, Ant and CTRF files are counted exactly through the API; what is read back is
safe to publish; bad input is a 4xx naming the problem with nothing stored."""

from __future__ import annotations

import datetime
import io
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from test_reports.models import NotPassedTest, Release, Report
from tests import report_samples as samples
from tests.personas import Cast

COUNT_FIELDS = ("tests", "passed", "failed", "errors", "skipped")


def _rows() -> tuple[int, int, int, int]:
    return (
        Release.objects.count(),
        Report.objects.count(),
        NotPassedTest.objects.count(),
        AuditEvent.objects.count(),
    )


def _release(cast: Cast, version: str = "1.0.0", when: str = "2026-11-01T10:00:00Z") -> Any:
    response = cast.api("hansken_production").post(
        "/api/v1/releases", {"version": version, "released_at": when, "notes": "Notes"}, format="json"
    )
    assert response.status_code == 201, response.content
    return response


def _upload(cast: Cast, data: bytes, kind: str = "unit", version: str = "1.0.0", name: str = "r.xml") -> Any:
    upload = io.BytesIO(data)
    upload.name = name
    return cast.api("hansken_production").post(
        f"/api/v1/releases/{version}/reports", {"kind": kind, "file": upload}, format="multipart"
    )


def _errors(response: Any, status: int) -> list[dict[str, Any]]:
    assert response.status_code == status, response.content
    errors = response.json()["errors"]
    assert errors and all(error["message"] for error in errors)
    return errors


@pytest.mark.parametrize("family", ["xunit1", "xunit2"])
def test_a_real_pytest_report_is_counted_exactly_through_the_api(cast: Cast, tmp_path: Path, family: str):
    _release(cast)
    path = samples.run_pytest(tmp_path, family)
    response = _upload(cast, path.read_bytes(), kind="integration", name=path.name)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["format"]) == ("integration", "junit")
    assert {key: body[key] for key in COUNT_FIELDS} == {
        key: samples.PYTEST_COUNTS[key] for key in COUNT_FIELDS
    }
    release = cast.api("investigator").get("/api/v1/releases/1.0.0").json()
    (report,) = release["reports"]
    assert {test["name"]: test["outcome"] for test in report["not_passed"]} == samples.PYTEST_OUTCOMES
    failing = next(test for test in report["not_passed"] if test["name"] == "test_fails")
    assert "<script>alert('x')</script>" in failing["message"]  # JSON carries text; pages escape it


@pytest.mark.parametrize(
    ("data", "counts", "fmt"),
    [
        pytest.param(samples.SUREFIRE, samples.SUREFIRE_COUNTS, "junit", id="surefire"),
        pytest.param(samples.GRADLE, samples.GRADLE_COUNTS, "junit", id="gradle"),
        pytest.param(samples.ANT, samples.ANT_COUNTS, "junit", id="ant"),
        pytest.param(samples.CTRF, samples.CTRF_COUNTS, "ctrf", id="ctrf"),
    ],
)
def test_every_format_is_counted_exactly_and_published_without_the_build_machine(
    cast: Cast, data, counts, fmt
):
    _release(cast)
    response = _upload(cast, data, kind="regression")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["format"] == fmt
    assert {key: body[key] for key in COUNT_FIELDS} == {key: counts[key] for key in COUNT_FIELDS}
    read_back = cast.api("operator").get("/api/v1/releases/1.0.0").content.decode()
    listed = cast.api("operator").get("/api/v1/releases").content.decode()
    for secret in (*samples.SUREFIRE_SECRETS, "ci-secret-user", "/home/"):
        assert secret not in read_back and secret not in listed


def test_the_list_is_newest_first_with_every_test_that_did_not_pass_and_its_message(cast: Cast):
    _release(cast, "1.0.0", "2026-10-01T10:00:00Z")
    _release(cast, "1.1.0", "2026-11-01T10:00:00Z")
    _release(cast, "0.9.0", "2026-09-01T10:00:00Z")
    assert _upload(cast, samples.GRADLE, kind="unit", version="1.1.0").status_code == 201
    body = cast.api("investigator").get("/api/v1/releases").json()
    assert [release["version"] for release in body["results"]] == ["1.1.0", "1.0.0", "0.9.0"]
    (report,) = body["results"][0]["reports"]
    assert [(test["name"], test["outcome"], test["message"]) for test in report["not_passed"]] == [
        (
            "rejects()",
            "failed",
            "org.opentest4j.AssertionFailedError: expected: <true> but was: <false>",
        ),
        ("later()", "skipped", ""),
    ]


def test_several_reports_of_a_kind_add_up_and_the_same_file_twice_is_refused(cast: Cast):
    _release(cast)
    assert _upload(cast, samples.GRADLE).status_code == 201
    assert _upload(cast, samples.ANT).status_code == 201
    before = _rows()
    errors = _errors(_upload(cast, samples.GRADLE), 400)
    assert errors == [
        {"field": "file", "message": "This file was uploaded already as a unit report of 1.0.0."}
    ]
    assert _rows() == before
    # The same file as another kind is another report.
    assert _upload(cast, samples.GRADLE, kind="integration").status_code == 201


BAD_FILES = [
    pytest.param(samples.XML_BOMB, "entities", id="xml-bomb"),
    pytest.param(samples.EXTERNAL_ENTITY, "entities", id="external-entity"),
    pytest.param(samples.NOT_A_REPORT_XML, "not a JUnit test report", id="html"),
    pytest.param(samples.NOT_A_REPORT_JSON, "not a CTRF report", id="other-json"),
    pytest.param(samples.NOT_A_REPORT_TEXT, "not a test report", id="text"),
    pytest.param(samples.MALFORMED_XML, "not well formed", id="cut-off-xml"),
    pytest.param(samples.NO_TESTS, "no test cases", id="no-tests"),
    pytest.param(samples.CTRF_TESTS_TWICE, "The field results.tests is given twice.", id="ctrf-key-twice"),
    pytest.param(samples.JUNIT_NAMELESS, "<testcase> number 2 has no name.", id="junit-no-name"),
]


@pytest.mark.parametrize(("data", "words"), BAD_FILES)
def test_a_bad_file_is_refused_naming_the_problem_and_nothing_is_stored(cast: Cast, data: bytes, words: str):
    _release(cast)
    before = _rows()
    (error,) = _errors(_upload(cast, data), 400)
    assert error["field"] == "file" and words in error["message"]
    assert _rows() == before


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        pytest.param({"kind": ["unit", "integration"]}, ["kind"], id="two-kinds"),
        pytest.param({"kind": ["unit", "unit"]}, ["kind"], id="one-kind-twice"),
        pytest.param({"file": "twice"}, ["file"], id="two-files"),
        pytest.param({"kind": ["unit", "regression"], "file": "twice"}, ["kind", "file"], id="both"),
    ],
)
def test_a_form_field_given_twice_is_refused_naming_it_and_nothing_is_stored(
    cast: Cast, fields: dict[str, Any], named: list[str]
):
    _release(cast)
    before = _rows()
    body: dict[str, Any] = {"kind": "unit", "file": _named(samples.GRADLE, "r.xml"), **fields}
    if body["file"] == "twice":
        body["file"] = [_named(samples.GRADLE, "a.xml"), _named(samples.ANT, "b.xml")]
    response = cast.api("hansken_production").post("/api/v1/releases/1.0.0/reports", body, format="multipart")
    assert _errors(response, 400) == [
        {"field": name, "message": f"The field {name} is given twice."} for name in named
    ]
    assert _rows() == before


def _named(data: bytes, name: str) -> io.BytesIO:
    upload = io.BytesIO(data)
    upload.name = name
    return upload


# Home folders in every field a reader keeps (suite, class, name, message, traceback, tool), in each
# format; none of their user names is stored, answered, listed, shown or written to the trail.
USER_NAMES = ("alice", "Alice", "Smith", "bobby", "Carol", "King", "tooluser", "/root")


@pytest.mark.parametrize(
    "data", [pytest.param(samples.JUNIT_HOMES, id="junit"), pytest.param(samples.CTRF_HOMES, id="ctrf")]
)
def test_no_user_name_of_a_home_folder_is_stored_or_shown(cast: Cast, data: bytes):
    _release(cast)
    response = _upload(cast, data)
    assert response.status_code == 201, response.content
    assert response.json()["failed"] == 2  # every field was read, not skipped
    client = Client()
    client.force_login(cast["investigator"])
    shown = [
        response.content.decode(),
        cast.api("operator").get("/api/v1/releases/1.0.0").content.decode(),
        cast.api("operator").get("/api/v1/releases").content.decode(),
        client.get("/releases/1.0.0/").content.decode(),
        repr(list(NotPassedTest.objects.values())),
        repr(list(Report.objects.values())),
        repr([event.details for event in AuditEvent.objects.all()]),
    ]
    assert "…" in shown[1]
    for text in shown:
        for name in USER_NAMES:
            assert name not in text, (name, text)


def test_a_kind_outside_the_three_is_refused(cast: Cast):
    _release(cast)
    before = _rows()
    (error,) = _errors(_upload(cast, samples.GRADLE, kind="smoke"), 400)
    assert error == {"field": "kind", "message": "Choose unit, integration or regression."}
    assert _rows() == before


def test_a_version_posted_twice_is_refused(cast: Cast):
    _release(cast)
    before = _rows()
    response = cast.api("hansken_production").post(
        "/api/v1/releases", {"version": "1.0.0", "released_at": "2026-12-01T10:00:00Z"}, format="json"
    )
    assert _errors(response, 400) == [{"field": "version", "message": "Release 1.0.0 exists already."}]
    assert _rows() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"version": "1.0/evil", "released_at": "2026-12-01T10:00:00Z"}, "version", id="slash"),
        pytest.param({"version": "", "released_at": "2026-12-01T10:00:00Z"}, "version", id="empty"),
        pytest.param({"version": "2.0.0", "released_at": "2026-12-01T10:00:00"}, "released_at", id="naive"),
        pytest.param({"version": "2.0.0"}, "released_at", id="no-time"),
        pytest.param(
            {"version": "2.0.0", "released_at": "2999-12-01T10:00:00Z"}, "released_at", id="far-ahead"
        ),
        pytest.param(
            {"version": "2.0.0", "released_at": "2026-12-01T10:00:00Z", "colour": 1}, "colour", id="unknown"
        ),
    ],
)
def test_a_bad_release_is_refused_naming_the_field(cast: Cast, body: dict[str, Any], field: str):
    before = _rows()
    response = cast.api("hansken_production").post("/api/v1/releases", body, format="json")
    assert field in [error["field"] for error in _errors(response, 400)]
    assert _rows() == before


def test_a_release_announced_a_month_ahead_is_taken(cast: Cast):
    ahead = (timezone.now() + datetime.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    response = cast.api("hansken_production").post(
        "/api/v1/releases", {"version": "3.0.0", "released_at": ahead}, format="json"
    )
    assert response.status_code == 201, response.content


def test_a_report_for_an_unknown_release_is_404(cast: Cast):
    before = _rows()
    _errors(_upload(cast, samples.GRADLE, version="7.7.7"), 404)
    assert _rows() == before


@pytest.mark.parametrize("size", [5_000, 200_000], ids=["stopped-while-streaming", "refused-by-its-length"])
def test_a_file_over_the_cap_is_413_and_nothing_is_stored(cast: Cast, settings, size: int):
    settings.TEST_REPORT_MAX_BYTES = 1_000
    _release(cast)
    before = _rows()
    data = b'<testsuite name="big">' + b'<testcase classname="c" name="t"/>' * (size // 35) + b"</testsuite>"
    (error,) = _errors(_upload(cast, data), 413)
    assert error == {
        "field": "file",
        "message": "The file is larger than 1000 bytes, the most a test report may be.",
    }
    assert _rows() == before


def test_the_service_keeps_the_cap_without_the_upload_handler(cast: Cast, settings):
    from audit.actor import Actor
    from test_reports.services import release_create, report_upload

    settings.TEST_REPORT_MAX_BYTES = 100
    release = release_create(
        version="1.0.0",
        released_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        notes="",
        by=Actor.command("t"),
    )
    before = _rows()
    with pytest.raises(Exception, match="larger than 100 bytes"):
        report_upload(
            release=release,
            kind="unit",
            source=io.BytesIO(samples.GRADLE),
            original_name="",
            by=Actor.command("t"),
        )
    assert _rows() == before


def test_the_endpoints_are_in_the_openapi_schema(cast: Cast):
    paths = cast.api("engineer").get("/api/schema/", {"format": "json"}).json()["paths"]
    assert set(paths["/api/v1/releases"]) >= {"get", "post"}
    assert "get" in paths["/api/v1/releases/{version}"]
    upload = paths["/api/v1/releases/{version}/reports"]["post"]
    form = upload["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[-1]
    components = cast.api("engineer").get("/api/schema/", {"format": "json"}).json()["components"]["schemas"]
    assert set(components[form]["properties"]) == {"kind", "file"}
    assert "201" in upload["responses"]


def test_a_version_no_release_could_have_is_404_not_a_database_error(cast: Cast):
    # PostgreSQL refuses a NUL byte in a query: the lookup must not reach it (schemathesis sends these).
    api = cast.api("hansken_production")
    _errors(api.get("/api/v1/releases/a%00b"), 404)
    _errors(api.get("/api/v1/releases/%20"), 404)
    _errors(_upload(cast, samples.GRADLE, version="a%00b"), 404)
    client = Client()
    client.force_login(cast["investigator"])
    assert client.get("/releases/a%00b/").status_code == 404


def test_nul_and_control_characters_in_a_report_are_not_stored(cast: Cast):
    _release(cast)
    data = (
        b'{"results": {"tool": {"name": "x\\u0000y"}, "tests": [{"name": "a\\u0000b", "status": "failed",'
        b' "message": "m\\u0000n\\u001b"}]}}'
    )
    response = _upload(cast, data, name="we\x00ird.json")
    assert response.status_code == 201, response.content
    report = Report.objects.get()
    assert (report.tool, report.file_name) == ("xy", "weird.json")
    test = NotPassedTest.objects.get()
    assert (test.name, test.message) == ("ab", "mn")
