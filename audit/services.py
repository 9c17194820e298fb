"""The only writer of the audit trail. Services call ``audit_record`` inside their own transaction,
so a change and its event commit together or not at all."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.actor import Actor
from audit.chain import row_hash
from audit.models import AuditEvent, ChainHead, Outcome


def _head_for_update() -> ChainHead:
    head = ChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        ChainHead.objects.get_or_create(pk=1)
        head = ChainHead.objects.select_for_update().get(pk=1)
    return head


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
        "request_id": actor.request_id,
        "details": details or {},
    }


@transaction.atomic
def audit_record(*, action: str, actor: Actor, **event: Any) -> AuditEvent:
    """Append one event to the chain. Must be called inside the transaction of the change it records
    (it opens a savepoint of its own when called alone). Keyword arguments are the event's fields:
    outcome, project_id, image_id, trace_uid, object_type, object_id, grant_id, details, occurred_at,
    event_id."""
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
    AuditEvent.objects.bulk_create(rows)
    head.sequence = sequence
    head.hash = previous
    head.save(update_fields=["sequence", "hash"])
    return rows
