"""Only real access moves "last accessed" (issue 11, item 4).

- A *real case* is one registered by a person or by a production or experiment client; a case a test
  or development client registered is a test case. Test and development clients see, change and
  report usage of test cases only: a real case does not exist for them (404 on the case endpoints,
  403 for usage events naming it), and nothing is stored.
- Only a usage event from a production or experiment client, that succeeded, whose basis is an
  allowed decision (the case lead or a deputy, or a grant that covered the person on that case at
  that moment in that environment *with the right for that action*) moves a case's and a dataset's
  last access. Every other event is stored as evidence and moves nothing.
- An ``event_id`` sent again with other content is a 409 conflict that stores nothing; sent again
  with the same content it is still counted as a duplicate.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from api_clients.services import api_client_create
from audit.actor import Actor
from audit.models import AuditEvent, ChainHead
from cases.models import Case, Dataset
from cases.services import case_remove_deputy
from hashtotals.models import Manifest
from privilege.models import PrivilegedMark
from retention.models import NoticeStatus, RetentionNotice
from retention.sweep import retention_sweep
from tests.authz_helpers import grant
from tests.personas import CASE_PROJECT_ID, IMAGE_ID, Cast

EVENTS = "/api/v1/audit/events"
SETUP = Actor.command("tests")
TEST_PROJECT_ID = uuid.UUID("77777777-7777-4777-8777-777777777777")
TEST_IMAGE_ID = uuid.UUID("88888888-8888-4888-8888-888888888888")
UNKNOWN_PROJECT_ID = uuid.UUID("99999999-9999-4999-8999-999999999999")


def iso(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


AN_HOUR_AGO = timezone.now().replace(microsecond=0) - datetime.timedelta(hours=1)


def usage(**overrides: Any) -> dict[str, Any]:
    event = {
        "event_id": str(uuid.uuid4()),
        "occurred_at": iso(AN_HOUR_AGO),
        "user": "case_lead",
        "project_id": str(CASE_PROJECT_ID),
        "image_id": str(IMAGE_ID),
        "action": "read",
        "outcome": "success",
    }
    event.update(overrides)
    return {key: value for key, value in event.items() if value is not None}


def client_of(environment: str) -> APIClient:
    _, token = api_client_create(
        name=f"hansken-{environment}-{uuid.uuid4().hex[:6]}",
        environment=environment,
        scopes=(
            ["cases:write", "audit:write", "privilege:write", "hashtotals:write"]
            if environment != "experiment"
            else ["audit:write"]
        ),
        by=SETUP,
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def stored() -> tuple[Any, ...]:
    head = ChainHead.objects.first()
    return (
        list(Case.objects.order_by("pk").values()),
        list(Dataset.objects.order_by("pk").values()),
        AuditEvent.objects.count(),
        (head.sequence, head.hash) if head else None,
        list(PrivilegedMark.objects.order_by("pk").values()),
        list(Manifest.objects.order_by("pk").values()),
    )


def last_access() -> tuple[datetime.datetime | None, datetime.datetime | None]:
    dataset = Dataset.objects.select_related("case").get(image_id=IMAGE_ID)
    return dataset.case.last_accessed_at, dataset.last_accessed_at


def assert_error_shape(response: Any, status: int) -> list[dict[str, Any]]:
    assert response.status_code == status, response.content
    errors = response.json()["errors"]
    assert errors and all(item["message"] for item in errors)
    return errors


# --- real cases and test cases ------------------------------------------------------------------------


@pytest.mark.parametrize("environment", ["test", "development"])
def test_a_test_client_cannot_touch_a_real_case(cast: Cast, environment: str):
    client = client_of(environment)
    before = stored()
    case_url = f"/api/v1/cases/{CASE_PROJECT_ID}"
    dataset = {"image_id": str(uuid.uuid4()), "description": "x", "delivered_by": "y"}
    assert_error_shape(client.get(case_url), 404)
    assert_error_shape(client.post(f"{case_url}/datasets", dataset, format="json"), 404)
    access = {"last_accessed_at": iso(AN_HOUR_AGO)}
    assert_error_shape(client.patch(f"{case_url}/datasets/{IMAGE_ID}", access, format="json"), 404)
    errors = assert_error_shape(client.post(EVENTS, {"events": [usage(), usage()]}, format="json"), 403)
    assert [(e["index"], e["field"]) for e in errors] == [(0, "project_id"), (1, "project_id")]
    # Nor its privileged marks (a "rejected" mark would lift the withholding) or its hashtotals
    # (which list the evidence's file paths).
    lift = {"marks": [{"trace_uid": f"{IMAGE_ID}:0-1", "status": "rejected", "marked_at": iso(AN_HOUR_AGO)}]}
    assert_error_shape(client.post(f"{case_url}/privileged", lift, format="json"), 404)
    manifests = f"{case_url}/datasets/{IMAGE_ID}/manifests"
    upload = {"side": "delivered", "file": SimpleUploadedFile("d.txt", f"{'0' * 64}  a.txt\n".encode())}
    assert_error_shape(client.post(manifests, upload, format="multipart"), 404)
    assert_error_shape(client.get(f"{case_url}/datasets/{IMAGE_ID}/hashtotals"), 404)
    assert stored() == before


@pytest.mark.parametrize("environment", ["test", "development"])
def test_a_test_client_registers_and_uses_test_cases_only(cast: Cast, environment: str):
    client = client_of(environment)
    body = {
        "project_id": str(TEST_PROJECT_ID),
        "case_number": "TEST-0001",
        "title": "Pipeline smoke test",
        "case_lead": "case_lead",
    }
    assert client.post("/api/v1/cases", body, format="json").status_code == 201
    case = Case.objects.get(project_id=TEST_PROJECT_ID)
    assert (case.registered_in, case.is_real) == (environment, False)
    created = AuditEvent.objects.get(action="case.created", project_id=TEST_PROJECT_ID)
    # The trail says which client registered it, and in which environment.
    assert created.environment == environment and created.client_name.startswith(f"hansken-{environment}-")
    dataset = {"image_id": str(TEST_IMAGE_ID), "description": "x", "delivered_by": "y"}
    case_url = f"/api/v1/cases/{TEST_PROJECT_ID}"
    assert client.post(f"{case_url}/datasets", dataset, format="json").status_code == 201
    assert client.get(case_url).status_code == 200
    # Its usage events are stored (evidence of what the test client did), and move nothing.
    events = [usage(project_id=str(TEST_PROJECT_ID), image_id=str(TEST_IMAGE_ID))]
    events.append(usage(project_id=str(UNKNOWN_PROJECT_ID), image_id=None))
    assert client.post(EVENTS, {"events": events}, format="json").json() == {"accepted": 2, "duplicates": 0}
    case.refresh_from_db()
    assert case.last_accessed_at is None
    assert Dataset.objects.get(image_id=TEST_IMAGE_ID).last_accessed_at is None
    # Hansken's own lastAccessedDate of a test case is the test client's to report.
    report = {"last_accessed_at": iso(AN_HOUR_AGO)}
    assert client.patch(f"{case_url}/datasets/{TEST_IMAGE_ID}", report, format="json").status_code == 200
    # Its test case's privileged marks and hashtotals are its own.
    test_mark = {"trace_uid": f"{TEST_IMAGE_ID}:0-1", "status": "suspected", "marked_at": iso(AN_HOUR_AGO)}
    assert client.post(f"{case_url}/privileged", {"marks": [test_mark]}, format="json").status_code == 201
    assert client.get(f"{case_url}/datasets/{TEST_IMAGE_ID}/hashtotals").status_code == 200


def test_cases_registered_by_people_and_production_clients_are_real(cast: Cast):
    assert cast.case.registered_in == "" and cast.case.is_real  # registered by a command
    body = {
        "project_id": str(TEST_PROJECT_ID),
        "case_number": "NFI-2026-0077",
        "title": "t",
        "case_lead": "case_lead",
    }
    assert cast.api("hansken_production").post("/api/v1/cases", body, format="json").status_code == 201
    case = Case.objects.get(project_id=TEST_PROJECT_ID)
    assert (case.registered_in, case.is_real) == ("production", True)
    # ...and so out of a test client's reach.
    assert client_of("test").get(f"/api/v1/cases/{TEST_PROJECT_ID}").status_code == 404
    # An operator (a person) registers real cases too.
    other = {**body, "project_id": str(uuid.uuid4()), "case_number": "NFI-2026-0078"}
    assert cast.api("operator").post("/api/v1/cases", other, format="json").status_code == 201
    assert Case.objects.get(case_number="NFI-2026-0078").is_real


# --- which events move last access ------------------------------------------------------------------


def post(client: APIClient, events: list[dict[str, Any]]) -> Any:
    response = client.post(EVENTS, {"events": events}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


@pytest.mark.parametrize(
    ("overrides", "why"),
    [
        ({"user": "investigator"}, "no grant"),
        ({"user": "nobody"}, "unknown person"),
        ({"outcome": "failure"}, "a failed attempt is not an access"),
        ({"user": "engineer"}, "a grant without the right for the action"),
        ({"user": "investigator", "action": "export"}, "a grant without the right for this action"),
        ({"user": "security_manager"}, "a grant in another environment"),
        ({"action": "open_in_viewer"}, "an action that is no right at all"),
    ],
)
def test_events_without_an_allowed_basis_are_stored_and_move_nothing(
    cast: Cast, overrides: dict[str, Any], why: str
):
    grant(cast, grantee="engineer", rights=["search"])
    if why != "no grant":
        grant(cast, grantee="investigator", rights=["read"])
    grant(cast, grantee="security_manager", rights=["read"], environments=["experiment"])
    # After the grants were recorded: the grant history covers this moment.
    event = usage(occurred_at=iso(timezone.now()), **overrides)
    assert post(cast.api("hansken_production"), [event]) == {"accepted": 1, "duplicates": 0}, why
    assert AuditEvent.objects.filter(event_id=event["event_id"]).exists(), why
    assert last_access() == (None, None), why


@pytest.mark.parametrize(
    ("client", "user", "environments"),
    [
        ("hansken_production", "case_lead", None),
        ("hansken_production", "deputy", None),
        ("hansken_production", "investigator", ["production"]),
        ("hansken_experiment", "investigator", ["experiment"]),
    ],
)
def test_an_allowed_access_from_production_or_experiment_moves_last_access(
    cast: Cast, client: str, user: str, environments: list[str] | None
):
    if environments:
        grant(cast, grantee=user, rights=["read", "search"], environments=environments)
    moment = timezone.now()
    post(cast.api(client), [usage(user=user, action="search", occurred_at=iso(moment))])
    assert last_access() == (moment, moment)


def test_a_grant_that_began_after_the_event_is_no_basis(cast: Cast):
    grant(cast, grantee="investigator", rights=["read"])  # from now on: the event was an hour ago
    post(cast.api("hansken_production"), [usage(user="investigator")])
    event = AuditEvent.objects.get(action="hansken.read")
    assert event.basis == "no_grant"
    assert last_access() == (None, None)


def test_a_deputy_is_judged_by_the_deputyship_at_the_moment_of_the_event(cast: Cast):
    # The cast appointed "deputy" when it was built: an event from an hour before was no deputy's,
    # however the deputyships stand when Hansken reports it.
    post(cast.api("hansken_production"), [usage(user="deputy")])
    assert AuditEvent.objects.get(action="hansken.read").basis == "no_grant"
    assert last_access() == (None, None)


def test_a_deputy_event_reported_after_the_deputyship_ended_keeps_its_basis(cast: Cast):
    during = timezone.now()
    case_remove_deputy(case=cast.case, deputy=cast["deputy"], by=SETUP, reason="Left the team")
    # Reported late: the event happened while the deputyship held.
    post(cast.api("hansken_production"), [usage(user="deputy", occurred_at=iso(during))])
    assert AuditEvent.objects.get(action="hansken.read").basis == "case_lead"
    assert last_access() == (during, during)
    # An event after the end is no deputy's any more.
    post(cast.api("hansken_production"), [usage(user="deputy", occurred_at=iso(timezone.now()))])
    assert sorted(AuditEvent.objects.filter(action="hansken.read").values_list("basis", flat=True)) == [
        "case_lead",
        "no_grant",
    ]


def test_only_real_access_closes_a_retention_notice(cast: Cast):
    Dataset.objects.filter(pk=cast.dataset.pk).update(
        imported_at=timezone.now() - datetime.timedelta(days=400)
    )
    retention_sweep(now=timezone.now() - datetime.timedelta(hours=2))
    notice = RetentionNotice.objects.get()
    post(cast.api("hansken_production"), [usage(user="investigator"), usage(user="nobody")])
    retention_sweep()
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.OPEN
    post(cast.api("hansken_production"), [usage(user="case_lead")])
    retention_sweep()
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.ACCESSED_AGAIN


# --- an event id sent again ------------------------------------------------------------------------


CHANGES: list[tuple[str, Any]] = [
    ("occurred_at", iso(AN_HOUR_AGO - datetime.timedelta(seconds=1))),
    ("user", "deputy"),
    ("project_id", str(UNKNOWN_PROJECT_ID)),
    ("image_id", None),
    ("trace_uid", f"{IMAGE_ID}:0-1"),
    ("action", "search"),
    ("outcome", "failure"),
    ("details", {"query": "other"}),
]


@pytest.mark.parametrize(("field", "value"), CHANGES, ids=[name for name, _ in CHANGES])
def test_an_event_id_sent_again_with_other_content_is_a_conflict(cast: Cast, field: str, value: Any):
    client = cast.api("hansken_production")
    first = usage(details={"query": "mail"})
    post(client, [first])
    before = stored()
    fresh = usage()
    changed = {**first, field: value} if value is not None else {k: v for k, v in first.items() if k != field}
    response = client.post(EVENTS, {"events": [fresh, changed]}, format="json")
    errors = assert_error_shape(response, 409)
    assert [(e["index"], e["field"]) for e in errors] == [(1, "event_id")]
    assert stored() == before  # the fresh event was not stored either


def test_the_same_content_again_is_a_duplicate_however_it_is_spelled(cast: Cast):
    client = cast.api("hansken_production")
    first = usage(details={"query": "mail", "hits": 2.5})
    post(client, [first])
    again = {
        **first,
        "occurred_at": AN_HOUR_AGO.astimezone(datetime.timezone(datetime.timedelta(hours=2))).isoformat(),
        "project_id": first["project_id"].upper(),
        "details": {"hits": 2.5, "query": "mail"},
    }
    assert post(client, [again, dict(again)]) == {"accepted": 0, "duplicates": 2}


def test_one_id_twice_in_a_request_with_other_content_is_a_conflict(cast: Cast):
    client = cast.api("hansken_production")
    before = stored()
    first = usage()
    response = client.post(EVENTS, {"events": [first, {**first, "action": "export"}]}, format="json")
    errors = assert_error_shape(response, 409)
    assert [(e["index"], e["field"]) for e in errors] == [(1, "event_id")]
    assert stored() == before


def test_an_event_id_of_another_kind_of_event_is_a_conflict(cast: Cast):
    """A denied decision's id (its audit event) is no usage event: reusing it is a conflict."""
    denied = cast.api("hansken_production").post(
        "/api/v1/authz/check",
        {"user": "investigator", "project_id": str(CASE_PROJECT_ID), "action": "read"},
        format="json",
    )
    decision_id = denied.json()["decision_id"]
    before = stored()
    response = cast.api("hansken_production").post(
        EVENTS, {"events": [usage(event_id=decision_id, user="investigator")]}, format="json"
    )
    assert_error_shape(response, 409)
    assert stored() == before
