"""The only writers of the audit trail. Services call ``audit_record`` inside their own transaction,
so a change and its event commit together or not at all.

Every writer appends under the one chain lock (``audit.append``, which also holds every difference
between PostgreSQL and SQLite). Hansken's usage events arrive in thousands per request:
``usage_events_record`` takes the lock once per request, computes the chain in Python and, on
PostgreSQL, writes the rows with ``COPY`` inside the same transaction (``audit.ingest``).
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import DatabaseError, transaction
from django.utils import timezone

from audit import actions, append, checkpoints
from audit.acting import acting_of
from audit.actor import Actor
from audit.append import ClientEvent
from audit.chain import GENESIS_HASH
from audit.ingest import IngestResult, usage_events_ingest
from audit.models import AuditEvent, ChainCheckpoint, ChainHead, Outcome
from audit.usage import UsageEvent
from audit.verify import VerificationResult, verify_chain
from cases.models import Case, Dataset

log = logging.getLogger(__name__)

# ``ClientEvent`` is the argument of ``audit_record_client_events``; it is named here for its callers.
__all__ = [
    "ClientEvent",
    "IngestResult",
    "audit_opened",
    "audit_record",
    "audit_record_client_events",
    "audit_record_many",
    "checkpoint_write",
    "model_change_event_id",
    "model_changes_record",
    "usage_events_record",
    "verification_failed",
    "verification_run",
]


@transaction.atomic
def audit_record(*, action: str, actor: Actor, **event: Any) -> AuditEvent:
    """Append one event to the chain. Must be called inside the transaction of the change it records
    (it opens a savepoint of its own when called alone). Keyword arguments are the event's fields:
    outcome, project_id, image_id, trace_uid, object_type, object_id, grant_id, basis, details,
    occurred_at, event_id."""
    return audit_record_many([{"action": action, "actor": actor, **event}])[0]


@transaction.atomic
def audit_record_many(events: list[dict[str, Any]]) -> list[AuditEvent]:
    """Append several events under one chain lock (e.g. every denied decision of a batch). Each item
    holds ``action``, ``actor`` and the fields ``audit_record`` takes."""
    return append.append_events(events)


def audit_record_client_events(
    events: list[ClientEvent],
    *,
    action: str,
    outcome: str,
    client_name: str,
    environment: str,
    source_address: str | None,
    request_id: str,
) -> None:
    """Append many events of one machine client's request under one chain lock: what
    ``audit_record_many`` does, for the decision API's denies, without a model instance per row. A
    transaction of its own when called alone, part of the caller's when called inside one."""
    append.append_client_events(
        events,
        action=action,
        outcome=outcome,
        client_name=client_name,
        environment=environment,
        source_address=source_address,
        request_id=request_id,
    )


@transaction.atomic
def usage_events_record(
    *,
    events: list[UsageEvent],
    client_name: str,
    environment: str,
    source_address: str | None,
    request_id: str,
) -> IngestResult:
    """Store Hansken's usage events in the chain (see ``audit.ingest``): each with the grant that
    covered it when it happened or its basis. A repeated event id is counted, not stored again."""
    return usage_events_ingest(
        events=events,
        client_name=client_name,
        environment=environment,
        source_address=source_address,
        request_id=request_id,
    )


# Review


@transaction.atomic
def audit_opened(
    *,
    by: Actor,
    view: str,
    filters: dict[str, Any],
    project_id: uuid.UUID | None = None,
    export: bool = False,
) -> None:
    """Every opening of the trail is itself in the trail (who looked at what, with which filters);
    a download is marked ``export``, since the rows then leave the application."""
    details: dict[str, Any] = {"view": view, "filters": filters}
    if export:
        details["export"] = True
    audit_record(
        action=actions.AUDIT_VIEWED,
        actor=by,
        project_id=project_id,
        object_type="audit_trail",
        details=details,
    )


# Checkpoints and verification


