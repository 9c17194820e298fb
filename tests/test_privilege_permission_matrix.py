"""The privileged-traces endpoints, tried by every persona and by an anonymous caller (as
``test_api_permission_matrix``): the expected status of each cell is in ONE table; a refused request
stores nothing (no mark, no version, no audit event).

Where the rules come from (HANSKEN_API.md, "Privileged traces"): marks are posted by clients with
``privilege:write`` only (people 403, the experiment client 403, an unknown case 404); the list is
for the case lead and deputies, holders of ``review_privileged`` and the privacy officer, through
the scoping door, so any other person gets 404 and a client 403; export-check takes a client with
``export:check`` (a personal token 403)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from audit.models import AuditEvent
from privilege.models import PrivilegedMark, PrivilegedMarkVersion
from tests.personas import CASE_PROJECT_ID, IMAGE_ID, OTHER_PROJECT_ID, PERSONAS, Cast
from tests.privilege_helpers import mark, post_marks

ANONYMOUS = "anonymous"
CALLERS = [*PERSONAS, ANONYMOUS]
UNKNOWN_PROJECT_ID = uuid.UUID("99999999-9999-4999-8999-999999999999")


@dataclass(frozen=True)
class Endpoint:
    url_name: str
    method: str
    path: str
    body: Callable[[], dict[str, Any]] | None = None


def _marks() -> dict[str, Any]:
    return {"marks": [mark("0-9", "suspected", at="2026-11-05T10:00:00Z")]}


ENDPOINTS: dict[str, Endpoint] = {
    "post_marks": Endpoint(
        "api-case-privileged", "post", f"/api/v1/cases/{CASE_PROJECT_ID}/privileged", _marks
    ),
    "post_marks_unknown_case": Endpoint(
        "api-case-privileged", "post", f"/api/v1/cases/{UNKNOWN_PROJECT_ID}/privileged", _marks
    ),
    "list_marks": Endpoint("api-case-privileged", "get", f"/api/v1/cases/{CASE_PROJECT_ID}/privileged"),
    "list_marks_other_case": Endpoint(
        "api-case-privileged", "get", f"/api/v1/cases/{OTHER_PROJECT_ID}/privileged"
    ),
    "export_check": Endpoint(
        "api-authz-export-check",
        "post",
        "/api/v1/authz/export-check",
        lambda: {
            "user": "investigator",
            "project_id": str(CASE_PROJECT_ID),
            "trace_uids": [f"{IMAGE_ID}:0-3", f"{IMAGE_ID}:0-4"],
        },
    ),
}
COLUMNS = list(ENDPOINTS)

# fmt: off
# Columns: post_marks, post_marks_unknown_case, list_marks, list_marks_other_case, export_check.
EXPECTED: dict[str, tuple[int, ...]] = {
    "case_lead":          (403, 403, 200, 404, 403),
    "deputy":             (403, 403, 200, 404, 403),
    "other_case_lead":    (403, 403, 404, 200, 403),
    "investigator":       (403, 403, 404, 404, 403),
    "engineer":           (403, 403, 404, 404, 403),
    "operator":           (403, 403, 404, 404, 403),
    "privacy_officer":    (403, 403, 200, 200, 403),
    "security_manager":   (403, 403, 404, 404, 403),
    "administrator":      (403, 403, 404, 404, 403),
    "hansken_production": (201, 404, 403, 403, 200),
    "hansken_experiment": (403, 403, 403, 403, 403),
    ANONYMOUS:            (401, 401, 401, 401, 401),
}
# fmt: on

CELLS = [
    pytest.param(caller, endpoint, EXPECTED[caller][i], id=f"{endpoint}-{caller}")
    for caller in CALLERS
    for i, endpoint in enumerate(COLUMNS)
]


def _privilege_route_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list[Any]) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern):
                view_class = getattr(pattern.callback, "view_class", None)
                if view_class is not None and view_class.__module__ in (
                    "privilege.api.views",
                    "authz.api.decision.export",
                ):
                    names.add(pattern.name or str(pattern.pattern))

    walk(get_resolver().url_patterns)
    return names


def test_it_has_one_row_per_caller_and_covers_every_privilege_route():
    assert set(EXPECTED) == set(CALLERS)
    assert all(len(row) == len(COLUMNS) for row in EXPECTED.values())
    assert {endpoint.url_name for endpoint in ENDPOINTS.values()} == _privilege_route_names()


def _rows() -> tuple[int, int, int]:
    return PrivilegedMark.objects.count(), PrivilegedMarkVersion.objects.count(), AuditEvent.objects.count()


@pytest.mark.parametrize(("caller", "endpoint", "expected"), CELLS)
def test_it_answers_each_caller_as_the_table_says(cast: Cast, caller: str, endpoint: str, expected: int):
    # A mark on each case, so that a list that answers 200 has something to show.
    post_marks(cast, mark("0-3"))
    spec = ENDPOINTS[endpoint]
    before = _rows()
    last = AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first()
    client = cast.api(None if caller == ANONYMOUS else caller)
    response = getattr(client, spec.method)(spec.path, spec.body() if spec.body else None, format="json")
    assert response.status_code == expected, response.content
    new_events = list(AuditEvent.objects.filter(sequence__gt=last))
    if expected >= 400:
        errors = response.json()["errors"]
        assert len(errors) == 1 and errors[0]["field"] is None and errors[0]["message"]
        assert _rows() == before and new_events == []
        return
    if spec.method == "get":
        assert _rows() == before and new_events == []
        results = response.json()["results"]
        expected_uids = [f"{IMAGE_ID}:0-3"] if endpoint == "list_marks" else []
        assert [r["trace_uid"] for r in results] == expected_uids
        return
    if endpoint == "post_marks":
        assert response.json() == {"accepted": 1, "unchanged": 0}
        assert _rows() == (before[0] + 1, before[1] + 1, before[2] + 1)
        assert [e.action for e in new_events] == ["privileged_marks.recorded"]
    else:
        body = response.json()
        assert (body["allowed"], body["reason"]) == (False, "no_grant")
        assert body["blocked"] == [{"trace_uid": f"{IMAGE_ID}:0-3", "reason": "withheld_privileged"}]
        assert [(e.action, e.actor) for e in new_events] == [("export_check.refused", "investigator")]
        assert _rows()[:2] == before[:2]
