"""The append machinery of the audit trail: how rows join the chain under the one chain lock (the
``ChainHead`` row, ``select_for_update``), so concurrent writers form one chain with no forks.

Not a writer of its own: ``audit.services`` holds the public writers, which call these inside the
transaction of the change they record. Every difference between PostgreSQL and SQLite in appending is
here: PostgreSQL gets ``COPY`` for many rows, server-side prepared statements, and one function call
(``audit.pg_append``) for a machine client's events; SQLite gets ``bulk_create`` and Python.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import operator
import uuid
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import orjson
from django.db import connection, transaction
from django.utils import timezone

from audit import acting, pg_append
from audit.actor import Actor
from audit.chain import CHAINED_FIELDS, RowEncoder, row_hash, row_hash_parts
from audit.models import AuditEvent, ChainHead, Outcome

# Column order of a stored row, as ``COPY`` and ``bulk_create`` receive it.
COLUMNS = (*CHAINED_FIELDS, "prev_hash", "hash")


# The stored values of a row but its sequence number and hashes, in ``COLUMNS`` order.
ROW_VALUES = operator.itemgetter(*COLUMNS[1:-2])


@contextlib.contextmanager
def prepared_cursor() -> Iterator[Any]:
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


def head_for_update() -> ChainHead:
    """The chain head, locked until the transaction ends. Plain SQL: every audit write passes here
    while others wait for the lock, so it is kept as short as it can be."""
    table = ChainHead._meta.db_table
    # As select_for_update does: SQLite has no row locks (its writers take the database in turn).
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with prepared_cursor() as cursor:
        cursor.execute(f"SELECT sequence, hash FROM {table} WHERE id = 1{lock}")  # noqa: S608  # nosec B608  # constant table and lock clause
        row = cursor.fetchone()
    if row is None:
        ChainHead.objects.get_or_create(pk=1)
        head = ChainHead.objects.select_for_update().get(pk=1)
        return head
    return ChainHead(id=1, sequence=row[0], hash=row[1])


def link(head: ChainHead, encoded: list[tuple[bytes, bytes]]) -> Iterator[tuple[int, str, str]]:
    """Rows encoded by ``canonical_parts`` (or ``RowEncoder``), numbered and hashed onto the chain
    after ``head``: for each, its (sequence, prev_hash, hash). Call it under the chain lock."""
    previous, sequence = head.hash, head.sequence
    for before, after in encoded:
        sequence += 1
        digest = row_hash_parts(previous, before, sequence, after)
        yield sequence, previous, digest
        previous = digest


def advance(head: ChainHead, sequence: int, digest: str) -> None:
    head.sequence = sequence
    head.hash = digest
    with prepared_cursor() as cursor:
        cursor.execute(
            f"UPDATE {ChainHead._meta.db_table} SET sequence = %s, hash = %s WHERE id = 1",  # noqa: S608  # nosec B608  # the model's table name
            [sequence, digest],
        )


def event_fields(
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


def append_events(events: list[dict[str, Any]]) -> list[AuditEvent]:
    """``audit_record_many``'s rows: built, hashed onto the chain and stored. Call it inside a
    transaction."""
    if not events:
        return []
    # The transaction's actor, for auditlog's entries of the same change (audit.acting).
    acting.note_actor(events[0]["actor"])
    now = timezone.now()
    head = head_for_update()
    rows: list[AuditEvent] = []
    previous = head.hash
    sequence = head.sequence
    for event in events:
        sequence += 1
        fields = event_fields(sequence=sequence, now=now, **event)
        digest = row_hash(previous, fields)
        rows.append(AuditEvent(prev_hash=previous, hash=digest, **fields))
        previous = digest
    if len(rows) > 1 and connection.vendor == "postgresql":
        # Several rows at once (the denies of a decision batch): COPY, many times faster than an
        # INSERT per row while the chain lock is held.
        insert_rows(
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
    advance(head, sequence, previous)
    return rows


def client_request_fields(
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
    # The person's roles (``people.roles.role_text``): NEN 7513 asks with which roles a person
    # acted, denied or not.
    actor_role: str = ""

    def fields(self) -> dict[str, Any]:
        """As the trail's fields (what ``_asdict`` gives, several times faster)."""
        return {
            "event_id": self.event_id,
            "actor": self.actor,
            "actor_role": self.actor_role,
            "project_id": self.project_id,
            "image_id": self.image_id,
            "trace_uid": self.trace_uid,
            "grant_id": self.grant_id,
            "details": self.details,
        }


