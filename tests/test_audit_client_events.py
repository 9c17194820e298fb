"""``audit_record_client_events``, the writer of the decision API's denials: on PostgreSQL one call
of the database function ``audit_append_client_events`` (``audit/pg_append.py``), on SQLite Python
in one transaction. The edges: nothing to write, no chain head yet, a caller's transaction that
rolls back, other writers in between; and the function's own life cycle on PostgreSQL."""

from __future__ import annotations

import json
import uuid

import pytest
from django.db import DatabaseError, connection, transaction

from audit import actions as audit_actions
from audit import pg_append
from audit.actor import Actor
from audit.apps import PG_APPEND_MIGRATION, _rearm_triggers
from audit.models import AuditEvent, ChainHead, Outcome
from audit.services import ClientEvent, audit_record, audit_record_client_events
from audit.verify import verify_chain
from authz import actions
from tests.audit_helpers import empty_audit_trail

pytestmark = pytest.mark.django_db
PROJECT = "44444444-4444-4444-8444-444444444444"


def denial(number: int) -> ClientEvent:
    return ClientEvent(
        str(uuid.uuid4()),
        f"person-{number} é",
        PROJECT,
        None,
        "",
        None,
        {"requested_action": "read", "reason": "no_grant", "correlation_id": f'c"{number}\\'},
    )


def record(events: list[ClientEvent]) -> None:
    audit_record_client_events(
        events,
        action=actions.DECISION_DENIED,
        outcome=Outcome.DENIED,
        client_name="hansken",
        environment="production",
        source_address="2001:db8::1",
        request_id="request-1",
    )


def head() -> tuple[int, str]:
    return ChainHead.objects.values_list("sequence", "hash").get(pk=1)


def test_nothing_to_write_writes_nothing():
    record([denial(1)])
    before = head()
    record([])
    assert head() == before
    assert AuditEvent.objects.count() == 1


def test_without_a_chain_head_the_chain_starts_at_the_beginning():
    empty_audit_trail()
    assert not ChainHead.objects.exists()
    record([denial(1), denial(2)])
    assert list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True)) == [1, 2]
    assert head()[0] == 2
    assert verify_chain(against_checkpoints=False).ok


def test_inside_a_callers_transaction_that_rolls_back_nothing_stays():
    record([denial(1)])
    before = head()
    with pytest.raises(RuntimeError), transaction.atomic():
        record([denial(2), denial(3)])
        raise RuntimeError("the caller fails after the write")
    assert head() == before
    assert AuditEvent.objects.count() == 1
    record([denial(4)])
    assert verify_chain(against_checkpoints=False).ok


def test_between_other_writers_one_chain():
    by = Actor(username="admin", role="admin")
    audit_record(action=audit_actions.CASE_CREATED, actor=by, object_type="case", object_id="1")
    record([denial(1), denial(2), denial(3)])
    audit_record(action=audit_actions.CASE_CREATED, actor=by, object_type="case", object_id="2")
    record([denial(4)])
    sequences = list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(sequences[0], sequences[0] + 6))
    stored = AuditEvent.objects.filter(action=actions.DECISION_DENIED).order_by("sequence")
    assert [e.details["correlation_id"] for e in stored] == ['c"1\\', 'c"2\\', 'c"3\\', 'c"4\\']
    assert {str(e.source_address) for e in stored} == {"2001:db8::1"}
    assert verify_chain(against_checkpoints=False).ok


def functions_named() -> list[str]:
    """The signatures of the database functions by the append function's name (none on SQLite)."""
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.oid::regprocedure::text FROM pg_proc p WHERE p.proname = %s", [pg_append.FUNCTION]
        )
        return [row[0] for row in cursor.fetchall()]


def test_the_function_is_there_once_on_postgresql_and_an_old_version_is_dropped():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no database functions")
    assert len(functions_named()) == 1
    # A version with other arguments (as after a change to the shared columns) is another
    # function to PostgreSQL; installing drops it.
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE FUNCTION {pg_append.FUNCTION}(records json) RETURNS void LANGUAGE sql AS ''")
    assert len(functions_named()) == 2
    pg_append.install(connection)
    assert len(functions_named()) == 1
    record([denial(1)])
    assert verify_chain(against_checkpoints=False).ok


def test_migrate_reinstalls_the_function_only_while_its_migration_is_applied():
    from django.db.migrations.recorder import MigrationRecorder

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no database functions")
    recorder = MigrationRecorder(connection)
    pg_append.remove(connection)
    recorder.record_unapplied(*PG_APPEND_MIGRATION)
    _rearm_triggers(sender=None)
    assert functions_named() == []
    recorder.record_applied(*PG_APPEND_MIGRATION)
    _rearm_triggers(sender=None)
    assert len(functions_named()) == 1


def test_large_details_are_stored_with_lz4_and_read_back_unchanged_in_a_chain_that_verifies():
    """The trail's details column compresses with LZ4 on PostgreSQL (audit 0008): a row with 18 KB
    of details is stored compressed with LZ4, reads back exactly, and the chain still verifies."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no column compression")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attcompression FROM pg_attribute "
            "WHERE attrelid = 'audit_auditevent'::regclass AND attname = 'details'"
        )
        assert cursor.fetchone()[0] == "l"
    details = {"traces": [{"image_id": PROJECT, "trace_ids": [f"0-{n}-{n % 97}-3" for n in range(1500)]}]}
    event = ClientEvent(str(uuid.uuid4()), "investigator", PROJECT, None, "", None, details)
    record([event])
    stored = AuditEvent.objects.get(event_id=event.event_id)
    assert stored.details == details
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_column_compression(details), pg_column_size(details) FROM audit_auditevent "
            "WHERE event_id = %s",
            [event.event_id],
        )
        method, size = cursor.fetchone()
    assert method == "lz4"
    assert size < len(str(details)) // 2
    assert verify_chain(against_checkpoints=False).ok


def test_the_function_refuses_parts_that_do_not_match_its_rows_and_writes_nothing():
    """Each row's canonical encoding comes as two parts of one separated text: a count that does not
    match the rows is refused in the database, before anything is numbered or stored."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no database functions")
    record([denial(1)])
    before = head()
    records = json.dumps([{"event_id": str(uuid.uuid4()), "actor": "someone", "details": {}}])
    shared = [None] * len(pg_append.SHARED_COLUMNS)
    for parts in ("only-one-part", pg_append.PART_SEPARATOR.join(["a", "b", "c"])):
        with (
            pytest.raises(DatabaseError, match="1 rows but"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(pg_append.call_sql(), [records, parts, *shared])
    assert head() == before
    assert AuditEvent.objects.count() == 1
