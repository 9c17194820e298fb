"""The audit trail's own retention: the purge removes only rows older than HG_AUDIT_RETENTION_DAYS,
only through the purge door, leaves an anchor from which ``audit_verify`` still passes, refuses to
erase rows that do not verify, and records its own run."""

from __future__ import annotations

import datetime
import json
import uuid
from io import StringIO
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit import actions, pg_purge
from audit.actor import Actor
from audit.models import AuditEvent, ChainCheckpoint
from audit.services import audit_record
from retention.purge import audit_purge
from retention.tasks import purge_audit_trail
from tests.audit_helpers import triggers_off

BY = Actor.command("tests")
YEARS_8 = datetime.timedelta(days=8 * 365)


@pytest.fixture(autouse=True)
def checkpoint_file(tmp_path: Path, settings) -> Path:
    settings.AUDIT_CHECKPOINT_FILE = str(tmp_path / "audit-checkpoints.log")
    return tmp_path / "audit-checkpoints.log"


def record(count: int, *, at: datetime.datetime | None = None) -> list[AuditEvent]:
    def write() -> list[AuditEvent]:
        return [
            audit_record(
                action=actions.CASE_CREATED,
                actor=BY,
                project_id=uuid.uuid4(),
                object_type="case",
                object_id=n,
                occurred_at=at,
                details={"n": n},
            )
            for n in range(count)
        ]

    if at is None:
        return write()
    # Rows written long ago: the trail's clock is set back while they are appended.
    with mock.patch("audit.services.timezone.now", return_value=at):
        return write()


def verify() -> str:
    out = StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue().strip()


def sequences() -> list[int]:
    return list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True))


@pytest.mark.django_db
def test_it_removes_only_rows_older_than_seven_years_and_the_chain_still_verifies(checkpoint_file: Path):
    old = record(5, at=timezone.now() - YEARS_8)
    young = record(3, at=timezone.now() - datetime.timedelta(days=6 * 365))
    recent = record(2)

    result = audit_purge(by=BY)

    assert (result.purged, result.first, result.last) == (5, 1, 5)
    remaining = sequences()
    assert remaining[:5] == [e.sequence for e in young + recent]
    assert all(e.sequence not in remaining for e in old)
    anchor = ChainCheckpoint.objects.get(sequence=5)
    assert anchor.hash == old[-1].hash
    assert json.loads(checkpoint_file.read_text().splitlines()[-1])["sequence"] == 5
    purged = AuditEvent.objects.get(action="audit.purged")
    assert purged.outcome == "success" and purged.actor == "command:tests"
    assert purged.details["purged"] == 5
    assert purged.details["anchor_sequence"] == 5 and purged.details["anchor_hash"] == old[-1].hash
    assert purged.details["retention_days"] == 7 * 365
    assert verify() == "OK 6 events"  # 3 + 2 + the purge's own event


@pytest.mark.django_db
def test_a_young_row_stops_the_purge_so_no_gap_opens(checkpoint_file: Path):
    record(2, at=timezone.now() - YEARS_8)
    record(1)  # young
    record(2, at=timezone.now() - YEARS_8)  # old again, but after a young row: stays
    result = audit_purge(by=BY)
    assert (result.purged, result.last) == (2, 2)
    assert sequences() == [3, 4, 5, 6]  # 3 to 5 kept, 6 the purge's own event
    assert verify() == "OK 4 events"


@pytest.mark.django_db
def test_a_late_reported_event_is_kept_for_the_full_period_after_it_arrived(checkpoint_file: Path):
    # Occurred eight years ago, but reached us only now: young by its time of recording.
    record_late = audit_record(
        action=actions.CASE_CREATED, actor=BY, occurred_at=timezone.now() - YEARS_8, object_type="case"
    )
    assert audit_purge(by=BY).purged == 0
    assert AuditEvent.objects.filter(sequence=record_late.sequence).exists()


@pytest.mark.django_db
def test_nothing_old_enough_removes_nothing_and_still_records_the_run(checkpoint_file: Path):
    record(3)
    result = audit_purge(by=BY)
    assert result.purged == 0 and not result.refused
    assert sequences()[:3] == [1, 2, 3]
    event = AuditEvent.objects.get(action="audit.purged")
    assert event.details["purged"] == 0 and event.details["anchor_sequence"] is None
    assert verify() == "OK 4 events"


def retention(settings, days: int) -> None:
    """The period as production sets it: the setting, and on PostgreSQL ``migrate`` fixing it in the
    owner's purge function (``audit.pg_purge``; inside the test's transaction, rolled back with it)."""
    settings.HG_AUDIT_RETENTION_DAYS = days
    pg_purge.install(connection, days=days)


