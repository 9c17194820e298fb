"""Usage ingestion: Hansken's usage events (parsed by ``audit.usage``) resolved against people,
cases and grants, and encoded for the chain. ``audit.services.usage_events_record`` is the writer
that calls it, in its transaction; ``audit.append`` adds the rows to the chain."""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from audit import real_access
from audit.append import ROW_VALUES, append_encoded, client_request_fields
from audit.chain import RowEncoder
from audit.models import Basis, Outcome
from audit.usage import HANSKEN_ACTION_PREFIX, UsageEvent
from authz.selectors import deputies_at, grants_covering
from cases.last_access import last_access_move_forward
from cases.selectors import ManagedCase, managed_cases
from people.roles import role_texts


@dataclass(frozen=True)
class IngestResult:
    accepted: int
    duplicates: int


def _move_last_access(events: Sequence[UsageEvent], cases: dict[uuid.UUID, ManagedCase]) -> None:
    """Cases' and datasets' last access moves forward to the newest successful event of the
    request (``cases.last_access``). A failed attempt is not an access."""
    case_times: dict[int, datetime.datetime] = {}
    image_times: dict[tuple[uuid.UUID, int], datetime.datetime] = {}
    for event in events:
        case = cases.get(event.project_id)
        if case is None or event.outcome != Outcome.SUCCESS:
            continue
        if event.occurred_at > case_times.get(case.pk, EPOCH):
            case_times[case.pk] = event.occurred_at
        if event.image_id is not None and event.occurred_at > image_times.get(
            (event.image_id, case.pk), EPOCH
        ):
            image_times[(event.image_id, case.pk)] = event.occurred_at
    last_access_move_forward(cases=case_times, datasets=image_times)


EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
NO_GRANT: tuple[int | None, bool] = (None, False)


def usage_events_ingest(
    *,
    events: list[UsageEvent],
    client_name: str,
    environment: str,
    source_address: str | None,
    request_id: str,
) -> IngestResult:
    """``usage_events_record``'s work, in its transaction: store Hansken's usage events in the
    chain, each with the grant that covered it when it happened (or its basis: case lead, no grant,
    unknown user or project), the action as ``hansken.<action>``, the person as actor and the
    calling client as client. An event id sent before, or twice in this request, is a duplicate and
    is not stored again (with other content: ``real_access.UsageRefused``, 409). Unknown people and
    projects are stored all the same (they are evidence) and flagged in ``basis``; only real access
    moves last access, and a test client's request naming a real case is refused
    (``audit.real_access``)."""
    now = timezone.now()
    real_access.refuse_real_cases_of_test_clients(events, environment)
    # Reads first, outside the chain lock, so the lock is held only for the append itself.
    roles = role_texts({event.user for event in events})
    cases = managed_cases({event.project_id for event in events})
    coverable = [i for i, e in enumerate(events) if e.user in roles and e.project_id in cases]
    # Per coverable event: the covering grant, and whether a covering grant held the action's right.
    grants: dict[int, tuple[int | None, bool]] = dict(
        zip(
            coverable,
            grants_covering(
                [
                    (e.user, e.project_id, e.occurred_at, environment, e.action)
                    for e in (events[i] for i in coverable)
                ]
            ),
            strict=True,
        )
    )

    # Without a covering grant, a deputy's event is judged by the deputy history at the moment it
    # happened (not by who is a deputy now): Hansken may report an event after the deputyship ended,
    # or before one that began later. The case lead is the case's for its whole life.
    deputy_candidates = [
        i for i in coverable if grants[i][0] is None and events[i].user != cases[events[i].project_id].lead
    ]
    deputy_then: dict[int, bool] = dict(
        zip(
            deputy_candidates,
            deputies_at(
                [
                    (cases[e.project_id].pk, e.user, e.occurred_at)
                    for e in (events[i] for i in deputy_candidates)
                ]
            ),
            strict=True,
        )
    )

    def basis_of(index: int, event: UsageEvent) -> Basis:
        if event.user not in roles:
            return Basis.UNKNOWN_USER
        if event.project_id not in cases:
            return Basis.UNKNOWN_PROJECT
        if grants[index][0] is not None:
            return Basis.GRANT
        if event.user == cases[event.project_id].lead or deputy_then.get(index, False):
            return Basis.CASE_LEAD
        return Basis.NO_GRANT

    bases = [basis_of(index, event) for index, event in enumerate(events)]
    # Object rows before the chain head, as every service does, so no lock-order deadlock with them.
    # Only real access moves last access (audit.real_access).
    _move_last_access(
        [
            event
            for index, event in enumerate(events)
            if real_access.is_real_access(event, environment, bases[index], grants.get(index, NO_GRANT)[1])
        ],
        cases,
    )

    # Each row is encoded before the lock (the encoding is most of the chain's cost); only the
    # sequence number and the hashes are added under it. A repeat within the request is dropped here.
    shared = client_request_fields(now, client_name, environment, source_address, request_id)
    encoder = RowEncoder(shared)
    prepared: list[tuple[uuid.UUID, bytes, bytes, tuple[Any, ...]]] = []
    first_seen: set[uuid.UUID] = set()
    for index, event in enumerate(events):
        if event.event_id in first_seen:
            continue
        first_seen.add(event.event_id)
        grant_id = grants.get(index, NO_GRANT)[0]
        basis = bases[index]
        fields = {
            **shared,
            "event_id": event.event_id,
            "occurred_at": event.occurred_at,
            "actor": event.user,
            "actor_role": roles.get(event.user, ""),
            "action": HANSKEN_ACTION_PREFIX + event.action,
            "outcome": event.outcome,
            "project_id": event.project_id,
            "image_id": event.image_id,
            "trace_uid": event.trace_uid,
            "grant_id": grant_id,
            "basis": basis.value,
            "details": event.details,
        }
        before, after = encoder.parts(fields)
        fields["details"] = json.dumps(event.details, ensure_ascii=False)
        prepared.append((event.event_id, before, after, ROW_VALUES(fields)))

    def refuse_conflicts(stored: set[uuid.UUID]) -> None:
        # An id seen before, or twice here: the same content is a duplicate, other content a 409.
        if stored or len(prepared) < len(events):
            real_access.refuse_conflicts(events, stored)

    accepted = append_encoded(prepared, refuse_conflicts)
    return IngestResult(accepted=accepted, duplicates=len(events) - accepted)
