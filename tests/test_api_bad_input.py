"""Bad input to every API endpoint: a 4xx in the contract's error shape that names the offending field,
and nothing stored (no case, no dataset, no change, no audit event).

Also: ``PATCH .../datasets/{image_id}`` moves last access only forward, for the dataset and its case;
and (issue 11, item 8) input that used to be a 500: JSON nested 100,000 deep to any endpoint, a
``limit`` that ``str.isdigit`` accepts and ``int`` does not, times at the ends of the calendar.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from api_clients.services import api_client_create
from audit.actor import Actor
from audit.models import AuditEvent, ChainHead
from authz.models import AccessRequest, Grant, GrantVersion
from authz.services import access_request_create
from cases.models import Case, Dataset, DeputyPeriod
from cases.services import dataset_register
from people.roles import Role
from people.services import person_create, person_deactivate
from retention.models import RemovalStatus, RemovalTask, RetentionNotice
from tests.authz_helpers import grant
from tests.personas import CASE_PROJECT_ID, IMAGE_ID, OTHER_PROJECT_ID, Cast
from tests.test_retention_api import _world as retention_world

CASES_URL = "/api/v1/cases"
DATASETS_URL = f"/api/v1/cases/{CASE_PROJECT_ID}/datasets"
DATASET_URL = f"/api/v1/cases/{CASE_PROJECT_ID}/datasets/{IMAGE_ID}"
NEW_PROJECT_ID = "44444444-4444-4444-8444-444444444444"
NEW_IMAGE_ID = "55555555-5555-4555-8555-555555555555"

CASE_BODY = {
    "project_id": NEW_PROJECT_ID,
    "case_number": "NFI-2026-0100",
    "title": "Operation Osprey",
    "case_lead": "case_lead",
}
DATASET_BODY = {
    "image_id": NEW_IMAGE_ID,
    "description": "Phone image",
    "delivered_by": "Police unit North",
    "imported_at": "2026-01-15T09:30:00+01:00",
}
ACCESS_BODY = {"last_accessed_at": "2026-01-20T08:00:00Z"}


def changed(base: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {**base, **fields}


def without(base: dict[str, Any], *names: str) -> dict[str, Any]:
    return {key: value for key, value in base.items() if key not in names}


def _in_an_hour() -> dict[str, Any]:
    # Beyond the service's five minutes of clock skew.
    return {"last_accessed_at": (timezone.now() + datetime.timedelta(hours=1)).isoformat()}


def _imported_in_an_hour() -> dict[str, Any]:
    # Beyond the service's five minutes of clock skew.
    return changed(DATASET_BODY, imported_at=(timezone.now() + datetime.timedelta(hours=1)).isoformat())


def state() -> tuple[Any, ...]:
    """Everything these endpoints can write."""
    head = ChainHead.objects.first()
    return (
        list(Case.objects.order_by("pk").values()),
        list(Dataset.objects.order_by("pk").values()),
        AuditEvent.objects.count(),
        head.sequence if head else 0,
    )


def assert_errors(response: Any, status: int, fields: set[str | None]) -> list[dict[str, Any]]:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"errors"}
    errors = body["errors"]
    assert errors, body
    for item in errors:
        assert {"field", "message"} <= set(item), item
        assert isinstance(item["message"], str) and item["message"].strip(), item
    assert {item["field"] for item in errors} == fields, errors
    return errors


# (id, method, url, body (or a function giving it), expected status, fields named)
FIELD_CASES: list[tuple[Any, ...]] = [
    # POST /api/v1/cases: missing fields
    *[
        (f"case-missing-{name}", "post", CASES_URL, without(CASE_BODY, name), 400, {name})
        for name in CASE_BODY
    ],
    ("case-empty-object", "post", CASES_URL, {}, 400, set(CASE_BODY)),
    # wrong types
    ("case-project-id-number", "post", CASES_URL, changed(CASE_BODY, project_id=5), 400, {"project_id"}),
    ("case-project-id-bool", "post", CASES_URL, changed(CASE_BODY, project_id=True), 400, {"project_id"}),
    (
        "case-project-id-list",
        "post",
        CASES_URL,
        changed(CASE_BODY, project_id=[NEW_PROJECT_ID]),
        400,
        {"project_id"},
    ),
    ("case-project-id-null", "post", CASES_URL, changed(CASE_BODY, project_id=None), 400, {"project_id"}),
    ("case-number-list", "post", CASES_URL, changed(CASE_BODY, case_number=["x"]), 400, {"case_number"}),
    ("case-number-bool", "post", CASES_URL, changed(CASE_BODY, case_number=False), 400, {"case_number"}),
    ("case-title-object", "post", CASES_URL, changed(CASE_BODY, title={"nl": "x"}), 400, {"title"}),
    ("case-title-null", "post", CASES_URL, changed(CASE_BODY, title=None), 400, {"title"}),
    ("case-lead-number", "post", CASES_URL, changed(CASE_BODY, case_lead=7), 400, {"case_lead"}),
    ("case-lead-list", "post", CASES_URL, changed(CASE_BODY, case_lead=["case_lead"]), 400, {"case_lead"}),
    # values
    (
        "case-project-id-not-uuid",
        "post",
        CASES_URL,
        changed(CASE_BODY, project_id="P-1"),
        400,
        {"project_id"},
    ),
    (
        "case-project-id-truncated",
        "post",
        CASES_URL,
        changed(CASE_BODY, project_id=NEW_PROJECT_ID[:-1]),
        400,
        {"project_id"},
    ),
    ("case-number-blank", "post", CASES_URL, changed(CASE_BODY, case_number="   "), 400, {"case_number"}),
    (
        "case-number-too-long",
        "post",
        CASES_URL,
        changed(CASE_BODY, case_number="N" * 65),
        400,
        {"case_number"},
    ),
    ("case-title-nul", "post", CASES_URL, changed(CASE_BODY, title="Osprey\x00"), 400, {"title"}),
    # unknown fields are named, never silently dropped
    ("case-unknown-field", "post", CASES_URL, changed(CASE_BODY, status="closed"), 400, {"status"}),
    (
        "case-unknown-and-missing",
        "post",
        CASES_URL,
        changed(without(CASE_BODY, "title"), deputies=["deputy"]),
        400,
        {"title", "deputies"},
    ),
    # duplicates
    (
        "case-duplicate-project-id",
        "post",
        CASES_URL,
        changed(CASE_BODY, project_id=str(CASE_PROJECT_ID)),
        400,
        {"project_id"},
    ),
    (
        "case-duplicate-project-id-other-spelling",
        "post",
        CASES_URL,
        changed(CASE_BODY, project_id=str(CASE_PROJECT_ID).upper()),
        400,
        {"project_id"},
    ),
    (
        "case-duplicate-case-number",
        "post",
        CASES_URL,
        changed(CASE_BODY, case_number="NFI-2026-0001"),
        400,
        {"case_number"},
    ),
    # the case lead
    ("case-lead-unknown", "post", CASES_URL, changed(CASE_BODY, case_lead="nobody"), 400, {"case_lead"}),
    # Found by schemathesis: PostgreSQL cannot compare text holding a NUL, and that was a 500.
    ("case-lead-nul", "post", CASES_URL, changed(CASE_BODY, case_lead="case\x00lead"), 400, {"case_lead"}),
    (
        "case-lead-not-a-lead",
        "post",
        CASES_URL,
        changed(CASE_BODY, case_lead="investigator"),
        400,
        {"case_lead"},
    ),
    (
        "case-lead-administrator",
        "post",
        CASES_URL,
        changed(CASE_BODY, case_lead="administrator"),
        400,
        {"case_lead"},
    ),
    # POST /api/v1/cases/{project_id}/datasets
    *[
        (f"dataset-missing-{name}", "post", DATASETS_URL, without(DATASET_BODY, name), 400, {name})
        for name in ("image_id", "description", "delivered_by")
    ],
    ("dataset-image-id-number", "post", DATASETS_URL, changed(DATASET_BODY, image_id=12), 400, {"image_id"}),
    (
        "dataset-image-id-not-uuid",
        "post",
        DATASETS_URL,
        changed(DATASET_BODY, image_id="img-1"),
        400,
        {"image_id"},
    ),
    (
        "dataset-description-list",
        "post",
        DATASETS_URL,
        changed(DATASET_BODY, description=["a"]),
        400,
        {"description"},
    ),
    (
        "dataset-description-too-long",
        "post",
        DATASETS_URL,
        changed(DATASET_BODY, description="d" * 501),
        400,
        {"description"},
    ),
    (
        "dataset-imported-at-naive",
        "post",
        DATASETS_URL,
        changed(DATASET_BODY, imported_at="2026-01-15T09:30:00"),
        400,
        {"imported_at"},
    ),
    (
        "dataset-imported-at-naive-with-space",
        "post",
        DATASETS_URL,
        changed(DATASET_BODY, imported_at="2026-01-15 09:30"),
        400,
        {"imported_at"},
    ),
    (
        "dataset-imported-at-date-only",
        "post",
        DATASETS_URL,
        changed(DATASET_BODY, imported_at="2026-01-15"),
        400,
        {"imported_at"},
    ),
    (
        "dataset-imported-at-bad-offset",
        "post",
        DATASETS_URL,
        changed(DATASET_BODY, imported_at="2026-01-15T09:30:00+99:00"),
        400,
        {"imported_at"},
    ),
    (
        "dataset-imported-at-number",
        "post",
        DATASETS_URL,
        changed(DATASET_BODY, imported_at=1768466000),
        400,
        {"imported_at"},
    ),
    (
        "dataset-environment-unknown",
        "post",
        DATASETS_URL,
        changed(DATASET_BODY, environments=["production", "moon"]),
        400,
        {"environments[1]"},  # the item, by position
    ),
    (
        "dataset-environments-empty",
        "post",
        DATASETS_URL,
        changed(DATASET_BODY, environments=[]),
        400,
        {"environments"},
    ),
    (
        "dataset-environments-string",
        "post",
        DATASETS_URL,
        changed(DATASET_BODY, environments="production"),
        400,
        {"environments"},
    ),
    ("dataset-unknown-field", "post", DATASETS_URL, changed(DATASET_BODY, status="deleted"), 400, {"status"}),
    ("dataset-unknown-field-case", "post", DATASETS_URL, changed(DATASET_BODY, case=1), 400, {"case"}),
    (
        "dataset-duplicate-image-id",
        "post",
        DATASETS_URL,
        changed(DATASET_BODY, image_id=str(IMAGE_ID)),
        400,
        {"image_id"},
    ),
    (
        "dataset-duplicate-image-id-on-another-case",
        "post",
        f"/api/v1/cases/{OTHER_PROJECT_ID}/datasets",
        changed(DATASET_BODY, image_id=str(IMAGE_ID)),
        400,
        {"image_id"},
    ),
    (
        "dataset-imported-far-future",
        "post",
        DATASETS_URL,
        changed(DATASET_BODY, imported_at="2999-01-01T00:00:00Z"),
        400,
        {"imported_at"},
    ),
    ("dataset-imported-in-an-hour", "post", DATASETS_URL, _imported_in_an_hour, 400, {"imported_at"}),
    # PATCH /api/v1/cases/{project_id}/datasets/{image_id}
    ("access-missing", "patch", DATASET_URL, {}, 400, {"last_accessed_at"}),
    ("access-null", "patch", DATASET_URL, {"last_accessed_at": None}, 400, {"last_accessed_at"}),
    ("access-number", "patch", DATASET_URL, {"last_accessed_at": 1768900000}, 400, {"last_accessed_at"}),
    ("access-bool", "patch", DATASET_URL, {"last_accessed_at": True}, 400, {"last_accessed_at"}),
    (
        "access-list",
        "patch",
        DATASET_URL,
        {"last_accessed_at": ["2026-01-20T08:00:00Z"]},
        400,
        {"last_accessed_at"},
    ),
    (
        "access-naive",
        "patch",
        DATASET_URL,
        {"last_accessed_at": "2026-01-20T08:00:00"},
        400,
        {"last_accessed_at"},
    ),
    ("access-date-only", "patch", DATASET_URL, {"last_accessed_at": "2026-01-20"}, 400, {"last_accessed_at"}),
    ("access-not-a-time", "patch", DATASET_URL, {"last_accessed_at": "yesterday"}, 400, {"last_accessed_at"}),
    (
        "access-far-future",
        "patch",
        DATASET_URL,
        {"last_accessed_at": "2999-01-01T00:00:00Z"},
        400,
        {"last_accessed_at"},
    ),
    ("access-in-an-hour", "patch", DATASET_URL, _in_an_hour, 400, {"last_accessed_at"}),
    ("access-unknown-field", "patch", DATASET_URL, changed(ACCESS_BODY, status="deleted"), 400, {"status"}),
    (
        "access-unknown-field-image",
        "patch",
        DATASET_URL,
        changed(ACCESS_BODY, image_id=NEW_IMAGE_ID),
        400,
        {"image_id"},
    ),
    # ids in the path: not a UUID, or no such object (for this case): 404, about the request as a whole
    ("case-path-not-uuid", "get", "/api/v1/cases/not-a-uuid", {}, 404, {None}),
    ("case-path-unknown", "get", f"/api/v1/cases/{uuid.uuid4()}", {}, 404, {None}),
    ("dataset-path-not-uuid", "post", "/api/v1/cases/NFI-2026-0001/datasets", DATASET_BODY, 404, {None}),
    (
        "dataset-path-unknown-case",
        "post",
        f"/api/v1/cases/{uuid.uuid4()}/datasets",
        DATASET_BODY,
        404,
        {None},
    ),
    (
        "access-path-image-not-uuid",
        "patch",
        f"/api/v1/cases/{CASE_PROJECT_ID}/datasets/laptop",
        ACCESS_BODY,
        404,
        {None},
    ),
    (
        "access-path-unknown-image",
        "patch",
        f"/api/v1/cases/{CASE_PROJECT_ID}/datasets/{uuid.uuid4()}",
        ACCESS_BODY,
        404,
        {None},
    ),
    (
        "access-path-image-of-another-case",
        "patch",
        f"/api/v1/cases/{OTHER_PROJECT_ID}/datasets/{IMAGE_ID}",
        ACCESS_BODY,
        404,
        {None},
    ),
]


@pytest.mark.parametrize(
    ("method", "url", "body", "status", "fields"),
    [pytest.param(*case[1:], id=case[0]) for case in FIELD_CASES],
)
def test_it_refuses_bad_fields_and_stores_nothing(cast: Cast, method, url, body, status, fields):
    before = state()
    payload = body() if callable(body) else body
    response = getattr(cast.api("hansken_production"), method)(url, payload, format="json")
    assert_errors(response, status, fields)
    assert state() == before


WRITE_URLS = [("post", CASES_URL), ("post", DATASETS_URL), ("patch", DATASET_URL)]

# (id, raw body, content type, expected status, fields named)
RAW_BODIES: list[tuple[str, str, str, int, set[str | None]]] = [
    ("malformed-json", '{"project_id": ', "application/json", 400, {None}),
    ("trailing-garbage", '{"title": "x"} x', "application/json", 400, {None}),
    ("list-not-object", "[{}]", "application/json", 400, {None}),
    ("empty-list", "[]", "application/json", 400, {None}),
    ("string-not-object", '"a case"', "application/json", 400, {None}),
    ("number-not-object", "42", "application/json", 400, {None}),
    ("null-not-object", "null", "application/json", 400, {None}),
    ("form-encoded", "title=Osprey", "application/x-www-form-urlencoded", 415, {None}),
    ("plain-text", '{"title": "Osprey"}', "text/plain", 415, {None}),
    ("xml", "<case/>", "application/xml", 415, {None}),
]


@pytest.mark.parametrize(
    ("method", "url"), WRITE_URLS, ids=["create-case", "create-dataset", "report-access"]
)
@pytest.mark.parametrize(
    ("raw", "content_type", "status", "fields"), [pytest.param(*case[1:], id=case[0]) for case in RAW_BODIES]
)
def test_it_refuses_bodies_that_are_not_a_json_object(
    cast: Cast, method, url, raw, content_type, status, fields
):
    before = state()
    response = cast.api("hansken_production").generic(method.upper(), url, raw, content_type=content_type)
    assert_errors(response, status, fields)
    assert state() == before


def test_it_refuses_a_list_of_valid_cases(cast: Cast):
    """A bulk body to a single-object endpoint is refused whole, even when each item is valid."""
    before = state()
    response = cast.api("hansken_production").post(CASES_URL, [CASE_BODY], format="json")
    assert_errors(response, 400, {None})
    assert state() == before


def test_it_refuses_an_inactive_case_lead(cast: Cast):
    setup = Actor.command("tests")
    former = person_create(username="left_lead", roles=[Role.CASE_LEAD], by=setup)
    person_deactivate(person=former, reason="left the institute", by=setup)
    before = state()
    response = cast.api("operator").post(CASES_URL, changed(CASE_BODY, case_lead="left_lead"), format="json")
    errors = assert_errors(response, 400, {"case_lead"})
    assert "left_lead" in errors[0]["message"]
    assert state() == before


def test_it_accepts_the_valid_bodies_these_cases_start_from(cast: Cast):
    """The bad bodies above are each one change away from these, which are accepted: so each refusal
    is about the one thing changed."""
    client = cast.api("hansken_production")
    assert client.post(CASES_URL, CASE_BODY, format="json").status_code == 201
    assert client.post(DATASETS_URL, DATASET_BODY, format="json").status_code == 201
    assert client.patch(DATASET_URL, ACCESS_BODY, format="json").status_code == 200
    # Within the five minutes allowed for clock skew, "now" is not the future.
    soon = {"last_accessed_at": (timezone.now() + datetime.timedelta(minutes=1)).isoformat()}
    assert client.patch(DATASET_URL, soon, format="json").status_code == 200
    imported_soon = changed(
        DATASET_BODY,
        image_id=str(uuid.uuid4()),
        imported_at=(timezone.now() + datetime.timedelta(minutes=1)).isoformat(),
    )
    assert client.post(DATASETS_URL, imported_soon, format="json").status_code == 201


def test_it_refuses_an_experiment_client_before_looking_at_the_body(cast: Cast):
    """Permission comes first: a client that may not write learns nothing about what it sent."""
    before = state()
    response = cast.api("hansken_experiment").post(CASES_URL, {"project_id": 5}, format="json")
    assert_errors(response, 403, {None})
    assert state() == before


# Last access only moves forward.


def _patch(cast: Cast, when: str, image_id: uuid.UUID = IMAGE_ID) -> Any:
    url = f"/api/v1/cases/{CASE_PROJECT_ID}/datasets/{image_id}"
    return cast.api("hansken_production").patch(url, {"last_accessed_at": when}, format="json")


def _times(image_id: uuid.UUID = IMAGE_ID) -> tuple[datetime.datetime | None, datetime.datetime | None]:
    dataset = Dataset.objects.select_related("case").get(image_id=image_id)
    return dataset.last_accessed_at, dataset.case.last_accessed_at


def _at(text: str) -> datetime.datetime:
    parsed = parse_datetime(text)
    assert parsed is not None
    return parsed


def test_it_moves_last_access_forward_for_dataset_and_case(cast: Cast):
    response = _patch(cast, "2026-01-20T08:00:00Z")
    assert response.status_code == 200
    assert _at(response.json()["last_accessed_at"]) == _at("2026-01-20T08:00:00Z")
    assert _times() == (_at("2026-01-20T08:00:00Z"), _at("2026-01-20T08:00:00Z"))

    assert _patch(cast, "2026-01-21T10:15:00+01:00").status_code == 200
    assert _times() == (_at("2026-01-21T09:15:00Z"), _at("2026-01-21T09:15:00Z"))


def test_it_accepts_an_older_last_access_and_changes_nothing(cast: Cast):
    assert _patch(cast, "2026-01-20T08:00:00Z").status_code == 200
    events = AuditEvent.objects.count()

    response = _patch(cast, "2026-01-19T08:00:00Z")

    assert response.status_code == 200
    assert _at(response.json()["last_accessed_at"]) == _at("2026-01-20T08:00:00Z")
    assert _times() == (_at("2026-01-20T08:00:00Z"), _at("2026-01-20T08:00:00Z"))
    # The report itself is recorded, saying it moved nothing.
    assert AuditEvent.objects.count() == events + 1
    event = AuditEvent.objects.order_by("-sequence").first()
    assert event is not None
    assert event.action == "dataset.last_access_reported"
    assert event.details["moved_forward"] is False
    assert _at(event.details["reported"]) == _at("2026-01-19T08:00:00Z")


def test_it_treats_the_same_instant_in_another_offset_as_no_move(cast: Cast):
    assert _patch(cast, "2026-01-20T08:00:00Z").status_code == 200
    assert _patch(cast, "2026-01-20T09:00:00+01:00").status_code == 200
    event = AuditEvent.objects.order_by("-sequence").first()
    assert event is not None and event.details["moved_forward"] is False
    assert _times() == (_at("2026-01-20T08:00:00Z"), _at("2026-01-20T08:00:00Z"))


def test_it_never_moves_the_case_back_for_a_dataset_seen_earlier(cast: Cast):
    """The case's last access is the latest of its datasets': a second dataset seen before the first
    moves its own time forward but leaves the case's alone."""
    assert cast.case is not None
    second = uuid.UUID("66666666-6666-4666-8666-666666666666")
    dataset_register(
        case=cast.case,
        image_id=second,
        description="Second laptop",
        delivered_by="Police unit East",
        imported_at=None,
        environments=None,
        by=Actor.command("tests"),
    )
    assert _patch(cast, "2026-01-20T08:00:00Z").status_code == 200
    assert _patch(cast, "2026-01-10T08:00:00Z", image_id=second).status_code == 200
    assert _times(second) == (_at("2026-01-10T08:00:00Z"), _at("2026-01-20T08:00:00Z"))
    assert _patch(cast, "2026-01-25T08:00:00Z", image_id=second).status_code == 200
    assert _times(second) == (_at("2026-01-25T08:00:00Z"), _at("2026-01-25T08:00:00Z"))
    assert _times() == (_at("2026-01-20T08:00:00Z"), _at("2026-01-25T08:00:00Z"))


