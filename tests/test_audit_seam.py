"""The audit seam: every service write leaves exactly one audit event, in the same transaction, and the
events form one unbroken hash chain.

Services import ``audit_record`` by name, so a failure is injected where each service looks it up
(``cases.services.audit_record`` and so on), or inside the real writer (``audit.services.row_hash``).
"""

from __future__ import annotations

import datetime
import itertools
import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone

from api_clients import services as client_services
from api_clients.models import ApiClient, PersonalToken
from audit import services as audit_services
from audit.actor import Actor
from audit.chain import CHAINED_FIELDS, GENESIS_HASH, row_hash
from audit.models import AuditEvent, ChainHead
from cases import services as case_services
from cases.models import Case, Dataset, DeputyPeriod, DeputyVersion
from people import proposals as proposal_services
from people import services as people_services
from people.models import PersonProposal, Profile
from tests.audit_helpers import triggers_off
from tests.personas import CASE_PROJECT_ID, IMAGE_ID, Cast

BY = Actor.command("tests")
NEW_PROJECT_ID = uuid.UUID("44444444-4444-4444-8444-444444444444")
NEW_IMAGE_ID = uuid.UUID("55555555-5555-4555-8555-555555555555")


def snapshot() -> str:
    """Every row a service here can write, as one comparable text. ``last_used_at`` is left out: it is
    a hint that authentication writes on its own, not part of any service's change."""
    rows: dict[str, Any] = {
        "users": list(User.objects.order_by("pk").values("pk", "username", "is_active", "password")),
        "groups": list(User.groups.through.objects.order_by("pk").values()),
        "profiles": list(Profile.objects.order_by("pk").values()),
        "cases": list(Case.objects.order_by("pk").values()),
        "datasets": list(Dataset.objects.order_by("pk").values()),
        "deputies": list(DeputyPeriod.objects.order_by("pk").values()),
        "deputy_versions": list(DeputyVersion.objects.order_by("pk").values()),
        "proposals": list(PersonProposal.objects.order_by("pk").values()),
        "clients": [_without_last_used(row) for row in ApiClient.objects.order_by("pk").values()],
        "tokens": [_without_last_used(row) for row in PersonalToken.objects.order_by("pk").values()],
        "events": list(AuditEvent.objects.order_by("sequence").values()),
        "head": list(ChainHead.objects.values()),
    }
    return json.dumps(rows, default=str, sort_keys=True)


def _without_last_used(row: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in row.items() if key != "last_used_at"}


def _case(cast: Cast) -> Case:
    assert cast.case is not None
    return cast.case


def _expire_client(cast: Cast) -> None:
    ApiClient.objects.filter(name="hansken_experiment").update(
        expires_at=timezone.now() - datetime.timedelta(hours=1)
    )


def _admin_actor(cast: Cast) -> Actor:
    return Actor(username="administrator", user_id=cast["administrator"].pk, channel="browser")


def _second_admin() -> User:
    return User.objects.get(username="admin.two")


def _propose_roles(cast: Cast) -> None:
    people_services.person_create(username="admin.two", roles=["administrator"], by=BY)
    proposal_services.person_roles_propose(
        person=cast["engineer"],
        roles=["engineer", "investigator"],
        proposed_by=cast["administrator"],
        by=_admin_actor(cast),
    )


