"""Nobody shortens the trail unnoticed (issue 11, item 2).

As the runtime role (PostgreSQL; a role like production's, restricted by ``audit.pg_privileges``),
each way of shortening the trail is refused by the database: deleting the oldest rows, deleting the
newest rows, moving the chain head back, switching the triggers off and truncating. The application's
own writers, the checkpoint task and the retention purge (through the owner's function) still work.

As the owner, who can do each of those, ``audit_verify`` notices every one: it exits 1 naming the
first broken sequence. Those run on SQLite as well (there the "owner" is whoever writes the file).
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit import actions, pg_purge, triggers
from audit.actor import Actor
from audit.models import AuditEvent, ChainCheckpoint, ChainHead, Outcome
from audit.services import (
    ClientEvent,
    audit_record,
    audit_record_client_events,
    checkpoint_write,
    usage_events_record,
)
from audit.usage import UsageEvent
from retention.purge import audit_purge
from tests.audit_helpers import as_role, create_runtime_role, triggers_off

pytestmark = pytest.mark.django_db
BY = Actor.command("tests")
YEARS_8 = datetime.timedelta(days=8 * 365)
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="roles and privileges are PostgreSQL's (SQLite has none)"
)


@pytest.fixture(autouse=True)
def checkpoint_file(tmp_path: Path, settings) -> Path:
    settings.AUDIT_CHECKPOINT_FILE = str(tmp_path / "audit-checkpoints.log")
    return tmp_path / "audit-checkpoints.log"


def record(count: int, *, at: datetime.datetime | None = None) -> list[AuditEvent]:
    def write() -> list[AuditEvent]:
        return [
            audit_record(
                action=actions.CASE_CREATED, actor=BY, object_type="case", object_id=n, details={"n": n}
            )
            for n in range(count)
        ]

    if at is None:
        return write()
    with mock.patch("audit.services.timezone.now", return_value=at):
        return write()


def sql(statement: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def broken_message() -> str:
    with pytest.raises(CommandError) as failure:
        call_command("audit_verify", stdout=StringIO())
    assert failure.value.returncode == 1
    return str(failure.value)


def verify() -> str:
    out = StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue().strip()


def head() -> tuple[int, str]:
    return ChainHead.objects.values_list("sequence", "hash").get(pk=1)


# As the runtime role: refused by the database


def _delete_prefix() -> None:
    # The old door: the flag alone no longer opens it, and the role holds no DELETE anyway.
    sql("SELECT set_config(%s, 'on', true)", [triggers.PURGE_SETTING])
    sql("DELETE FROM audit_auditevent WHERE sequence <= 2")


def _delete_tail() -> None:
    sql("DELETE FROM audit_auditevent WHERE sequence > 3")


def _rewind_head() -> None:
    second = AuditEvent.objects.get(sequence=2)
    sql("UPDATE audit_chainhead SET sequence = %s, hash = %s WHERE id = 1", [2, second.hash])


def _disable_triggers() -> None:
    sql("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")


def _truncate() -> None:
    sql("TRUNCATE audit_auditevent")


RUNTIME_ATTEMPTS: dict[str, tuple[Callable[[], object], str]] = {
    "delete-prefix": (_delete_prefix, "permission denied for table audit_auditevent"),
    "delete-tail": (_delete_tail, "permission denied for table audit_auditevent"),
    "head-rewind": (_rewind_head, "the chain head only moves forward"),
    "disable-trigger": (_disable_triggers, "must be owner of table audit_auditevent"),
    "truncate": (_truncate, "permission denied for table audit_auditevent"),
    "update-a-row": (
        lambda: sql("UPDATE audit_auditevent SET actor = 'mallory' WHERE sequence = 2"),
        "permission denied for table audit_auditevent",
    ),
    "head-rewritten-in-place": (
        lambda: sql("UPDATE audit_chainhead SET hash = %s WHERE id = 1", ["f" * 64]),
        "the chain head only moves forward",
    ),
    "delete-the-head": (
        lambda: sql("DELETE FROM audit_chainhead"),
        "permission denied for table audit_chainhead",
    ),
    "delete-checkpoints": (
        lambda: sql("DELETE FROM audit_chaincheckpoint"),
        "permission denied for table audit_chaincheckpoint",
    ),
    "truncate-checkpoints": (
        lambda: sql("TRUNCATE audit_chaincheckpoint"),
        "permission denied for table audit_chaincheckpoint",
    ),
    "disable-the-heads-trigger": (
        lambda: sql("ALTER TABLE audit_chainhead DISABLE TRIGGER USER"),
        "must be owner of table audit_chainhead",
    ),
    "replace-the-purge-function": (
        lambda: pg_purge.install(connection, days=1),
        # Refused before ownership is even asked: the runtime role may not create in the schema.
        "permission denied for schema public|must be owner of function audit_purge_expired",
    ),
    "purge-young-rows-through-the-function": (
        lambda: pg_purge.call(connection, through=4, actor=dict.fromkeys(pg_purge.ACTOR_PARAMETERS, "")),
        "audit purge refused: sequence 4 is not in the expired prefix",
    ),
}


@postgresql_only
@pytest.mark.parametrize("attempt", list(RUNTIME_ATTEMPTS))
def test_the_runtime_role_cannot_shorten_or_rewind_the_trail(attempt: str):
    runtime = create_runtime_role()
    record(6)
    checkpoint_write()
    before = (
        list(AuditEvent.objects.values_list("sequence", "hash")),
        head(),
        ChainCheckpoint.objects.count(),
    )
    action, refusal = RUNTIME_ATTEMPTS[attempt]

    with pytest.raises(DatabaseError, match=refusal), as_role(runtime):
        action()

    after = (
        list(AuditEvent.objects.values_list("sequence", "hash")),
        head(),
        ChainCheckpoint.objects.count(),
    )
    assert after == before
    assert verify() == "OK 6 events"


@postgresql_only
def test_the_runtime_role_holds_select_and_insert_on_the_trail_and_nothing_more():
    runtime = create_runtime_role()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, array_agg(DISTINCT acl.privilege_type ORDER BY acl.privilege_type) "
            "FROM pg_class c, aclexplode(c.relacl) acl "
            "WHERE c.relname IN ('audit_auditevent', 'audit_chaincheckpoint', 'audit_chainhead') "
            "AND acl.grantee = to_regrole(%s) GROUP BY c.relname",
            [runtime],
        )
        rights = dict(cursor.fetchall())
        cursor.execute(
            "SELECT count(*) FROM pg_class WHERE relname LIKE 'audit\\_%%' AND relowner = to_regrole(%s)",
            [runtime],
        )
        owned = cursor.fetchone()[0]
    assert rights == {
        "audit_auditevent": ["INSERT", "SELECT"],
        "audit_chaincheckpoint": ["INSERT", "SELECT"],
        "audit_chainhead": ["INSERT", "SELECT", "UPDATE"],
    }
    assert owned == 0


@postgresql_only
def test_the_runtime_role_still_writes_checkpoints_and_purges_through_the_owners_function(checkpoint_file):
    """Every writer of the trail works as the runtime role: one event, the denials' database
    function, Hansken's usage events (COPY), the checkpoint task and the retention purge."""
    runtime = create_runtime_role()
    record(3, at=timezone.now() - YEARS_8)
    with as_role(runtime):
        record(1)
        audit_record_client_events(
            [ClientEvent(str(uuid.uuid4()), "someone", None, None, "", None, {"reason": "no_grant"})],
            action="authz.denied",
            outcome=Outcome.DENIED,
            client_name="hansken",
            environment="production",
            source_address=None,
            request_id="r-1",
        )
        usage_events_record(
            events=[
                UsageEvent(
                    event_id=uuid.uuid4(),
                    occurred_at=timezone.now(),
                    user="someone",
                    action="read",
                    project_id=uuid.uuid4(),
                    image_id=None,
                    trace_uid="",
                    outcome="success",
                    details={},
                )
            ],
            client_name="hansken",
            environment="production",
            source_address=None,
            request_id="r-2",
        )
        checkpoint = checkpoint_write()
        result = audit_purge(by=Actor.system("audit_purge"))
    assert checkpoint is not None and checkpoint.sequence == 6
    assert (result.purged, result.first, result.last) == (3, 1, 3)
    assert AuditEvent.objects.order_by("sequence").first().sequence == 4  # type: ignore[union-attr]
    purge = AuditEvent.objects.get(action="audit.purged")
    assert purge.actor == "system:audit_purge" and purge.details["anchor_sequence"] == 3
    lines = [json.loads(line)["sequence"] for line in checkpoint_file.read_text().splitlines()]
    assert lines == [6, 3]
    assert verify() == "OK 4 events"  # 4 to 6 and the purge's own event