def checkpoint_write(*, now: datetime.datetime | None = None) -> ChainCheckpoint | None:
    """Anchor the chain's current head: a ``ChainCheckpoint`` row and a line in the checkpoint file.

    The rows since the previous checkpoint are verified first, so a checkpoint never anchors a chain
    that was already tampered with; if they do not verify, the failure is recorded instead and no
    checkpoint is written. Nothing is written when the head has not moved."""
    head = ChainHead.objects.filter(pk=1).values_list("sequence", "hash").first()
    if head is None or head[0] == 0:
        return None
    sequence, digest = head
    last = ChainCheckpoint.objects.order_by("-sequence").first()
    if last is not None and last.sequence >= sequence:
        return None
    result = verify_chain(
        start_after=(last.sequence, last.hash) if last else (0, GENESIS_HASH),
        up_to=sequence,
        against_checkpoints=False,
    )
    if not result.ok:
        verification_failed(result=result, by=Actor.system("checkpoint"))
        return None
    created_at = now or timezone.now()
    with transaction.atomic():
        checkpoint = ChainCheckpoint.objects.create(sequence=sequence, hash=digest, created_at=created_at)
        # The file line states a fact about committed rows, so it is true even if this transaction
        # were to roll back after it; written inside it so a full disk leaves no row without a line.
        checkpoints.append(sequence=sequence, digest=digest, created_at=created_at)
    return checkpoint


def verification_failed(*, result: VerificationResult, by: Actor) -> None:
    """A broken chain is an incident: record it in the trail (the SIEM forwards it as an alert)."""
    log.error("Audit chain verification failed: %s", result.message)
    try:
        audit_record(
            action=actions.AUDIT_VERIFICATION_FAILED,
            actor=by,
            outcome=Outcome.FAILURE,
            object_type="audit_trail",
            details={"broken_at": result.broken_at, "reason": result.reason, "checked": result.checked},
        )
    except DatabaseError:
        # A row forged beyond the chain head takes the next sequence number, so no event can be
        # appended until it is dealt with: every writer fails loudly, and so does this one.
        log.critical("The verification failure could not be recorded in the trail", exc_info=True)


def verification_run(*, by: Actor) -> VerificationResult:
    """Verify the whole chain against its checkpoints; record a failure in the trail."""
    result = verify_chain()
    if not result.ok:
        verification_failed(result=result, by=by)
    return result


# django-auditlog's field diffs


MODEL_CHANGES_NAMESPACE = uuid.UUID("6f1d3c1e-9a55-4f0e-9d55-2b7a4f3c8e10")
_OPERATIONS = {0: "create", 1: "update", 2: "delete", 3: "access"}
SECRET_FIELDS = frozenset({"token_digest", "password"})


def model_change_event_id(log_entry_pk: int) -> uuid.UUID:
    """The chain's event id for one auditlog entry: fixed, so copying it twice stores it once."""
    return uuid.uuid5(MODEL_CHANGES_NAMESPACE, f"auditlog:{log_entry_pk}")


@transaction.atomic
def model_changes_record(
    *, log_entry_ids: Iterable[int] | None = None, since: datetime.datetime | None = None
) -> int:
    """Copy django-auditlog's entries (field diffs of registered models) into the chain, each once.
    Called after the commit of the change (``audit.model_changes``) and by a periodic sweep over
    recent entries, so an entry whose copy failed is copied on the next sweep."""
    from auditlog.models import LogEntry

    entries = LogEntry.objects.select_related("content_type", "actor").order_by("pk")
    if log_entry_ids is not None:
        entries = entries.filter(pk__in=list(log_entry_ids))
    elif since is not None:
        entries = entries.filter(timestamp__gte=since)
    else:
        raise ValueError("Give log_entry_ids or since.")
    candidates = list(entries)
    if not candidates:
        return 0
    append.head_for_update()  # taken before the duplicate check, so two copies of one entry cannot race
    ids = [model_change_event_id(entry.pk) for entry in candidates]
    present = append.existing_event_ids(ids)
    events = []
    for entry, event_id in zip(candidates, ids, strict=True):
        if event_id in present:
            continue
        changes = {
            field: value for field, value in (entry.changes_dict or {}).items() if field not in SECRET_FIELDS
        }
        model = f"{entry.content_type.app_label}.{entry.content_type.model}"
        events.append(
            {
                "action": actions.MODEL_CHANGED,
                "actor": acting_of(entry),
                "occurred_at": entry.timestamp,
                "object_type": model,
                "object_id": entry.object_pk,
                "project_id": _project_of(model, entry.object_pk),
                "event_id": event_id,
                "details": {
                    "operation": _OPERATIONS.get(entry.action, str(entry.action)),
                    "object": entry.object_repr[:200],
                    "changes": changes,
                    "auditlog_entry": entry.pk,
                },
            }
        )
    audit_record_many(events)
    return len(events)


def _project_of(model: str, object_pk: str) -> uuid.UUID | None:
    if model == "cases.case":
        return Case.objects.filter(pk=object_pk).values_list("project_id", flat=True).first()
    if model == "cases.dataset":
        return Dataset.objects.filter(pk=object_pk).values_list("case__project_id", flat=True).first()
    return None
