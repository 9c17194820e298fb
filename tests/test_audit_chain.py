"""The audit trail is append-only (database triggers) and tamper-evident (hash chain + checkpoints).

Each tampering test works with raw SQL as the table owner can (triggers off: ``ALTER TABLE ...
DISABLE TRIGGER USER`` on PostgreSQL, dropped on SQLite) and expects ``audit_verify`` to exit 1
naming the first broken sequence number.
"""

from __future__ import annotations

import datetime as dt_module
import json
import threading
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from audit import actions, checkpoints, triggers
from audit.actor import Actor
from audit.chain import (
    CHAINED_FIELDS,
    GENESIS_HASH,
    RowEncoder,
    canonical_bytes,
    canonical_parts,
    row_hash,
    row_hash_parts,
)
from audit.models import AuditEvent, ChainCheckpoint, ChainHead
from audit.services import ClientEvent, audit_record, audit_record_client_events, checkpoint_write
from audit.tasks import verify_chain as verify_task
from audit.verify import verify_chain
from hansken_governance.schedules import BEAT_SCHEDULE
from tests.audit_helpers import triggers_off

BY = Actor.command("tests")


@pytest.fixture(autouse=True)
def checkpoint_file(tmp_path: Path, settings) -> Path:
    settings.AUDIT_CHECKPOINT_FILE = str(tmp_path / "audit-checkpoints.log")
    return tmp_path / "audit-checkpoints.log"


def record(count: int) -> list[AuditEvent]:
    return [
        audit_record(
            action=actions.CASE_CREATED,
            actor=BY,
            project_id=uuid.uuid4(),
            object_type="case",
            object_id=n,
            details={"n": n, "title": f"Case {n}", "nested": {"a": [1, 2.5, None, True]}},
        )
        for n in range(count)
    ]


def verify() -> str:
    """``audit_verify``'s output when it succeeds; its error (exit status 1) otherwise, raised."""
    from io import StringIO

    out = StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue().strip()


def broken_message() -> str:
    with pytest.raises(CommandError) as failure:
        verify()
    assert failure.value.returncode == 1
    return str(failure.value)


def sql(statement: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def rehash_from(sequence: int) -> None:
    """What a careful attacker does after a change: recompute every hash from there on, and the head."""
    previous = AuditEvent.objects.get(sequence=sequence - 1).hash if sequence > 1 else GENESIS_HASH
    for event in AuditEvent.objects.filter(sequence__gte=sequence).order_by("sequence"):
        digest = row_hash(previous, {name: getattr(event, name) for name in CHAINED_FIELDS})
        sql(
            "UPDATE audit_auditevent SET prev_hash = %s, hash = %s WHERE sequence = %s",
            [previous, digest, event.sequence],
        )
        previous = digest
    last = AuditEvent.objects.order_by("-sequence").first()
    assert last is not None
    ChainHead.objects.filter(pk=1).update(sequence=last.sequence, hash=previous)


# A whole chain


def test_it_says_ok_with_the_number_of_events(db: None):
    record(6)
    assert verify() == "OK 6 events"


def test_it_says_ok_for_an_empty_trail(db: None):
    assert verify() == "OK 0 events"


def test_it_reads_the_chain_in_pages_and_still_finds_a_break_in_a_later_page(db: None):
    record(10)
    assert verify_chain(page=3).message == "OK 10 events"
    with triggers_off():
        sql("UPDATE audit_auditevent SET actor = 'mallory' WHERE sequence = 8")
    result = verify_chain(page=3)
    assert (result.ok, result.broken_at, result.checked) == (False, 8, 7)


# Tampering, each caught at the first broken sequence


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("actor", "mallory"),
        ("outcome", "failure"),
        ("details", json.dumps({"n": 2, "title": "Another case"})),
        ("grant_id", 7),
    ],
)
def test_it_names_the_row_whose_field_was_altered(db: None, column: str, value):
    record(6)
    with triggers_off():
        statement = "UPDATE audit_auditevent SET " + column + " = %s WHERE sequence = 3"  # noqa: S608
        sql(statement, [value])
    message = broken_message()
    assert message.startswith("broken at sequence 3: ")
    assert "a field was changed" in message


def test_it_names_a_deleted_row(db: None):
    record(6)
    with triggers_off():
        sql("DELETE FROM audit_auditevent WHERE sequence = 3")
    assert broken_message().startswith("broken at sequence 3: the row is missing")


