"""The only writers of people, their roles and screening. Each writes its audit event in the same
transaction."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import Group, User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit import actions
from audit.actor import Actor
from audit.services import audit_record
from authz.cache import invalidate
from people.models import Profile
from people.roles import CASE_ROLES, FOUR_EYES_ROLES, Role, forget_roles, roles_of
from people.sessions import sessions_end_for


def _clean_roles(roles: Iterable[str]) -> list[str]:
    wanted = sorted(set(roles))
    unknown = [r for r in wanted if r not in Role.values]
    if unknown:
        raise ValidationError(
            {"roles": f"Unknown role(s): {', '.join(unknown)}. Known: {', '.join(Role.values)}."}
        )
    if not wanted:
        raise ValidationError({"roles": "Give at least one role."})
    mixed = sorted(CASE_ROLES & set(wanted))
    if Role.ADMINISTRATOR in wanted and mixed:
        # An administrator manages accounts; with a case role he could give himself case access.
        raise ValidationError(
            {
                "roles": ValidationError(
                    f"The administrator role cannot be combined with case roles ({', '.join(mixed)}).",
                    code="admin_with_case_role",
                )
            }
        )
    return wanted


def needs_four_eyes(roles: Iterable[str]) -> bool:
    """Whether a new person with these roles waits for a second administrator."""
    return bool(FOUR_EYES_ROLES & set(roles))


def _require_four_eyes_or_command(by: Actor, what: str) -> None:
    """Applied at once only from the command line: the operator's installation path and HR sync,
    run by whoever holds the host (who could as well write to the database), audited as a command
    with the operating-system user and alerted on by monitoring. A person in the browser or through
    the API proposes the change instead (``person_change_propose``); a second administrator applies
    it (``person_change_approve``)."""
    if by.channel != "command":
        raise ValidationError(
            {
                "person": ValidationError(
                    f"{what} needs a second administrator's approval; propose it instead.", code="four_eyes"
                )
            }
        )


def _set_groups(user: User, roles: list[str]) -> None:
    groups = [Group.objects.get_or_create(name=role)[0] for role in roles]
    user.groups.set(groups)
    forget_roles(user)
    # ``is_staff`` follows the administrator role, so Django's own notion of "may use the admin" never
    # disagrees with ours. The admin site itself checks the role (hansken_governance.admin_site).
    staff = Role.ADMINISTRATOR in roles
    if user.is_staff != staff:
        User.objects.filter(pk=user.pk).update(is_staff=staff)
        user.is_staff = staff


def _refuse_own(person: User, by: Actor, what: str) -> None:
    """Nobody changes their own roles, screening or active flag: an administrator could otherwise
    make himself e.g. an operator, or keep his own lapsed screening alive. Another administrator does
    it, and the trail shows who."""
    if by.user_id is not None and by.user_id == person.pk:
        raise ValidationError({"person": f"Another administrator must change your own {what}."})


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
    if needs_four_eyes(clean_roles):
        _require_four_eyes_or_command(by, "A new person with a case or administrator role")
    return _create(
        username=username,
        roles=clean_roles,
        by=by,
        screened_until=screened_until,
        screening_reference=screening_reference,
        password=password,
        email=email,
        first_name=first_name,
        last_name=last_name,
        employee_number=employee_number,
    )


def _check_new_person(username: str, employee_number: str | None) -> None:
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": f"A person with the username {username} already exists."})
    if employee_number and Profile.objects.filter(employee_number=employee_number).exists():
        raise ValidationError({"employee_number": "This employee number is already in use."})


def _create(
    *,
    username: str,
    roles: list[str],
    by: Actor,
    screened_until: datetime.date | None,
    screening_reference: str,
    password: str | None,
    email: str,
    first_name: str,
    last_name: str,
    employee_number: str | None,
    password_hash: str = "",
    proposal: dict[str, Any] | None = None,
) -> User:
    clean_roles = _clean_roles(roles)
    _check_new_person(username, employee_number)
    user = User(username=username, email=email, first_name=first_name, last_name=last_name)
    if password:
        validate_password(password, user)
        user.set_password(password)
    elif password_hash:
        user.password = password_hash  # validated when it was proposed; only its hash was kept
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
            "password_set": bool(password or password_hash),
            **(proposal or {}),
        },
    )
    return user


@transaction.atomic
def person_set_roles(*, person: User, roles: Iterable[str], by: Actor) -> None:
    _refuse_own(person, by, "roles")
    clean_roles = _clean_roles(roles)
    _require_four_eyes_or_command(by, "A change of roles")
    _set_roles(person=person, roles=clean_roles, by=by)


def _refuse_admin_with_case_access(person: User, roles: list[str]) -> None:
    """An administrator holds no case access: who leads a case, deputises on one or holds a grant
    that has not ended gives that up first (the case lead signs him off), then becomes administrator."""
    if Role.ADMINISTRATOR not in roles:
        return
    from authz.models import Grant
    from cases.models import Case, DeputyPeriod

    now = timezone.now()
    if (
        Case.objects.filter(case_lead=person).exists()
        or DeputyPeriod.objects.filter(deputy=person, removed_at__isnull=True).exists()
        or Grant.objects.filter(grantee=person, revoked_at__isnull=True, valid_until__gt=now).exists()
    ):
        raise ValidationError(
            {
                "roles": ValidationError(
                    f"{person.get_username()} leads a case, is a deputy or holds a grant, "
                    "so cannot be an administrator.",
                    code="admin_with_case_access",
                )
            }
        )


def _set_roles(*, person: User, roles: list[str], by: Actor, proposal: dict[str, Any] | None = None) -> None:
    clean_roles = _clean_roles(roles)
    _refuse_admin_with_case_access(person, clean_roles)
    before = sorted(roles_of(person))
    _set_groups(person, clean_roles)
    # Decisions rest on grants, case leadership, screening and the active flag, never on roles; the
    # decision facts carry the roles only for the trail (a denial's ``actor_role``), and the change
    # of groups drops them on every worker (``authz.signals``, as for a change in the admin).
    audit_record(
        action=actions.PERSON_ROLES_CHANGED,
        actor=by,
        object_type="person",
        object_id=person.pk,
        details={
            "username": person.get_username(),
            "before": before,
            "after": clean_roles,
            **(proposal or {}),
        },
    )


@transaction.atomic
def person_set_screening(
    *, person: User, valid_until: datetime.date | None, reference: str, by: Actor
) -> None:
    _refuse_own(person, by, "screening")
    _require_four_eyes_or_command(by, "A change of screening")
    _set_screening(person=person, valid_until=valid_until, reference=reference, by=by)


def _set_screening(
    *,
    person: User,
    valid_until: datetime.date | None,
    reference: str,
    by: Actor,
    proposal: dict[str, Any] | None = None,
) -> None:
    profile, _ = Profile.objects.select_for_update().get_or_create(user=person)
    before = profile.screening_valid_until
    profile.screening_valid_until = valid_until
    profile.screening_reference = reference
    profile.save(update_fields=["screening_valid_until", "screening_reference", "updated_at"])
    invalidate(people=[person.get_username()])  # a lapsed or extended screening changes decisions at once
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
            **(proposal or {}),
        },
    )


@transaction.atomic
def person_deactivate(*, person: User, reason: str, by: Actor) -> None:
    """Deactivates a person, revokes every grant they hold, ends every deputyship and signs them out
    everywhere (their sessions are deleted), in one transaction."""
    from authz.services import grants_revoke_all_of_person
    from cases.services import deputyships_end

    _refuse_own(person, by, "active status")
    User.objects.filter(pk=person.pk).update(is_active=False)
    person.is_active = False
    revoked = grants_revoke_all_of_person(person=person, reason=f"Person deactivated: {reason}", by=by)
    # Deputyships end too: a reactivated person gets case access back only when named again.
    deputyships = deputyships_end(person=person, by=by, reason=f"Person deactivated: {reason}")
    sessions = sessions_end_for(person.pk)
    invalidate(people=[person.get_username()])
    audit_record(
        action=actions.PERSON_DEACTIVATED,
        actor=by,
        object_type="person",
        object_id=person.pk,
        details={
            "username": person.get_username(),
            "reason": reason,
            "grants_revoked": revoked,
            "deputyships_ended": deputyships,
            "sessions_ended": sessions,
        },
    )


@transaction.atomic
def person_reactivate(*, person: User, reason: str, by: Actor) -> None:
    """Lets a person sign in again. The grants revoked and deputyships ended on deactivation stay so:
    access comes back only when a case lead grants it or names the deputy anew."""
    _refuse_own(person, by, "active status")
    if not reason or not reason.strip():
        raise ValidationError({"reason": "Say why the person is reactivated."})
    updated = User.objects.filter(pk=person.pk, is_active=False).update(is_active=True)
    if not updated:
        raise ValidationError({"person": f"{person.get_username()} is already active."})
    person.is_active = True
    invalidate(people=[person.get_username()])
    audit_record(
        action=actions.PERSON_REACTIVATED,
        actor=by,
        object_type="person",
        object_id=person.pk,
        details={"username": person.get_username(), "reason": reason.strip()},
    )


@transaction.atomic
def person_update_details(
    *,
    person: User,
    by: Actor,
    first_name: str,
    last_name: str,
    email: str,
    employee_number: str | None,
) -> list[str]:
    """Name, e-mail and employee number. The username is not changed here: Hansken names people by it,
    and the audit trail would lose track of who is who. Returns the names of the changed fields; with
    none changed nothing is written and no event recorded."""
    profile, _ = Profile.objects.select_for_update().get_or_create(user=person)
    employee_number = employee_number or None
    if (
        employee_number
        and Profile.objects.filter(employee_number=employee_number).exclude(pk=profile.pk).exists()
    ):
        raise ValidationError({"employee_number": "This employee number is already in use."})
    wanted: dict[str, str | None] = {"first_name": first_name, "last_name": last_name, "email": email}
    before: dict[str, str | None] = {name: getattr(person, name) for name in wanted}
    before["employee_number"] = profile.employee_number
    wanted["employee_number"] = employee_number
    changed = sorted(name for name in wanted if wanted[name] != before[name])
    if not changed:
        return []
    user_fields = [name for name in changed if name != "employee_number"]
    if user_fields:
        for name in user_fields:
            setattr(person, name, wanted[name])
        person.full_clean(exclude=["password", "username"])
        User.objects.filter(pk=person.pk).update(**{name: wanted[name] for name in user_fields})
    if "employee_number" in changed:
        profile.employee_number = employee_number
        profile.save(update_fields=["employee_number", "updated_at"])
    audit_record(
        action=actions.PERSON_DETAILS_CHANGED,
        actor=by,
        object_type="person",
        object_id=person.pk,
        details={
            "username": person.get_username(),
            "before": {name: before[name] for name in changed},
            "after": {name: wanted[name] for name in changed},
        },
    )
    return changed


@transaction.atomic
def person_set_password(*, person: User, password: str, by: Actor) -> None:
    """A new password (the event says that it changed, never what it is)."""
    validate_password(password, person)
    person.set_password(password)
    User.objects.filter(pk=person.pk).update(password=person.password)
    audit_record(
        action=actions.PERSON_PASSWORD_CHANGED,
        actor=by,
        object_type="person",
        object_id=person.pk,
        details={"username": person.get_username(), "by_self": by.user_id == person.pk},
    )


@transaction.atomic
def person_bind_sso_subject(*, person: User, subject: str, by: Actor) -> None:
    """Binds a person to the identity provider's subject (``sub``), once: at their first single
    sign-on, found by an exact username match (people.oidc). A binding is never moved to another
    subject here; a person whose provider account changed is unbound by an administrator first."""
    if not subject or len(subject) > 255:
        raise ValidationError({"sub": "The provider's subject must be 1 to 255 characters."})
    profile, _ = Profile.objects.select_for_update().get_or_create(user=person)
    if profile.sso_subject == subject:
        return
    if profile.sso_subject:
        raise ValidationError({"sub": f"{person.get_username()} is bound to another subject."})
    if Profile.objects.filter(sso_subject=subject).exists():
        raise ValidationError({"sub": "This subject is bound to another person."})
    profile.sso_subject = subject
    profile.save(update_fields=["sso_subject", "updated_at"])
    audit_record(
        action=actions.PERSON_SSO_SUBJECT_BOUND,
        actor=by,
        object_type="person",
        object_id=person.pk,
        details={"username": person.get_username(), "subject": subject},
    )
