"""The SIEM forwarder: every audit event after the cursor, in sequence order, in chunks.

The audit trail is the outbox. For each chunk: read the events after ``SiemCursor.last_sequence``,
frame them (``siem.formats``), add the chain checkpoints the chunk covers, deliver them over one
connection confirmed by a graceful close (``siem.transport``), and only then move the cursor to the
chunk's last sequence. A failure leaves the cursor where it was, so the next run sends the chunk
again: delivery is at-least-once, in order, and the SIEM drops duplicates by event id. A worker
killed between the write and the cursor update causes duplicates, never a gap; a lost or repeated
task run only changes when events arrive.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent, ChainCheckpoint
from siem import formats, lock, transport
from siem.models import SiemCursor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ForwardResult:
    enabled: bool
    ran: bool  # False when another forwarder held the lock
    events: int = 0
    checkpoints: int = 0
    last_sequence: int = 0
    error: str = ""


def cursor_row() -> SiemCursor:
    cursor, _ = SiemCursor.objects.get_or_create(pk=1)
    return cursor


def forward(*, chunk_size: int | None = None) -> ForwardResult:
    """Send everything after the cursor. Safe to call at any time, from any number of processes."""
    if not settings.SIEM_HOST:
        return ForwardResult(enabled=False, ran=False)
    size = chunk_size or settings.SIEM_CHUNK_SIZE
    target = transport.Target.from_settings()
    framing = formats.Framing.create(
        body_format=settings.SIEM_FORMAT,
        max_bytes=settings.SIEM_MAX_MESSAGE_BYTES,
        hostname=settings.SIEM_SYSLOG_HOSTNAME,
    )
    with lock.exclusive("siem-forward") as acquired:
        if not acquired:
            return ForwardResult(enabled=True, ran=False)
        return _forward_locked(target, framing, size)


def _forward_locked(target: transport.Target, framing: formats.Framing, size: int) -> ForwardResult:
    cursor = cursor_row()
    sequence, checkpoint_sequence = cursor.last_sequence, cursor.last_checkpoint_sequence
    events = checkpoints = 0
    while True:
        rows = list(
            AuditEvent.objects.filter(sequence__gt=sequence)
            .order_by("sequence")
            .values_list(*formats.COLUMNS)[:size]
        )
        upto = rows[-1][0] if rows else sequence
        # Checkpoints go after the events they cover, so the SIEM never has a checkpoint for rows it
        # has not received.
        anchors = list(
            ChainCheckpoint.objects.filter(sequence__gt=checkpoint_sequence, sequence__lte=upto)
            .order_by("sequence")
            .values_list("sequence", "hash", "created_at")
        )
        if not rows and not anchors:
            break
        records = [formats.event_record(framing, row) for row in rows]
        records += [
            formats.checkpoint_record(framing, sequence=seq, digest=digest, created_at=created)
            for seq, digest, created in anchors
        ]
        try:
            transport.deliver(target, records)
        except transport.DeliveryError as exc:
            log.warning("SIEM delivery failed after #%s: %s", sequence, exc)
            _record_failure(str(exc))
            return ForwardResult(True, True, events, checkpoints, sequence, str(exc))
        new_checkpoint = anchors[-1][0] if anchors else checkpoint_sequence
        if not _advance(sequence, upto, new_checkpoint):
            # Someone moved the cursor under us (the lock should make this impossible): stop and let
            # the next run start from the stored cursor.
            log.error("SIEM cursor moved by another forwarder; stopping this run")
            break
        sequence, checkpoint_sequence = upto, new_checkpoint
        events += len(rows)
        checkpoints += len(anchors)
        if len(rows) < size:
            break
    return ForwardResult(True, True, events, checkpoints, sequence)


def _advance(old: int, new: int, checkpoint: int) -> bool:
    """Compare-and-set: the cursor moves from ``old`` only."""
    with transaction.atomic():
        moved = SiemCursor.objects.filter(pk=1, last_sequence=old).update(
            last_sequence=new,
            last_checkpoint_sequence=checkpoint,
            last_success_at=timezone.now(),
            last_attempt_at=timezone.now(),
            last_error="",
        )
    return moved == 1


def _record_failure(message: str) -> None:
    with transaction.atomic():
        SiemCursor.objects.filter(pk=1).update(last_attempt_at=timezone.now(), last_error=message[:500])
