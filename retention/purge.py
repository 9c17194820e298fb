"""The audit trail's own retention: rows older than ``HG_AUDIT_RETENTION_DAYS`` (default 7 years)
leave the trail, and the chain stays verifiable.

The purge removes a *prefix* of the chain only — every row up to the first one that is not old
enough — so no gap ever opens in the middle. Before it removes anything it verifies the rows it is
about to remove (from the chain's current anchor), so a purge never erases the evidence of tampering.
It then anchors the new start: a checkpoint (table and checkpoint file, as ``audit.services.
checkpoint_write`` writes them) at the last removed sequence, which ``audit_verify`` starts from
(``audit.verify._anchor``). The rows leave through the one door the append-only triggers leave open
(``audit.triggers.open_purge_door``, for this transaction only), and the run records itself in the
trail in the same transaction.

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

from audit import checkpoints, triggers
from audit.actor import Actor
from audit.chain import GENESIS_HASH
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
def audit_purge(*, by: Actor, now: datetime.datetime | None = None, days: int | None = None) -> PurgeResult:
    days = retention_days() if days is None else days
    if days < 1:
        raise ValueError("The audit trail's retention must be at least one day.")
    cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
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

    anchor_hash = AuditEvent.objects.filter(sequence=last).values_list("hash", flat=True).get()
    existing = ChainCheckpoint.objects.filter(sequence=last).first()
    if existing is None:
        created_at = timezone.now()
        ChainCheckpoint.objects.create(sequence=last, hash=anchor_hash, created_at=created_at)
        # The line states a fact about committed rows (row ``last`` has this hash), so it stays true
        # even if this transaction were rolled back after it.
        checkpoints.append(sequence=last, digest=anchor_hash, created_at=created_at)
    triggers.open_purge_door(connection)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {AuditEvent._meta.db_table} WHERE sequence <= %s",  # noqa: S608
                [last],
            )
            purged = cursor.rowcount
    finally:
        triggers.close_purge_door(connection)
    return _recorded(PurgeResult(purged, cutoff, first, last), by, days, anchor_hash)


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


def _recorded(result: PurgeResult, by: Actor, days: int, anchor_hash: str = "") -> PurgeResult:
    audit_record(
        action=actions.AUDIT_PURGED,
        actor=by,
        outcome=Outcome.FAILURE if result.refused else Outcome.SUCCESS,
        object_type="audit_trail",
        details={
            "retention_days": days,
            "cutoff": result.cutoff.isoformat(),
            "purged": result.purged,
            "first_sequence": result.first,
            "last_sequence": result.last,
            "anchor_sequence": result.last if result.purged else None,
            "anchor_hash": anchor_hash or None,
            "refused": result.refused or None,
        },
    )
    return result
