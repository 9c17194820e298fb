"""Load decision facts from the database: a fixed number of queries for any number of people and
cases (five for people, two for cases), so a batch of 1,000 checks costs seven queries when cold."""

from __future__ import annotations

import datetime
import sys
from collections import defaultdict
from collections.abc import Iterable

from django.contrib.auth.models import User

from authz.decisions import CaseFacts, GrantFacts, PersonFacts
from authz.models import Grant
from cases.models import Case, Dataset, DatasetStatus
from cases.selectors import deputyships_not_ended
from people.roles import role_texts


def load_people(usernames: Iterable[str] | None) -> dict[str, PersonFacts]:
    """The facts of these people, or of everyone (``None``: a worker's preload)."""
    users_qs = User.objects.all()
    if usernames is not None:
        names = set(usernames)
        if not names:
            return {}
        users_qs = users_qs.filter(username__in=names)
    users = list(users_qs.values_list("pk", "username", "is_active", "profile__screening_valid_until"))
    ids = [pk for pk, _, _, _ in users]
    # For a preload, whole tables; otherwise only the rows of these people.
    leads = Case.objects.all()
    deputies = deputyships_not_ended()
    grant_rows = Grant.objects.all()
    if usernames is not None:
        leads = leads.filter(case_lead_id__in=ids)
        deputies = deputies.filter(deputy_id__in=ids)
        grant_rows = grant_rows.filter(grantee_id__in=ids)
    roles = role_texts(None if usernames is None else names)
    managed: dict[int, set[int]] = defaultdict(set)
    for lead_id, case_id in leads.values_list("case_lead_id", "pk"):
        managed[lead_id].add(case_id)
    deputy_until: dict[int, dict[int, datetime.datetime]] = defaultdict(dict)
    for user_id, case_id, until in deputies.values_list("deputy_id", "case_id", "valid_until"):
        deputy_until[user_id][case_id] = max(until, deputy_until[user_id].get(case_id, until))
    grants: dict[int, dict[int, list[GrantFacts]]] = defaultdict(lambda: defaultdict(list))
    for grant_id, grantee_id, case_id, rights, envs, v_from, v_until, revoked_at in grant_rows.values_list(
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
            deputy_until=deputy_until.get(pk, {}),
            roles=sys.intern(roles.get(username, "")),
        )
        for pk, username, active, screened_until in users
    }


def load_cases(project_ids: Iterable[str] | None) -> dict[str, CaseFacts]:
    """The facts of these cases, or of every case (``None``: a worker's preload)."""
    cases_qs = Case.objects.all()
    if project_ids is not None:
        wanted = set(project_ids)
        if not wanted:
            return {}
        cases_qs = cases_qs.filter(project_id__in=wanted)
    cases = list(cases_qs.values_list("pk", "project_id", "status"))
    removed: dict[int, set[str]] = defaultdict(set)
    images: dict[int, set[str]] = defaultdict(set)
    datasets = Dataset.objects.all()
    if project_ids is not None:
        datasets = datasets.filter(case_id__in=[pk for pk, _, _ in cases])
    for case_id, image_id, status in datasets.values_list("case_id", "image_id", "status"):
        images[case_id].add(str(image_id))
        if status == DatasetStatus.DELETED:
            removed[case_id].add(str(image_id))
    facts = {}
    for pk, project_id, status in cases:
        # Interned, as the decision API interns what it parses: one string object per project, so
        # the hot path's dictionary lookups match on identity without comparing the text.
        key = sys.intern(str(project_id))
        facts[key] = CaseFacts(pk, key, status, frozenset(removed.get(pk, ())), frozenset(images.get(pk, ())))
    return facts
