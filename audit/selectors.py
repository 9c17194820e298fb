"""Reads of the audit trail for review: who may see which part, and pages of events (the API's
cursor pages; the review pages' keyset pages, newest first or in time order).

The privacy officer and the security manager see everything (events of unknown projects too: they
are evidence). Case leads and deputies see the events of their own cases, through the one scoping
door ``cases.selectors.cases_for(request, CasePurpose.REVIEW_AUDIT)``. Nobody else sees any.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from audit.actions import AUDIT_VERIFICATION_FAILED
from audit.models import AuditEvent, ChainCheckpoint
from audit.usage import HANSKEN_ACTION_PREFIX
from cases.selectors import CasePurpose, cases_for
from people.roles import REVIEWER_ROLES, Role, has_role

DEFAULT_PAGE = 100
MAX_PAGE = 1000
_CURSOR = re.compile(r"before:([1-9][0-9]{0,18})\Z")


@dataclass(frozen=True)
class ReviewScope:
    everything: bool
    project_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)

    def covers(self, project_id: uuid.UUID) -> bool:
        return self.everything or project_id in self.project_ids


def review_scope(request: Any) -> ReviewScope | None:
    """What part of the trail the caller may review, or None: nothing at all."""
    user = request.user
    if has_role(user, *REVIEWER_ROLES):
        return ReviewScope(everything=True)
    # A case lead's cases are few: the ids are read once, so the page query filters on constants.
    project_ids = frozenset(cases_for(request, CasePurpose.REVIEW_AUDIT).values_list("project_id", flat=True))
    # A case lead reviews the trail of the cases they lead or deputise on, however many that is now:
    # with none, a case asked about is outside their scope (404, as for any other lead's case), not a
    # review they may not make (403). A deputy without the role reviews only while deputising.
    if project_ids or has_role(user, Role.CASE_LEAD):
        return ReviewScope(everything=False, project_ids=project_ids)
    return None


def encode_cursor(sequence: int) -> str:
    return base64.urlsafe_b64encode(f"before:{sequence}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The sequence number a cursor continues before; ValueError for anything we did not hand out."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValueError("not a cursor") from None
    match = _CURSOR.match(text)
    if not match:
        raise ValueError("not a cursor")
    return int(match.group(1))


@dataclass(frozen=True)
class EventFilters:
    project_id: uuid.UUID | None = None
    user: str = ""
    action: str = ""
    outcome: str = ""
    since: datetime.datetime | None = None
    until: datetime.datetime | None = None

    def as_details(self) -> dict[str, str]:
        """The filters as recorded in the ``audit.viewed`` event."""
        out: dict[str, str] = {}
        for name in ("project_id", "user", "action", "outcome", "since", "until"):
            value = getattr(self, name)
            if value:
                out[name] = value.isoformat() if isinstance(value, datetime.datetime) else str(value)
        return out


def event_page(
    *, scope: ReviewScope, filters: EventFilters, before: int | None, limit: int
) -> tuple[list[dict[str, Any]], int | None]:
    """Newest first, keyset-paginated on ``sequence``: one page and the sequence to continue before
    (None on the last page). ``since`` is inclusive and ``until`` exclusive, on ``occurred_at``."""
    events = filtered_events(scope=scope, filters=filters)
    if before is not None:
        events = events.filter(sequence__lt=before)
    rows: list[dict[str, Any]] = [dict(row) for row in events.order_by("-sequence").values()[: limit + 1]]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1]["sequence"] if more and rows else None)


def action_codes(action: str) -> list[str]:
    """The stored action codes a review filter on ``action`` means: the code as stored
    (``grant.revoked``, ``hansken.read``) and the code of a usage event that Hansken sent with this
    action (``read`` is stored as ``hansken.read``). Only the codes that occur in the trail are
    returned (each found with one probe of the ``(action, sequence)`` index), so the usual filter
    stays one equality, which PostgreSQL answers newest first straight from that index; an
    ``IN`` of two codes would read and sort every matching row. Both only when both occur."""
    candidates = [action, HANSKEN_ACTION_PREFIX + action]
    present = [code for code in candidates if AuditEvent.objects.filter(action=code).exists()]
    return present or candidates[:1]


def filtered_events(*, scope: ReviewScope, filters: EventFilters) -> QuerySet[AuditEvent]:
    """The events within the caller's scope that match the filters, unordered (the API and the
    review pages each page through them by keyset)."""
    events = AuditEvent.objects.all()
    if not scope.everything:
        events = events.filter(project_id__in=sorted(scope.project_ids))
    if filters.project_id is not None:
        events = events.filter(project_id=filters.project_id)
    if filters.user:
        events = events.filter(actor=filters.user)
    if filters.action:
        codes = action_codes(filters.action)
        events = events.filter(action=codes[0]) if len(codes) == 1 else events.filter(action__in=codes)
    if filters.outcome:
        events = events.filter(outcome=filters.outcome)
    if filters.since is not None:
        events = events.filter(occurred_at__gte=filters.since)
    if filters.until is not None:
        events = events.filter(occurred_at__lt=filters.until)
    return events


class BadKeyset(Exception):
    """A page position we did not hand out (edited by hand): said plainly, never a 500."""


Rows = list[dict[str, Any]]


def newest_first_page(
    *, scope: ReviewScope, filters: EventFilters, before: int | None, after: int | None, limit: int
) -> tuple[Rows, bool, bool]:
    """The search page: newest first, keyset on ``sequence``, continuing before ``before`` (older)
    or after ``after`` (back towards the newest). The rows, and whether there are newer and older
    rows beyond them."""
    events = filtered_events(scope=scope, filters=filters)
    if after is not None:
        # Back towards the newest: ascending from the position, then shown newest first again.
        rows = [
            dict(row) for row in events.filter(sequence__gt=after).order_by("sequence").values()[: limit + 1]
        ]
        newer = len(rows) > limit
        rows = rows[:limit][::-1]
        older = bool(rows) and events.filter(sequence__lt=rows[-1]["sequence"]).exists()
    else:
        rows, next_before = event_page(scope=scope, filters=filters, before=before, limit=limit)
        older = next_before is not None
        newer = bool(rows) and before is not None and events.filter(sequence__gt=rows[0]["sequence"]).exists()
    return rows, newer, older


def _after(events: QuerySet[AuditEvent], moment: datetime.datetime, sequence: int) -> QuerySet[AuditEvent]:
    return events.filter(Q(occurred_at__gt=moment) | Q(occurred_at=moment, sequence__gt=sequence))


def _before(events: QuerySet[AuditEvent], moment: datetime.datetime, sequence: int) -> QuerySet[AuditEvent]:
    return events.filter(Q(occurred_at__lt=moment) | Q(occurred_at=moment, sequence__lt=sequence))


def time_order_page(
    events: QuerySet[AuditEvent], *, before: int | None, after: int | None, limit: int
) -> tuple[Rows, bool, bool]:
    """A timeline page: oldest first by when things happened (Hansken's usage events may arrive
    late, so this is not the sequence order), keyset on (occurred_at, sequence). The rows, and
    whether there are earlier and later rows beyond them; ``BadKeyset`` for a position that is not
    one of these events."""
    anchor = before or after
    moment = None
    rows: Rows
    if anchor is not None:
        moment = events.filter(sequence=anchor).values_list("occurred_at", flat=True).first()
        if moment is None:
            raise BadKeyset
    if before is not None and moment is not None:
        query = _before(events, moment, before).order_by("-occurred_at", "-sequence")
        rows = [dict(row) for row in query.values()[: limit + 1]]
        earlier = len(rows) > limit
        rows = rows[:limit][::-1]
        last = rows[-1] if rows else None
        later = last is not None and _after(events, last["occurred_at"], last["sequence"]).exists()
    else:
        query = events if after is None or moment is None else _after(events, moment, after)
        rows = [dict(row) for row in query.order_by("occurred_at", "sequence").values()[: limit + 1]]
        later = len(rows) > limit
        rows = rows[:limit]
        first = rows[0] if rows else None
        earlier = (
            first is not None
            and after is not None
            and _before(events, first["occurred_at"], first["sequence"]).exists()
        )
    return rows, earlier, later


def trail_head() -> int:
    """The newest sequence number now: an export is the trail up to here, one consistent cut."""
    return AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0


@dataclass(frozen=True)
class ChainState:
    """What the reviewers' start page says about the chain: the newest checkpoint (written every ten
    minutes after verifying the rows since the one before) and the newest verification failure."""

    last_checkpoint: ChainCheckpoint | None
    last_failure: AuditEvent | None

    @property
    def failed_since_checkpoint(self) -> bool:
        if self.last_failure is None:
            return False
        return self.last_checkpoint is None or self.last_failure.recorded_at > self.last_checkpoint.created_at


def chain_state() -> ChainState:
    """Two indexed lookups."""
    return ChainState(
        last_checkpoint=ChainCheckpoint.objects.order_by("-sequence").first(),
        last_failure=AuditEvent.objects.filter(action=AUDIT_VERIFICATION_FAILED)
        .order_by("-sequence")
        .first(),
    )
