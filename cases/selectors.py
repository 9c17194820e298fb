"""The one scoping door for cases. Every view that loads a case goes through ``cases_for``: a case
outside the caller's scope does not exist for that caller (404, not 403)."""

from __future__ import annotations

import datetime
import enum
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from api_clients.models import ApiClient
from api_clients.permissions import client_may
from audit import actions as audit_actions
from audit.history import Change, value_at
from audit.models import AuditEvent
from cases.models import Case, DeputyPeriod
from hansken_governance.environments import TEST_ENVIRONMENTS
from people.models import Profile
from people.roles import REVIEWER_ROLES, Role, has_role


class CasePurpose(enum.StrEnum):
    VIEW = "view"  # see the case and its datasets
    MANAGE_DATASETS = "manage_datasets"  # register datasets, report last access
    MANAGE_ACCESS = "manage_access"  # grant, change and revoke access (case lead and deputies only)
    REVIEW_AUDIT = "review_audit"  # read the case's audit trail
    # See the case's privileged marks and blocked export checks: the case lead, deputies, people
    # holding review_privileged on the case by a grant in force, and the privacy officer.
    REVIEW_PRIVILEGED = "review_privileged"
    MARK_PRIVILEGED = "mark_privileged"  # post privileged marks (Hansken's clients with privilege:write)
    HASHTOTALS_UPLOAD = "hashtotals_upload"  # upload hash manifests of its datasets (operators)
    HASHTOTALS_VIEW = "hashtotals_view"  # see the comparison of its datasets' hashtotals


def deputyships_not_ended() -> QuerySet[DeputyPeriod]:
    """Every deputyship not ended by a person (removal, deactivation, sign-off), also one whose end
    date has passed: the decision facts hold these with their end, and the rule compares the end
    with the clock at each decision, so a cached fact never outlives the deputyship."""
    return DeputyPeriod.objects.filter(removed_at__isnull=True)


def deputyships(at: datetime.datetime | None = None) -> QuerySet[DeputyPeriod]:
    """Every deputyship in force now (or at ``at``): named, not ended, and not past its end date.
    The one definition of "who is a deputy"; every other reads through it."""
    return deputyships_not_ended().filter(valid_until__gt=at or timezone.now())


def deputy_case_ids(user: Any) -> QuerySet[DeputyPeriod, Any]:
    return deputyships().filter(deputy=user).values("case_id")


def _led_or_deputy(user: Any) -> Q:
    return Q(case_lead=user) | Q(pk__in=deputy_case_ids(user))


def _granted(user: Any) -> Q:
    """Cases on which the person holds a grant (any, current or past): they may see the case exists.
    Whether they may act on its data is the decision service's business, not this door's."""
    from authz.selectors import granted_case_ids

    return Q(pk__in=granted_case_ids(user))


def _screened_now(user: Any) -> bool:
    profile = Profile.objects.filter(user=user).first()
    return profile is not None and profile.is_screened_on()


def cases_for_person(user: Any, purpose: CasePurpose) -> QuerySet[Case]:
    cases = Case.objects.all()
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return cases.none()
    if purpose is CasePurpose.MANAGE_ACCESS:
        # Authorisations belong to the case lead (seed measure 3): no role, not even administrator,
        # reaches another's case here.
        return cases.filter(_led_or_deputy(user))
    if purpose is CasePurpose.MANAGE_DATASETS:
        return cases if has_role(user, Role.OPERATOR) else cases.none()
    if purpose is CasePurpose.REVIEW_AUDIT:
        return cases if has_role(user, *REVIEWER_ROLES) else cases.filter(_led_or_deputy(user))
    if purpose is CasePurpose.REVIEW_PRIVILEGED:
        if has_role(user, Role.PRIVACY_OFFICER):
            return cases
        if not _screened_now(user):
            # The marks and their reasons are about the case's data: like a decision, they need a
            # valid screening (the decision rule denies ``screening_expired`` whatever the basis).
            return cases.none()
        from authz.selectors import review_privileged_case_ids

        return cases.filter(_led_or_deputy(user) | Q(pk__in=review_privileged_case_ids(user)))
    if purpose is CasePurpose.MARK_PRIVILEGED:
        return cases.none()  # marks come from Hansken's clients only
    if purpose is CasePurpose.HASHTOTALS_UPLOAD:
        return cases if has_role(user, Role.OPERATOR) else cases.none()
    if purpose is CasePurpose.HASHTOTALS_VIEW:
        # Operators and reviewers; the case lead and deputies for their own cases. A grant on the
        # case's data is not a reason to see how its import went.
        if has_role(user, Role.OPERATOR, *REVIEWER_ROLES):
            return cases
        return cases.filter(_led_or_deputy(user))
    if has_role(user, Role.OPERATOR, *REVIEWER_ROLES):
        return cases
    return cases.filter(_led_or_deputy(user) | _granted(user)).distinct()


