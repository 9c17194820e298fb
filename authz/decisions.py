"""The decision rule, as a pure function over facts loaded from the database.

Allow only if the person exists, is active, is screened today, the case is open, the trace (if any)
is not in a removed dataset, and either the person is the case lead or a deputy whose deputyship has
not reached its end, or an unrevoked grant in force now covers the action and the calling
environment. A trace inside privileged data (``privilege.rules``: the trace or an ancestor marked
suspected or confirmed) is then allowed only to a person who also holds ``review_privileged`` on the
case by an explicit grant in force for this environment, the case lead and deputies included. Every
deny names its reason.

``decide`` does no I/O, so the single check, the batch check, ``projects`` and ``subjects`` all use
the very same rule and cannot disagree. They reach it through ``decide_many``, which gives again a
decision it worked out earlier only while that decision cannot have changed.
"""

from __future__ import annotations

import datetime
import math
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeGuard

import orjson
from django.utils import timezone

from authz.answers import Answers
from cases.models import CaseStatus
from hansken_governance.environments import GRANT_ENVIRONMENTS
from privilege.rules import CLEAR, Withheld, is_trace_id


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
    managed_case_ids: frozenset[int]  # led
    grants_by_case: dict[int, tuple[GrantFacts, ...]] = field(default_factory=dict)
    # The end of each deputyship that has not been ended, by case: a deputy acts as the case lead
    # until that moment only (issue 11, item 5).
    deputy_until: dict[int, datetime.datetime] = field(default_factory=dict)
    # The person's roles, as the trail writes them (``people.roles.role_text``): a denial's event
    # says with which roles the person asked (NEN 7513), without a query on the decision path.
    roles: str = ""


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
    # The decision as the API states it (times in UTC with "Z"), made once: remembered decisions
    # are given out many times over, and a batch answers a thousand at a time. ``batch_fragment``
    # is the middle of a batch result, already JSON: after the correlation id, up to the decision
    # id's opening quote (see ``authz.api.decision.bodies.batch_body``).
    as_json: dict[str, Any] = field(init=False, compare=False, repr=False)
    batch_fragment: bytes = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        valid_until = self.valid_until
        as_json = {
            "allowed": self.allowed,
            "reason": self.reason,
            "grant_id": self.grant_id,
            "valid_until": valid_until.isoformat().replace("+00:00", "Z") if valid_until else None,
        }
        object.__setattr__(self, "as_json", as_json)
        object.__setattr__(self, "batch_fragment", b"," + orjson.dumps(as_json)[1:-1] + b',"decision_id":"')


# Denials that name no grant are the same every time: made once.
_DENIALS = {
    reason: Decision(False, reason) for name, reason in vars(Reason).items() if not name.startswith("_")
}


def _deny(reason: str, grant: GrantFacts | None = None) -> Decision:
    if grant is None:
        return _DENIALS[reason]
    return Decision(False, reason, grant.grant_id, None)


# The canonical text of each image id seen in a trace uid, by the text sent (as the decision API
# does for project ids): the batch's short way finds an image here, or takes the full way.
CANONICAL_IMAGES: dict[str, str] = {}
_CANONICAL_IMAGES_LIMIT = 65_536


def image_of_trace(trace_uid: str) -> str:
    """The image id (canonical text) of a trace uid ``{imageId}:{id}``; ValueError when malformed."""
    image, sep, trace_id = trace_uid.partition(":")
    # ASCII digits only (``privilege.rules.is_trace_id``): str.isdigit also takes "²" and other
    # scripts' digits, which Hansken never writes and which would name a trace that no privileged
    # mark's prefix can cover.
    if not sep or not is_trace_id(trace_id):
        raise ValueError(
            "A trace uid is {imageId}:{id}, the id being steps joined by '-', e.g. '<uuid>:0-3-1'."
        )
    canonical = CANONICAL_IMAGES.get(image)
    if canonical is None:
        canonical = str(uuid.UUID(image))
        if len(CANONICAL_IMAGES) >= _CANONICAL_IMAGES_LIMIT:
            CANONICAL_IMAGES.clear()
        CANONICAL_IMAGES[image] = canonical
    return canonical


def decide(
    person: PersonFacts | None,
    case: CaseFacts | None,
    action: str,
    environment: str,
    now: datetime.datetime,
    today: datetime.date,
    trace_image_id: str | None = None,
    trace_id: str | None = None,
    withheld: Withheld | None = None,
) -> Decision:
    """``trace_id``: the id part of the trace uid (with ``trace_image_id``); ``withheld``: the
    case's privileged marks (``None`` with a trace: they could not be read, so deny)."""
    gate = _gate(person, case, today)
    if gate is not None:
        return gate
    assert person is not None and case is not None  # the gate denies when either is unknown
    if trace_image_id is not None:
        trace = _trace_gate(case, trace_image_id)
        if trace is not None:
            return trace
    decision = _by_grants(person, case, action, environment, now)
    if trace_image_id is not None and trace_id is not None and decision.allowed:
        return _privileged(
            person, case, action, environment, now, decision, trace_image_id, trace_id, withheld
        )
    return decision