def test_it_refuses_a_future_last_access_from_an_operator_too(cast: Cast):
    before = state()
    response = cast.api("operator").patch(
        DATASET_URL, {"last_accessed_at": "2999-01-01T00:00:00Z"}, format="json"
    )
    assert_errors(response, 400, {"last_accessed_at"})
    assert state() == before


def test_it_refuses_bad_input_from_a_freshly_created_client_the_same_way(db: None):
    """No cast: the error shape does not depend on the persona fixtures."""
    _, token = api_client_create(
        name="ci", environment="test", scopes=["cases:write"], by=Actor.command("tests")
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    before = state()
    response = client.post(CASES_URL, changed(CASE_BODY, case_lead="nobody"), format="json")
    errors = assert_errors(response, 400, {"case_lead"})
    assert "nobody" in errors[0]["message"]
    assert state() == before


# --- Issue 11, item 8: input that used to be a 500 ---------------------------------------------------


def everything() -> tuple[Any, ...]:
    """Everything any endpoint below can write."""
    return (
        state(),
        list(Grant.objects.order_by("pk").values()),
        list(GrantVersion.objects.order_by("pk").values_list("pk", flat=True)),
        list(AccessRequest.objects.order_by("pk").values()),
        list(RetentionNotice.objects.order_by("pk").values()),
        list(RemovalTask.objects.order_by("pk").values()),
        list(DeputyPeriod.objects.order_by("pk").values()),
    )


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


DEEP = _nested(100_000)
# Parses (below Python's recursion limit), but anything recursing over it afterwards (str() of the
# value in a field's error message) would run out of stack.
NEARLY_TOO_DEEP = _nested(950)


def _json_endpoints(cast: Cast) -> list[tuple[str, str, str]]:
    """(persona allowed to call it, method, path) of every DRF endpoint that reads a JSON body, with
    the objects it names made real, so the body is parsed rather than refused by a lookup."""
    held = grant(cast)
    asked = access_request_create(
        case=cast.case,
        requester=cast["engineer"],
        rights=["read"],
        environments=["production"],
        valid_until=timezone.now() + datetime.timedelta(days=20),
        reason="Analysing the chat exports",
        by=Actor(username="engineer", channel="test"),
    )
    world = retention_world(cast)
    removal = RemovalTask.objects.filter(status=RemovalStatus.OPEN).first()
    assert removal is not None
    case = f"/api/v1/cases/{CASE_PROJECT_ID}"
    return [
        ("hansken_production", "post", CASES_URL),
        ("hansken_production", "post", DATASETS_URL),
        ("hansken_production", "patch", DATASET_URL),
        ("hansken_production", "post", "/api/v1/audit/events"),
        ("hansken_production", "post", "/api/v1/authz/check"),
        ("hansken_production", "post", "/api/v1/authz/check-batch"),
        ("case_lead", "post", f"{case}/grants"),
        ("case_lead", "post", f"{case}/deputies"),
        ("case_lead", "post", f"{case}/status"),
        ("case_lead", "post", f"{case}/sign-off"),
        ("investigator", "post", f"{case}/access-requests"),
        ("case_lead", "patch", f"/api/v1/grants/{held.pk}"),
        ("case_lead", "post", f"/api/v1/grants/{held.pk}/revoke"),
        ("case_lead", "post", f"/api/v1/access-requests/{asked.pk}/approve"),
        ("case_lead", "post", f"/api/v1/access-requests/{asked.pk}/reject"),
        ("case_lead", "post", f"/api/v1/retention/notices/{world.notice.pk}/decide"),
        ("operator", "post", f"/api/v1/retention/removals/{removal.pk}/confirm"),
        ("hansken_production", "post", "/api/v1/releases"),
    ]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(DEEP, id="nested-100000-deep"),
        pytest.param(f'{{"events": {DEEP}}}', id="nested-100000-deep-in-a-field"),
        pytest.param(NEARLY_TOO_DEEP, id="nested-950-deep"),
        pytest.param(
            f'{{"project_id": {NEARLY_TOO_DEEP}, "rights": {NEARLY_TOO_DEEP}, "events": {NEARLY_TOO_DEEP}, '
            f'"reason": {NEARLY_TOO_DEEP}, "checks": {NEARLY_TOO_DEEP}, "user": {NEARLY_TOO_DEEP}}}',
            id="nested-950-deep-in-every-field",
        ),
        # Deeper than Python parses, shallower than orjson's limit (the decision API's parser).
        pytest.param(
            f'{{"user": {_nested(1020)}, "project_id": {_nested(1020)}, "checks": {_nested(1020)}}}',
            id="nested-1020-deep",
        ),
    ],
)
def test_it_refuses_json_nested_too_deeply_on_every_endpoint(cast: Cast, body: str):
    endpoints = _json_endpoints(cast)
    before = everything()
    for persona, method, url in endpoints:
        client = cast.api(persona)
        response = client.generic(method.upper(), url, body, content_type="application/json")
        assert 400 <= response.status_code < 500, (url, response.status_code, response.content[:200])
        assert response.json()["errors"][0]["message"], url
        assert everything() == before, url