def test_it_names_the_first_row_that_does_not_follow_an_inserted_one(db: None):
    """A careful attacker makes room at sequence 3 and inserts a row whose own hash is right: the
    row after it (the old sequence 3) no longer follows."""
    record(6)
    with triggers_off():
        sql("UPDATE audit_auditevent SET sequence = -sequence WHERE sequence >= 3")
        sql("UPDATE audit_auditevent SET sequence = 1 - sequence WHERE sequence < 0")
        second = AuditEvent.objects.get(sequence=2)
        forged = {name: getattr(second, name) for name in CHAINED_FIELDS}
        forged.update(sequence=3, event_id=uuid.uuid4(), actor="mallory")
        AuditEvent.objects.create(prev_hash=second.hash, hash=row_hash(second.hash, forged), **forged)
        ChainHead.objects.filter(pk=1).update(sequence=7)
    assert AuditEvent.objects.count() == 7
    assert broken_message().startswith("broken at sequence 4: ")


def test_it_names_a_row_inserted_beyond_the_chain_head(db: None):
    record(6)
    last = AuditEvent.objects.get(sequence=6)
    forged = {name: getattr(last, name) for name in CHAINED_FIELDS}
    forged.update(sequence=7, event_id=uuid.uuid4(), actor="mallory")
    # INSERT needs no trigger switched off: appending is what the table is for. The chain head,
    # which every real writer moves, was not moved.
    AuditEvent.objects.create(prev_hash=last.hash, hash=row_hash(last.hash, forged), **forged)
    message = broken_message()
    assert message.startswith("broken at sequence 7: ")
    assert "beyond the chain head" in message


def test_it_names_the_first_of_two_swapped_rows(db: None):
    record(6)
    with triggers_off():
        sql("UPDATE audit_auditevent SET sequence = -1 WHERE sequence = 3")
        sql("UPDATE audit_auditevent SET sequence = 3 WHERE sequence = 4")
        sql("UPDATE audit_auditevent SET sequence = 4 WHERE sequence = -1")
    assert broken_message().startswith("broken at sequence 3: ")


def test_it_names_where_the_tail_was_cut_off(db: None):
    record(6)
    with triggers_off():
        sql("DELETE FROM audit_auditevent WHERE sequence > 4")
    assert broken_message().startswith("broken at sequence 5: the row is missing")


def test_it_catches_a_tail_cut_with_the_head_and_the_checkpoint_table_cut_too(db: None, checkpoint_file):
    """Head moved back and the checkpoint rows deleted: the checkpoint file outside the database
    still says how far the chain reached."""
    record(6)
    assert checkpoint_write() is not None
    fourth = AuditEvent.objects.get(sequence=4)
    with triggers_off():
        sql("DELETE FROM audit_auditevent WHERE sequence > 4")
        sql("DELETE FROM audit_chaincheckpoint")
        ChainHead.objects.filter(pk=1).update(sequence=4, hash=fourth.hash)
    assert checkpoint_file.read_text().count("\n") == 1
    message = broken_message()
    assert message.startswith("broken at sequence 5: ")
    assert "the tail was cut off" in message


def test_it_catches_a_chain_recomputed_after_a_change_at_the_checkpoint(db: None):
    record(6)
    checkpoint_write()
    with triggers_off():
        sql("UPDATE audit_auditevent SET actor = 'mallory' WHERE sequence = 2")
        rehash_from(2)
        sql("DELETE FROM audit_chaincheckpoint")
    message = broken_message()
    assert message.startswith("broken at sequence 6: its hash differs from the checkpoint")
    assert "checkpoint file" in message


def test_it_refuses_a_checkpoint_file_that_disagrees_with_the_table(db: None, checkpoint_file):
    record(3)
    checkpoint_write()
    line = json.loads(checkpoint_file.read_text())
    line["hash"] = "f" * 64
    checkpoint_file.write_text(json.dumps(line) + "\n")
    assert broken_message().startswith(
        "broken at sequence 3: the checkpoint file (line 1) and the table disagree"
    )


def test_it_refuses_when_the_checkpoint_file_is_gone(db: None, checkpoint_file):
    record(3)
    checkpoint_write()
    checkpoint_file.unlink()
    assert "checkpoint file" in broken_message()


def test_it_records_a_failed_verification_in_the_trail(db: None):
    record(4)
    with triggers_off():
        sql("UPDATE audit_auditevent SET actor = 'mallory' WHERE sequence = 2")
    assert verify_task().startswith("broken at sequence 2")
    failure = AuditEvent.objects.get(action=actions.AUDIT_VERIFICATION_FAILED)
    assert failure.outcome == "failure"
    assert failure.details["broken_at"] == 2
    assert failure.actor == "system:verify_chain"


# Checkpoints