# As the owner: possible, and caught by audit_verify


def _owner_delete_prefix() -> None:
    with triggers_off():
        sql("DELETE FROM audit_auditevent WHERE sequence <= 2")


def _owner_delete_tail() -> None:
    with triggers_off():
        sql("DELETE FROM audit_auditevent WHERE sequence > 4")


def _owner_rewind_head() -> None:
    fourth = AuditEvent.objects.get(sequence=4)
    with triggers_off():
        sql("DELETE FROM audit_auditevent WHERE sequence > 4")
        sql("DELETE FROM audit_chaincheckpoint")
        sql("UPDATE audit_chainhead SET sequence = 4, hash = %s", [fourth.hash])


def _owner_disable_triggers() -> None:
    with triggers_off():
        sql("UPDATE audit_auditevent SET actor = 'mallory' WHERE sequence = 3")


def _owner_truncate() -> None:
    with triggers_off():
        if connection.vendor == "postgresql":
            sql("TRUNCATE audit_auditevent, audit_chaincheckpoint, audit_chainhead")
        else:  # SQLite has no TRUNCATE; DELETE without WHERE is its equivalent
            for table in ("audit_auditevent", "audit_chaincheckpoint", "audit_chainhead"):
                sql(f"DELETE FROM {table}")  # noqa: S608 (constant names)


