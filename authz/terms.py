"""The terms of a grant or an access request, checked before anything is written: rights,
environments, the period, and whether the grantee may hold access at all. Used by the services in
``authz.services``; the errors name the field they are about."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from authz.models import Action
from cases.models import Case
from hansken_governance.environments import GRANT_ENVIRONMENTS
from hansken_governance.service_errors import ServiceWarning, refusal
from people.models import Profile
from people.roles import Role, has_role


def _error(message: str, code: str, **params: Any) -> ValidationError:
    return ValidationError(message, code=code, params=params or None)


@dataclass
class GrantTerms:
    rights: list[str]
    environments: list[str]
    valid_from: datetime.datetime
    valid_until: datetime.datetime
    warnings: list[ServiceWarning] = field(default_factory=list)


def clean_terms(
    *,
    grantee: User,
    rights: Iterable[str],
    environments: Iterable[str],
    valid_from: datetime.datetime | None,
    valid_until: datetime.datetime,
    now: datetime.datetime,
) -> GrantTerms:
    errors: dict[str, ValidationError] = {}
    clean_rights = sorted(set(rights))
    unknown = [r for r in clean_rights if r not in Action.values]
    if not clean_rights:
        errors["rights"] = _error("Give at least one right.", "no_rights")
    elif unknown:
        errors["rights"] = _error(
            "Unknown right(s): %(unknown)s. Known: %(known)s.",
            "unknown_rights",
            unknown=", ".join(unknown),
            known=", ".join(Action.values),
        )
    clean_envs = sorted(set(environments))
    # Case data is in production and the experiment environment only; grants name nothing else.
    unknown_envs = [e for e in clean_envs if e not in GRANT_ENVIRONMENTS]
    if not clean_envs:
        errors["environments"] = _error("Give at least one environment.", "no_environments")
    elif unknown_envs:
        errors["environments"] = _error(
            "Unknown environment(s): %(unknown)s. A grant names production and/or experiment.",
            "unknown_environments",
            unknown=", ".join(unknown_envs),
        )
    start = valid_from or now
    max_days = settings.HG_GRANT_MAX_DAYS
    if valid_until <= start:
        errors["valid_until"] = _error("The end must lie after the start.", "end_before_start")
    elif valid_until <= now:
        errors["valid_until"] = _error("The end lies in the past.", "end_in_past")
    elif valid_until - start > datetime.timedelta(days=max_days):
        errors["valid_until"] = _error(
            "A grant may last at most %(days)s days; choose an earlier end.", "too_long", days=max_days
        )
    if errors:
        raise ValidationError(errors)
    warnings: list[ServiceWarning] = []
    profile = Profile.objects.filter(user=grantee).first()
    screened_until = profile.screening_valid_until if profile else None
    if screened_until is not None and valid_until.date() > screened_until:
        warnings.append(
            ServiceWarning(
                "The grant runs past %(name)s's screening, which is valid until %(date)s; after that day "
                "every decision denies until the screening is renewed.",
                "runs_past_screening",
                {"name": grantee.get_username(), "date": screened_until.isoformat()},
            )
        )
    return GrantTerms(clean_rights, clean_envs, start, valid_until, warnings)


def check_grantee(*, case: Case, grantee: User, granted_by: User, today: datetime.date) -> None:
    if grantee.pk == granted_by.pk:
        raise refusal("grantee", "Nobody can grant access to himself.", "grant_to_self")
    if grantee.pk == case.case_lead_id:
        raise refusal("grantee", "The case lead already has access to the case.", "lead_has_access")
    check_may_hold_access(grantee, today)


def check_may_hold_access(grantee: User, today: datetime.date) -> None:
    if not grantee.is_active:
        raise refusal("grantee", "%(name)s is not active.", "inactive", name=grantee.get_username())
    if has_role(grantee, Role.ADMINISTRATOR):
        # An administrator manages accounts; case access he could otherwise arrange for himself.
        raise refusal(
            "grantee",
            "%(name)s is an administrator: no case access.",
            "administrator",
            name=grantee.get_username(),
        )
    profile = Profile.objects.filter(user=grantee).first()
    if profile is None or not profile.is_screened_on(today):
        raise refusal(
            "grantee",
            "%(name)s has no valid screening; access cannot be granted.",
            "not_screened",
            name=grantee.get_username(),
        )