# (id, module whose audit_record the service calls, action, preparation, the write)
WRITES: list[tuple[str, Any, str, Callable[[Cast], None] | None, Callable[[Cast], Any]]] = [
    (
        "case_create",
        case_services,
        "case.created",
        None,
        lambda cast: case_services.case_create(
            project_id=NEW_PROJECT_ID,
            case_number="NFI-2026-0100",
            title="Operation Osprey",
            case_lead=cast["other_case_lead"],
            by=BY,
        ),
    ),
    (
        "case_add_deputy",
        case_services,
        "case.deputy_added",
        None,
        lambda cast: case_services.case_add_deputy(case=_case(cast), deputy=cast["other_case_lead"], by=BY),
    ),
    (
        "case_remove_deputy",
        case_services,
        "case.deputy_removed",
        None,
        lambda cast: case_services.case_remove_deputy(case=_case(cast), deputy=cast["deputy"], by=BY),
    ),
    (
        "case_change_deputy",
        case_services,
        "case.deputy_changed",
        None,
        lambda cast: case_services.case_change_deputy(
            case=_case(cast),
            deputy=cast["deputy"],
            valid_until=timezone.now() + datetime.timedelta(days=7),
            reason="until the hearing",
            by=BY,
        ),
    ),
    (
        "deputyships_end",
        case_services,
        "case.deputy_removed",
        None,
        lambda cast: case_services.deputyships_end(person=cast["deputy"], by=BY, reason="left"),
    ),
    (
        "dataset_register",
        case_services,
        "dataset.registered",
        None,
        lambda cast: case_services.dataset_register(
            case=_case(cast),
            image_id=NEW_IMAGE_ID,
            description="Phone image",
            delivered_by="Police unit North",
            imported_at=None,
            environments=["production", "experiment"],
            by=BY,
        ),
    ),
    (
        "dataset_report_last_access",
        case_services,
        "dataset.last_access_reported",
        None,
        lambda cast: case_services.dataset_report_last_access(
            dataset=Dataset.objects.select_related("case").get(image_id=IMAGE_ID),
            last_accessed_at=timezone.now() - datetime.timedelta(hours=1),
            by=BY,
        ),
    ),
    (
        "person_create",
        people_services,
        "person.created",
        None,
        lambda cast: people_services.person_create(
            username="newcomer", roles=["investigator"], password="Amber-Kite-Lantern-47", by=BY
        ),
    ),
    (
        "person_set_roles",
        people_services,
        "person.roles_changed",
        None,
        lambda cast: people_services.person_set_roles(
            person=cast["investigator"], roles=["investigator", "engineer"], by=BY
        ),
    ),
    (
        "person_set_screening",
        people_services,
        "person.screening_changed",
        None,
        lambda cast: people_services.person_set_screening(
            person=cast["investigator"], valid_until=datetime.date(2030, 1, 1), reference="AIVD-1", by=BY
        ),
    ),
    (
        "person_deactivate",
        people_services,
        "person.deactivated",
        None,
        lambda cast: people_services.person_deactivate(person=cast["investigator"], reason="left", by=BY),
    ),
    (
        "person_create_propose",
        proposal_services,
        "person.change_proposed",
        None,
        lambda cast: proposal_services.person_create_propose(
            username="newlead",
            roles=["case_lead"],
            proposed_by=cast["administrator"],
            by=BY,
            reason="new lead",
        ),
    ),
    (
        "person_roles_propose",
        proposal_services,
        "person.change_proposed",
        None,
        lambda cast: proposal_services.person_roles_propose(
            person=cast["engineer"],
            roles=["engineer", "investigator"],
            proposed_by=cast["administrator"],
            by=BY,
        ),
    ),
    (
        "person_screening_propose",
        proposal_services,
        "person.change_proposed",
        None,
        lambda cast: proposal_services.person_screening_propose(
            person=cast["engineer"],
            valid_until=datetime.date(2030, 1, 1),
            reference="S-1",
            proposed_by=cast["administrator"],
            by=BY,
        ),
    ),
    (
        "person_proposal_reject",
        proposal_services,
        "person.change_rejected",
        _propose_roles,
        lambda cast: proposal_services.person_proposal_reject(
            proposal=PersonProposal.objects.get(),
            rejected_by=_second_admin(),
            by=BY,
            note="no",
        ),
    ),
    (
        "api_client_create",
        client_services,
        "api_client.created",
        None,
        lambda cast: client_services.api_client_create(
            name="ci", environment="test", scopes=["cases:write"], by=BY
        ),
    ),
    (
        "personal_token_create",
        client_services,
        "personal_token.created",
        None,
        lambda cast: client_services.personal_token_create(person=cast["engineer"], by=BY),
    ),
    (
        "expire_tokens",
        client_services,
        "api_token.expired",
        _expire_client,
        lambda cast: client_services.expire_tokens(),
    ),
]
WRITE_PARAMS = [pytest.param(*write[1:], id=write[0]) for write in WRITES]


