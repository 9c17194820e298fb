"""``POST /api/v1/authz/export-check``: allowed only with the export right and no blocked trace; a
trace inside privileged data or containing any is never exportable, whoever asks; every check is in
the trail with the traces asked for (one event per 1,000 traces, each image once); bad input is
refused with the index and stores nothing."""

from __future__ import annotations

import uuid

import pytest

from audit.actor import Actor
from audit.models import AuditEvent
from cases.models import Dataset, DatasetStatus
from privilege.exports import TRACES_PER_EVENT, trace_uids_of
from tests.authz_helpers import grant
from tests.personas import CASE_PROJECT_ID, IMAGE_ID, Cast
from tests.privilege_helpers import export_check, mark, post_marks, uid

REMOVED_IMAGE = uuid.UUID("77777777-7777-4777-8777-777777777777")
FOREIGN_IMAGE = uuid.UUID("88888888-8888-4888-8888-888888888888")
URL = "/api/v1/authz/export-check"


def _last_sequence() -> int:
    return AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0


def test_containers_and_withheld_traces_are_blocked_whoever_asks(cast: Cast):
    Dataset.objects.create(
        case=cast.case,
        image_id=REMOVED_IMAGE,
        description="Old phone",
        delivered_by="FIOD",
        imported_at="2026-01-01T00:00:00Z",
        status=DatasetStatus.DELETED,
    )
    from authz.cache import invalidate

    invalidate(cases=[CASE_PROJECT_ID])
    post_marks(cast, mark("0-3-1", "confirmed"), mark("0-5", "rejected"))
    grant(cast, rights=["read", "export", "review_privileged"])
    asked = [
        uid("0"),  # holds 0-3-1: a container with privileged data
        uid("0-3"),  # likewise
        uid("0-3-1"),  # the privileged e-mail itself
        uid("0-3-1-2"),  # its attachment
        uid("0-4"),  # clean
        uid("0-5"),  # reviewed, not privileged
        uid("0-30"),  # not under 0-3
        uid("1", REMOVED_IMAGE),
        uid("1", FOREIGN_IMAGE),
    ]
    expected_blocked = [
        {"trace_uid": uid("0"), "reason": "contains_privileged"},
        {"trace_uid": uid("0-3"), "reason": "contains_privileged"},
        {"trace_uid": uid("0-3-1"), "reason": "withheld_privileged"},
        {"trace_uid": uid("0-3-1-2"), "reason": "withheld_privileged"},
        {"trace_uid": uid("1", REMOVED_IMAGE), "reason": "dataset_deleted"},
        {"trace_uid": uid("1", FOREIGN_IMAGE), "reason": "unknown_image"},
    ]
    for person in ("investigator", "case_lead"):
        answer = export_check(cast, asked, user=person)
        assert answer["allowed"] is False
        assert answer["reason"] == "withheld_privileged"
        assert answer["blocked"] == expected_blocked
        uuid.UUID(answer["decision_id"])
    clean = export_check(cast, [uid("0-4"), uid("0-5"), uid("0-30")])
    assert (clean["allowed"], clean["reason"], clean["blocked"]) == (True, "grant", [])
    assert export_check(cast, [uid("0-4")], user="case_lead")["reason"] == "case_lead"


def test_without_the_export_right_the_person_is_refused_and_blocked_traces_are_still_named(cast: Cast):
    grant(cast, rights=["read"])
    post_marks(cast, mark("0-3"))
    answer = export_check(cast, [uid("0-4"), uid("0")])
    assert (answer["allowed"], answer["reason"]) == (False, "right_missing")
    assert answer["blocked"] == [{"trace_uid": uid("0"), "reason": "contains_privileged"}]
    assert export_check(cast, [uid("0-4")], user="ghost")["reason"] == "unknown_user"


def test_every_export_check_is_in_the_trail_with_its_traces(cast: Cast):
    grant(cast, rights=["export"])
    post_marks(cast, mark("0-3"))
    before = _last_sequence()
    allowed = export_check(cast, [uid("0-4")])
    refused = export_check(cast, [uid("0-4"), uid("0-3")])
    events = list(AuditEvent.objects.filter(sequence__gt=before).order_by("sequence"))
    assert [(e.action, e.outcome) for e in events] == [
        ("export_check.allowed", "success"),
        ("export_check.refused", "denied"),
    ]
    first, second = events
    assert str(first.event_id) == allowed["decision_id"]
    assert str(second.event_id) == refused["decision_id"]
    assert first.actor == "investigator" and first.client_name == "hansken_production"
    assert first.project_id == CASE_PROJECT_ID
    assert first.trace_uid == uid("0-4") and first.image_id == IMAGE_ID
    assert first.details["traces"] == [{"image_id": str(IMAGE_ID), "trace_ids": "0-4"}]
    assert second.details["traces"] == [{"image_id": str(IMAGE_ID), "trace_ids": "0-4,0-3"}]
    assert second.details["blocked"] == [{"trace_uid": uid("0-3"), "reason": "withheld_privileged"}]
    assert second.details["reason"] == "withheld_privileged"