# The longest username the decision API accepts (Django's username length).
USERNAME_MAX = 150


def is_username(value: Any) -> TypeGuard[str]:
    """Text that can be a username: printable (so no NUL, no line break), 1 to USERNAME_MAX long."""
    return isinstance(value, str) and 0 < len(value) <= USERNAME_MAX and value.isprintable()


# What is asked: (username, project id, action). ``decide_many`` remembers answers by it.
Question = tuple[str, str, str]
# One check: (question, trace uid, the trace's image id or None, correlation id). Plain tuples: a
# batch brings a thousand checks per request.
Check = tuple[Question, str, str | None, str]

# The reasons that come from the person or the case alone: they come before a trace's image is looked at.
GATE_REASONS = frozenset(
    {
        Reason.UNKNOWN_USER,
        Reason.USER_INACTIVE,
        Reason.SCREENING_EXPIRED,
        Reason.UNKNOWN_PROJECT,
        Reason.CASE_CLOSED,
    }
)


def decide_many(
    people: Mapping[str, PersonFacts | None],
    cases: Mapping[str, CaseFacts | None],
    checks: list[Check],
    environment: str,
    now: datetime.datetime,
    today: datetime.date,
    answers: Answers,
    withheld: Callable[[str], Withheld] | None = None,
) -> list[Decision]:
    """``decide`` for each check, in order, at one moment, for a client of ``environment``.
    ``withheld`` gives a case's privileged marks by project id (needed for checks with a trace).

    ``people`` and ``cases`` hold the facts of every person and project the checks name (``None``:
    no such person or case; a missing key raises KeyError). ``answers`` remembers decisions already
    worked out for this environment (see ``Answers``). A remembered decision is given again only
    within the span in which none can change: ``decide`` reads the clock only where a date of the
    facts lies (a grant's start and end, the day after the screening date), so between two such
    moments every decision is the same. The property test in tests/test_authz_answers.py checks that
    this gives exactly what ``decide`` gives. (Why remember at all: a batch of a thousand checks would
    otherwise walk the grants of a thousand people, and Hansken asks about the same people and cases
    over and over.)"""
    timestamp = now.timestamp()
    generation = answers.begin(timestamp)
    known = answers.decisions
    decisions: list[Decision] = []
    append = decisions.append
    for question, trace_uid, image_id, _ in checks:
        user, project_id, action = question
        key = f"{user}\0{project_id}{action}"  # answer_key, spelled out: this runs per check
        decision = known.get(key)
        if decision is None:
            person = people[user]
            case = cases[project_id]
            decision = decide(person, case, action, environment, now, today)
            if is_username(user):
                # Only a username the API accepts is remembered: the key is then unambiguous (no
                # NUL), and the batch's short way may take a remembered answer as proof that the
                # username sent is well-formed (authz.api.decision.deciding.decide_batch).
                answers.remember(key, decision, timestamp, _next_change(person, case, now))
        if image_id is not None and decision.reason not in GATE_REASONS:
            case = cases[project_id]
            if case is not None:
                decision = decide_trace(
                    people[user],
                    case,
                    action,
                    environment,
                    now,
                    decision,
                    image_id,
                    trace_uid.partition(":")[2],
                    withheld(project_id) if withheld is not None else None,
                )
        append(decision)
    if not answers.still_hold(timestamp, generation):
        # Another thread forgot the answers meanwhile, or remembered one worked out at a later
        # moment or one that changes before ``now`` (or the memory was full and started again):
        # what was given from memory may not hold at ``now``. Work the checks out again without it.
        return decide_many(people, cases, checks, environment, now, today, Answers(), withheld)
    return decisions


def _gate(person: PersonFacts | None, case: CaseFacts | None, today: datetime.date) -> Decision | None:
    """What denies every action of this person on this case, whatever the grants say."""
    if person is None:
        return _deny(Reason.UNKNOWN_USER)
    reason = standing_denial(
        person.active, person.screened_until, None if case is None else case.status, today
    )
    return None if reason is None else _deny(reason)


def standing_denial(
    active: bool, screened_until: datetime.date | None, case_status: str | None, today: datetime.date
) -> str | None:
    """The reason every action of a known person on a case is denied whatever the grants say, or
    None (``case_status`` None: no such case). The review's "access at a moment" asks it too, with
    the standing of that moment, so that it lists as unable to act whom ``check`` would deny."""
    if not active:
        return Reason.USER_INACTIVE
    if screened_until is None or screened_until < today:
        return Reason.SCREENING_EXPIRED
    if case_status is None:
        return Reason.UNKNOWN_PROJECT
    if case_status != CaseStatus.OPEN:
        return Reason.CASE_CLOSED
    return None


def _trace_gate(case: CaseFacts, trace_image_id: str) -> Decision | None:
    if trace_image_id in case.removed_image_ids:
        return _deny(Reason.DATASET_DELETED)
    if trace_image_id not in case.image_ids:
        # A trace in an image that is not a dataset of this case (another case's, or one never
        # registered) is nobody's to read under this case: fail closed.
        return _deny(Reason.NO_GRANT)
    return None