def append_client_events(
    events: list[ClientEvent],
    *,
    action: str,
    outcome: str,
    client_name: str,
    environment: str,
    source_address: str | None,
    request_id: str,
) -> None:
    """``audit_record_client_events``' rows. Each row is encoded before the lock is taken; only its
    sequence number and hashes are added under it.

    On PostgreSQL this is one statement (``audit.pg_append``): its own transaction when called
    alone, part of the caller's when called inside one. On SQLite, one transaction from Python."""
    if not events:
        return
    now = timezone.now()
    shared = client_request_fields(now, client_name, environment, source_address, request_id)
    constant = {**shared, "occurred_at": now, "action": action, "outcome": str(outcome)}
    encoder = RowEncoder(shared)
    if connection.vendor == "postgresql":
        records = []
        parts: list[str] = []
        for event in events:
            fields = event.fields()
            parts += encoder.text_parts({**constant, **fields, "basis": ""})
            records.append(fields)
        with prepared_cursor() as cursor:
            cursor.execute(
                pg_append.call_sql(),
                [
                    orjson.dumps(records).decode(),
                    pg_append.PART_SEPARATOR.join(parts),
                    *(constant[name] for name, _ in pg_append.SHARED_COLUMNS),
                ],
            )
        return
    with transaction.atomic():
        _append_client_rows(events, constant, encoder)


def _append_client_rows(events: list[ClientEvent], constant: dict[str, Any], encoder: RowEncoder) -> None:
    """What ``audit.pg_append``'s function does, from Python (SQLite)."""
    prepared = [encoder.parts({**constant, **event.fields(), "basis": ""}) for event in events]
    head = head_for_update()
    rows = list(zip(events, link(head, prepared), strict=True))
    insert_rows(
        [
            (
                number,
                *ROW_VALUES(
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
    advance(head, sequence, digest)


def existing_event_ids(event_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # One text parameter: cheaper to send than an array of 10,000 adapted UUIDs.
            cursor.execute(
                f"SELECT event_id FROM {AuditEvent._meta.db_table} WHERE event_id = ANY(%s::uuid[])",  # noqa: S608  # nosec B608  # the model's table name
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


def insert_rows(rows: list[tuple[Any, ...]]) -> None:
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


def append_encoded(
    prepared: list[tuple[uuid.UUID, bytes, bytes, tuple[Any, ...]]],
    check_stored: Callable[[set[uuid.UUID]], None] | None = None,
) -> int:
    """Rows encoded before the lock, each as (event id, the encoder's two parts, its stored values
    but the sequence number and hashes), joined to the chain unless their event id is stored
    already. ``check_stored`` sees the ids stored already, under the lock, and may refuse the
    request by raising (the caller's transaction then stores nothing). The number of rows stored."""
    head = head_for_update()
    # Checked under the lock: a concurrent request with the same ids waits here and then sees ours.
    stored = existing_event_ids([event_id for event_id, _, _, _ in prepared])
    if check_stored is not None:
        check_stored(stored)
    fresh = [item for item in prepared if item[0] not in stored]
    rows: list[tuple[Any, ...]] = [
        (number, *values, prev_hash, digest)
        for (_, _, _, values), (number, prev_hash, digest) in zip(
            fresh, link(head, [(before, after) for _, before, after, _ in fresh]), strict=True
        )
    ]
    if rows:
        insert_rows(rows)
        advance(head, rows[-1][0], rows[-1][-1])
    return len(rows)
