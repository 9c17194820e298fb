"""Every denied decision of a batch is an audit event (written by ``audit_record_client_events``, one
chain lock and one statement per batch): each with its own fields, in order, in a chain that
verifies, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import time
import uuid

import pytest

from audit.models import AuditEvent
from audit.verify import verify_chain
from tests.authz_helpers import grant
from tests.personas import CASE_PROJECT_ID, IMAGE_ID, Cast

UNKNOWN_PROJECT = uuid.UUID("99999999-9999-4999-8999-999999999999")


def test_each_denial_of_a_batch_is_its_own_event_and_the_chain_verifies(cast: Cast):
    narrow = grant(cast, rights=["read"])
    before = AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0
    items = [
        {
            "correlation_id": "allowed",
            "user": "investigator",
            "project_id": str(CASE_PROJECT_ID),
            "action": "read",
        },
        # A right the grant lacks: the event names the grant.
        {
            "correlation_id": 'q"uote\\ é 漢',
            "user": "investigator",
            "project_id": str(CASE_PROJECT_ID),
            "action": "export",
        },
        {"correlation_id": "", "user": "ghost", "project_id": str(UNKNOWN_PROJECT), "action": "search"},
        {
            "correlation_id": "trace",
            "user": "engineer",
            "project_id": str(CASE_PROJECT_ID).upper(),
            "action": "read",
            "trace_uid": f"{IMAGE_ID}:0-7",
        },
    ]
    response = cast.api("hansken_production").post(
        "/api/v1/authz/check-batch", {"checks": items}, format="json"
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["allowed"] for r in results] == [True, False, False, False]

    events = list(AuditEvent.objects.filter(sequence__gt=before).order_by("sequence"))
    assert [e.action for e in events] == ["authz.denied"] * 3
    assert [str(e.event_id) for e in events] == [r["decision_id"] for r in results[1:]]
    export, ghost, trace = events
    assert (export.actor, export.project_id, export.grant_id) == ("investigator", CASE_PROJECT_ID, narrow.pk)
    assert export.details == {
        "requested_action": "export",
        "reason": "right_missing",
        "correlation_id": 'q"uote\\ é 漢',
    }
    assert (ghost.actor, ghost.project_id, ghost.grant_id) == ("ghost", UNKNOWN_PROJECT, None)
    assert ghost.details == {
        "requested_action": "search",
        "reason": "unknown_user",
    }  # no empty correlation id
    assert (trace.actor, trace.project_id, trace.image_id) == ("engineer", CASE_PROJECT_ID, IMAGE_ID)
    assert trace.trace_uid == f"{IMAGE_ID}:0-7"
    for event in events:
        assert event.outcome == "denied"
        assert event.client_name == "hansken_production"
        assert event.environment == "production"
        assert event.channel == "api"
        assert event.basis == ""
        assert event.occurred_at == event.recorded_at
        assert event.request_id == response["X-Request-ID"]
    # Each row's hash covers exactly what was stored, linked to the row before it.
    assert verify_chain(against_checkpoints=False).ok

    # Again: now the answers are remembered and the usual items take the batch's short way; their
    # denials reach the trail all the same, with the new request's ids.
    again = cast.api("hansken_production").post("/api/v1/authz/check-batch", {"checks": items}, format="json")
    repeated = again.json()["results"]
    assert [r["reason"] for r in repeated] == [r["reason"] for r in results]
    events = list(AuditEvent.objects.filter(sequence__gt=trace.sequence).order_by("sequence"))
    assert [str(e.event_id) for e in events] == [r["decision_id"] for r in repeated[1:]]
    assert [(e.actor, e.project_id, e.details) for e in events] == [
        (export.actor, export.project_id, export.details),
        (ghost.actor, ghost.project_id, ghost.details),
        (trace.actor, trace.project_id, trace.details),
    ]
    assert verify_chain(against_checkpoints=False).ok


def test_decision_ids_are_distinct_time_ordered_uuids_within_and_across_requests():
    from authz.api.decision.ids import DecisionIds

    before_ms = time.time_ns() // 1_000_000
    first, second = list(DecisionIds(1000)), list(DecisionIds(1000))
    after_ms = time.time_ns() // 1_000_000
    assert len(set(first) | set(second)) == 2000
    for text in first[:3] + first[-3:] + second[:3]:
        parsed = uuid.UUID(text)
        assert (str(parsed), parsed.version, parsed.variant) == (text, 7, uuid.RFC_4122)
        # RFC 9562: the first 48 bits are the Unix time in milliseconds.
        assert before_ms <= parsed.int >> 80 <= after_ms
    # In a request they grow with the check's place (so the trail's index on event ids grows at
    # its end), and a later request's ids are not smaller.
    assert first == sorted(first) and second == sorted(second)
    assert uuid.UUID(first[0]).int >> 80 <= uuid.UUID(second[0]).int >> 80
    assert DecisionIds(1)[0] != DecisionIds(1)[0]
    last = DecisionIds(4096)
    assert len(set(last)) == 4096 and last[-1] == last[4095] and last[1:3] == [last[1], last[2]]
    with pytest.raises(IndexError):
        last[4096]
    with pytest.raises(ValueError):
        DecisionIds(4097)