def decide_trace(
    person: PersonFacts | None,
    case: CaseFacts,
    action: str,
    environment: str,
    now: datetime.datetime,
    decision: Decision,
    image_id: str,
    trace_id: str,
    withheld: Withheld | None,
) -> Decision:
    """The trace's part of a decision, after the person's and case's (``decision``, never one of
    ``GATE_REASONS``): as ``decide`` looks at a trace, its image after the person and case and
    before the grants, then its privileged marks. Never remembered: it depends on the trace. The
    review grant's dates are among the moments ``_next_change`` watches, so the remembered
    trace-less part stays exact."""
    gate = _trace_gate(case, image_id)
    if gate is not None:
        return gate
    if not decision.allowed:
        return decision
    return _privileged(person, case, action, environment, now, decision, image_id, trace_id, withheld)


def _privileged(
    person: PersonFacts | None,
    case: CaseFacts,
    action: str,
    environment: str,
    now: datetime.datetime,
    decision: Decision,
    image_id: str,
    trace_id: str,
    withheld: Withheld | None,
) -> Decision:
    """An allowed decision on a trace, held against the case's privileged marks. ``export`` is
    held against them as the export check holds every trace (``privilege.exports``): a trace inside
    withheld data, or one that contains any (a mailbox holding a privileged e-mail), is never
    exportable, whoever asks; a review grant lets a person read withheld traces, not export them."""
    if withheld is None or person is None:
        return _deny(Reason.WITHHELD_PRIVILEGED)  # marks unknown: fail closed
    if action == EXPORT:
        return decision if withheld.state(image_id, trace_id) == CLEAR else _deny(Reason.WITHHELD_PRIVILEGED)
    if not withheld.withholds(image_id, trace_id):
        return decision
    review = _explicit_grant(person, case, REVIEW_PRIVILEGED, environment, now)
    if review is None:
        return _deny(Reason.WITHHELD_PRIVILEGED)
    # Allowed by the action's grant (or as case lead or deputy) and by the review grant: the answer
    # holds until the first of their ends, so valid_until says how long it holds. A grant that ends
    # first is named; otherwise the review grant, with a deputyship's end when that comes first.
    if decision.valid_until is not None and decision.valid_until <= review.valid_until:
        if decision.grant_id is not None:
            return decision
        return Decision(True, Reason.GRANT, review.grant_id, decision.valid_until)
    return Decision(True, Reason.GRANT, review.grant_id, review.valid_until)


REVIEW_PRIVILEGED = "review_privileged"
EXPORT = "export"


def _explicit_grant(
    person: PersonFacts, case: CaseFacts, action: str, environment: str, now: datetime.datetime
) -> GrantFacts | None:
    """The unrevoked grant in force now that gives ``action`` in ``environment``, running longest;
    being the case lead or a deputy does not count."""
    best: GrantFacts | None = None
    if environment not in GRANT_ENVIRONMENTS:
        return None
    for g in person.grants_by_case.get(case.case_id, ()):
        if (
            not g.revoked
            and g.valid_from <= now < g.valid_until
            and action in g.rights
            and environment in g.environments
            and (best is None or g.valid_until > best.valid_until)
        ):
            best = g
    return best


def _by_grants(
    person: PersonFacts, case: CaseFacts, action: str, environment: str, now: datetime.datetime
) -> Decision:
    if environment not in GRANT_ENVIRONMENTS:
        # Case data lives in production and in the experiment environment (treated as production);
        # test and development clients get no decisions that allow anything.
        return _deny(Reason.ENVIRONMENT_NOT_COVERED)
    if case.case_id in person.managed_case_ids:
        return Decision(True, Reason.CASE_LEAD)
    deputy_until = person.deputy_until.get(case.case_id)
    if deputy_until is not None and now < deputy_until:
        return Decision(True, Reason.CASE_LEAD, None, deputy_until)
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


def _next_change(person: PersonFacts | None, case: CaseFacts | None, now: datetime.datetime) -> float:
    """The first moment after ``now`` at which a decision of this person on this case can change
    without any write: a grant starts or ends, a deputyship ends, or the screening lapses at the start
    of the day after its date (in the current time zone, as ``today`` is). Infinity when there is none."""
    if person is None:
        return math.inf
    moments: list[datetime.datetime] = []
    for grant in person.grants_by_case.get(case.case_id, ()) if case is not None else ():
        moments.append(grant.valid_from)
        moments.append(grant.valid_until)
    deputy_until = person.deputy_until.get(case.case_id) if case is not None else None
    if deputy_until is not None:
        moments.append(deputy_until)
    screened_until = person.screened_until
    if screened_until is not None and screened_until < datetime.date.max:
        day_after = screened_until + datetime.timedelta(days=1)
        moments.append(timezone.make_aware(datetime.datetime.combine(day_after, datetime.time.min)))
    later = [moment for moment in moments if moment > now]
    return min(later).timestamp() if later else math.inf