OWNER_TAMPERING: dict[str, tuple[Callable[[], None], str]] = {
    "delete-prefix": (
        _owner_delete_prefix,
        "broken at sequence 1: rows 1 to 2 are missing and no retained purge event names an anchor at 2",
    ),
    "delete-tail": (_owner_delete_tail, "broken at sequence 5: the row is missing"),
    "head-rewind": (
        _owner_rewind_head,
        "broken at sequence 5: the chain ends at sequence 4, but the checkpoint",
    ),
    "disable-trigger": (
        _owner_disable_triggers,
        "broken at sequence 3: its hash does not match its contents",
    ),
    "truncate": (_owner_truncate, "broken at sequence 1: the chain ends at sequence 0, but the checkpoint"),
}


@pytest.mark.parametrize("tampering", list(OWNER_TAMPERING))
def test_the_owner_can_shorten_the_trail_but_audit_verify_names_where(tampering: str):
    record(6)
    assert checkpoint_write() is not None
    action, message = OWNER_TAMPERING[tampering]
    action()
    assert broken_message().startswith(message)


def _retention(settings, days: int) -> None:
    """The period as production sets it: the setting, and on PostgreSQL ``migrate`` fixing it in the
    owner's purge function (inside the test's transaction, so rolled back with it)."""
    settings.HG_AUDIT_RETENTION_DAYS = days
    pg_purge.install(connection, days=days)


def test_a_purge_under_a_period_shorter_than_the_one_in_force_is_caught(settings):
    """The owner lowers the period behind the setting's back (the function, or the setting of the
    purge's own process) and purges: the purge event names the short period, the verifier does not
    accept it."""
    record(3, at=timezone.now() - datetime.timedelta(days=3))
    record(2)
    _retention(settings, 1)
    assert audit_purge(by=BY).purged == 3
    assert verify() == "OK 3 events"  # under the one-day period it is in order
    settings.HG_AUDIT_RETENTION_DAYS = 7 * 365
    message = broken_message()
    assert message.startswith(
        "broken at sequence 1: rows 1 to 3 are missing and the purge event at sequence 6"
    )
    assert "names a period of 1 days, shorter than the 2555 days in force" in message


