"""The audit seam: every service write leaves exactly its audit events, in the same transaction, and
the events form one unbroken hash chain.

Every public writer of every app is tried (``tests/seam_writers.py``, where a new writer is
registered; ``test_every_public_writer_is_in_the_seam_test`` finds writers by rule and fails for one
not registered). Services import ``audit_record`` by name, so a failure is injected where each
service looks it up (``cases.services.audit_record`` and so on), or inside the real writer
(``audit.append.row_hash``).
"""

from __future__ import annotations

import datetime
import itertools
import json
from typing import Any
from unittest import mock

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone

from api_clients import services as client_services
from audit import append as audit_append
from audit import services as audit_services
from audit.chain import CHAINED_FIELDS, GENESIS_HASH, row_hash
from audit.models import AuditEvent, ChainHead
from cases import services as case_services
from people import services as people_services
from people.models import PersonProposal
from people.services import proposals as proposal_services
from tests.audit_helpers import triggers_off
from tests.personas import CASE_PROJECT_ID, IMAGE_ID, Cast
from tests.seam_writers import (
    BY,
    NEW_IMAGE_ID,
    NEW_PROJECT_ID,
    NOT_SEAM_WRITERS,
    WRITES,
    Write,
    propose_roles,
    public_writers,
    second_administrator,
)

# Tables that are not the services' to write: sessions and caches, Django's own registries, and
# django-auditlog's copy (its entries go into our chain, see audit.model_changes).
_NOT_SNAPSHOTTED_APPS = {"contenttypes", "sessions", "admin", "auditlog", "django_celery_beat"}
# Hints that authentication and sign-in write on their own, not part of any service's change.
_HINTS = {"last_used_at", "last_login"}


def snapshot() -> str:
    """Every row of every table a service can write, as one comparable text."""
    rows: dict[str, Any] = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.app_label in _NOT_SNAPSHOTTED_APPS or meta.label == "auth.Permission":
            continue
        rows[meta.label] = [
            {key: value for key, value in row.items() if key not in _HINTS}
            for row in model._default_manager.order_by("pk").values()
        ]
    return json.dumps(rows, default=str, sort_keys=True)


def _besides_the_trail(text: str) -> dict[str, Any]:
    return {
        label: rows
        for label, rows in json.loads(text).items()
        if label not in ("audit.AuditEvent", "audit.ChainHead")
    }


WRITE_PARAMS = [pytest.param(write, id=write.writer) for write in WRITES]


def test_every_public_writer_is_in_the_seam_test():
    """A new public function in any app's services must be registered in tests/seam_writers.py."""
    registered = {write.writer for write in WRITES}
    assert len(registered) == len(WRITES), "a writer is registered twice"
    assert not registered & set(NOT_SEAM_WRITERS), "a writer is both tried and exempted"
    assert public_writers() - registered - set(NOT_SEAM_WRITERS) == set()
    # And nothing registered that is no longer there (a renamed writer would otherwise go untried).
    assert (registered | set(NOT_SEAM_WRITERS)) - public_writers() == set()


@pytest.mark.parametrize("write", WRITE_PARAMS)
def test_it_leaves_exactly_its_events_per_write(cast: Cast, write: Write):
    if write.prepare:
        write.prepare(cast)
    last = AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first()
    before = snapshot()

    write.write(cast)

    new = list(AuditEvent.objects.filter(sequence__gt=last).order_by("sequence"))
    assert tuple(event.action for event in new) == write.actions
    assert {event.actor for event in new} == {write.actor}
    assert {event.outcome for event in new} == {write.outcome}
    # The write changed something besides the trail, so the failure tests below are not vacuous.
    changed = _besides_the_trail(snapshot()) != _besides_the_trail(before)
    assert changed is write.changes_rows
    _assert_chain_whole()


class Boom(RuntimeError):
    pass


@pytest.mark.parametrize("write", WRITE_PARAMS)
def test_it_stores_neither_change_nor_event_when_the_service_fails_after_recording(cast: Cast, write: Write):
    if write.prepare:
        write.prepare(cast)
    before = snapshot()
    real = audit_services.audit_record
    recorded: list[AuditEvent] = []

    def record_then_fail(**kwargs: Any) -> AuditEvent:
        recorded.append(real(**kwargs))  # the event is written...
        raise Boom("the service failed after its write")  # ...and then the service fails

    with mock.patch.object(write.module, "audit_record", side_effect=record_then_fail), pytest.raises(Boom):
        write.write(cast)

    assert [event.action for event in recorded] == list(write.actions[:1])
    assert snapshot() == before
    _assert_chain_whole()


@pytest.mark.parametrize("write", WRITE_PARAMS)
def test_it_stores_no_change_when_the_audit_event_cannot_be_written(cast: Cast, write: Write):
    if write.prepare:
        write.prepare(cast)
    before = snapshot()
    failing = mock.patch.object(audit_append, "row_hash", side_effect=Boom("audit trail unavailable"))
    with failing, pytest.raises(Boom):
        write.write(cast)
    assert snapshot() == before


@pytest.mark.parametrize("module", [proposal_services, people_services], ids=["approval", "applied_change"])
def test_it_stores_nothing_of_an_approval_when_either_of_its_events_fails(cast: Cast, module):
    """An approval writes two events (the approval, then the change it applies): a failure after
    either leaves the proposal pending and the person unchanged."""
    propose_roles(cast)
    before = snapshot()
    real = audit_services.audit_record

    def record_then_fail(**kwargs: Any) -> AuditEvent:
        real(**kwargs)
        raise Boom("the service failed after its write")

    with mock.patch.object(module, "audit_record", side_effect=record_then_fail), pytest.raises(Boom):
        proposal_services.person_proposal_approve(
            proposal=PersonProposal.objects.get(), approved_by=second_administrator(), by=BY
        )
    assert snapshot() == before
    _assert_chain_whole()