def test_it_writes_a_checkpoint_to_the_table_and_the_file_once_per_head(db: None, checkpoint_file):
    assert checkpoint_write() is None  # nothing to anchor yet
    record(3)
    checkpoint = checkpoint_write()
    assert checkpoint is not None
    assert (checkpoint.sequence, checkpoint.hash) == (3, AuditEvent.objects.get(sequence=3).hash)
    assert checkpoint_write() is None  # the head has not moved
    record(2)
    assert checkpoint_write() is not None
    lines = [json.loads(text) for text in checkpoint_file.read_text().splitlines()]
    assert [(line["sequence"], line["hash"]) for line in lines] == list(
        ChainCheckpoint.objects.order_by("sequence").values_list("sequence", "hash")
    )
    assert [line["sequence"] for line in lines] == [3, 5]
    assert verify() == "OK 5 events"


def test_it_does_not_anchor_a_chain_already_broken_since_the_last_checkpoint(db: None, checkpoint_file):
    record(3)
    checkpoint_write()
    record(3)
    with triggers_off():
        sql("UPDATE audit_auditevent SET actor = 'mallory' WHERE sequence = 5")
    assert checkpoint_write() is None
    assert ChainCheckpoint.objects.count() == 1
    assert len(checkpoint_file.read_text().splitlines()) == 1
    failure = AuditEvent.objects.get(action=actions.AUDIT_VERIFICATION_FAILED)
    assert failure.details["broken_at"] == 5


def test_a_checkpoint_alone_does_not_start_the_chain_later(db: None):
    """Rows removed at the start with a checkpoint left before the first row remaining: without a
    purge event naming that anchor and its age, the gap is reported (``audit.verify._anchor``;
    ``tests/test_audit_trail_roles.py`` and ``tests/test_retention_purge.py`` test the purge's)."""
    record(6)
    with transaction.atomic():
        triggers.open_purge_door(connection)
        AuditEvent.objects.filter(sequence__lte=3).delete()
        triggers.close_purge_door(connection)
    third_hash = AuditEvent.objects.get(sequence=4).prev_hash
    ChainCheckpoint.objects.create(sequence=3, hash=third_hash)
    checkpoints.append(sequence=3, digest=third_hash, created_at=ChainCheckpoint.objects.get().created_at)
    assert broken_message().startswith(
        "broken at sequence 1: rows 1 to 3 are missing and no retained purge event names an anchor at 3"
    )


# Append-only, enforced by the database


def test_it_refuses_updates_and_deletes_through_the_orm(db: None):
    record(3)
    refusals = [
        lambda: AuditEvent.objects.filter(sequence=2).update(actor="mallory"),
        lambda: AuditEvent.objects.filter(sequence=2).delete(),
        lambda: AuditEvent.objects.all().delete(),
        lambda: ChainHead.objects.all().delete(),
    ]
    event = AuditEvent.objects.get(sequence=1)
    event.actor = "mallory"
    refusals.append(event.save)
    checkpoint_write()
    refusals.append(lambda: ChainCheckpoint.objects.update(hash="0" * 64))
    refusals.append(lambda: ChainCheckpoint.objects.all().delete())
    for refusal in refusals:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            refusal()
    assert AuditEvent.objects.count() == 3
    assert set(AuditEvent.objects.values_list("actor", flat=True)) == {"command:tests"}
    assert verify() == "OK 3 events"


def test_it_refuses_truncate_and_raw_sql_too(db: None):
    record(2)
    statements = ["UPDATE audit_auditevent SET actor = 'x'", "DELETE FROM audit_auditevent"]
    if connection.vendor == "postgresql":  # SQLite has no TRUNCATE
        statements += ["TRUNCATE audit_auditevent", "TRUNCATE audit_chainhead"]
    for statement in statements:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            sql(statement)
    assert AuditEvent.objects.count() == 2


def test_the_purge_door_lets_deletes_through_in_one_transaction_only(db: None):
    record(3)
    with transaction.atomic():
        triggers.open_purge_door(connection)
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEvent.objects.filter(sequence=1).update(actor="x")  # the door never opens UPDATE
        AuditEvent.objects.filter(sequence=1).delete()
        triggers.close_purge_door(connection)
    assert AuditEvent.objects.count() == 2
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(sequence=2).delete()


