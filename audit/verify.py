"""Verify the hash chain: every row in sequence order, against the chain head and the checkpoints.

What each kind of tampering looks like here (``tests/test_audit_chain.py`` does each one):

- a field changed: the row's hash no longer matches its contents;
- a row deleted: a gap in the sequence numbers;
- a row inserted: a sequence number out of place, or a prev_hash that is not the previous row's hash,
  or a row beyond the chain head;
- two rows swapped: the first of them has a prev_hash that is not its predecessor's hash;
- the tail cut off: the chain ends before the chain head, or before the newest checkpoint;
- the whole chain recomputed after a change: a row's hash differs from a checkpoint's;
- the oldest rows removed: a missing prefix is accepted only where a retained purge event names that
  exact anchor and its age (``_anchor``); otherwise it is reported at sequence 1.

Rows are read in keyset pages on the primary key (``sequence > last ORDER BY sequence LIMIT n``),
so memory stays bounded at any size, each query is short, and no long transaction or server-side
cursor is held open (PostgreSQL materialises a WITH HOLD cursor in full). Committed rows never change
(append-only), so pages read one after another see one consistent chain up to the head read first.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Max

from audit import checkpoints
from audit.chain import CHAINED_FIELDS, GENESIS_HASH, row_hash
from audit.models import AuditEvent, ChainCheckpoint, ChainHead, Outcome
from retention.actions import AUDIT_PURGED

PAGE = 5_000
_N = len(CHAINED_FIELDS)


@dataclass(frozen=True)
class VerificationResult:
    ok: bool
    checked: int
    broken_at: int | None = None
    reason: str = ""

    @property
    def message(self) -> str:
        if self.ok:
            return f"OK {self.checked} events"
        if self.broken_at is None:
            return f"broken: {self.reason}"
        return f"broken at sequence {self.broken_at}: {self.reason}"


class _Broken(Exception):
    def __init__(self, sequence: int | None, reason: str) -> None:
        super().__init__(reason)
        self.sequence = sequence
        self.reason = reason


@dataclass(frozen=True)
class _Checkpoint:
    hash: str
    created_at: str
    source: str


def _rows(after: int, up_to: int | None, page: int) -> Iterator[tuple[Any, ...]]:
    columns = (*CHAINED_FIELDS, "prev_hash", "hash")
    while True:
        query = AuditEvent.objects.filter(sequence__gt=after)
        if up_to is not None:
            query = query.filter(sequence__lte=up_to)
        batch = list(query.order_by("sequence").values_list(*columns)[:page])
        yield from batch
        if len(batch) < page:
            return
        after = batch[-1][0]


def _all_checkpoints() -> dict[int, _Checkpoint]:
    """Checkpoints from the table and the file, merged; two witnesses that disagree are a break."""
    merged: dict[int, _Checkpoint] = {}
    table = list(ChainCheckpoint.objects.order_by("sequence").values_list("sequence", "hash", "created_at"))
    for sequence, digest, created_at in table:
        merged[sequence] = _Checkpoint(digest, created_at.isoformat(), "table")
    try:
        in_file = checkpoints.read()
    except checkpoints.DamagedCheckpointFile as exc:
        raise _Broken(None, f"the checkpoint file is damaged: {exc}") from exc
    if in_file is None:
        if table:
            raise _Broken(
                None,
                f"the checkpoint file {checkpoints.path()} is missing, but the database holds "
                f"{len(table)} checkpoints",
            )
        return merged
    for cp in in_file:
        known = merged.get(cp.sequence)
        if known is not None and known.hash != cp.hash:
            raise _Broken(
                cp.sequence,
                f"the checkpoint file (line {cp.line}) and the {known.source} disagree about this row's hash",
            )
        if known is None or known.source == "table":
            merged[cp.sequence] = _Checkpoint(cp.hash, cp.created_at, "checkpoint file")
    return merged


def verify_chain(
    *,
    start_after: tuple[int, str] | None = None,
    up_to: int | None = None,
    against_checkpoints: bool = True,
    page: int = PAGE,
) -> VerificationResult:
    """Check the chain. By default all of it, against the chain head and every checkpoint.

    ``start_after=(sequence, hash)`` starts after a row already trusted (a checkpoint) and
    ``up_to`` stops at a sequence: ``checkpoint_write`` verifies only what is new that way."""
    checked = 0
    try:
        marks = _all_checkpoints() if against_checkpoints else {}
        full = start_after is None
        head = ChainHead.objects.filter(pk=1).values_list("sequence", "hash").first() or (0, GENESIS_HASH)
        if full:
            up_to = head[0]
            start_after = _anchor(marks)
        assert start_after is not None
        expected, previous = start_after[0] + 1, start_after[1]
        for row in _rows(start_after[0], up_to, page):
            sequence, prev_hash, digest = row[0], row[_N], row[_N + 1]
            if sequence != expected:
                raise _Broken(expected, f"the row is missing (the next row is sequence {sequence})")
            if prev_hash != previous:
                raise _Broken(sequence, f"its prev_hash is not the hash of sequence {sequence - 1}")
            if row_hash(prev_hash, dict(zip(CHAINED_FIELDS, row[:_N], strict=True))) != digest:
                raise _Broken(sequence, "its hash does not match its contents (a field was changed)")
            mark = marks.get(sequence)
            if mark is not None and mark.hash != digest:
                raise _Broken(
                    sequence,
                    f"its hash differs from the checkpoint of {mark.created_at} ({mark.source}): "
                    "the chain up to here was rewritten",
                )
            previous = digest
            expected += 1
            checked += 1
        last = expected - 1
        if up_to is not None and last < up_to:
            raise _Broken(last + 1, f"the row is missing: the chain ends at {last} but should reach {up_to}")
        if marks:
            newest = max(marks)
            if newest > last:
                mark = marks[newest]
                raise _Broken(
                    last + 1,
                    f"the chain ends at sequence {last}, but the checkpoint of {mark.created_at} "
                    f"({mark.source}) reaches sequence {newest}: the tail was cut off",
                )
        if full:
            _check_head(head, last, previous)
    except _Broken as broken:
        return VerificationResult(False, checked, broken.sequence, broken.reason)
    return VerificationResult(True, checked)


def _anchor(marks: dict[int, _Checkpoint]) -> tuple[int, str]:
    """Where the chain starts: at the genesis, or — after the retention purge has removed the oldest
    rows — at the anchor a retained purge event names. A missing prefix is accepted only where a
    successful ``audit.purged`` event after it names that exact anchor (its sequence and hash) and an
    age that allowed its removal: the anchor occurred and was recorded before the event's cut-off,
    the cut-off is no later than the event's own time minus its period, and that period is not shorter than
    ``HG_AUDIT_RETENTION_DAYS``. The event itself is a row of the chain verified after the anchor."""
    first = AuditEvent.objects.order_by("sequence").values_list("sequence", "prev_hash").first()
    if first is None or first[0] == 1:
        return (0, GENESIS_HASH)
    anchor = first[0] - 1
    event = (
        AuditEvent.objects.filter(
            action=AUDIT_PURGED,
            outcome=Outcome.SUCCESS,
            sequence__gt=anchor,
            details__anchor_sequence=anchor,
        )
        .order_by("-sequence")
        .values("sequence", "recorded_at", "details")
        .first()
    )
    if event is None:
        raise _Broken(
            1, f"rows 1 to {anchor} are missing and no retained purge event names an anchor at {anchor}"
        )
    problem = _purge_event_problem(event, first[1])
    if problem:
        raise _Broken(
            1, f"rows 1 to {anchor} are missing and the purge event at sequence {event['sequence']} {problem}"
        )
    mark = marks.get(anchor)
    if mark is not None and mark.hash != first[1]:
        raise _Broken(
            first[0],
            f"its prev_hash differs from the checkpoint of {mark.created_at} ({mark.source}) at {anchor}",
        )
    return (anchor, first[1])


def _purge_event_problem(event: Mapping[str, Any], anchor_hash: str) -> str:
    """Why a purge event does not justify removing the rows up to its anchor, or ""."""
    details = event["details"] if isinstance(event["details"], dict) else {}
    if details.get("anchor_hash") != anchor_hash:
        return "names another hash for the anchor"
    try:
        days = int(details["retention_days"])
        cutoff = datetime.datetime.fromisoformat(details["cutoff"])
        occurred = datetime.datetime.fromisoformat(details["anchor_occurred_at"])
        recorded = datetime.datetime.fromisoformat(details["anchor_recorded_at"])
    except (KeyError, TypeError, ValueError):
        return "does not name the anchor's age"
    # (Not later: the purge may take its cut-off a moment before it records itself.)
    if cutoff > event["recorded_at"] - datetime.timedelta(days=days):
        return "names a cut-off later than its own time minus its period"
    minimum = int(getattr(settings, "HG_AUDIT_RETENTION_DAYS", 1))
    if days < minimum:
        return f"names a period of {days} days, shorter than the {minimum} days in force"
    if not (occurred < cutoff and recorded < cutoff):
        return "names an anchor younger than its cut-off"
    return ""


def _check_head(head: tuple[int, str], last: int, previous: str) -> None:
    # (A head beyond the last row was reported above, as a missing row.)
    if head[0] == last and head[1] != previous:
        raise _Broken(last, "its hash differs from the chain head's")
    # Rows beyond the head read at the start are either written since (the head moved with them) or
    # inserted behind the writers' back.
    beyond = AuditEvent.objects.filter(sequence__gt=head[0]).aggregate(top=Max("sequence"))["top"]
    if beyond is not None:
        now = ChainHead.objects.filter(pk=1).values_list("sequence", flat=True).first() or 0
        if beyond > now:
            raise _Broken(now + 1, f"the row lies beyond the chain head (sequence {now}): it was inserted")