# What each purpose asks of a client: the scope that opens the door (no entry: closed to clients).
_CLIENT_SCOPE_OF_PURPOSE = {
    CasePurpose.VIEW: "cases:write",
    CasePurpose.MANAGE_DATASETS: "cases:write",
    CasePurpose.HASHTOTALS_UPLOAD: "hashtotals:write",
    CasePurpose.HASHTOTALS_VIEW: "hashtotals:write",
    CasePurpose.MARK_PRIVILEGED: "privilege:write",
}


def cases_for_client(client: ApiClient, purpose: CasePurpose) -> QuerySet[Case]:
    scope = _CLIENT_SCOPE_OF_PURPOSE.get(purpose)
    if scope is None or not client_may(client, scope):
        return Case.objects.none()
    if client.environment in TEST_ENVIRONMENTS:
        # A test or development client sees test cases only, whatever it asks: a real case does not
        # exist for it (it must not lift a real case's privileged marks, nor read or fill its
        # hashtotals, which list the evidence's file paths).
        return Case.objects.filter(registered_in__in=sorted(TEST_ENVIRONMENTS))
    return Case.objects.all()


def cases_for(request: Any, purpose: CasePurpose) -> QuerySet[Case]:
    auth = getattr(request, "auth", None)
    if isinstance(auth, ApiClient):
        return cases_for_client(auth, purpose)
    return cases_for_person(request.user, purpose)


def case_for(request: Any, project_id: Any, purpose: CasePurpose) -> Case:
    return get_object_or_404(cases_for(request, purpose), project_id=project_id)


def is_case_manager(user: Any, case: Case) -> bool:
    """The case lead or a deputy of this case."""
    if not getattr(user, "is_authenticated", False):
        return False
    return case.case_lead_id == user.pk or deputy_case_ids(user).filter(case_id=case.pk).exists()


def case_deputy_periods(case: Case) -> list[DeputyPeriod]:
    """The case's deputyships in force, by username, each with its end (``valid_until``)."""
    return list(deputyships().filter(case=case).select_related("deputy").order_by("deputy__username"))


def case_deputy_usernames(case: Case) -> list[str]:
    return sorted(set(deputyships().filter(case=case).values_list("deputy__username", flat=True)))


@dataclass(frozen=True)
class ManagedCase:
    pk: int
    project_id: uuid.UUID
    managers: frozenset[str]  # the case lead and the deputies, by username
    lead: str  # the case lead's username


def managed_cases(project_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, ManagedCase]:
    """The cases with these project ids (those that exist), each with its managers: the case lead
    and the deputies. Two queries, however many cases."""
    rows = list(
        Case.objects.filter(project_id__in=list(project_ids)).values_list(
            "pk", "project_id", "case_lead__username"
        )
    )
    managers: dict[int, set[str]] = {pk: {lead} for pk, _, lead in rows}
    deputies = deputyships().filter(case_id__in=list(managers)).values_list("case_id", "deputy__username")
    for case_pk, username in deputies:
        managers[case_pk].add(username)
    return {
        project_id: ManagedCase(pk, project_id, frozenset(managers[pk]), lead)
        for pk, project_id, lead in rows
    }


def statuses_at(cases: Iterable[Case], at: datetime.datetime) -> dict[int, str]:
    """Each case's status at ``at``, by primary key, from the status changes in the trail (one query);
    a case whose status never changed stands as today."""
    cases = list(cases)
    history: dict[uuid.UUID | None, list[Change]] = {case.project_id: [] for case in cases}
    changes = (
        AuditEvent.objects.filter(action=audit_actions.CASE_STATUS_CHANGED, project_id__in=list(history))
        .order_by("sequence")
        .values_list("occurred_at", "project_id", "details")
    )
    for moment, project_id, details in changes:
        history[project_id].append((moment, details.get("before"), details.get("after")))
    return {case.pk: value_at(history[case.project_id], at, case.status) for case in cases}