@pytest.mark.django_db
def test_a_second_purge_starts_from_the_first_ones_anchor(settings, checkpoint_file: Path):
    record(3, at=timezone.now() - YEARS_8)
    record(2, at=timezone.now() - datetime.timedelta(days=6 * 365))
    record(1)
    assert audit_purge(by=BY).purged == 3
    # A shorter period (set, and fixed by migrate): rows 4 and 5 are now old too; the purge verifies
    # them from the anchor at 3. The first purge's event (7) is young and stays, as does row 6.
    retention(settings, 5 * 365)
    second = audit_purge(by=BY)
    assert (second.first, second.last, second.purged) == (4, 5, 2)
    assert sequences() == [6, 7, 8]
    purged = AuditEvent.objects.filter(action="audit.purged").order_by("sequence").last()
    assert purged is not None and purged.details["anchor_sequence"] == 5
    assert purged.details["retention_days"] == 5 * 365
    assert verify() == "OK 3 events"


@pytest.mark.django_db
def test_the_setting_sets_the_period(settings, checkpoint_file: Path):
    retention(settings, 30)
    record(2, at=timezone.now() - datetime.timedelta(days=31))
    record(1, at=timezone.now() - datetime.timedelta(days=29))
    assert purge_audit_trail() == 2  # the scheduled task
    event = AuditEvent.objects.get(action="audit.purged")
    assert event.actor == "system:audit_purge" and event.details["retention_days"] == 30
    assert verify() == "OK 2 events"


@pytest.mark.django_db
def test_the_purge_event_names_the_anchor_and_its_age(checkpoint_file: Path):
    old = record(2, at=timezone.now() - YEARS_8)
    record(1)
    audit_purge(by=BY)
    event = AuditEvent.objects.get(action="audit.purged")
    cutoff = datetime.datetime.fromisoformat(event.details["cutoff"])
    assert event.details["anchor_occurred_at"] == old[-1].occurred_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert event.details["anchor_recorded_at"] == old[-1].recorded_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert cutoff <= event.recorded_at - datetime.timedelta(days=7 * 365)
    assert cutoff > event.recorded_at - datetime.timedelta(days=7 * 365, minutes=1)
    assert (event.details["first_sequence"], event.details["last_sequence"], event.details["purged"]) == (
        1,
        2,
        2,
    )


@pytest.mark.django_db
def test_it_refuses_to_erase_rows_that_do_not_verify(checkpoint_file: Path):
    old = record(3, at=timezone.now() - YEARS_8)
    record(1)
    with triggers_off(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET actor = %s WHERE sequence = %s", ["someone-else", old[1].sequence]
        )
    result = audit_purge(by=BY)
    assert result.purged == 0
    assert "do not verify" in result.refused and "sequence 2" in result.refused
    assert sequences()[:4] == [1, 2, 3, 4]
    event = AuditEvent.objects.get(action="audit.purged")
    assert event.outcome == "failure" and event.details["refused"] == result.refused
    with pytest.raises(CommandError, match="broken at sequence 2"):
        verify()


@pytest.mark.django_db
def test_the_door_closes_again_after_the_purge(checkpoint_file: Path):
    record(2, at=timezone.now() - YEARS_8)
    record(1)
    audit_purge(by=BY)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(sequence=3).delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(sequence=3).update(actor="x")


@pytest.mark.django_db
def test_a_purge_whose_event_cannot_be_written_removes_nothing(checkpoint_file: Path):
    """The seam: the removal and its event commit together or not at all. A row forged beyond the
    chain head (INSERT is all the runtime role may do) takes the sequence the purge event needs, so
    writing the event fails; on PostgreSQL inside the owner's function, after its DELETE."""
    record(3, at=timezone.now() - YEARS_8)
    last = record(1)[-1]
    forged = {field.name: getattr(last, field.name) for field in AuditEvent._meta.fields}
    AuditEvent.objects.create(**{**forged, "sequence": 5, "event_id": uuid.uuid4()})
    with pytest.raises(DatabaseError):
        audit_purge(by=BY)
    assert sequences() == [1, 2, 3, 4, 5]
    assert not AuditEvent.objects.filter(action="audit.purged").exists()
    assert not ChainCheckpoint.objects.exists()


@pytest.mark.django_db
def test_a_purge_whose_checkpoint_line_cannot_be_written_removes_nothing(checkpoint_file: Path):
    record(3, at=timezone.now() - YEARS_8)
    record(1)
    with (
        mock.patch("retention.purge.checkpoints.append", side_effect=OSError("disk full")),
        pytest.raises(OSError, match="disk full"),
    ):
        audit_purge(by=BY)
    assert sequences() == [1, 2, 3, 4]
    assert not AuditEvent.objects.filter(action="audit.purged").exists()
    assert not ChainCheckpoint.objects.exists()
    assert verify() == "OK 4 events"
