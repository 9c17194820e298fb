"""The only writers of people, their roles and screening. Each writes its audit event in the same
transaction."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.contrib.auth.models import Group, User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from audit import actions
from audit.actor import Actor
from audit.services import audit_record
from people.models import Profile
from people.roles import Role, forget_roles, roles_of


def _clean_roles(roles: Iterable[str]) -> list[str]:
    wanted = sorted(set(roles))
    unknown = [r for r in wanted if r not in Role.values]
    if unknown:
        raise ValidationError(
            {"roles": f"Unknown role(s): {', '.join(unknown)}. Known: {', '.join(Role.values)}."}
        )
    if not wanted:
        raise ValidationError({"roles": "Give at least one role."})
    return wanted


def _set_groups(user: User, roles: list[str]) -> None:
    groups = [Group.objects.get_or_create(name=role)[0] for role in roles]
    user.groups.set(groups)
    forget_roles(user)


@transaction.atomic
def person_create(
    *,
    username: str,
    roles: Iterable[str],
    by: Actor,
    screened_until: datetime.date | None = None,
    screening_reference: str = "",
    password: str | None = None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    employee_number: str | None = None,
) -> User:
    clean_roles = _clean_roles(roles)
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": f"A person with the username {username} already exists."})
    if employee_number and Profile.objects.filter(employee_number=employee_number).exists():
        raise ValidationError({"employee_number": "This employee number is already in use."})
    user = User(username=username, email=email, first_name=first_name, last_name=last_name)
    if password:
        validate_password(password, user)
        user.set_password(password)
    else:
        # Without a password the person signs in through single sign-on only.
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    Profile.objects.create(
        user=user,
        employee_number=employee_number or None,
        screening_valid_until=screened_until,
        screening_reference=screening_reference,
    )
    _set_groups(user, clean_roles)
    audit_record(
        action=actions.PERSON_CREATED,
        actor=by,
        object_type="person",
        object_id=user.pk,
        details={
            "username": username,
            "roles": clean_roles,
            "screened_until": screened_until.isoformat() if screened_until else None,
            "employee_number": employee_number,
            "password_set": bool(password),
        },
    )
    return user


@transaction.atomic
def person_set_roles(*, person: User, roles: Iterable[str], by: Actor) -> None:
    clean_roles = _clean_roles(roles)
    before = sorted(roles_of(person))
    _set_groups(person, clean_roles)
    audit_record(
        action=actions.PERSON_ROLES_CHANGED,
        actor=by,
        object_type="person",
        object_id=person.pk,
        details={"username": person.get_username(), "before": before, "after": clean_roles},
    )


@transaction.atomic
def person_set_screening(
    *, person: User, valid_until: datetime.date | None, reference: str, by: Actor
) -> None:
    profile, _ = Profile.objects.select_for_update().get_or_create(user=person)
    before = profile.screening_valid_until
    profile.screening_valid_until = valid_until
    profile.screening_reference = reference
    profile.save(update_fields=["screening_valid_until", "screening_reference", "updated_at"])
    audit_record(
        action=actions.PERSON_SCREENING_CHANGED,
        actor=by,
        object_type="person",
        object_id=person.pk,
        details={
            "username": person.get_username(),
            "before": before.isoformat() if before else None,
            "after": valid_until.isoformat() if valid_until else None,
            "reference": reference,
        },
    )


@transaction.atomic
def person_deactivate(*, person: User, reason: str, by: Actor) -> None:
    """Deactivates a person and revokes every grant they hold, in one transaction."""
    from authz.cache import invalidate
    from authz.services import grants_revoke_all_of_person

    User.objects.filter(pk=person.pk).update(is_active=False)
    person.is_active = False
    revoked = grants_revoke_all_of_person(person=person, reason=f"Person deactivated: {reason}", by=by)
    invalidate()
    audit_record(
        action=actions.PERSON_DEACTIVATED,
        actor=by,
        object_type="person",
        object_id=person.pk,
        details={"username": person.get_username(), "reason": reason, "grants_revoked": revoked},
    )
