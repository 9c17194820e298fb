"""The release test reports API, tried by every persona and by an anonymous caller (contract
"Release test reports"; rights in ``test_reports.rights``).

Every signed-in person reads; a machine client reads and publishes with ``reports:write`` (the
production client holds it); engineers publish too, with their personal token; an experiment client
is 403 whatever its scopes; anonymous is 401. A publish that succeeds stored what it answered with
one audit event naming the caller; a refused request stored nothing."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest

from audit.actor import Actor
from test_reports.models import NotPassedTest, Release, Report
from test_reports.services import release_create
from tests.matrix import (
    ANONYMOUS,
    Endpoint,
    assert_status,
    assert_table_shape,
    cells,
    events_since,
    last_sequence,
    route_names,
)
from tests.personas import Cast

REPORT = (
    b'<testsuite name="unit"><testcase classname="a" name="ok"/>'
    b'<testcase classname="a" name="broken"><failure message="no">trace</failure></testcase></testsuite>'
)

ENDPOINTS: dict[str, Endpoint] = {
    "list_releases": Endpoint("api-releases", "get", "/api/v1/releases"),
    "view_release": Endpoint("api-release", "get", "/api/v1/releases/1.0.0"),
    "view_unknown_release": Endpoint("api-release", "get", "/api/v1/releases/9.9.9"),
    "create_release": Endpoint(
        "api-releases",
        "post",
        "/api/v1/releases",
        lambda _: {"version": "2.0.0", "released_at": "2026-12-01T10:00:00Z", "notes": "Second"},
    ),
    "upload_report": Endpoint(
        "api-release-reports",
        "post",
        "/api/v1/releases/1.0.0/reports",
        lambda _: {"kind": "unit", "file": io.BytesIO(REPORT)},
    ),
}

# fmt: off
# Columns, in order: list_releases, view_release, view_unknown_release, create_release, upload_report.
EXPECTED: dict[str, tuple[int, ...]] = {
    "case_lead":          (200, 200, 404, 403, 403),
    "deputy":             (200, 200, 404, 403, 403),
    "other_case_lead":    (200, 200, 404, 403, 403),
    "investigator":       (200, 200, 404, 403, 403),
    "engineer":           (200, 200, 404, 201, 201),
    "operator":           (200, 200, 404, 403, 403),
    "privacy_officer":    (200, 200, 404, 403, 403),
    "security_manager":   (200, 200, 404, 403, 403),
    "administrator":      (200, 200, 404, 403, 403),
    "hansken_production": (200, 200, 404, 201, 201),
    "hansken_experiment": (403, 403, 403, 403, 403),
    ANONYMOUS:            (401, 401, 401, 401, 401),
}
# fmt: on


def test_it_has_one_row_per_caller_and_one_column_per_endpoint():
    assert_table_shape(EXPECTED, ENDPOINTS)


def test_it_covers_every_release_api_route():
    assert {endpoint.url_name for endpoint in ENDPOINTS.values()} == route_names("test_reports.api.views")


def _rows() -> tuple[int, int, int]:
    return Release.objects.count(), Report.objects.count(), NotPassedTest.objects.count()


@pytest.fixture
def world(cast: Cast) -> Cast:
    release_create(
        version="1.0.0",
        released_at=datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC),
        notes="First",
        by=Actor.command("tests"),
    )
    return cast


def _call(cast: Cast, caller: str, endpoint: Endpoint) -> Any:
    client = cast.api(None if caller == ANONYMOUS else caller)
    method = getattr(client, endpoint.method)
    if endpoint.url_name == "api-release-reports":
        return method(endpoint.url(cast), endpoint.data(cast), format="multipart")
    return method(endpoint.url(cast), endpoint.data(cast), format="json")


@pytest.mark.parametrize(("caller", "endpoint", "expected"), cells(EXPECTED, ENDPOINTS))
def test_it_answers_each_caller_as_the_table_says(world: Cast, caller: str, endpoint: str, expected: int):
    spec = ENDPOINTS[endpoint]
    before = _rows()
    sequence = last_sequence()

    response = _call(world, caller, spec)

    assert_status(response, expected)
    new_events = events_since(sequence)
    if expected != 201:
        assert _rows() == before
        assert new_events == []
        if endpoint == "list_releases" and expected == 200:
            assert [release["version"] for release in response.json()["results"]] == ["1.0.0"]
        if endpoint == "view_release" and expected == 200:
            assert response.json()["version"] == "1.0.0" and response.json()["reports"] == []
        return
    (event,) = new_events
    assert event.actor == (f"client:{caller}" if caller.startswith("hansken_") else caller)
    assert event.channel == "api" and event.outcome == "success"
    body = response.json()
    if endpoint == "create_release":
        assert _rows() == (before[0] + 1, before[1], before[2])
        release = Release.objects.get(version="2.0.0")
        assert (release.notes, release.created_by) == ("Second", event.actor)
        assert body["version"] == "2.0.0" and body["released_at"] == "2026-12-01T10:00:00Z"
        assert event.action == "release.created" and event.object_id == str(release.pk)
    else:
        assert _rows() == (before[0], before[1] + 1, before[2] + 1)
        report = Report.objects.get()
        assert {
            key: body[key]
            for key in ("id", "kind", "format", "tests", "passed", "failed", "errors", "skipped")
        } == {
            "id": report.pk,
            "kind": "unit",
            "format": "junit",
            "tests": 2,
            "passed": 1,
            "failed": 1,
            "errors": 0,
            "skipped": 0,
        }
        assert report.uploaded_by == event.actor
        assert event.action == "test_report.uploaded" and event.details["sha256"] == report.sha256
