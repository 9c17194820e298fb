"""Reads about grants: which cases a person holds grants on, which grant covered a usage event, who
could act on a case at a past moment (from the grant history, as it was then), and the access
requests a person has to answer."""

from __future__ import annotations

import datetime
import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from authz.decisions import Reason, standing_denial
from authz.models import AccessRequest, Action, Grant, GrantVersion, RequestStatus
from authz.notices import ENDING_SOON
from cases.models import Case, CaseStatus, DeputyVersion
from cases.selectors import CasePurpose, cases_for_person, statuses_at
from hansken_governance.environments import GRANT_ENVIRONMENT_CHOICES
from people.selectors import standing_at


def granted_case_ids(user: Any) -> QuerySet[Grant, Any]:
    """Cases on which the person holds or held a grant (they may see that the case exists)."""
    return Grant.objects.filter(grantee=user).values("case_id")


def review_privileged_case_ids(user: Any, at: datetime.datetime | None = None) -> list[int]:
    """Cases on which the person holds ``review_privileged`` by a grant in force now (any
    environment). Filtered in Python: SQLite cannot look inside a JSON list, and a person holds few
    grants."""
    at = at or timezone.now()
    rows = Grant.objects.filter(
        grantee=user, revoked_at__isnull=True, valid_from__lte=at, valid_until__gt=at
    ).values_list("case_id", "rights")
    return sorted({case_id for case_id, rights in rows if Action.REVIEW_PRIVILEGED in rights})


def _version_in_force_at(at: datetime.datetime) -> Q:
    """The version that was the grant's state at ``at`` and whose validity period included ``at``."""
    return (
        Q(recorded_at__lte=at)
        & (Q(superseded_at__isnull=True) | Q(superseded_at__gt=at))
        & Q(revoked=False, valid_from__lte=at, valid_until__gt=at)
    )


def grant_ids_covering(items: list[tuple[str, Any, Any, str]]) -> list[int | None]:
    """For each (username, project_id, occurred_at, environment) of a usage event: the id of the
    grant that covered that person on that case at that moment in that environment, as the grant
    history says it was then; None when no grant did. One query for the whole list."""
    return [grant_id for grant_id, _ in grants_covering([(*item, "") for item in items])]


def grants_covering(items: list[tuple[str, Any, Any, str, str]]) -> list[tuple[int | None, bool]]:
    """For each (username, project_id, occurred_at, environment, action) of a usage event: the grant
    that covered that person on that case at that moment in that environment (as the grant history
    says it was then; None when none did), and whether a covering grant held ``action`` as a right
    then, i.e. whether a decision at that moment would have allowed it on a grant. A grant that
    held the right is preferred over one that did not. One query for the whole list."""
    if not items:
        return []
    earliest = min(occurred_at for _, _, occurred_at, _, _ in items)
    latest = max(occurred_at for _, _, occurred_at, _, _ in items)
    pairs = sorted({(username, uuid.UUID(str(project_id))) for username, project_id, _, _, _ in items})
    by_pair: dict[tuple[str, uuid.UUID], list[tuple[Any, ...]]] = defaultdict(list)
    for (
        grant_id,
        username,
        project_id,
        envs,
        rights,
        v_from,
        v_until,
        recorded,
        superseded,
    ) in _versions_for_pairs(pairs, earliest, latest):
        version = (grant_id, envs, rights, v_from, v_until, recorded, superseded)
        by_pair[(username, project_id)].append(version)
    result: list[tuple[int | None, bool]] = []
    for username, project_id, at, environment, action in items:
        found: tuple[int | None, bool] = (None, False)
        for grant_id, envs, rights, v_from, v_until, recorded, superseded in by_pair.get(
            (username, uuid.UUID(str(project_id))), []
        ):
            in_force = recorded <= at and (superseded is None or superseded > at) and v_from <= at < v_until
            if in_force and environment in envs:
                if action in rights:
                    found = (grant_id, True)
                    break
                if found[0] is None:
                    found = (grant_id, False)
        result.append(found)
    return result


_PAIR_VERSIONS_SQL = """
SELECT v.grant_id, u.username, c.project_id, v.environments, v.rights, v.valid_from, v.valid_until,
       v.recorded_at, v.superseded_at
FROM unnest(%s::text[], %s::uuid[]) AS p(username, project_id)
JOIN auth_user u ON u.username = p.username
JOIN cases_case c ON c.project_id = p.project_id
JOIN authz_grantversion v ON v.grantee_id = u.id AND v.case_id = c.id
WHERE NOT v.revoked AND v.recorded_at <= %s AND v.valid_until > %s
  AND (v.superseded_at IS NULL OR v.superseded_at > %s)
"""


