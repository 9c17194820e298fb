"""A query parameter given twice is refused, on every API that reads a query.

``?status=open&status=kept`` has no one meaning, and Django's ``QueryDict.dict()`` would quietly keep
the last value: the caller would get an answer to a question they may not have asked. Every API view
reads its query through ``hansken_governance.api_base.single_query_values``, which names each
repeated parameter in a 400, and nothing is recorded (not even the reviewer's ``audit.viewed``).
"""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from tests.personas import CASE_PROJECT_ID, IMAGE_ID, Cast

TWICE = "This parameter is given more than once."
CASE = f"/api/v1/cases/{CASE_PROJECT_ID}"

# (who asks, the path, the query with one parameter repeated, the parameter)
ASKED = [
    ("privacy_officer", "/api/v1/audit/events", "outcome=denied&outcome=success", "outcome"),
    (
        "privacy_officer",
        "/api/v1/audit/access-at",
        f"project_id={CASE_PROJECT_ID}&at=2026-01-01T00:00:00Z&at=2026-06-01T00:00:00Z",
        "at",
    ),
    ("case_lead", "/api/v1/retention/notices", "status=open&status=kept", "status"),
    ("operator", "/api/v1/retention/removals", "status=open&status=open", "status"),
    ("operator", f"{CASE}/datasets/{IMAGE_ID}/hashtotals", "kind=missing&kind=extra", "kind"),
    ("privacy_officer", f"{CASE}/privileged", "status=suspected&status=rejected", "status"),
    (None, "/api/v1/privacy-statement/versions", "lang=en&lang=nl", "lang"),
]


@pytest.mark.parametrize(("persona", "path", "query", "parameter"), ASKED)
def test_a_parameter_given_twice_is_a_400_naming_it(
    cast: Cast, persona: str | None, path: str, query: str, parameter: str
):
    events = AuditEvent.objects.count()
    response = cast.api(persona).get(f"{path}?{query}")
    assert response.status_code == 400, response.content
    assert response.json()["errors"] == [{"field": parameter, "message": TWICE}]
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(("persona", "path", "query", "parameter"), ASKED)
def test_the_same_question_asked_once_is_answered(
    cast: Cast, persona: str | None, path: str, query: str, parameter: str
):
    """The table's questions are sound but for the repetition: asked once, each is answered."""
    first, _, _ = query.rpartition("&")
    response = cast.api(persona).get(f"{path}?{first}")
    assert response.status_code == 200, response.content
