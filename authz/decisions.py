"""The decision rule, as a pure function over facts loaded from the database.

Allow only if the person exists, is active, is screened today, the case is open, the trace (if any)
is not in a removed dataset, and either the person is the case lead or a deputy, or an unrevoked
grant in force now covers the action and the calling environment. Every deny names its reason.

``decide`` does no I/O, so the single check, the batch check, ``projects`` and ``subjects`` all use
the very same rule and cannot disagree.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field

from cases.models import CaseStatus
from hansken_governance.environments import GRANT_ENVIRONMENTS


class Reason:
    GRANT = "grant"
    CASE_LEAD = "case_lead"
    NO_GRANT = "no_grant"
    RIGHT_MISSING = "right_missing"
    GRANT_EXPIRED = "grant_expired"
    GRANT_REVOKED = "grant_revoked"
    GRANT_NOT_YET_VALID = "grant_not_yet_valid"
    ENVIRONMENT_NOT_COVERED = "environment_not_covered"
    SCREENING_EXPIRED = "screening_expired"
    USER_INACTIVE = "user_inactive"
    UNKNOWN_USER = "unknown_user"
    UNKNOWN_PROJECT = "unknown_project"
    CASE_CLOSED = "case_closed"
    DATASET_DELETED = "dataset_deleted"
    WITHHELD_PRIVILEGED = "withheld_privileged"


@dataclass(frozen=True, slots=True)
class GrantFacts:
    grant_id: int
    rights: frozenset[str]
    environments: frozenset[str]
    valid_from: datetime.datetime
    valid_until: datetime.datetime
    revoked: bool


@dataclass(frozen=True, slots=True)
class PersonFacts:
    user_id: int
    username: str
    active: bool
    screened_until: datetime.date | None
    managed_case_ids: frozenset[int]  # led or deputy
    grants_by_case: dict[int, tuple[GrantFacts, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CaseFacts:
    case_id: int
    project_id: str  # canonical text form: the hot path keys on strings, not UUID objects
    status: str
    removed_image_ids: frozenset[str]
    image_ids: frozenset[str] = frozenset()  # every registered image (dataset) of the case


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str
    grant_id: int | None = None
    valid_until: datetime.datetime | None = None


def _deny(reason: str, grant: GrantFacts | None = None) -> Decision:
    return Decision(False, reason, grant.grant_id if grant else None, None)


def image_of_trace(trace_uid: str) -> str:
    """The image id (canonical text) of a trace uid ``{imageId}:{id}``; ValueError when malformed."""
    image, sep, trace_id = trace_uid.partition(":")
    if not sep or not trace_id or not all(step.isdigit() for step in trace_id.split("-")):
        raise ValueError(
            "A trace uid is {imageId}:{id}, the id being steps joined by '-', e.g. '<uuid>:0-3-1'."
        )
    return str(uuid.UUID(image))


def decide(
    person: PersonFacts | None,
    case: CaseFacts | None,
    action: str,
    environment: str,
    now: datetime.datetime,
    today: datetime.date,
    trace_image_id: str | None = None,
) -> Decision:
    if person is None:
        return _deny(Reason.UNKNOWN_USER)
    if not person.active:
        return _deny(Reason.USER_INACTIVE)
    if person.screened_until is None or person.screened_until < today:
        return _deny(Reason.SCREENING_EXPIRED)
    if case is None:
        return _deny(Reason.UNKNOWN_PROJECT)
    if case.status != CaseStatus.OPEN:
        return _deny(Reason.CASE_CLOSED)
    if trace_image_id is not None:
        if trace_image_id in case.removed_image_ids:
            return _deny(Reason.DATASET_DELETED)
        if trace_image_id not in case.image_ids:
            # A trace in an image that is not a dataset of this case (another case's, or one never
            # registered) is nobody's to read under this case: fail closed.
            return _deny(Reason.NO_GRANT)
    if environment not in GRANT_ENVIRONMENTS:
        # Case data lives in production and in the experiment environment (treated as production);
        # test and development clients get no decisions that allow anything.
        return _deny(Reason.ENVIRONMENT_NOT_COVERED)
    if case.case_id in person.managed_case_ids:
        return Decision(True, Reason.CASE_LEAD)
    grants = person.grants_by_case.get(case.case_id, ())
    if not grants:
        return _deny(Reason.NO_GRANT)

    # One pass over the person's grants on this case (usually one or two).
    best: GrantFacts | None = None
    with_right: GrantFacts | None = None
    any_in_force: GrantFacts | None = None
    revoked_now: GrantFacts | None = None
    future: GrantFacts | None = None
    expired: GrantFacts | None = None
    for g in grants:
        if g.revoked:
            if g.valid_until > now and revoked_now is None:
                revoked_now = g
            continue
        if g.valid_from > now:
            if future is None or g.valid_from < future.valid_from:
                future = g
            continue
        if g.valid_until <= now:
            if expired is None or g.valid_until > expired.valid_until:
                expired = g
            continue
        any_in_force = any_in_force or g
        if action in g.rights:
            if environment in g.environments:
                if best is None or g.valid_until > best.valid_until:
                    best = g
            elif with_right is None:
                with_right = g
    if best is not None:
        return Decision(True, Reason.GRANT, best.grant_id, best.valid_until)
    if with_right is not None:
        return _deny(Reason.ENVIRONMENT_NOT_COVERED, with_right)
    if any_in_force is not None:
        return _deny(Reason.RIGHT_MISSING, any_in_force)
    # Nothing in force now: say why, preferring what the person most likely needs to hear. A revoked
    # grant that would otherwise still run is "revoked"; then a grant that has not started yet; then
    # one that has run out.
    if revoked_now is not None:
        return _deny(Reason.GRANT_REVOKED, revoked_now)
    if future is not None:
        return _deny(Reason.GRANT_NOT_YET_VALID, future)
    if expired is not None:
        return _deny(Reason.GRANT_EXPIRED, expired)
    return _deny(Reason.GRANT_REVOKED, grants[0])
