"""The retention API: keep, delete and removal flows with their audit events, every endpoint tried by
every persona (one table), and bad input refused with nothing stored."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from audit.actor import Actor
from cases.models import Dataset, DatasetStatus
from cases.services import dataset_register
from notifications.models import Notification
from retention.models import NoticeStatus, RemovalStatus, RemovalTask, RetentionNotice
from retention.services import notice_decide
from retention.sweep import retention_sweep
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

BY = Actor.command("tests")
SECOND_IMAGE_ID = uuid.UUID("66666666-6666-4666-8666-666666666666")


def tomorrow_plus(days: int) -> str:
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


@dataclass
class World:
    cast: Cast
    notice: RetentionNotice  # open, on the cast's laptop image (production)
    delete_notice: RetentionNotice  # answered "delete": a phone image in production and experiment
    second: Dataset


def _world(cast: Cast) -> World:
    second = dataset_register(
        case=cast.case,
        image_id=SECOND_IMAGE_ID,
        description="Phone image",
        delivered_by="Police unit East",
        imported_at=timezone.now() - datetime.timedelta(days=400),
        environments=["production", "experiment"],
        by=BY,
    )
    Dataset.objects.filter(pk=cast.dataset.pk).update(
        imported_at=timezone.now() - datetime.timedelta(days=400)
    )
    retention_sweep()
    notices = {n.dataset_id: n for n in RetentionNotice.objects.all()}
    notice_decide(
        notice=notices[second.pk],
        decision="delete",
        reason="Case settled",
        keep_until=None,
        decided_by=cast["case_lead"],
        by=Actor(username="case_lead"),
    )
    return World(
        cast, notices[cast.dataset.pk], RetentionNotice.objects.get(pk=notices[second.pk].pk), second
    )


@pytest.fixture
def world(cast: Cast) -> World:
    return _world(cast)


# Flows


def test_the_case_lead_keeps_the_data_with_a_reason_and_a_date(world: World):
    before = last_sequence()
    response = world.cast.api("case_lead").post(
        f"/api/v1/retention/notices/{world.notice.pk}/decide",
        {"decision": "keep", "reason": "Appeal pending", "keep_until": tomorrow_plus(90)},
        format="json",
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["status"] == "kept" and data["keep_until"] == tomorrow_plus(90)
    assert data["decided_by"] == "case_lead" and data["image_id"] == str(IMAGE_ID)
    notice = RetentionNotice.objects.get(pk=world.notice.pk)
    assert notice.status == NoticeStatus.KEPT and notice.decision_reason == "Appeal pending"
    (event,) = events_since(before)
    assert event.action == "retention_notice.kept"
    assert event.actor == "case_lead" and event.channel == "api"
    assert event.image_id == IMAGE_ID and event.project_id == CASE_PROJECT_ID
    assert event.details["keep_until"] == tomorrow_plus(90)
    assert event.details["reason"] == "Appeal pending"
    assert Dataset.objects.get(image_id=IMAGE_ID).status == DatasetStatus.ACTIVE


def test_delete_then_removal_from_each_environment_deletes_the_dataset_and_decisions_deny(world: World):
    cast = world.cast
    before = last_sequence()
    response = cast.api("deputy").post(
        f"/api/v1/retention/notices/{world.notice.pk}/decide",
        {"decision": "delete", "reason": "No longer needed"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "delete_requested"
    assert Dataset.objects.get(image_id=IMAGE_ID).status == DatasetStatus.DELETE_REQUESTED
    tasks = list(RemovalTask.objects.filter(notice=world.notice))
    assert [t.environment for t in tasks] == ["production"]
    (event,) = events_since(before)
    assert (event.action, event.actor) == ("retention_notice.delete_requested", "deputy")
    assert event.details["environments"] == ["production"]

    # The phone image is held in two environments: two tasks; the dataset goes with the last one.
    listing = cast.api("operator").get("/api/v1/retention/removals?status=open")
    assert listing.status_code == 200
    open_tasks = {(r["image_id"], r["environment"]): r for r in listing.json()["results"]}
    assert set(open_tasks) == {
        (str(IMAGE_ID), "production"),
        (str(SECOND_IMAGE_ID), "experiment"),
        (str(SECOND_IMAGE_ID), "production"),
    }
    removed_at = (timezone.now() - datetime.timedelta(minutes=1)).isoformat()
    first = open_tasks[(str(SECOND_IMAGE_ID), "experiment")]
    before = last_sequence()
    response = cast.api("operator").post(
        f"/api/v1/retention/removals/{first['id']}/confirm",
        {"environment": "experiment", "removed_at": removed_at, "reference": "CHG-1001"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "confirmed" and response.json()["confirmed_by"] == "operator"
    assert response.json()["dataset_status"] == "delete_requested"
    (event,) = events_since(before)
    assert (event.action, event.actor) == ("removal_task.confirmed", "operator")
    assert event.details["reference"] == "CHG-1001" and event.details["environment"] == "experiment"

    second = open_tasks[(str(SECOND_IMAGE_ID), "production")]
    before = last_sequence()
    response = cast.api("operator").post(
        f"/api/v1/retention/removals/{second['id']}/confirm",
        {"environment": "production", "removed_at": removed_at},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["dataset_status"] == "deleted"
    assert [e.action for e in events_since(before)] == ["removal_task.confirmed", "dataset.deleted"]
    deleted = events_since(before)[1]
    assert deleted.image_id == SECOND_IMAGE_ID
    assert [r["environment"] for r in deleted.details["removals"]] == ["experiment", "production"]
    assert Dataset.objects.get(image_id=SECOND_IMAGE_ID).status == DatasetStatus.DELETED
    assert RetentionNotice.objects.get(pk=world.delete_notice.pk).status == NoticeStatus.REMOVED
    assert cast.api("operator").get("/api/v1/retention/removals?status=open").json()["results"] == [
        open_tasks[(str(IMAGE_ID), "production")] | {}
    ]

    decision = cast.api("hansken_production").post(
        "/api/v1/authz/check",
        {
            "user": "case_lead",
            "project_id": str(CASE_PROJECT_ID),
            "action": "read",
            "trace_uid": f"{SECOND_IMAGE_ID}:0-1",
        },
        format="json",
    )
    assert decision.status_code == 200
    assert decision.json()["allowed"] is False and decision.json()["reason"] == "dataset_deleted"
    # The other image of the case is still there.
    other = cast.api("hansken_production").post(
        "/api/v1/authz/check",
        {
            "user": "case_lead",
            "project_id": str(CASE_PROJECT_ID),
            "action": "read",
            "trace_uid": f"{IMAGE_ID}:0",
        },
        format="json",
    )
    assert other.json()["allowed"] is True


def test_the_notices_list_filters_by_project_and_status(world: World):
    api = world.cast.api("privacy_officer")
    everything = api.get("/api/v1/retention/notices").json()["results"]
    assert {n["image_id"] for n in everything} == {str(IMAGE_ID), str(SECOND_IMAGE_ID)}
    assert set(everything[0]) >= {"id", "project_id", "image_id", "reason", "status", "created_at"}
    open_only = api.get(f"/api/v1/retention/notices?project_id={CASE_PROJECT_ID}&status=open").json()[
        "results"
    ]
    assert [(n["image_id"], n["reason"], n["status"]) for n in open_only] == [
        (str(IMAGE_ID), "inactive", "open")
    ]
    assert api.get(f"/api/v1/retention/notices?project_id={OTHER_PROJECT_ID}").json()["results"] == []
    assert world.cast.api("other_case_lead").get("/api/v1/retention/notices").json()["results"] == []


# Bad input: 400 in the contract's shape, nothing stored


BAD_DECISIONS = [
    ({"decision": "keep", "reason": "Appeal"}, "keep_until"),
    ({"decision": "keep", "reason": "Appeal", "keep_until": tomorrow_plus(-1)}, "keep_until"),
    ({"decision": "keep", "reason": "Appeal", "keep_until": "31-12-2030"}, "keep_until"),
    ({"decision": "keep", "reason": "Appeal", "keep_until": tomorrow_plus(5000)}, "keep_until"),
    ({"decision": "keep", "reason": "  ", "keep_until": tomorrow_plus(30)}, "reason"),
    ({"decision": "delete", "reason": "Done", "keep_until": tomorrow_plus(30)}, "keep_until"),
    ({"decision": "delete"}, "reason"),
    ({"decision": "archive", "reason": "Done"}, "decision"),
    ({"reason": "Done"}, "decision"),
    ({"decision": "delete", "reason": "Done", "extra": 1}, "extra"),
]


@pytest.mark.parametrize(("body", "field"), BAD_DECISIONS)
def test_a_bad_decision_is_refused_and_stores_nothing(world: World, body: dict[str, Any], field: str):
    before = last_sequence()
    response = world.cast.api("case_lead").post(
        f"/api/v1/retention/notices/{world.notice.pk}/decide", body, format="json"
    )
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert field in [e["field"] for e in errors] and all(e["message"] for e in errors)
    assert RetentionNotice.objects.get(pk=world.notice.pk).status == NoticeStatus.OPEN
    assert Dataset.objects.get(image_id=IMAGE_ID).status == DatasetStatus.ACTIVE
    assert RemovalTask.objects.filter(notice=world.notice).count() == 0
    assert events_since(before) == []


def test_a_notice_is_answered_once(world: World):
    response = world.cast.api("case_lead").post(
        f"/api/v1/retention/notices/{world.delete_notice.pk}/decide",
        {"decision": "keep", "reason": "Changed my mind", "keep_until": tomorrow_plus(30)},
        format="json",
    )
    assert response.status_code == 400
    assert "no longer open" in response.json()["errors"][0]["message"]
    assert RetentionNotice.objects.get(pk=world.delete_notice.pk).status == NoticeStatus.DELETE_REQUESTED


def _task(world: World, environment: str = "production") -> RemovalTask:
    return RemovalTask.objects.get(notice=world.delete_notice, environment=environment)


def _bad_confirmations() -> list[tuple[dict[str, Any], str]]:
    now = timezone.now()
    return [
        ({"environment": "experiment", "removed_at": now.isoformat()}, "environment"),
        ({"environment": "nowhere", "removed_at": now.isoformat()}, "environment"),
        ({"environment": "production", "removed_at": "2026-01-01T10:00:00"}, "removed_at"),
        (
            {"environment": "production", "removed_at": (now + datetime.timedelta(days=1)).isoformat()},
            "removed_at",
        ),
        (
            {"environment": "production", "removed_at": (now - datetime.timedelta(days=2)).isoformat()},
            "removed_at",
        ),
        ({"environment": "production", "removed_at": now.isoformat(), "reference": "x" * 201}, "reference"),
        ({"environment": "production"}, "removed_at"),
        ({"removed_at": now.isoformat()}, "environment"),
    ]


@pytest.mark.parametrize("case", range(8))
def test_a_bad_confirmation_is_refused_and_stores_nothing(world: World, case: int):
    body, field = _bad_confirmations()[case]
    task = _task(world)
    before = last_sequence()
    response = world.cast.api("operator").post(
        f"/api/v1/retention/removals/{task.pk}/confirm", body, format="json"
    )
    assert response.status_code == 400, response.content
    assert field in [e["field"] for e in response.json()["errors"]]
    assert RemovalTask.objects.get(pk=task.pk).status == RemovalStatus.OPEN
    assert events_since(before) == []


def test_a_removal_is_confirmed_once(world: World):
    task = _task(world)
    body = {"environment": "production", "removed_at": timezone.now().isoformat()}
    api = world.cast.api("operator")
    assert api.post(f"/api/v1/retention/removals/{task.pk}/confirm", body, format="json").status_code == 200
    again = api.post(f"/api/v1/retention/removals/{task.pk}/confirm", body, format="json")
    assert again.status_code == 400
    assert "already been confirmed" in again.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/retention/notices?status=gone", "status"),
        ("/api/v1/retention/notices?project_id=not-a-uuid", "project_id"),
        ("/api/v1/retention/notices?colour=blue", "colour"),
        ("/api/v1/retention/removals?status=later", "status"),
    ],
)
def test_bad_filters_are_refused(world: World, path: str, field: str):
    caller = "operator" if "removals" in path else "privacy_officer"
    response = world.cast.api(caller).get(path)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field


def test_unknown_notices_and_tasks_are_404(world: World):
    api = world.cast.api("case_lead")
    body = {"decision": "delete", "reason": "x"}
    assert api.post("/api/v1/retention/notices/999999/decide", body, format="json").status_code == 404
    confirm = {"environment": "production", "removed_at": timezone.now().isoformat()}
    assert (
        world.cast.api("operator")
        .post("/api/v1/retention/removals/999999/confirm", confirm, format="json")
        .status_code
        == 404
    )


# Permissions: every endpoint by every persona, in one table


ENDPOINTS: dict[str, Endpoint] = {
    "list_notices": Endpoint("api-retention-notices", "get", lambda w: "/api/v1/retention/notices"),
    "list_case_notices": Endpoint(
        "api-retention-notices", "get", lambda w: f"/api/v1/retention/notices?project_id={CASE_PROJECT_ID}"
    ),
    "list_other_case_notices": Endpoint(
        "api-retention-notices", "get", lambda w: f"/api/v1/retention/notices?project_id={OTHER_PROJECT_ID}"
    ),
    "decide": Endpoint(
        "api-retention-notice-decide",
        "post",
        lambda w: f"/api/v1/retention/notices/{w.notice.pk}/decide",
        lambda w: {"decision": "keep", "reason": "Appeal pending", "keep_until": tomorrow_plus(30)},
    ),
    "list_removals": Endpoint(
        "api-retention-removals", "get", lambda w: "/api/v1/retention/removals?status=open"
    ),
    "confirm": Endpoint(
        "api-retention-removal-confirm",
        "post",
        lambda w: f"/api/v1/retention/removals/{_task(w).pk}/confirm",
        lambda w: {
            "environment": "production",
            "removed_at": timezone.now().isoformat(),
            "reference": "CHG-7",
        },
    ),
}
COLUMNS = list(ENDPOINTS)

# fmt: off
# Columns: list_notices, list_case_notices, list_other_case_notices, decide, list_removals, confirm.
EXPECTED: dict[str, tuple[int, ...]] = {
    "case_lead":          (200, 200, 404, 200, 403, 403),
    "deputy":             (200, 200, 404, 200, 403, 403),
    "other_case_lead":    (200, 404, 200, 404, 403, 403),
    "investigator":       (200, 404, 404, 404, 403, 403),
    "engineer":           (200, 404, 404, 404, 403, 403),
    "operator":           (200, 404, 404, 404, 200, 200),
    "privacy_officer":    (200, 200, 200, 403, 403, 403),
    "security_manager":   (200, 200, 200, 403, 403, 403),
    "administrator":      (200, 404, 404, 404, 403, 403),
    "hansken_production": (403, 403, 403, 403, 403, 403),
    "hansken_experiment": (403, 403, 403, 403, 403, 403),
    ANONYMOUS:            (401, 401, 401, 401, 401, 401),
}
# How many notices each caller sees in the full list (the scoping door).
VISIBLE = {"case_lead": 2, "deputy": 2, "privacy_officer": 2, "security_manager": 2}
# fmt: on


def test_the_table_covers_every_caller_and_every_retention_route():
    assert_table_shape(EXPECTED, ENDPOINTS)
    assert {e.url_name for e in ENDPOINTS.values()} == route_names("retention.api.views")


@pytest.mark.parametrize(("caller", "endpoint", "expected"), cells(EXPECTED, ENDPOINTS))
def test_it_answers_each_caller_as_the_table_says(world: World, caller: str, endpoint: str, expected: int):
    spec = ENDPOINTS[endpoint]
    before = last_sequence()
    counts = (
        RetentionNotice.objects.filter(status=NoticeStatus.OPEN).count(),
        RemovalTask.objects.filter(status="open").count(),
    )
    notifications = Notification.objects.count()

    response = call(world.cast, caller, spec, world)

    assert_status(response, expected)
    if expected != 200 or spec.method == "get":
        assert events_since(before) == []
        assert counts == (
            RetentionNotice.objects.filter(status=NoticeStatus.OPEN).count(),
            RemovalTask.objects.filter(status="open").count(),
        )
        assert Notification.objects.count() == notifications
        if expected == 200 and endpoint == "list_notices":
            assert len(response.json()["results"]) == VISIBLE.get(caller, 0)
        return
    (event,) = [e for e in events_since(before) if e.action != "dataset.deleted"]
    assert event.actor == caller and event.channel == "api"
