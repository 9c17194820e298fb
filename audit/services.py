"""The only writers of the audit trail. Services call ``audit_record`` inside their own transaction,
so a change and its event commit together or not at all.

Every writer appends under the one chain lock (the ``ChainHead`` row, ``select_for_update``), so
concurrent writers form one chain with no forks. Hansken's usage events arrive in thousands per
request: ``usage_events_record`` takes the lock once per request, computes the chain in Python and,
on PostgreSQL, writes the rows with ``COPY`` inside the same transaction.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import operator
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit import actions, checkpoints, pg_append
from audit.actor import Actor
from audit.chain import CHAINED_FIELDS, GENESIS_HASH, RowEncoder, row_hash, row_hash_parts
from audit.models import AuditEvent, Basis, ChainCheckpoint, ChainHead, Outcome
from audit.usage import HANSKEN_ACTION_PREFIX, UsageEvent
from audit.verify import VerificationResult, verify_chain

log = logging.getLogger(__name__)

# Column order of a stored row, as ``COPY`` and ``bulk_create`` receive it.
COLUMNS = (*CHAINED_FIELDS, "prev_hash", "hash")


# The stored values of a row but its sequence number and hashes, in ``COLUMNS`` order.
_ROW_VALUES = operator.itemgetter(*COLUMNS[1:-2])


@contextlib.contextmanager
def _prepared_cursor() -> Iterator[Any]:
    """A cursor for the statements every audit write runs under the chain lock. On PostgreSQL, a
    psycopg cursor on Django's connection (so in the same transaction) that binds parameters on the
    server: psycopg then prepares a statement it sees again, and PostgreSQL stops parsing and
    planning it anew each time (Django's own cursor binds on the client). Wrapped as Django wraps
    its cursors, so errors still come as Django's database errors and query logging still sees it."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    import psycopg

    connection.ensure_connection()
    raw = psycopg.Cursor(connection.connection)
    # (django-stubs type the argument as Django's wrapper; Django passes the driver's cursor.)
    wrap = connection.make_debug_cursor if connection.queries_logged else connection.make_cursor
    with wrap(raw) as cursor:  # type: ignore[arg-type]
        yield cursor


def _head_for_update() -> ChainHead:
    """The chain head, locked until the transaction ends. Plain SQL: every audit write passes here
    while others wait for the lock, so it is kept as short as it can be."""
    table = ChainHead._meta.db_table
    # As select_for_update does: SQLite has no row locks (its writers take the database in turn).
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with _prepared_cursor() as cursor:
        cursor.execute(f"SELECT sequence, hash FROM {table} WHERE id = 1{lock}")  # noqa: S608
        row = cursor.fetchone()
    if row is None:
        ChainHead.objects.get_or_create(pk=1)
        head = ChainHead.objects.select_for_update().get(pk=1)
        return head
    return ChainHead(id=1, sequence=row[0], hash=row[1])


def _link(head: ChainHead, encoded: list[tuple[bytes, bytes]]) -> Iterator[tuple[int, str, str]]:
    """Rows encoded by ``canonical_parts`` (or ``RowEncoder``), numbered and hashed onto the chain
    after ``head``: for each, its (sequence, prev_hash, hash). Call it under the chain lock."""
    previous, sequence = head.hash, head.sequence
    for before, after in encoded:
        sequence += 1
        digest = row_hash_parts(previous, before, sequence, after)
        yield sequence, previous, digest
        previous = digest


def _advance(head: ChainHead, sequence: int, digest: str) -> None:
    head.sequence = sequence
    head.hash = digest
    with _prepared_cursor() as cursor:
        cursor.execute(
            f"UPDATE {ChainHead._meta.db_table} SET sequence = %s, hash = %s WHERE id = 1",  # noqa: S608
            [sequence, digest],
        )


def _fields(
    *,
    sequence: int,
    now: datetime.datetime,
    action: str,
    actor: Actor,
    outcome: str = Outcome.SUCCESS,
    project_id: uuid.UUID | str | None = None,
    image_id: uuid.UUID | str | None = None,
    trace_uid: str = "",
    object_type: str = "",
    object_id: str | int = "",
    grant_id: int | None = None,
    basis: str = "",
    details: dict[str, Any] | None = None,
    occurred_at: datetime.datetime | None = None,
    event_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    return {
        "sequence": sequence,
        "event_id": event_id or uuid.uuid4(),
        "occurred_at": occurred_at or now,
        "recorded_at": now,
        "actor": actor.username,
        "on_behalf_of": actor.on_behalf_of,
        "actor_role": actor.role,
        "client_name": actor.client_name,
        "environment": actor.environment,
        "channel": actor.channel,
        "source_address": actor.source_address,
        "action": action,
        "outcome": str(outcome),
        "project_id": uuid.UUID(str(project_id)) if project_id else None,
        "image_id": uuid.UUID(str(image_id)) if image_id else None,
        "trace_uid": trace_uid,
        "object_type": object_type,
        "object_id": str(object_id),
        "grant_id": grant_id,
        "basis": basis,
        "request_id": actor.request_id,
        "details": details or {},
    }


@transaction.atomic
def audit_record(*, action: str, actor: Actor, **event: Any) -> AuditEvent:
    """Append one event to the chain. Must be called inside the transaction of the change it records
    (it opens a savepoint of its own when called alone). Keyword arguments are the event's fields:
    outcome, project_id, image_id, trace_uid, object_type, object_id, grant_id, basis, details,
    occurred_at, event_id."""
    return audit_record_many([{"action": action, "actor": actor, **event}])[0]


@transaction.atomic
def audit_record_many(events: list[dict[str, Any]]) -> list[AuditEvent]:
    """Append several events under one chain lock (e.g. every denied decision of a batch). Each item
    holds ``action``, ``actor`` and the fields ``audit_record`` takes."""
    if not events:
        return []
    now = timezone.now()
    head = _head_for_update()
    rows: list[AuditEvent] = []
    previous = head.hash
    sequence = head.sequence
    for event in events:
        sequence += 1
        fields = _fields(sequence=sequence, now=now, **event)
        digest = row_hash(previous, fields)
        rows.append(AuditEvent(prev_hash=previous, hash=digest, **fields))
        previous = digest
    if len(rows) > 1 and connection.vendor == "postgresql":
        # Several rows at once (the denies of a decision batch): COPY, many times faster than an
        # INSERT per row while the chain lock is held.
        _insert_rows(
            [
                tuple(
                    json.dumps(row.details) if column == "details" else getattr(row, column)
                    for column in COLUMNS
                )
                for row in rows
            ]
        )
    else:
        AuditEvent.objects.bulk_create(rows)
    _advance(head, sequence, previous)
    return rows


def _client_request_fields(
    now: datetime.datetime, client_name: str, environment: str, source_address: str | None, request_id: str
) -> dict[str, Any]:
    """The fields that all events of one machine client's request share (``RowEncoder``'s shared
    fields)."""
    return {
        "recorded_at": now,
        "on_behalf_of": "",
        "client_name": client_name,
        "environment": environment,
        "channel": "api",
        "source_address": source_address,
        "object_type": "",
        "object_id": "",
        "request_id": request_id,
    }


class ClientEvent(NamedTuple):
    """One event of a machine client's request about one person (e.g. a denied decision): what
    differs from event to event of that request."""

    event_id: str  # canonical UUID text
    actor: str  # the person's username
    project_id: str | None
    image_id: str | None
    trace_uid: str
    grant_id: int | None
    details: dict[str, Any]

    def fields(self) -> dict[str, Any]:
        """As the trail's fields (what ``_asdict`` gives, several times faster)."""
        return {
            "event_id": self.event_id,
            "actor": self.actor,
            "project_id": self.project_id,
            "image_id": self.image_id,
            "trace_uid": self.trace_uid,
            "grant_id": self.grant_id,
            "details": self.details,
        }


def audit_record_client_events(
    events: list[ClientEvent],
    *,
    action: str,
    outcome: str,
    client_name: str,
    environment: str,
    source_address: str | None,
    request_id: str,
) -> None:
    """Append many events of one machine client's request under one chain lock: what
    ``audit_record_many`` does, for the decision API's denies, without a model instance per row.
    Each row is encoded before the lock is taken; only its sequence number and hashes are added
    under it.

    On PostgreSQL this is one statement (``audit.pg_append``): its own transaction when called
    alone, part of the caller's when called inside one. On SQLite, one transaction from Python."""
    if not events:
        return
    now = timezone.now()
    shared = _client_request_fields(now, client_name, environment, source_address, request_id)
    constant = {**shared, "occurred_at": now, "actor_role": "", "action": action, "outcome": str(outcome)}
    encoder = RowEncoder(shared)
    if connection.vendor == "postgresql":
        records = []
        for event in events:
            fields = event.fields()
            fields["before"], fields["after"] = encoder.text_parts({**constant, **fields, "basis": ""})
            records.append(fields)
        with _prepared_cursor() as cursor:
            cursor.execute(
                pg_append.call_sql(),
                [orjson.dumps(records).decode(), *(constant[name] for name, _ in pg_append.SHARED_COLUMNS)],
            )
        return
    with transaction.atomic():
        _append_client_rows(events, constant, encoder)


def _append_client_rows(events: list[ClientEvent], constant: dict[str, Any], encoder: RowEncoder) -> None:
    """What ``audit.pg_append``'s function does, from Python (SQLite)."""
    prepared = [encoder.parts({**constant, **event.fields(), "basis": ""}) for event in events]
    head = _head_for_update()
    rows = list(zip(events, _link(head, prepared), strict=True))
    _insert_rows(
        [
            (
                number,
                *_ROW_VALUES(
                    {
                        **constant,
                        **event.fields(),
                        "basis": "",
                        "details": json.dumps(event.details, ensure_ascii=False),
                    }
                ),
                prev_hash,
                digest,
            )
            for event, (number, prev_hash, digest) in rows
        ]
    )
    _, (sequence, _, digest) = rows[-1]
    _advance(head, sequence, digest)


# Usage events from Hansken


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
    from cases.models import Case
    from cases.selectors import deputyships

    rows = list(
        Case.objects.filter(project_id__in=project_ids).values_list("pk", "project_id", "case_lead__username")
    )
    managers: dict[int, set[str]] = {pk: {lead} for pk, _, lead in rows}
    deputies = deputyships().filter(case_id__in=list(managers)).values_list("case_id", "deputy__username")
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


def _existing_event_ids(event_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # One text parameter: cheaper to send than an array of 10,000 adapted UUIDs.
            cursor.execute(
                f"SELECT event_id FROM {AuditEvent._meta.db_table} WHERE event_id = ANY(%s::uuid[])",  # noqa: S608
                ["{" + ",".join(map(str, event_ids)) + "}"],
            )
            return {row[0] for row in cursor.fetchall()}
    found: set[uuid.UUID] = set()
    for start in range(0, len(event_ids), 5000):
        found.update(
            AuditEvent.objects.filter(event_id__in=event_ids[start : start + 5000]).values_list(
                "event_id", flat=True
            )
        )
    return found


def _insert_rows(rows: list[tuple[Any, ...]]) -> None:
    """Rows in ``COLUMNS`` order; ``details`` already as JSON text. ``COPY`` on PostgreSQL (through
    Django's own connection, so inside the caller's transaction), ``bulk_create`` elsewhere."""
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        with connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg 3's cursor beneath Django's wrapper
            with raw.copy(f"COPY {AuditEvent._meta.db_table} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    objects = []
    for row in rows:
        values = dict(zip(COLUMNS, row, strict=True))
        values["details"] = json.loads(values["details"])
        objects.append(AuditEvent(**values))
    AuditEvent.objects.bulk_create(
        objects,
        batch_size=500,
    )


@transaction.atomic
def usage_events_record(
    *,
    events: list[UsageEvent],
    client_name: str,
    environment: str,
    source_address: str | None,
    request_id: str,
) -> IngestResult:
    """Store Hansken's usage events in the chain: each with the grant that covered it when it
    happened (or its basis: case lead, no grant, unknown user or project), the action as
    ``hansken.<action>``, the person as actor and the calling client as client. An event id sent
    before, or twice in this request, is a duplicate and is not stored again. Unknown people and
    projects are stored all the same (they are evidence) and flagged in ``basis``."""
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
    shared = _client_request_fields(now, client_name, environment, source_address, request_id)
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
        prepared.append((event.event_id, before, after, _ROW_VALUES(fields)))

    head = _head_for_update()
    # Checked under the lock: a concurrent request with the same ids waits here and then sees ours.
    stored = _existing_event_ids([event_id for event_id, _, _, _ in prepared])
    fresh = [item for item in prepared if item[0] not in stored]
    rows: list[tuple[Any, ...]] = [
        (number, *values, prev_hash, digest)
        for (_, _, _, values), (number, prev_hash, digest) in zip(
            fresh, _link(head, [(before, after) for _, before, after, _ in fresh]), strict=True
        )
    ]
    if rows:
        _insert_rows(rows)
        _advance(head, rows[-1][0], rows[-1][-1])
    duplicates = len(events) - len(rows)
    return IngestResult(accepted=len(rows), duplicates=duplicates)


# Review


def audit_opened(
    *,
    by: Actor,
    view: str,
    filters: dict[str, Any],
    project_id: uuid.UUID | None = None,
    export: bool = False,
) -> None:
    """Every opening of the trail is itself in the trail (who looked at what, with which filters);
    a download is marked ``export``, since the rows then leave the application."""
    details: dict[str, Any] = {"view": view, "filters": filters}
    if export:
        details["export"] = True
    audit_record(
        action=actions.AUDIT_VIEWED,
        actor=by,
        project_id=project_id,
        object_type="audit_trail",
        details=details,
    )


# Checkpoints and verification


def checkpoint_write(*, now: datetime.datetime | None = None) -> ChainCheckpoint | None:
    """Anchor the chain's current head: a ``ChainCheckpoint`` row and a line in the checkpoint file.

    The rows since the previous checkpoint are verified first, so a checkpoint never anchors a chain
    that was already tampered with; if they do not verify, the failure is recorded instead and no
    checkpoint is written. Nothing is written when the head has not moved."""
    head = ChainHead.objects.filter(pk=1).values_list("sequence", "hash").first()
    if head is None or head[0] == 0:
        return None
    sequence, digest = head
    last = ChainCheckpoint.objects.order_by("-sequence").first()
    if last is not None and last.sequence >= sequence:
        return None
    result = verify_chain(
        start_after=(last.sequence, last.hash) if last else (0, GENESIS_HASH),
        up_to=sequence,
        against_checkpoints=False,
    )
    if not result.ok:
        verification_failed(result=result, by=Actor.system("checkpoint"))
        return None
    created_at = now or timezone.now()
    with transaction.atomic():
        checkpoint = ChainCheckpoint.objects.create(sequence=sequence, hash=digest, created_at=created_at)
        # The file line states a fact about committed rows, so it is true even if this transaction
        # were to roll back after it; written inside it so a full disk leaves no row without a line.
        checkpoints.append(sequence=sequence, digest=digest, created_at=created_at)
    return checkpoint


def verification_failed(*, result: VerificationResult, by: Actor) -> None:
    """A broken chain is an incident: record it in the trail (the SIEM forwards it as an alert)."""
    log.error("Audit chain verification failed: %s", result.message)
    try:
        audit_record(
            action=actions.AUDIT_VERIFICATION_FAILED,
            actor=by,
            outcome=Outcome.FAILURE,
            object_type="audit_trail",
            details={"broken_at": result.broken_at, "reason": result.reason, "checked": result.checked},
        )
    except DatabaseError:
        # A row forged beyond the chain head takes the next sequence number, so no event can be
        # appended until it is dealt with: every writer fails loudly, and so does this one.
        log.critical("The verification failure could not be recorded in the trail", exc_info=True)


def verification_run(*, by: Actor) -> VerificationResult:
    """Verify the whole chain against its checkpoints; record a failure in the trail."""
    result = verify_chain()
    if not result.ok:
        verification_failed(result=result, by=by)
    return result


# django-auditlog's field diffs


MODEL_CHANGES_NAMESPACE = uuid.UUID("6f1d3c1e-9a55-4f0e-9d55-2b7a4f3c8e10")
_OPERATIONS = {0: "create", 1: "update", 2: "delete", 3: "access"}
SECRET_FIELDS = frozenset({"token_digest", "password"})


def model_change_event_id(log_entry_pk: int) -> uuid.UUID:
    """The chain's event id for one auditlog entry: fixed, so copying it twice stores it once."""
    return uuid.uuid5(MODEL_CHANGES_NAMESPACE, f"auditlog:{log_entry_pk}")


@transaction.atomic
def model_changes_record(
    *, log_entry_ids: Iterable[int] | None = None, since: datetime.datetime | None = None
) -> int:
    """Copy django-auditlog's entries (field diffs of registered models) into the chain, each once.
    Called after the commit of the change (``audit.model_changes``) and by a periodic sweep over
    recent entries, so an entry whose copy failed is copied on the next sweep."""
    from auditlog.models import LogEntry

    entries = LogEntry.objects.select_related("content_type", "actor").order_by("pk")
    if log_entry_ids is not None:
        entries = entries.filter(pk__in=list(log_entry_ids))
    elif since is not None:
        entries = entries.filter(timestamp__gte=since)
    else:
        raise ValueError("Give log_entry_ids or since.")
    candidates = list(entries)
    if not candidates:
        return 0
    _head_for_update()  # taken before the duplicate check, so two copies of one entry cannot race
    ids = [model_change_event_id(entry.pk) for entry in candidates]
    present = _existing_event_ids(ids)
    events = []
    for entry, event_id in zip(candidates, ids, strict=True):
        if event_id in present:
            continue
        changes = {
            field: value for field, value in (entry.changes_dict or {}).items() if field not in SECRET_FIELDS
        }
        model = f"{entry.content_type.app_label}.{entry.content_type.model}"
        events.append(
            {
                "action": actions.MODEL_CHANGED,
                "actor": Actor(
                    username=entry.actor.get_username() if entry.actor else "unattributed",
                    channel="auditlog",
                ),
                "occurred_at": entry.timestamp,
                "object_type": model,
                "object_id": entry.object_pk,
                "project_id": _project_of(model, entry.object_pk),
                "event_id": event_id,
                "details": {
                    "operation": _OPERATIONS.get(entry.action, str(entry.action)),
                    "object": entry.object_repr[:200],
                    "changes": changes,
                    "auditlog_entry": entry.pk,
                },
            }
        )
    audit_record_many(events)
    return len(events)


def _project_of(model: str, object_pk: str) -> uuid.UUID | None:
    from cases.models import Case, Dataset

    if model == "cases.case":
        return Case.objects.filter(pk=object_pk).values_list("project_id", flat=True).first()
    if model == "cases.dataset":
        return Dataset.objects.filter(pk=object_pk).values_list("case__project_id", flat=True).first()
    return None
