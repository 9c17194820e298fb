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

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from audit.append import ROW_VALUES, append_encoded, client_request_fields
from audit.chain import RowEncoder
from audit.models import Basis, Outcome
from audit.usage import HANSKEN_ACTION_PREFIX, UsageEvent


@dataclass(frozen=True)
class IngestResult:
    accepted: int
    duplicates: int


@dataclass(frozen=True)
class _Case:
    pk: int
    managers: frozenset[str]  # the case lead and the deputies, by username


def _known_usernames(usernames: set[str]) -> dict[str, str]:
    """Username → the person's roles (comma-separated), for the people that exist."""
    user_model = get_user_model()
    roles: dict[str, list[str]] = {
        name: []
        for name in user_model.objects.filter(username__in=usernames).values_list("username", flat=True)
    }
    memberships = user_model.groups.through.objects.filter(user__username__in=list(roles)).values_list(
        "user__username", "group__name"
    )
    for username, group in memberships:
        roles[username].append(group)
    return {name: ",".join(sorted(groups)) for name, groups in roles.items()}


def _cases(project_ids: set[uuid.UUID]) -> dict[uuid.UUID, _Case]:
    from cases.models import Case, CaseUserObjectPermission
    from cases.selectors import DEPUTY_PERMISSION

    rows = list(
        Case.objects.filter(project_id__in=project_ids).values_list("pk", "project_id", "case_lead__username")
    )
    managers: dict[int, set[str]] = {pk: {lead} for pk, _, lead in rows}
    deputies = CaseUserObjectPermission.objects.filter(
        content_object_id__in=list(managers), permission__codename=DEPUTY_PERMISSION
    ).values_list("content_object_id", "user__username")
    for case_pk, username in deputies:
        managers[case_pk].add(username)
    return {project_id: _Case(pk, frozenset(managers[pk])) for pk, project_id, _ in rows}


def _move_last_access(events: Sequence[UsageEvent], cases: dict[uuid.UUID, _Case]) -> None:
    """Cases' and datasets' last access moves forward to the newest successful event of the
    request: one conditional UPDATE per table, never backwards (the retention sweep reads these).
    A failed attempt is not an access. Only a dataset of the event's own case moves: an image id
    that belongs to another case is not an access to that case's data."""
    from cases.models import Case, Dataset

    case_times: dict[tuple[int, int], datetime.datetime] = {}
    image_times: dict[tuple[uuid.UUID, int], datetime.datetime] = {}
    for event in events:
        case = cases.get(event.project_id)
        if case is None or event.outcome != Outcome.SUCCESS:
            continue
        if event.occurred_at > case_times.get((case.pk, case.pk), EPOCH):
            case_times[(case.pk, case.pk)] = event.occurred_at
        if event.image_id is not None and event.occurred_at > image_times.get(
            (event.image_id, case.pk), EPOCH
        ):
            image_times[(event.image_id, case.pk)] = event.occurred_at
    if case_times:
        _update_forward(Case._meta.db_table, "id", "id", case_times)
    if image_times:
        _update_forward(Dataset._meta.db_table, "image_id", "case_id", image_times)


EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
# Rows per UPDATE statement on SQLite, which allows 32,766 parameters: three per row here.
_UPDATE_CHUNK = 5_000


def _update_forward(
    table: str, key: str, owner: str, times: dict[tuple[Any, int], datetime.datetime]
) -> None:
    """``UPDATE table SET last_accessed_at = v.moment FROM (VALUES (key, owner, moment) ...) v``
    where the stored time is older. On PostgreSQL the rows are locked first in key order, so two
    requests touching the same cases cannot deadlock."""
    items = [(k, owner_id, moment) for (k, owner_id), moment in times.items()]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT 1 FROM {table} WHERE {key} = ANY(%s) ORDER BY {key} FOR UPDATE",  # noqa: S608
                [sorted({k for k, _, _ in items})],
            )
        if connection.vendor == "postgresql":
            # Three array parameters, not three per row: the statement stays short to send and parse.
            key_type = "uuid" if key == "image_id" else "bigint"
            cursor.execute(
                f"UPDATE {table} AS t SET last_accessed_at = v.moment "  # noqa: S608
                f"FROM unnest(%s::{key_type}[], %s::bigint[], %s::timestamptz[]) AS v(k, owner, moment) "
                f"WHERE t.{key} = v.k AND t.{owner} = v.owner "
                "AND (t.last_accessed_at IS NULL OR t.last_accessed_at < v.moment)",
                [[k for k, _, _ in items], [o for _, o, _ in items], [m for _, _, m in items]],
            )
            return
        for start in range(0, len(items), _UPDATE_CHUNK):
            chunk = items[start : start + _UPDATE_CHUNK]
            params: list[Any] = []
            # SQLite stores UUIDs as 32 hex digits, and times as UTC text that sorts as time.
            rows_sql = ", ".join(["(%s, %s, %s)"] * len(chunk))
            for k, owner_id, moment in chunk:
                params += [
                    k.hex if isinstance(k, uuid.UUID) else k,
                    owner_id,
                    connection.ops.adapt_datetimefield_value(moment),
                ]
            match = f"v.k = {table}.{key} AND v.owner = {table}.{owner}"
            cursor.execute(
                f"WITH v(k, owner, moment) AS (VALUES {rows_sql}) "  # noqa: S608
                f"UPDATE {table} SET last_accessed_at = (SELECT v.moment FROM v WHERE {match}) "
                f"WHERE EXISTS (SELECT 1 FROM v WHERE {match} "
                f"AND ({table}.last_accessed_at IS NULL OR {table}.last_accessed_at < v.moment))",
                params,
            )


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
    is not stored again. Unknown people and projects are stored all the same (they are evidence)
    and flagged in ``basis``."""
    from authz.selectors import grant_ids_covering

    now = timezone.now()
    # Reads first, outside the chain lock, so the lock is held only for the append itself.
    roles = _known_usernames({event.user for event in events})
    cases = _cases({event.project_id for event in events})
    coverable = [i for i, e in enumerate(events) if e.user in roles and e.project_id in cases]
    grants: dict[int, int | None] = dict(
        zip(
            coverable,
            grant_ids_covering(
                [
                    (events[i].user, events[i].project_id, events[i].occurred_at, environment)
                    for i in coverable
                ]
            ),
            strict=True,
        )
    )
    # Object rows before the chain head, as every service does, so no lock-order deadlock with them.
    _move_last_access(events, cases)

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
        grant_id = grants.get(index)
        if event.user not in roles:
            basis = Basis.UNKNOWN_USER
        elif event.project_id not in cases:
            basis = Basis.UNKNOWN_PROJECT
        elif grant_id is not None:
            basis = Basis.GRANT
        elif event.user in cases[event.project_id].managers:
            basis = Basis.CASE_LEAD
        else:
            basis = Basis.NO_GRANT
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

    accepted = append_encoded(prepared)
    return IngestResult(accepted=accepted, duplicates=len(events) - accepted)