def test_a_purge_event_naming_another_anchor_does_not_excuse_the_gap(settings):
    record(2, at=timezone.now() - YEARS_8)
    record(3)
    assert audit_purge(by=BY).purged == 2
    assert verify() == "OK 4 events"
    # The owner removes one more row and claims the old purge event covers it.
    with triggers_off():
        sql("DELETE FROM audit_auditevent WHERE sequence = 3")
    assert broken_message().startswith(
        "broken at sequence 1: rows 1 to 3 are missing and no retained purge event names an anchor at 3"
    )


def test_a_failed_purge_event_does_not_excuse_a_gap():
    record(4)
    event = audit_record(
        action="audit.purged",
        actor=BY,
        outcome=Outcome.FAILURE,
        object_type="audit_trail",
        details={"anchor_sequence": 2, "anchor_hash": AuditEvent.objects.get(sequence=2).hash},
    )
    assert event.sequence == 5
    with triggers_off():
        sql("DELETE FROM audit_auditevent WHERE sequence <= 2")
    assert broken_message().startswith("broken at sequence 1: rows 1 to 2 are missing")


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"retention_days": 2}, "names a period of 2 days"),
        ({"anchor_hash": "f" * 64}, "names another hash for the anchor"),
        ({"cutoff": None}, "does not name the anchor's age"),
    ],
)
def test_a_forged_purge_event_must_name_the_exact_anchor_and_its_age(settings, change, problem):
    """The owner deletes a prefix and appends a purge event of his own (its hash right): the event
    must name the anchor's hash and an age the period in force allows."""
    settings.HG_AUDIT_RETENTION_DAYS = 30
    old = record(2, at=timezone.now() - datetime.timedelta(days=40))
    record(1)
    details = pg_purge.event_details(
        anchor_sequence=2,
        anchor_hash=old[-1].hash,
        anchor_occurred_at=old[-1].occurred_at.isoformat(),
        anchor_recorded_at=old[-1].recorded_at.isoformat(),
        cutoff=(timezone.now() - datetime.timedelta(days=30)).isoformat(),
        retention_days=30,
        purged=2,
        first_sequence=1,
        last_sequence=2,
    )
    audit_record(action="audit.purged", actor=BY, object_type="audit_trail", details={**details, **change})
    with triggers_off():
        sql("DELETE FROM audit_auditevent WHERE sequence <= 2")
    message = broken_message()
    assert message.startswith(
        "broken at sequence 1: rows 1 to 2 are missing and the purge event at sequence 4"
    )
    assert problem in message


def test_the_head_only_moves_forward_for_the_owner_too_unless_he_switches_the_trigger_off():
    record(3)
    with pytest.raises(DatabaseError, match="the chain head only moves forward"), transaction.atomic():
        ChainHead.objects.filter(pk=1).update(sequence=1)
    with pytest.raises(DatabaseError, match="the chain head only moves forward"), transaction.atomic():
        ChainHead.objects.filter(pk=1).update(hash="f" * 64)
    assert head()[0] == 3


@postgresql_only
def test_the_purge_door_stays_shut_to_a_role_that_is_not_the_owner_even_with_delete_granted():
    """Two locks, not one: were DELETE granted to the runtime role by mistake (until the next
    ``migrate`` takes it back), the triggers would still refuse it, flag or no flag."""
    runtime = create_runtime_role()
    record(3)
    sql(f"GRANT DELETE ON audit_auditevent TO {runtime}")
    with (
        pytest.raises(DatabaseError, match="append-only: DELETE on audit_auditevent refused"),
        as_role(runtime),
    ):
        sql("SELECT set_config(%s, 'on', true)", [triggers.PURGE_SETTING])
        sql("DELETE FROM audit_auditevent WHERE sequence = 1")
    assert AuditEvent.objects.count() == 3
