"""The roles a person can hold. Roles are Django groups of the same name, so the admin can show
and change them; code asks through ``has_role`` so that the lookup is cached per request."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CASE_LEAD = "case_lead", _("Case lead")
    INVESTIGATOR = "investigator", _("Investigator")
    ENGINEER = "engineer", _("Engineer")
    OPERATOR = "operator", _("Operator")
    PRIVACY_OFFICER = "privacy_officer", _("Privacy officer")
    SECURITY_MANAGER = "security_manager", _("Security manager")
    ADMINISTRATOR = "administrator", _("Administrator")


REVIEWER_ROLES = frozenset({Role.PRIVACY_OFFICER, Role.SECURITY_MANAGER})
# The roles that lead to case data (grants, leading a case, deputyships). Nobody holds one of them
# together with the administrator role: an administrator manages accounts and must not be able to
# give himself case access, directly or through another account.
CASE_ROLES = frozenset({Role.CASE_LEAD, Role.INVESTIGATOR, Role.ENGINEER})
# A new person with one of these roles, and every change of roles or screening, waits for a second
# administrator (``people.services``): each of them can lead to case data, or to approving such changes.
FOUR_EYES_ROLES = CASE_ROLES | {Role.ADMINISTRATOR}
# Password sign-in of these roles needs a second factor (people.second_factor): they manage people,
# read the whole audit trail or publish what everyone must acknowledge. Everyone else may enrol.
SECOND_FACTOR_ROLES = frozenset({Role.ADMINISTRATOR, Role.PRIVACY_OFFICER, Role.SECURITY_MANAGER})
_CACHE_ATTR = "_hg_roles"


def roles_of(user: Any) -> frozenset[str]:
    """The role names of a person (empty for anonymous users and machine clients)."""
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "pk", None):
        return frozenset()
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        valid = set(Role.values)
        cached = frozenset(name for name in user.groups.values_list("name", flat=True) if name in valid)
        setattr(user, _CACHE_ATTR, cached)
    return cached


def role_text(names: Iterable[str]) -> str:
    """Role names as the audit trail writes them in ``actor_role``: the known roles, sorted, joined
    by commas (what ``audit.actor.Actor`` holds for a person in the browser)."""
    return ",".join(sorted(name for name in names if name in _KNOWN))


_KNOWN = frozenset(Role.values)


def role_texts(usernames: Iterable[str] | None) -> dict[str, str]:
    """``role_text`` of each of these people that exists, or of everyone (``None``: the decision
    facts' preload); one query, "" for a person without roles."""
    from django.contrib.auth.models import User

    people = User.objects.all() if usernames is None else User.objects.filter(username__in=set(usernames))
    names: dict[str, list[str]] = {}
    for username, group in people.values_list("username", "groups__name"):
        names.setdefault(username, [])
        if group is not None:
            names[username].append(group)
    return {username: role_text(groups) for username, groups in names.items()}


def has_role(user: Any, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))


def forget_roles(user: Any) -> None:
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)
