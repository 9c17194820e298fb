"""Load decision facts from the database: a fixed number of queries for any number of people and
cases (four for people, two for cases), so a batch of 1,000 checks costs six queries when cold."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.contrib.auth.models import User

from authz.decisions import CaseFacts, GrantFacts, PersonFacts
from authz.models import Grant
from cases.models import Case, CaseUserObjectPermission, Dataset, DatasetStatus
from cases.selectors import DEPUTY_PERMISSION


def load_people(usernames: Iterable[str]) -> dict[str, PersonFacts]:
    names = set(usernames)
    if not names:
        return {}
    users = list(
        User.objects.filter(username__in=names).values_list(
            "pk", "username", "is_active", "profile__screening_valid_until"
        )
    )
    ids = [pk for pk, _, _, _ in users]
    managed: dict[int, set[int]] = defaultdict(set)
    for lead_id, case_id in Case.objects.filter(case_lead_id__in=ids).values_list("case_lead_id", "pk"):
        managed[lead_id].add(case_id)
    for user_id, case_id in CaseUserObjectPermission.objects.filter(
        user_id__in=ids, permission__codename=DEPUTY_PERMISSION
    ).values_list("user_id", "content_object_id"):
        managed[user_id].add(case_id)
    grants: dict[int, dict[int, list[GrantFacts]]] = defaultdict(lambda: defaultdict(list))
    for grant_id, grantee_id, case_id, rights, envs, v_from, v_until, revoked_at in Grant.objects.filter(
        grantee_id__in=ids
    ).values_list(
        "pk", "grantee_id", "case_id", "rights", "environments", "valid_from", "valid_until", "revoked_at"
    ):
        grants[grantee_id][case_id].append(
            GrantFacts(grant_id, frozenset(rights), frozenset(envs), v_from, v_until, revoked_at is not None)
        )
    return {
        username: PersonFacts(
            user_id=pk,
            username=username,
            active=active,
            screened_until=screened_until,
            managed_case_ids=frozenset(managed.get(pk, ())),
            grants_by_case={case_id: tuple(items) for case_id, items in grants.get(pk, {}).items()},
        )
        for pk, username, active, screened_until in users
    }


def load_cases(project_ids: Iterable[str]) -> dict[str, CaseFacts]:
    wanted = set(project_ids)
    if not wanted:
        return {}
    cases = list(Case.objects.filter(project_id__in=wanted).values_list("pk", "project_id", "status"))
    removed: dict[int, set[str]] = defaultdict(set)
    images: dict[int, set[str]] = defaultdict(set)
    for case_id, image_id, status in Dataset.objects.filter(
        case_id__in=[pk for pk, _, _ in cases]
    ).values_list("case_id", "image_id", "status"):
        images[case_id].add(str(image_id))
        if status == DatasetStatus.DELETED:
            removed[case_id].add(str(image_id))
    return {
        str(project_id): CaseFacts(
            pk, str(project_id), status, frozenset(removed.get(pk, ())), frozenset(images.get(pk, ()))
        )
        for pk, project_id, status in cases
    }
