"""Which usage events are real access to case data, and which may not be stored at all (issue 11,
item 4). Used by the usage-event ingest, inside its transaction.

- **Real cases.** A case registered by a person or by a production or experiment client is real; one
  that a test or development client registered is a test case (``cases.models.Case.is_real``). A
  test or development client may not report usage of a real case: the whole request is refused
  (403, each such event named by its index) and nothing is stored.
- **Real access.** Only an event that a production or experiment client reports, that succeeded,
  whose action is one a decision answers (``authz.models.Action``), and whose basis is an allowed
  decision moves the case's and the dataset's last access. The basis shows on the event itself, as
  the ingest computes it from the grant history: ``case_lead`` (the case lead or a deputy, who may
  do everything), or ``grant`` with a covering grant that held that action as a right at that
  moment in the client's environment. ``no_grant``, ``unknown_user`` and ``unknown_project``, a grant
  without the right, a failed attempt, or a test client's event are stored as evidence and move
  nothing. (Allowed decisions are not stored, so a ``decision_id`` in the details could not be
  checked; the grant history can.)
- **One event per id.** An ``event_id`` that is stored already, or that comes twice in one request,
  with other content (time, person, project, image, trace, action, outcome or details) is a 409
  conflict and nothing of the request is stored; with the same content it is a duplicate, counted
  and not stored again.
"""

from __future__ import annotations

import uuid
from typing import Any

from audit.models import AuditEvent, Basis, Outcome
from audit.usage import HANSKEN_ACTION_PREFIX, UsageEvent
from hansken_governance.bulk_input import MAX_ERRORS
from hansken_governance.environments import CASE_DATA_ENVIRONMENTS, TEST_ENVIRONMENTS

CONFLICT_MESSAGE = "This event id was sent before with other content; an event id names one event."
REAL_CASE_MESSAGE = "A test or development client cannot report usage of a real case."


class UsageRefused(Exception):
    """The request stores nothing; ``errors`` are in the contract's shape, answered with ``status``."""

    def __init__(self, status: int, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors)
        self.status = status
        self.errors = errors


def _error(index: int, field: str, message: str) -> dict[str, Any]:
    return {"field": field, "index": index, "message": message}


def refuse_real_cases_of_test_clients(events: list[UsageEvent], environment: str) -> None:
    """A test or development client's request that names a real case is refused whole."""
    if environment not in TEST_ENVIRONMENTS:
        return
    from cases.models import Case

    real = set(
        Case.objects.filter(project_id__in={event.project_id for event in events})
        .exclude(registered_in__in=sorted(TEST_ENVIRONMENTS))
        .values_list("project_id", flat=True)
    )
    errors = [
        _error(index, "project_id", REAL_CASE_MESSAGE)
        for index, event in enumerate(events)
        if event.project_id in real
    ]
    if errors:
        raise UsageRefused(403, errors[:MAX_ERRORS])


def is_real_access(event: UsageEvent, environment: str, basis: str, grant_held_right: bool) -> bool:
    from authz.models import Action

    return (
        environment in CASE_DATA_ENVIRONMENTS
        and event.outcome == Outcome.SUCCESS
        and event.action in Action.values
        and (basis == Basis.CASE_LEAD or (basis == Basis.GRANT and grant_held_right))
    )


def content_of(event: UsageEvent) -> tuple[Any, ...]:
    """What an event says, as stored: two events with the same id must say the same."""
    return (
        event.occurred_at,
        event.user,
        event.project_id,
        event.image_id,
        event.trace_uid,
        HANSKEN_ACTION_PREFIX + event.action,
        event.outcome,
        event.details,
    )


_STORED_CONTENT = (
    "occurred_at",
    "actor",
    "project_id",
    "image_id",
    "trace_uid",
    "action",
    "outcome",
    "details",
)


def refuse_conflicts(events: list[UsageEvent], stored_ids: set[uuid.UUID]) -> None:
    """409 when an event id comes again with other content, in this request or against the trail.
    Called under the chain lock, so the stored rows read here cannot change before the append. The
    stored content is read only for ids that are stored already (none, as a rule)."""
    stored: dict[uuid.UUID, tuple[Any, ...]] = {}
    if stored_ids:
        for row in AuditEvent.objects.filter(event_id__in=list(stored_ids)).values_list(
            "event_id", *_STORED_CONTENT
        ):
            stored[row[0]] = tuple(row[1:])
    seen: dict[uuid.UUID, tuple[Any, ...]] = {}
    errors: list[dict[str, Any]] = []
    for index, event in enumerate(events):
        content = content_of(event)
        earlier = stored.get(event.event_id) or seen.get(event.event_id)
        if earlier is not None and earlier != content:
            errors.append(_error(index, "event_id", CONFLICT_MESSAGE))
            if len(errors) >= MAX_ERRORS:
                break
        seen.setdefault(event.event_id, content)
    if errors:
        raise UsageRefused(409, errors)