def _versions_for_pairs(
    pairs: list[tuple[str, uuid.UUID]], earliest: datetime.datetime, latest: datetime.datetime
) -> list[tuple[Any, ...]]:
    """Grant versions that may have been in force for exactly these (person, case) pairs in the
    period. On PostgreSQL one join against the unnested pairs, so the cost follows the pairs asked
    about, not the cross product of their people and cases."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                _PAIR_VERSIONS_SQL,
                [[u for u, _ in pairs], [p for _, p in pairs], latest, earliest, earliest],
            )
            return [
                (gid, user, pid, _json_list(envs), _json_list(rights), vf, vu, rec, sup)
                for gid, user, pid, envs, rights, vf, vu, rec, sup in cursor.fetchall()
            ]
    wanted = set(pairs)
    rows = (
        GrantVersion.objects.filter(
            grantee__username__in={u for u, _ in pairs},
            case__project_id__in={p for _, p in pairs},
            revoked=False,
            recorded_at__lte=latest,
            valid_until__gt=earliest,
        )
        .filter(Q(superseded_at__isnull=True) | Q(superseded_at__gt=earliest))
        .values_list(
            "grant_id",
            "grantee__username",
            "case__project_id",
            "environments",
            "rights",
            "valid_from",
            "valid_until",
            "recorded_at",
            "superseded_at",
        )
    )
    return [row for row in rows if (row[1], row[2]) in wanted]


def _json_list(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _deputy_versions_at(at: datetime.datetime) -> QuerySet[DeputyVersion]:
    """The deputy-period versions that were the period's state at ``at`` and whose period included
    ``at`` (a version from before end dates existed has no ``valid_until``)."""
    return DeputyVersion.objects.filter(
        Q(recorded_at__lte=at)
        & (Q(superseded_at__isnull=True) | Q(superseded_at__gt=at))
        & Q(ended=False, valid_from__lte=at)
        & (Q(valid_until__isnull=True) | Q(valid_until__gt=at))
    ).select_related("period", "deputy")


def deputies_at(items: list[tuple[int, str, datetime.datetime]]) -> list[bool]:
    """For each (case pk, username, moment) of a usage event: whether that person was a deputy of
    the case at that moment, as the deputy history says it was then (the versions
    ``_deputy_versions_at`` reads, so the trail's basis and ``access_at`` cannot disagree), not as
    the deputyships are now: an event that Hansken reports late is judged by the moment it happened.
    One query for the whole list."""
    if not items:
        return []
    earliest = min(at for _, _, at in items)
    latest = max(at for _, _, at in items)
    rows = (
        DeputyVersion.objects.filter(
            case_id__in={case_pk for case_pk, _, _ in items},
            deputy__username__in={username for _, username, _ in items},
            ended=False,
            recorded_at__lte=latest,
            valid_from__lte=latest,
        )
        .filter(Q(superseded_at__isnull=True) | Q(superseded_at__gt=earliest))
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=earliest))
        .values_list(
            "case_id", "deputy__username", "recorded_at", "superseded_at", "valid_from", "valid_until"
        )
    )
    by_pair: dict[tuple[int, str], list[tuple[Any, ...]]] = defaultdict(list)
    for case_pk, username, *window in rows:
        by_pair[(case_pk, username)].append(tuple(window))
    return [
        any(
            recorded <= at
            and (superseded is None or superseded > at)
            and valid_from <= at
            and (valid_until is None or valid_until > at)
            for recorded, superseded, valid_from, valid_until in by_pair.get((case_pk, username), ())
        )
        for case_pk, username, at in items
    ]


@dataclass(frozen=True)
class AccessAtMoment:
    user: str
    rights: list[str]
    environments: list[str]
    grant_id: int | None
    granted_by: str | None
    granted_at: datetime.datetime | None
    valid_from: datetime.datetime | None
    valid_until: datetime.datetime | None
    reason: str
    basis: str  # "grant"; "case_lead" or "deputy" (until the deputyship's end) for the case's managers
    # Whether ``check`` would have let the person act at that moment at all: the row's basis existed,
    # but a closed case, a deactivated person or a lapsed screening denies whatever the grants say.
    # ``blocked_by`` is then the reason ``check`` gives (``authz.decisions.standing_denial``).
    could_act: bool = True
    blocked_by: str | None = None


# The access-at rows, each kind built here only. The case lead and the deputies may act with every
# right wherever case data lives.


def _every_right() -> list[str]:
    return list(Action.values)


def _where_case_data_lives() -> list[str]:
    return [value for value, _ in GRANT_ENVIRONMENT_CHOICES]


def _case_lead_row(case: Case) -> AccessAtMoment:
    """Leads are not time-versioned; a change of lead is in the trail."""
    return AccessAtMoment(
        user=case.case_lead.get_username(),
        rights=_every_right(),
        environments=_where_case_data_lives(),
        grant_id=None,
        granted_by=None,
        granted_at=None,
        valid_from=case.created_at,
        valid_until=None,
        reason="case lead",
        basis="case_lead",
    )


def _deputy_row(version: DeputyVersion) -> AccessAtMoment:
    """As the deputyship was in this version: its end date then (none before end dates existed)."""
    return AccessAtMoment(
        user=version.deputy.get_username(),
        rights=_every_right(),
        environments=_where_case_data_lives(),
        grant_id=None,
        granted_by=version.period.added_by,
        granted_at=version.period.added_at,
        valid_from=version.valid_from,
        valid_until=version.valid_until,
        reason="deputy of the case lead",
        basis="deputy",
    )


def _grant_row(version: GrantVersion) -> AccessAtMoment:
    return AccessAtMoment(
        user=version.grantee.get_username(),
        rights=list(version.rights),
        environments=list(version.environments),
        grant_id=version.grant_id,
        granted_by=version.grant.granted_by.get_username(),
        granted_at=version.grant.granted_at,
        valid_from=version.valid_from,
        valid_until=version.valid_until,
        reason=version.grant.reason,
        basis="grant",
    )


def access_at(case: Case, at: datetime.datetime) -> list[AccessAtMoment]:
    """Who could act on the case at ``at``, with which rights and environments, granted by whom,
    when and why — as the grants were at that moment, not as they are now.

    The case lead is listed with every right (the lead may always act on the case), and so is each
    person who was a deputy at that moment, with the end date the deputyship had then (from
    ``DeputyVersion``, basis ``deputy``). Each row says whether ``check`` would have let the person
    act then at all (``could_act``, ``blocked_by``: see ``_as_it_stood``).
    """
    rows: list[AccessAtMoment] = []
    if case.created_at <= at:
        rows.append(_case_lead_row(case))
    for deputy_version in _deputy_versions_at(at).filter(case=case).order_by("deputy__username"):
        rows.append(_deputy_row(deputy_version))
    versions = (
        GrantVersion.objects.filter(_version_in_force_at(at), case=case)
        .select_related("grantee", "grant__granted_by")
        .order_by("grantee__username", "grant_id")
    )
    rows.extend(_grant_row(version) for version in versions)
    return [row for _, row in _as_it_stood([(case, row) for row in rows], at)]


def access_of_person_at(user: Any, at: datetime.datetime) -> list[tuple[Case, AccessAtMoment]]:
    """The same question per person: on which cases could they act at ``at``: the cases they led,
    then those they were a deputy of, then their grants."""
    led = Case.objects.filter(case_lead=user, created_at__lte=at).select_related("case_lead")
    versions = (
        GrantVersion.objects.filter(_version_in_force_at(at), grantee=user)
        .select_related("case", "grantee", "grant__granted_by")
        .order_by("case__case_number")
    )
    deputyships = _deputy_versions_at(at).filter(deputy=user).select_related("case")
    return _as_it_stood(
        [(case, _case_lead_row(case)) for case in led.order_by("case_number")]
        + [(deputy_version.case, _deputy_row(deputy_version)) for deputy_version in deputyships]
        + [(version.case, _grant_row(version)) for version in versions],
        at,
    )


def _as_it_stood(
    rows: list[tuple[Case, AccessAtMoment]], at: datetime.datetime
) -> list[tuple[Case, AccessAtMoment]]:
    """The rows with ``could_act`` and ``blocked_by`` set by the rule ``check`` applies before any
    grant, fed with each person's standing and each case's status as the trail shows them at ``at``
    (four queries in all). The row stays: the grant or role existed, and the reviewer needs to see
    it; the gate says it could not be used. A person no longer on record counts as unable to act."""
    if not rows:
        return rows
    standing = standing_at({row.user for _, row in rows}, at)
    statuses = statuses_at({case.pk: case for case, _ in rows}.values(), at)
    today = timezone.localtime(at).date()
    stood = []
    for case, row in rows:
        person = standing.get(row.user)
        if person is None:
            reason: str | None = Reason.UNKNOWN_USER
        else:
            reason = standing_denial(person.active, person.screened_until, statuses[case.pk], today)
        stood.append((case, replace(row, could_act=reason is None, blocked_by=reason)))
    return stood


def open_requests_to_answer(user: Any) -> QuerySet[AccessRequest]:
    """The open requests on the cases this person leads or deputises on, oldest first (start page)."""
    return (
        AccessRequest.objects.filter(
            case__in=cases_for_person(user, CasePurpose.MANAGE_ACCESS), status=RequestStatus.OPEN
        )
        .select_related("case", "requester")
        .order_by("created_at")
    )


def managed_cases_with_counts(user: Any, now: datetime.datetime) -> QuerySet[Case]:
    """The cases this person leads or deputises on, each with its grants in force, those ending
    soon, and its open access requests counted (the case lead's overview)."""
    in_force = Q(grants__revoked_at__isnull=True, grants__valid_from__lte=now, grants__valid_until__gt=now)
    return (
        cases_for_person(user, CasePurpose.MANAGE_ACCESS)
        .select_related("case_lead")
        .annotate(
            active_grants=Count("grants", filter=in_force, distinct=True),
            ending_soon=Count(
                "grants", filter=in_force & Q(grants__valid_until__lte=now + ENDING_SOON), distinct=True
            ),
            open_requests=Count(
                "access_requests", filter=Q(access_requests__status=RequestStatus.OPEN), distinct=True
            ),
        )
        .order_by("case_number")
    )


def case_grants_with_history(case: Case) -> QuerySet[Grant]:
    """Every grant of the case, current and past, with its versions in order."""
    return (
        Grant.objects.filter(case=case)
        .select_related("grantee", "granted_by")
        .prefetch_related(
            Prefetch(
                "versions", queryset=GrantVersion.objects.select_related("changed_by").order_by("version")
            )
        )
        .order_by("valid_until", "grantee__username")
    )


def open_requests_of_case(case: Case) -> QuerySet[AccessRequest]:
    return (
        AccessRequest.objects.filter(case=case, status=RequestStatus.OPEN)
        .select_related("requester")
        .order_by("created_at")
    )


# The start page's work lists (people/worklists.py): each a single query.

# A managed case with no grant in force and no grant changed for this long is shown as "quiet".
QUIET_CASE_AFTER = datetime.timedelta(days=30)


def grants_ending_soon_to_manage(user: Any, now: datetime.datetime) -> QuerySet[Grant]:
    """Grants in force on the cases this person leads or deputises on that end within 14 days,
    the soonest first: the case lead extends, narrows or lets them run out."""
    return (
        Grant.objects.filter(
            case__in=cases_for_person(user, CasePurpose.MANAGE_ACCESS),
            revoked_at__isnull=True,
            valid_from__lte=now,
            valid_until__gt=now,
            valid_until__lte=now + ENDING_SOON,
        )
        .select_related("case", "grantee")
        .order_by("valid_until", "pk")
    )


def managed_cases_without_grant_activity(user: Any, now: datetime.datetime) -> QuerySet[Case]:
    """Open cases this person leads or deputises on where nobody holds a grant in force and no grant
    changed in the last 30 days: either nobody works on the case's data, or its access was never set up."""
    in_force = Grant.objects.filter(
        case=OuterRef("pk"), revoked_at__isnull=True, valid_from__lte=now, valid_until__gt=now
    )
    recent = Grant.objects.filter(case=OuterRef("pk"), changed_at__gte=now - QUIET_CASE_AFTER)
    return (
        cases_for_person(user, CasePurpose.MANAGE_ACCESS)
        .filter(status=CaseStatus.OPEN)
        .filter(~Exists(in_force), ~Exists(recent))
        .order_by("case_number")
    )


def my_grants_not_ended(user: Any, now: datetime.datetime) -> QuerySet[Grant]:
    """The person's own grants in force or still to start, each with its end date, the soonest end first."""
    return (
        Grant.objects.filter(grantee=user, revoked_at__isnull=True, valid_until__gt=now)
        .select_related("case")
        .order_by("valid_until", "pk")
    )


def my_recent_requests(user: Any, since: datetime.datetime) -> QuerySet[AccessRequest]:
    """The access requests the person made: every open one, and those answered since ``since``."""
    return (
        AccessRequest.objects.filter(requester=user)
        .filter(Q(status=RequestStatus.OPEN) | Q(answered_at__gte=since))
        .select_related("case", "answered_by")
        .order_by("-created_at", "-pk")
    )
