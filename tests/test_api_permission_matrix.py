"""Every API endpoint, tried by every persona and by an anonymous caller (NetBox's permission matrix).

The expected status of each cell is in ONE table, ``EXPECTED``; each cell is its own test. A write
that succeeds must have stored exactly what it answered, with one audit event naming the caller; a
refused request must have stored nothing.

Where the rules come from: anonymous is 401 (``IsPersonOrClient`` / ``scope_or_role``); the case and
dataset endpoints take scope ``cases:write`` or the operator role (``cases.api.views``, contract
"Cases and datasets"); an experiment client is 403 on all of them whatever its scopes
(``api_clients.permissions``, seed measure 5); a person without the role is 403 on the create
endpoints; reading a case goes through the scoping door ``cases.selectors.cases_for``, so a case
outside the caller's scope is 404: the case lead and deputies see their own case, operators and
reviewers see every case, everyone else sees none (nobody in the cast holds a grant).
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
from audit.models import AuditEvent
from cases.models import Case, Dataset
from tests.matrix import (
    ANONYMOUS,
    Endpoint,
    assert_status,
    assert_table_shape,
    call,
    cells,
    events_since,
    last_sequence,
    route_names,
)
from tests.personas import CASE_PROJECT_ID, IMAGE_ID, OTHER_PROJECT_ID, Cast

UNKNOWN_PROJECT_ID = uuid.UUID("99999999-9999-4999-8999-999999999999")
NEW_PROJECT_ID = uuid.UUID("44444444-4444-4444-8444-444444444444")
NEW_IMAGE_ID = uuid.UUID("55555555-5555-4555-8555-555555555555")


def _in_days(days: int) -> str:
    return (timezone.now() + datetime.timedelta(days=days)).astimezone(datetime.UTC).isoformat()


ENDPOINTS: dict[str, Endpoint] = {
    "create_case": Endpoint(
        "api-case-create",
        "post",
        "/api/v1/cases",
        lambda _: {
            "project_id": str(NEW_PROJECT_ID),
            "case_number": "NFI-2026-0100",
            "title": "Operation Osprey",
            "case_lead": "case_lead",
        },
    ),
    "view_case": Endpoint("api-case-detail", "get", f"/api/v1/cases/{CASE_PROJECT_ID}"),
    "view_other_case": Endpoint("api-case-detail", "get", f"/api/v1/cases/{OTHER_PROJECT_ID}"),
    "view_unknown_case": Endpoint("api-case-detail", "get", f"/api/v1/cases/{UNKNOWN_PROJECT_ID}"),
    "create_dataset": Endpoint(
        "api-dataset-create",
        "post",
        f"/api/v1/cases/{CASE_PROJECT_ID}/datasets",
        lambda _: {
            "image_id": str(NEW_IMAGE_ID),
            "description": "Phone image",
            "delivered_by": "Police unit North",
            "imported_at": "2026-01-15T09:30:00+01:00",
        },
    ),
    "create_dataset_other_case": Endpoint(
        "api-dataset-create",
        "post",
        f"/api/v1/cases/{OTHER_PROJECT_ID}/datasets",
        lambda _: {"image_id": str(NEW_IMAGE_ID), "description": "USB stick", "delivered_by": "FIOD"},
    ),
    "report_last_access": Endpoint(
        "api-dataset-detail",
        "patch",
        f"/api/v1/cases/{CASE_PROJECT_ID}/datasets/{IMAGE_ID}",
        lambda _: {"last_accessed_at": "2026-01-20T08:00:00Z"},
    ),
    # The case lead alone names deputies and decides the case's status (a deputy manages grants).
    "add_deputy": Endpoint(
        "api-case-deputies",
        "post",
        f"/api/v1/cases/{CASE_PROJECT_ID}/deputies",
        lambda _: {"deputy": "engineer"},
    ),
    "change_deputy": Endpoint(
        "api-case-deputy",
        "patch",
        f"/api/v1/cases/{CASE_PROJECT_ID}/deputies/deputy",
        lambda _: {"valid_until": _in_days(30), "reason": "Until the hearing"},
    ),
    "remove_deputy": Endpoint(
        "api-case-deputy", "delete", f"/api/v1/cases/{CASE_PROJECT_ID}/deputies/deputy"
    ),
    "close_case": Endpoint(
        "api-case-status",
        "post",
        f"/api/v1/cases/{CASE_PROJECT_ID}/status",
        lambda _: {"status": "closed", "reason": "Investigation finished"},
    ),
}

# fmt: off
# Columns, in order: create_case, view_case, view_other_case, view_unknown_case, create_dataset,
# create_dataset_other_case, report_last_access, add_deputy, change_deputy, remove_deputy, close_case.
EXPECTED: dict[str, tuple[int, ...]] = {
    "case_lead":          (403, 200, 404, 404, 403, 403, 403, 201, 200, 200, 200),
    "deputy":             (403, 200, 404, 404, 403, 403, 403, 403, 403, 403, 403),
    "other_case_lead":    (403, 404, 200, 404, 403, 403, 403, 404, 404, 404, 404),
    "investigator":       (403, 404, 404, 404, 403, 403, 403, 404, 404, 404, 404),
    "engineer":           (403, 404, 404, 404, 403, 403, 403, 404, 404, 404, 404),
    "operator":           (201, 200, 200, 404, 201, 201, 200, 404, 404, 404, 404),
    "privacy_officer":    (403, 200, 200, 404, 403, 403, 403, 404, 404, 404, 404),
    "security_manager":   (403, 200, 200, 404, 403, 403, 403, 404, 404, 404, 404),
    "administrator":      (403, 404, 404, 404, 403, 403, 403, 404, 404, 404, 404),
    "hansken_production": (201, 200, 200, 404, 201, 201, 200, 403, 403, 403, 403),
    "hansken_experiment": (403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    ANONYMOUS:            (401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401),
}
# fmt: on

CELLS = cells(EXPECTED, ENDPOINTS)


def test_it_has_one_row_per_caller_and_one_column_per_endpoint():
    assert_table_shape(EXPECTED, ENDPOINTS)


def test_it_covers_every_case_api_route():
    # A new case or dataset endpoint must get its column here, or this fails: none goes untried.
    # (Grants and decisions have their own matrices, in ``test_grants_api``.)
    assert {endpoint.url_name for endpoint in ENDPOINTS.values()} == route_names("cases.api.views")


def _actor_name(caller: str) -> str:
    return f"client:{caller}" if caller.startswith("hansken_") else caller


def _rows() -> tuple[int, int, int]:
    return Case.objects.count(), Dataset.objects.count(), AuditEvent.objects.count()


def _time(text: str) -> datetime.datetime:
    parsed = parse_datetime(text)
    assert parsed is not None and timezone.is_aware(parsed), text
    return parsed


@pytest.mark.parametrize(("caller", "endpoint", "expected"), CELLS)
def test_it_answers_each_caller_as_the_table_says(cast: Cast, caller: str, endpoint: str, expected: int):
    spec = ENDPOINTS[endpoint]
    body = spec.data(cast)
    before = _rows()
    sequence = last_sequence()
    assert sequence > 0
    dataset_before = Dataset.objects.get(image_id=IMAGE_ID)

    response = call(cast, caller, spec)

    assert_status(response, expected)
    new_events = events_since(sequence)
    if expected not in (200, 201) or spec.method == "get":
        # Refused, or only read: nothing stored, not even an audit event.
        assert _rows() == before
        assert new_events == []
        dataset_after = Dataset.objects.get(image_id=IMAGE_ID)
        assert dataset_after.last_accessed_at == dataset_before.last_accessed_at
        if expected == 200:
            _check_read(cast, endpoint, response.json())
        return
    assert len(new_events) == 1, [e.action for e in new_events]
    event = new_events[0]
    assert event.actor == _actor_name(caller)
    assert event.channel == "api"
    assert event.outcome == "success"
    _check_write(cast, endpoint, body or {}, response.json(), event, before)


def _check_read(cast: Cast, endpoint: str, data: dict[str, Any]) -> None:
    case = cast.case if endpoint == "view_case" else cast.other_case
    assert case is not None
    assert data["project_id"] == str(case.project_id)
    assert data["case_number"] == case.case_number
    assert data["title"] == case.title
    assert data["case_lead"] == case.case_lead.username
    assert data["status"] == "open"
    if endpoint == "view_case":
        assert data["deputies"] == ["deputy"]
        assert [d["image_id"] for d in data["datasets"]] == [str(IMAGE_ID)]
    else:
        assert data["deputies"] == []
        assert data["datasets"] == []


def _check_write(
    cast: Cast,
    endpoint: str,
    body: dict[str, Any],
    data: dict[str, Any],
    event: AuditEvent,
    before: tuple[int, int, int],
) -> None:
    cases_before, datasets_before, events_before = before
    if endpoint == "create_case":
        assert _rows() == (cases_before + 1, datasets_before, events_before + 1)
        case = Case.objects.get(project_id=NEW_PROJECT_ID)
        assert (case.case_number, case.title, case.case_lead) == (
            body["case_number"],
            body["title"],
            cast["case_lead"],
        )
        assert case.status == "open"
        assert data["project_id"] == str(case.project_id)
        assert data["case_number"] == case.case_number
        assert data["title"] == case.title
        assert data["case_lead"] == "case_lead"
        assert data["deputies"] == [] and data["datasets"] == []
        assert _time(data["created_at"]) == case.created_at
        assert event.action == "case.created"
        assert event.project_id == NEW_PROJECT_ID
        assert event.object_id == str(case.pk)
        assert event.details == {
            "case_number": body["case_number"],
            "title": body["title"],
            "case_lead": "case_lead",
        }
    elif endpoint in ("create_dataset", "create_dataset_other_case"):
        assert _rows() == (cases_before, datasets_before + 1, events_before + 1)
        target = cast.case if endpoint == "create_dataset" else cast.other_case
        assert target is not None
        dataset = Dataset.objects.get(image_id=NEW_IMAGE_ID)
        assert dataset.case == target
        assert dataset.description == body["description"]
        assert dataset.delivered_by == body["delivered_by"]
        assert dataset.environments == ["production"]
        assert dataset.status == "active"
        assert dataset.last_accessed_at is None
        if "imported_at" in body:
            assert dataset.imported_at == _time(body["imported_at"])
        else:  # "default now"
            assert timezone.now() - dataset.imported_at < datetime.timedelta(minutes=1)
        assert data["image_id"] == str(NEW_IMAGE_ID)
        assert data["project_id"] == str(target.project_id)
        assert data["description"] == dataset.description
        assert data["delivered_by"] == dataset.delivered_by
        assert _time(data["imported_at"]) == dataset.imported_at
        assert data["environments"] == ["production"]
        assert event.action == "dataset.registered"
        assert event.project_id == target.project_id
        assert event.image_id == NEW_IMAGE_ID
        assert event.details["description"] == body["description"]
    elif endpoint == "report_last_access":
        assert _rows() == (cases_before, datasets_before, events_before + 1)
        reported = _time(body["last_accessed_at"])
        dataset = Dataset.objects.select_related("case").get(image_id=IMAGE_ID)
        assert dataset.last_accessed_at == reported
        assert dataset.case.last_accessed_at == reported
        assert _time(data["last_accessed_at"]) == reported
        assert data["image_id"] == str(IMAGE_ID)
        assert event.action == "dataset.last_access_reported"
        assert event.image_id == IMAGE_ID
        assert event.details["moved_forward"] is True
    elif endpoint == "add_deputy":
        assert _rows() == (cases_before, datasets_before, events_before + 1)
        assert data["deputies"] == ["deputy", "engineer"]
        assert event.action == "case.deputy_added"
        assert event.details["deputy"] == "engineer" and event.details["valid_until"]
    elif endpoint == "change_deputy":
        assert _rows() == (cases_before, datasets_before, events_before + 1)
        assert data["deputies"] == ["deputy"]
        assert event.action == "case.deputy_changed"
        assert (event.details["deputy"], event.details["reason"]) == ("deputy", "Until the hearing")
    elif endpoint == "remove_deputy":
        assert _rows() == (cases_before, datasets_before, events_before + 1)
        assert data["deputies"] == []
        assert event.action == "case.deputy_removed"
    elif endpoint == "close_case":
        assert _rows() == (cases_before, datasets_before, events_before + 1)
        case = Case.objects.get(project_id=CASE_PROJECT_ID)
        assert case.status == "closed" and case.closed_at is not None
        assert data["status"] == "closed"
        assert event.action == "case.status_changed"
        assert event.details == {"before": "open", "after": "closed", "reason": "Investigation finished"}
    else:  # pragma: no cover - the table only has the writes above
        raise AssertionError(endpoint)


def test_it_refuses_a_production_client_without_the_cases_scope(cast: Cast):
    """The scope, not the environment, opens the case endpoints: a production client that may only
    ask for decisions is refused (403) everywhere here, and stores nothing."""
    _, token = api_client_create(
        name="decisions-only", environment="production", scopes=["authz:check"], by=Actor.command("tests")
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    before = _rows()
    for name, spec in ENDPOINTS.items():
        response = getattr(client, spec.method)(spec.url(cast), spec.data(cast), format="json")
        assert response.status_code == 403, (name, response.content)
    assert _rows() == before