def test_every_json_endpoint_parses_with_the_guarded_parser():
    """Each DRF view reads JSON only through ``GovernanceJSONParser`` (so a new endpoint cannot bring
    back the RecursionError), and the decision views parse with orjson, which limits depth itself."""
    from django.urls import URLPattern, URLResolver, get_resolver
    from rest_framework.parsers import JSONParser
    from rest_framework.views import APIView

    from hansken_governance.parsers import GovernanceJSONParser

    def views(patterns: list[Any]) -> list[type[APIView]]:
        found: list[type[APIView]] = []
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                found += views(pattern.url_patterns)
            elif isinstance(pattern, URLPattern):
                cls = getattr(pattern.callback, "cls", None)
                if isinstance(cls, type) and issubclass(cls, APIView):
                    found.append(cls)
        return found

    api_views = views(get_resolver().url_patterns)
    assert len(api_views) > 20
    for view in api_views:
        for parser in view.parser_classes:
            if issubclass(parser, JSONParser):
                assert issubclass(parser, GovernanceJSONParser), (view, parser)


def test_the_review_refuses_a_limit_that_is_a_digit_but_not_a_number(cast: Cast):
    """``"²".isdigit()`` is true, ``int("²")`` raises: a 400, and the refused query is not recorded
    as an opening of the trail. Other scripts' digits are not numbers here either."""
    before = everything()
    for limit in ("²", "٣", "1²", "+5", " 5", "5 "):
        response = cast.api("privacy_officer").get("/api/v1/audit/events", {"limit": limit})
        assert_errors(response, 400, {"limit"})
    assert everything() == before
    assert cast.api("privacy_officer").get("/api/v1/audit/events", {"limit": "5"}).status_code == 200


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("since=0001-01-01T00:00:00%2B01:00", 400),  # before the calendar's start in UTC
        ("until=9999-12-31T23:59:59-01:00", 400),  # after its end in UTC
        ("since=9999-12-31T23:59:59.999999Z", 200),
        ("until=0001-01-01T00:00:00Z", 200),
    ],
)
def test_the_review_answers_times_at_the_ends_of_the_calendar_without_failing(
    cast: Cast, query: str, status: int
):
    response = cast.api("privacy_officer").get(f"/api/v1/audit/events?{query}")
    if status == 400:
        assert_errors(response, 400, {query.partition("=")[0]})
    else:
        assert response.status_code == 200, response.content
        assert response.json()["results"] == []