def test_a_large_export_check_is_a_few_events_not_one_per_trace(cast: Cast):
    grant(cast, rights=["export"])
    before = _last_sequence()
    asked = [uid(f"2-{n}") for n in range(TRACES_PER_EVENT * 2 + 1)]
    answer = export_check(cast, asked)
    assert answer["allowed"] is True
    events = list(AuditEvent.objects.filter(sequence__gt=before).order_by("sequence"))
    assert [len(trace_uids_of(e.details)) for e in events] == [TRACES_PER_EVENT, TRACES_PER_EVENT, 1]
    assert [e.details["part"] for e in events] == [1, 2, 3]
    assert [uid for e in events for uid in trace_uids_of(e.details)] == asked
    assert str(events[0].event_id) == answer["decision_id"]
    assert len({e.event_id for e in events}) == 3


GOOD = {"user": "investigator", "project_id": str(CASE_PROJECT_ID), "trace_uids": [uid("0")]}


@pytest.mark.parametrize(
    ("body", "field", "index"),
    [
        ({**GOOD, "trace_uids": [uid("0"), "nope"]}, "trace_uids", 1),
        ({**GOOD, "trace_uids": [uid("0"), uid("0"), f"{IMAGE_ID}:0-"]}, "trace_uids", 2),
        ({**GOOD, "trace_uids": ["not-a-uuid:0"]}, "trace_uids", 0),
        ({**GOOD, "trace_uids": [7]}, "trace_uids", 0),
        ({**GOOD, "trace_uids": []}, "trace_uids", None),
        ({**GOOD, "trace_uids": [uid("0")] * 10_001}, "trace_uids", None),
        ({**GOOD, "trace_uids": uid("0")}, "trace_uids", None),
        ({**GOOD, "user": ""}, "user", None),
        ({**GOOD, "project_id": "nope"}, "project_id", None),
        ({**GOOD, "extra": 1}, "extra", None),
    ],
)
def test_bad_export_checks_are_refused_with_the_index_and_store_nothing(cast: Cast, body, field, index):
    before = _last_sequence()
    response = cast.api("hansken_production").post(URL, body, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["errors"][0]
    assert (error["field"], error.get("index")) == (field, index)
    assert _last_sequence() == before


@pytest.mark.parametrize("client", ["hansken_experiment", "decisions_only"])
def test_only_clients_with_export_check_may_ask(cast: Cast, client: str):
    from api_clients.services import api_client_create

    _, token = api_client_create(
        name="decisions_only", environment="production", scopes=["authz:check"], by=Actor.command("tests")
    )
    cast.tokens["decisions_only"] = token
    before = _last_sequence()
    response = cast.api(client).post(URL, GOOD, format="json")
    assert response.status_code == 403
    assert _last_sequence() == before
    assert cast.api(None).post(URL, GOOD, format="json").status_code == 401
    assert cast.api("case_lead").post(URL, GOOD, format="json").status_code == 403  # a personal token


def test_the_trail_keeps_every_trace_as_asked_in_order_with_its_spelling(cast: Cast):
    """Each image once per run of its traces; order, repeats, another image and other spellings
    (an image without its dashes, a step with a leading zero) come back exactly as sent."""
    grant(cast, rights=["export"])
    before = _last_sequence()
    bare = IMAGE_ID.hex  # the image without its dashes: another spelling of the same UUID
    asked = [
        uid("0-4"),
        uid("0-4"),
        f"{bare}:0-04",
        uid("1", FOREIGN_IMAGE),
        uid("0-5"),
    ]
    answer = export_check(cast, asked)
    assert answer["blocked"] == [{"trace_uid": uid("1", FOREIGN_IMAGE), "reason": "unknown_image"}]
    (event,) = AuditEvent.objects.filter(sequence__gt=before)
    assert event.details["traces"] == [
        {"image_id": str(IMAGE_ID), "trace_ids": "0-4,0-4"},
        {"image_id": bare, "trace_ids": "0-04"},
        {"image_id": str(FOREIGN_IMAGE), "trace_ids": "1"},
        {"image_id": str(IMAGE_ID), "trace_ids": "0-5"},
    ]
    assert trace_uids_of(event.details) == asked
    assert event.details["requested"] == len(asked)