# Concurrent writers


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_make_one_chain_without_forks():
    """4 writers, 50 writes each: two through ``audit_record`` (one event in a transaction), two
    through ``audit_record_client_events`` (two denials at once; on PostgreSQL the database
    function, which takes the same lock). On PostgreSQL each thread has its own connection and
    transactions. SQLite has one writer at a time, so nothing there is concurrent: skipped, not
    passed."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has one writer at a time, so there is no concurrency to test")
    writers, each = 4, 50
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for n in range(each):
                if worker % 2:
                    audit_record_client_events(
                        [
                            ClientEvent(
                                str(uuid.uuid4()), f"person-{worker}", None, None, "", None, {"n": n}
                            ),
                            ClientEvent(
                                str(uuid.uuid4()), f"person-{worker}", None, None, "", None, {"n": -n}
                            ),
                        ],
                        action="authz.denied",
                        outcome="denied",
                        client_name="hansken",
                        environment="production",
                        source_address=None,
                        request_id=f"{worker}-{n}",
                    )
                    continue
                with transaction.atomic():
                    audit_record(
                        action=actions.CASE_CREATED, actor=BY, object_type="worker", object_id=f"{worker}-{n}"
                    )
        except BaseException as exc:  # reported below, in the main thread
            errors.append(exc)
        finally:
            if threading.current_thread() is not threading.main_thread():
                connection.close()

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    total = writers // 2 * each + writers // 2 * each * 2
    events = list(AuditEvent.objects.order_by("sequence").values_list("sequence", "prev_hash", "hash"))
    assert [sequence for sequence, _, _ in events] == list(range(1, total + 1))
    assert len({prev for _, prev, _ in events}) == len(events)  # no two rows share a parent: no fork
    assert verify() == f"OK {total} events"
    assert ChainHead.objects.get().sequence == total


def test_the_schedules_run_the_checkpoint_and_the_daily_verification():
    tasks = {entry["task"] for entry in BEAT_SCHEDULE.values()}
    assert {
        "audit.tasks.write_checkpoint",
        "audit.tasks.verify_chain",
        "audit.tasks.copy_model_changes",
    } <= tasks


# The encodings used for speed give exactly the canonical bytes


def _reference_encoding(fields: dict) -> bytes:
    """The chain's original encoding, written plainly: rows written before any speed-up must still
    verify, and new rows must hash as they always would have."""
    import datetime as dt

    def value(v):
        if isinstance(v, dt.datetime):
            return v.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        if isinstance(v, uuid.UUID):
            return str(v)
        return v

    payload = {
        name: value(fields.get(name)) for name in CHAINED_FIELDS if name != "basis" or fields.get(name)
    }
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode()


_json_leaves = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
)
_json_values = st.recursive(
    _json_leaves,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
_times = st.datetimes(
    min_value=dt_module.datetime(2000, 1, 1),
    max_value=dt_module.datetime(2100, 1, 1),
    timezones=st.timezones(),
)


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    shared=st.fixed_dictionaries(
        {
            "recorded_at": _times,
            "on_behalf_of": st.text(max_size=5),
            "client_name": st.text(max_size=10),
            "environment": st.sampled_from(["production", "experiment"]),
            "channel": st.text(max_size=5),
            "source_address": st.none() | st.just("127.0.0.1") | st.just("::1"),
            "object_type": st.text(max_size=5),
            "object_id": st.text(max_size=5),
            "request_id": st.text(max_size=10),
        }
    ),
    rows=st.lists(
        st.fixed_dictionaries(
            {
                "event_id": st.uuids(),
                "occurred_at": _times,
                "actor": st.text(max_size=10),
                "actor_role": st.text(max_size=10),
                "action": st.text(max_size=10),
                "outcome": st.sampled_from(["success", "failure"]),
                "project_id": st.uuids(),
                "image_id": st.none() | st.uuids(),
                "trace_uid": st.text(max_size=10),
                "grant_id": st.none() | st.integers(min_value=1, max_value=2**62),
                "basis": st.sampled_from(
                    ["", "grant", "case_lead", "no_grant", "unknown_user", "unknown_project"]
                ),
                "details": st.dictionaries(st.text(max_size=10), _json_values, max_size=4),
            }
        ),
        min_size=1,
        max_size=4,
    ),
    sequence=st.integers(min_value=1, max_value=10**12),
)
def test_the_fast_encodings_equal_the_original_canonical_encoding(shared, rows, sequence):
    encoder = RowEncoder(shared)
    for row in rows:
        fields = {**shared, **row, "sequence": sequence}
        expected = _reference_encoding(fields)
        assert canonical_bytes(fields) == expected
        before, after = canonical_parts(fields)
        assert before + str(sequence).encode() + after == expected
        fast_before, fast_after = encoder.parts({**shared, **row})
        assert (fast_before, fast_after) == (before, after)
        assert row_hash_parts("a" * 64, before, sequence, after) == row_hash("a" * 64, fields)


def test_the_splice_finds_the_top_level_sequence_even_when_details_hold_one():
    fields: dict[str, object] = {name: "" for name in CHAINED_FIELDS}
    fields.update(sequence=7, grant_id=None, details={"sequence": None, "x": '"sequence":null'})
    before, after = canonical_parts(fields)
    assert before + b"7" + after == canonical_bytes(fields)