def test_it_rolls_back_the_person_when_the_commands_token_cannot_be_audited(db: None):
    """``create_person --with-token`` is one transaction: no person without the token they asked for."""
    before = snapshot()
    failing = mock.patch.object(client_services, "audit_record", side_effect=Boom("audit trail unavailable"))
    with failing, pytest.raises(Boom):
        call_command("create_person", "halfway", "--role", "operator", "--with-token")
    assert snapshot() == before
    assert not User.objects.filter(username="halfway").exists()


def test_it_answers_500_and_stores_nothing_when_an_api_write_fails(cast: Cast):
    before = snapshot()
    client = cast.api("hansken_production")
    client.raise_request_exception = False
    body = {
        "project_id": str(NEW_PROJECT_ID),
        "case_number": "NFI-2026-0100",
        "title": "Operation Osprey",
        "case_lead": "case_lead",
    }
    real = audit_services.audit_record

    def record_then_fail(**kwargs: Any) -> AuditEvent:
        real(**kwargs)
        raise Boom("the service failed after its write")

    with mock.patch.object(case_services, "audit_record", side_effect=record_then_fail):
        response = client.post("/api/v1/cases", body, format="json")
    assert response.status_code == 500
    errors = response.json()["errors"]
    assert len(errors) == 1 and "nothing was stored" in errors[0]["message"]
    assert snapshot() == before


# The chain


def _chain_breaks() -> list[int]:
    """The sequence numbers at which the chain does not hold, recomputed from the rows."""
    breaks: list[int] = []
    previous = GENESIS_HASH
    for expected_sequence, event in enumerate(AuditEvent.objects.order_by("sequence"), start=1):
        fields = {name: getattr(event, name) for name in CHAINED_FIELDS}
        if (
            event.sequence != expected_sequence
            or event.prev_hash != previous
            or row_hash(event.prev_hash, fields) != event.hash
        ):
            breaks.append(event.sequence)
        previous = event.hash
    return breaks


def _assert_chain_whole() -> None:
    assert _chain_breaks() == []
    last = AuditEvent.objects.order_by("-sequence").first()
    head = ChainHead.objects.get()
    assert last is not None
    assert (head.sequence, head.hash) == (last.sequence, last.hash)
    assert AuditEvent.objects.count() == last.sequence


def _many_writes(cast: Cast) -> None:
    production = cast.api("hansken_production")
    operator = cast.api("operator")
    assert (
        production.post(
            "/api/v1/cases",
            {
                "project_id": str(NEW_PROJECT_ID),
                "case_number": "N-9",
                "title": "Osprey",
                "case_lead": "deputy",
            },
            format="json",
        ).status_code
        == 201
    )
    assert (
        operator.post(
            f"/api/v1/cases/{NEW_PROJECT_ID}/datasets",
            {"image_id": str(NEW_IMAGE_ID), "description": "Phone", "delivered_by": "FIOD"},
            format="json",
        ).status_code
        == 201
    )
    for hours in (5, 3, 4):  # forward, forward, back: each report is recorded
        when = (timezone.now() - datetime.timedelta(hours=hours)).isoformat()
        url = f"/api/v1/cases/{CASE_PROJECT_ID}/datasets/{IMAGE_ID}"
        assert production.patch(url, {"last_accessed_at": when}, format="json").status_code == 200
    people_services.person_set_roles(person=cast["engineer"], roles=["engineer", "investigator"], by=BY)
    client_services.personal_token_create(person=cast["engineer"], by=BY, name="second")


def test_it_chains_every_event(cast: Cast):
    _many_writes(cast)
    events = list(AuditEvent.objects.order_by("sequence"))
    assert [event.sequence for event in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == GENESIS_HASH
    for previous, event in itertools.pairwise(events):
        assert event.prev_hash == previous.hash
    assert len({event.hash for event in events}) == len(events)
    _assert_chain_whole()
    # Requests leave where they came from in the chained fields.
    api_events = [event for event in events if event.channel == "api"]
    assert len(api_events) == 5
    assert {event.source_address for event in api_events} == {"127.0.0.1"}
    assert all(event.request_id for event in api_events)


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param({"details": {"case_number": "NFI-2026-9999"}}, id="details"),
        pytest.param({"actor": "someone-else"}, id="actor"),
        pytest.param({"occurred_at": timezone.now() - datetime.timedelta(days=400)}, id="time"),
        pytest.param({"outcome": "failure"}, id="outcome"),
    ],
)
def test_it_detects_a_changed_row_where_it_was_changed(cast: Cast, tamper: dict[str, Any]):
    """The recomputation above is not vacuous: a row changed behind the services' back breaks the
    chain at exactly that row."""
    _many_writes(cast)
    target = AuditEvent.objects.get(action="case.created", project_id=NEW_PROJECT_ID)
    with triggers_off():  # as the table owner could; the ORM alone is refused (audit.triggers)
        AuditEvent.objects.filter(pk=target.pk).update(**tamper)
    assert _chain_breaks() == [target.sequence]


def test_it_detects_a_removed_row(cast: Cast):
    _many_writes(cast)
    target = AuditEvent.objects.get(action="dataset.registered", image_id=NEW_IMAGE_ID)
    with triggers_off():
        AuditEvent.objects.filter(pk=target.pk).delete()
    # The row after the gap is where the chain no longer holds.
    assert _chain_breaks()[0] == target.sequence + 1