@pytest.mark.parametrize(("module", "action", "prepare", "write"), WRITE_PARAMS)
def test_it_leaves_exactly_one_event_per_write(cast: Cast, module, action, prepare, write):
    if prepare:
        prepare(cast)
    last = AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first()
    before = snapshot()

    write(cast)

    new = list(AuditEvent.objects.filter(sequence__gt=last))
    assert [event.action for event in new] == [action]
    assert new[0].actor == ("system:expire_tokens" if action == "api_token.expired" else "command:tests")
    assert new[0].outcome == "success"
    # The write changed something besides the trail, so the failure tests below are not vacuous.
    after = json.loads(snapshot())
    assert {key: value for key, value in after.items() if key not in ("events", "head")} != {
        key: value for key, value in json.loads(before).items() if key not in ("events", "head")
    }
    _assert_chain_whole()


class Boom(RuntimeError):
    pass


@pytest.mark.parametrize(("module", "action", "prepare", "write"), WRITE_PARAMS)
def test_it_stores_neither_change_nor_event_when_the_service_fails_after_recording(
    cast: Cast, module, action, prepare, write
):
    if prepare:
        prepare(cast)
    before = snapshot()
    real = audit_services.audit_record
    recorded: list[AuditEvent] = []

    def record_then_fail(**kwargs: Any) -> AuditEvent:
        recorded.append(real(**kwargs))  # the event is written...
        raise Boom("the service failed after its write")  # ...and then the service fails

    with mock.patch.object(module, "audit_record", side_effect=record_then_fail), pytest.raises(Boom):
        write(cast)

    assert [event.action for event in recorded] == [action]
    assert snapshot() == before
    _assert_chain_whole()


@pytest.mark.parametrize(("module", "action", "prepare", "write"), WRITE_PARAMS)
def test_it_stores_no_change_when_the_audit_event_cannot_be_written(
    cast: Cast, module, action, prepare, write
):
    if prepare:
        prepare(cast)
    before = snapshot()
    failing = mock.patch.object(audit_services, "row_hash", side_effect=Boom("audit trail unavailable"))
    with failing, pytest.raises(Boom):
        write(cast)
    assert snapshot() == before


@pytest.mark.parametrize("module", [proposal_services, people_services], ids=["approval", "applied_change"])
def test_it_stores_nothing_of_an_approval_when_either_of_its_events_fails(cast: Cast, module):
    """An approval writes two events (the approval, then the change it applies): a failure after
    either leaves the proposal pending and the person unchanged."""
    _propose_roles(cast)
    before = snapshot()
    real = audit_services.audit_record

    def record_then_fail(**kwargs: Any) -> AuditEvent:
        real(**kwargs)
        raise Boom("the service failed after its write")

    with mock.patch.object(module, "audit_record", side_effect=record_then_fail), pytest.raises(Boom):
        proposal_services.person_proposal_approve(
            proposal=PersonProposal.objects.get(), approved_by=_second_admin(), by=BY
        )
    assert snapshot() == before
    _assert_chain_whole()
    last = AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first()
    proposal_services.person_proposal_approve(
        proposal=PersonProposal.objects.get(), approved_by=_second_admin(), by=BY
    )
    new = AuditEvent.objects.filter(sequence__gt=last).order_by("sequence")
    assert [event.action for event in new] == ["person.change_approved", "person.roles_changed"]
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
