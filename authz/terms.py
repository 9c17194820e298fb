"""The terms of a grant or an access request, checked before anything is written: rights,
environments, the period, and whether the grantee may hold access at all. Used by the services in
``authz.services``; the errors name the field they are about."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from authz.models import Action
from cases.models import Case
from hansken_governance.environments import GRANT_ENVIRONMENTS
from people.models import Profile


@dataclass
class GrantTerms:
    rights: list[str]
    environments: list[str]
    valid_from: datetime.datetime
    valid_until: datetime.datetime
    warnings: list[str] = field(default_factory=list)


def clean_terms(
    *,
    grantee: User,
    rights: Iterable[str],
    environments: Iterable[str],
    valid_from: datetime.datetime | None,
    valid_until: datetime.datetime,
    now: datetime.datetime,
) -> GrantTerms:
    errors: dict[str, str] = {}
    clean_rights = sorted(set(rights))
    unknown = [r for r in clean_rights if r not in Action.values]
    if not clean_rights:
        errors["rights"] = "Give at least one right."
    elif unknown:
        errors["rights"] = f"Unknown right(s): {', '.join(unknown)}. Known: {', '.join(Action.values)}."
    clean_envs = sorted(set(environments))
    # Case data is in production and the experiment environment only; grants name nothing else.
    unknown_envs = [e for e in clean_envs if e not in GRANT_ENVIRONMENTS]
    if not clean_envs:
        errors["environments"] = "Give at least one environment."
    elif unknown_envs:
        errors["environments"] = (
            f"Unknown environment(s): {', '.join(unknown_envs)}. A grant names production and/or experiment."
        )
    start = valid_from or now
    max_days = settings.HG_GRANT_MAX_DAYS
    if valid_until <= start:
        errors["valid_until"] = "The end must lie after the start."
    elif valid_until <= now:
        errors["valid_until"] = "The end lies in the past."
    elif valid_until - start > datetime.timedelta(days=max_days):
        errors["valid_until"] = f"A grant may last at most {max_days} days; choose an earlier end."
    if errors:
        raise ValidationError(errors)
    warnings = []
    profile = Profile.objects.filter(user=grantee).first()
    screened_until = profile.screening_valid_until if profile else None
    if screened_until is not None and valid_until.date() > screened_until:
        warnings.append(
            f"The grant runs past {grantee.get_username()}'s screening, which is valid until "
            f"{screened_until.isoformat()}; after that day every decision denies until the screening "
            "is renewed."
        )
    return GrantTerms(clean_rights, clean_envs, start, valid_until, warnings)


def check_grantee(*, case: Case, grantee: User, granted_by: User, today: datetime.date) -> None:
    if grantee.pk == granted_by.pk:
        raise ValidationError({"grantee": "Nobody can grant access to himself."})
    if grantee.pk == case.case_lead_id:
        raise ValidationError({"grantee": "The case lead already has access to the case."})
    check_may_hold_access(grantee, today)


def check_may_hold_access(grantee: User, today: datetime.date) -> None:
    if not grantee.is_active:
        raise ValidationError({"grantee": f"{grantee.get_username()} is not active."})
    profile = Profile.objects.filter(user=grantee).first()
    if profile is None or not profile.is_screened_on(today):
        raise ValidationError(
            {"grantee": f"{grantee.get_username()} has no valid screening; access cannot be granted."}
        )
