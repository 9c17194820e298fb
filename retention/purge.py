"""The audit trail's own retention: rows older than ``HG_AUDIT_RETENTION_DAYS`` (default 7 years)
leave the trail, and the chain stays verifiable.

The purge removes a *prefix* of the chain only — every row up to the first one that is not old
enough — so no gap ever opens in the middle. Before it removes anything it verifies the rows it is
about to remove (from the chain's current anchor), so a purge never erases the evidence of tampering.
It then anchors the new start: a checkpoint (table and checkpoint file) at the last removed
sequence, and the purge event ``audit.purged`` naming that anchor's sequence, hash and times, the
cut-off and the period. ``audit_verify`` accepts a missing prefix only where a retained purge event
names that exact anchor and its age (``audit.verify``).

Where the rows leave:

- PostgreSQL: inside the owner's ``SECURITY DEFINER`` function ``audit_purge_expired``
  (``audit.pg_purge``). The runtime role cannot delete rows itself; the function takes the period
  fixed by ``migrate`` and the database's clock, removes only an expired prefix, and writes the
  anchor checkpoint and the purge event itself. This module asks it for its plan, verifies the rows,
  asks it to remove them, and writes the checkpoint's file line, all in one transaction.
- SQLite: here, through the append-only triggers' door (``audit.triggers.open_purge_door``, for this
  transaction only). SQLite has no roles: whoever can write the database file can do anything, so
  there the guarantee is the chain and the checkpoint file, not the database's refusal.

A row is old enough when both its time of occurrence and its time of recording lie before the
cut-off: an event Hansken reports late is kept for the full period after it reached us.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Min, Q
from django.utils import timezone

from audit import checkpoints, pg_purge, triggers
from audit.actor import Actor
from audit.chain import GENESIS_HASH, canonical_time
from audit.models import AuditEvent, ChainCheckpoint, Outcome
from audit.services import audit_record
from audit.verify import verify_chain
from retention import actions

DEFAULT_AUDIT_RETENTION_DAYS = 7 * 365


@dataclass(frozen=True)
class PurgeResult:
    purged: int
    cutoff: datetime.datetime
    first: int | None = None  # the first and last sequence removed
    last: int | None = None
    refused: str = ""  # why nothing was removed although rows were old enough


def retention_days() -> int:
    return int(getattr(settings, "HG_AUDIT_RETENTION_DAYS", DEFAULT_AUDIT_RETENTION_DAYS))


@transaction.atomic
def audit_purge(*, by: Actor) -> PurgeResult:
    if connection.vendor == "postgresql":
        return _purge_in_database(by)
    return _purge_here(by)


def _purge_in_database(by: Actor) -> PurgeResult:
    who = {
        "actor": by.username,
        "on_behalf_of": by.on_behalf_of,
        "actor_role": by.role,
        "client_name": by.client_name,
        "environment": by.environment,
        "channel": by.channel,
        "request_id": by.request_id,
    }
    plan = pg_purge.call(connection, through=None, actor=who)
    days, cutoff = plan.retention_days, plan.cutoff
    if plan.last_sequence is None or plan.first_sequence is None:
        return _recorded(PurgeResult(0, cutoff), by, days)
    first, last = plan.first_sequence, plan.last_sequence
    refusal = _check_before_removal(first, last)
    if refusal:
        return _recorded(PurgeResult(0, cutoff, first, last, refused=refusal), by, days)
    anchored = ChainCheckpoint.objects.filter(sequence=last).exists()
    done = pg_purge.call(connection, through=last, actor=who)
    if not anchored:
        # The line states a fact about committed rows (row ``last`` has this hash), so it stays true
        # even if this transaction were rolled back after it.
        checkpoints.append(sequence=last, digest=done.anchor_hash or "", created_at=done.checkpoint_at)
    return PurgeResult(done.purged, cutoff, first, last)


def _purge_here(by: Actor) -> PurgeResult:
    days = retention_days()
    if days < 1:
        raise ValueError("The audit trail's retention must be at least one day.")
    cutoff = timezone.now() - datetime.timedelta(days=days)
    first = AuditEvent.objects.aggregate(first=Min("sequence"))["first"]
    if first is None:
        return _recorded(PurgeResult(0, cutoff), by, days)
    young = AuditEvent.objects.filter(Q(occurred_at__gte=cutoff) | Q(recorded_at__gte=cutoff))
    keep_from = young.aggregate(first=Min("sequence"))["first"]
    if keep_from is None:
        last = AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first()
        assert last is not None
    else:
        last = keep_from - 1
    if last < first:
        return _recorded(PurgeResult(0, cutoff), by, days)

    refusal = _check_before_removal(first, last)
    if refusal:
        return _recorded(PurgeResult(0, cutoff, first, last, refused=refusal), by, days)

    anchor = AuditEvent.objects.filter(sequence=last).values("hash", "occurred_at", "recorded_at").get()
    existing = ChainCheckpoint.objects.filter(sequence=last).first()
    if existing is None:
        created_at = timezone.now()
        ChainCheckpoint.objects.create(sequence=last, hash=anchor["hash"], created_at=created_at)
        checkpoints.append(sequence=last, digest=anchor["hash"], created_at=created_at)
    triggers.open_purge_door(connection)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {AuditEvent._meta.db_table} WHERE sequence <= %s",  # noqa: S608  # nosec B608  # the model's table name
                [last],
            )
            purged = cursor.rowcount
    finally:
        triggers.close_purge_door(connection)
    result = PurgeResult(purged, cutoff, first, last)
    return _recorded(
        result,
        by,
        days,
        anchor_hash=anchor["hash"],
        anchor_occurred_at=canonical_time(anchor["occurred_at"]),
        anchor_recorded_at=canonical_time(anchor["recorded_at"]),
        anchor_sequence=last,
    )


def _check_before_removal(first: int, last: int) -> str:
    """Why the rows ``first``..``last`` may not be removed, or "" when they may."""
    if first == 1:
        start = (0, GENESIS_HASH)
    else:
        mark = ChainCheckpoint.objects.filter(sequence=first - 1).first()
        if mark is None:
            return f"the chain's first row ({first}) is not anchored by a checkpoint at {first - 1}"
        start = (mark.sequence, mark.hash)
    existing = ChainCheckpoint.objects.filter(sequence=last).first()
    result = verify_chain(start_after=start, up_to=last, against_checkpoints=False)
    if not result.ok:
        return f"the rows to remove do not verify: {result.message}"
    if existing is not None:
        digest = AuditEvent.objects.filter(sequence=last).values_list("hash", flat=True).get()
        if existing.hash != digest:
            return f"the checkpoint at {last} disagrees with the row's hash"
    return ""


def _recorded(result: PurgeResult, by: Actor, days: int, **anchor: object) -> PurgeResult:
    """The purge event, written here (SQLite; on PostgreSQL a run that removed nothing). The same
    details as the database function writes (``audit.pg_purge.event_details``)."""
    audit_record(
        action=actions.AUDIT_PURGED,
        actor=by,
        outcome=Outcome.FAILURE if result.refused else Outcome.SUCCESS,
        object_type="audit_trail",
        details=pg_purge.event_details(
            retention_days=days,
            cutoff=canonical_time(result.cutoff),
            purged=result.purged,
            first_sequence=result.first,
            last_sequence=result.last,
            refused=result.refused or None,
            **anchor,
        ),
    )
    return result