@pytest.mark.parametrize("trace_id", ["0-²", "٣", "0-\uff13"])  # \uff13: a fullwidth three
def test_a_trace_id_is_ascii_digits_in_decisions_and_usage_events(cast: Cast, trace_id: str):
    """A sibling of the ``limit`` above: ``str.isdigit`` (decisions) and ``\\d`` (usage events) took
    "²" or other scripts' digits as a trace id's steps. Hansken writes ASCII digits only."""
    trace_uid = f"{IMAGE_ID}:{trace_id}"
    before = everything()
    client = cast.api("hansken_production")
    check = {
        "user": "investigator",
        "project_id": str(CASE_PROJECT_ID),
        "action": "read",
        "trace_uid": trace_uid,
    }
    assert_errors(client.post("/api/v1/authz/check", check, format="json"), 400, {"trace_uid"})
    event = {
        "event_id": str(uuid.uuid4()),
        "occurred_at": "2026-01-20T08:00:00Z",
        "user": "investigator",
        "project_id": str(CASE_PROJECT_ID),
        "trace_uid": trace_uid,
        "action": "read",
        "outcome": "success",
    }
    assert_errors(client.post("/api/v1/audit/events", {"events": [event]}, format="json"), 400, {"trace_uid"})
    assert everything() == before
