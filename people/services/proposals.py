"""The four-eyes writers: one administrator proposes a new person with a case or administrator role,
a change of a person's roles or screening, or a move of their single sign-on binding; a second
administrator approves (which applies it, with the usual service in the same transaction) or rejects
it. Each step is its own audit event, and the applied change's event names the proposal, its
proposer and its approver."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from audit import actions
from audit.actor import Actor
from audit.services import audit_record
from people import second_factor, services
from people.models import PersonProposal, Profile, ProposalKind, ProposalStatus
from people.roles import Role, has_role, roles_of
from people.services import second_factor as second_factor_services

# Profile.sso_subject's length, as single sign-on binds it (people.services.person_bind_sso_subject).
SSO_SUBJECT_MAX = 255


def _require_administrator(person: User, what: str) -> None:
    if not (person.is_active and has_role(person, Role.ADMINISTRATOR)):
        raise PermissionDenied(f"Only an administrator {what}.")


def _screening_of(person: User) -> dict[str, Any]:
    profile = Profile.objects.filter(user=person).first()
    until = profile.screening_valid_until if profile else None
    return {
        "screened_until": until.isoformat() if until else None,
        "screening_reference": profile.screening_reference if profile else "",
    }


def _refuse_second_pending(kind: str, username: str) -> None:
    if PersonProposal.objects.filter(kind=kind, username=username, status=ProposalStatus.PENDING).exists():
        raise ValidationError(
            {
                "person": ValidationError(
                    f"A change of this kind for {username} is already waiting for approval.",
                    code="already_proposed",
                )
            }
        )


def _propose(
    *,
    kind: str,
    username: str,
    person: User | None,
    changes: dict[str, Any],
    before: dict[str, Any],
    reason: str,
    proposed_by: User,
    by: Actor,
    password_hash: str = "",
) -> PersonProposal:
    _require_administrator(proposed_by, "proposes changes to people")
    _refuse_second_pending(kind, username)
    proposal = PersonProposal.objects.create(
        kind=kind,
        person=person,
        username=username,
        changes=changes,
        before=before,
        password_hash=password_hash,
        reason=reason.strip(),
        proposed_by=proposed_by,
        proposed_at=timezone.now(),
    )
    audit_record(
        action=actions.PERSON_CHANGE_PROPOSED,
        actor=by,
        object_type="person_proposal",
        object_id=proposal.pk,
        details={
            "kind": kind,
            "username": username,
            "changes": changes,
            "before": before,
            "reason": proposal.reason,
            "password_set": bool(password_hash),
        },
    )
    return proposal


@transaction.atomic
def person_create_propose(
    *,
    username: str,
    roles: Iterable[str],
    proposed_by: User,
    by: Actor,
    reason: str = "",
    screened_until: datetime.date | None = None,
    screening_reference: str = "",
    password: str | None = None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    employee_number: str | None = None,
) -> PersonProposal:
    """Propose a new person; checked now as the creation itself would check it, and again on approval."""
    clean_roles = services._clean_roles(roles)
    services._check_new_person(username, employee_number or None)
    candidate = User(username=username, email=email, first_name=first_name, last_name=last_name)
    candidate.full_clean(exclude=["password"])
    password_hash = ""  # nosec B105  # an empty hash: the person signs in by single sign-on
    if password:
        validate_password(password, candidate)
        password_hash = make_password(password)
    changes = {
        "roles": clean_roles,
        "screened_until": screened_until.isoformat() if screened_until else None,
        "screening_reference": screening_reference,
        "email": email,
        "first_name": first_name,
        "last_name": last_name,
        "employee_number": employee_number or None,
    }
    return _propose(
        kind=ProposalKind.CREATE,
        username=username,
        person=None,
        changes=changes,
        before={},
        reason=reason,
        proposed_by=proposed_by,
        by=by,
        password_hash=password_hash,
    )


@transaction.atomic
def person_roles_propose(
    *, person: User, roles: Iterable[str], proposed_by: User, by: Actor, reason: str = ""
) -> PersonProposal:
    services._refuse_own(person, by, "roles")
    clean_roles = services._clean_roles(roles)
    services._refuse_admin_with_case_access(person, clean_roles)
    before = sorted(roles_of(person))
    if before == clean_roles:
        raise ValidationError(
            {"roles": ValidationError("These are the person's roles already.", code="unchanged")}
        )
    return _propose(
        kind=ProposalKind.ROLES,
        username=person.get_username(),
        person=person,
        changes={"roles": clean_roles},
        before={"roles": before},
        reason=reason,
        proposed_by=proposed_by,
        by=by,
    )


@transaction.atomic
def person_screening_propose(
    *,
    person: User,
    valid_until: datetime.date | None,
    reference: str,
    proposed_by: User,
    by: Actor,
    reason: str = "",
) -> PersonProposal:
    services._refuse_own(person, by, "screening")
    before = _screening_of(person)
    changes = {
        "screened_until": valid_until.isoformat() if valid_until else None,
        "screening_reference": reference,
    }
    if before == changes:
        raise ValidationError(
            {
                "screening_valid_until": ValidationError(
                    "This is the person's screening already.", code="unchanged"
                )
            }
        )
    return _propose(
        kind=ProposalKind.SCREENING,
        username=person.get_username(),
        person=person,
        changes=changes,
        before=before,
        reason=reason,
        proposed_by=proposed_by,
        by=by,
    )


def _sso_subject_of(person: User) -> str | None:
    return Profile.objects.filter(user=person).values_list("sso_subject", flat=True).first()


def _refuse_subject_of_another(person: User, subject: str) -> None:
    if Profile.objects.filter(sso_subject=subject).exclude(user=person).exists():
        raise ValidationError(
            {"subject": ValidationError("This subject is bound to another person.", code="subject_taken")}
        )


@transaction.atomic
def person_sso_subject_propose(
    *, person: User, subject: str, proposed_by: User, by: Actor, reason: str
) -> PersonProposal:
    """Propose moving a person's single sign-on binding to another provider subject (``sub``): their
    provider account was replaced. Whoever signs in with the new subject becomes this person, with
    all their access, so a second administrator approves it, and the reason is required."""
    if by.user_id is not None and by.user_id == person.pk:
        raise ValidationError(
            {
                "person": ValidationError(
                    "Another administrator must propose a move of your own binding.", code="own_binding"
                )
            }
        )
    subject = subject.strip()
    if not subject or len(subject) > SSO_SUBJECT_MAX:
        raise ValidationError(
            {
                "subject": ValidationError(
                    f"The provider's subject must be 1 to {SSO_SUBJECT_MAX} characters.",
                    code="subject_length",
                )
            }
        )
    if not reason.strip():
        raise ValidationError(
            {"reason": ValidationError("Say why the binding moves.", code="reason_missing")}
        )
    before = _sso_subject_of(person)
    if before == subject:
        raise ValidationError(
            {"subject": ValidationError("The person is bound to this subject already.", code="unchanged")}
        )
    _refuse_subject_of_another(person, subject)
    return _propose(
        kind=ProposalKind.SSO_SUBJECT,
        username=person.get_username(),
        person=person,
        changes={"sso_subject": subject},
        before={"sso_subject": before},
        reason=reason,
        proposed_by=proposed_by,
        by=by,
    )


@transaction.atomic
def person_second_factor_reset_propose(
    *, person: User, proposed_by: User, by: Actor, reason: str
) -> PersonProposal:
    """Propose removing a person's second factor (their phone is lost and so are their recovery
    codes). Whoever then signs in with the password alone, or enrols anew, holds the account, so a
    second administrator approves it; the reason is required."""
    if by.user_id is not None and by.user_id == person.pk:
        raise ValidationError(
            {
                "person": ValidationError(
                    "Another administrator must propose a reset of your own second factor.",
                    code="own_second_factor",
                )
            }
        )
    if not reason.strip():
        raise ValidationError(
            {"reason": ValidationError("Say why the second factor is reset.", code="reason_missing")}
        )
    if not second_factor.has_second_factor(person):
        raise ValidationError(
            {"person": ValidationError("The person has no second factor to reset.", code="not_enrolled")}
        )
    return _propose(
        kind=ProposalKind.SECOND_FACTOR_RESET,
        username=person.get_username(),
        person=person,
        changes={"second_factor": None},
        before={"second_factor": _second_factor_of(person)},
        reason=reason,
        proposed_by=proposed_by,
        by=by,
    )


def _second_factor_of(person: User) -> str | None:
    """What the approver sees, and what the approval checks is unchanged: the app's enrolment time."""
    device = second_factor.authenticator_of(person)
    return (
        device.created_at.isoformat() if device is not None and device.created_at else "recovery codes only"
    )


def _move_sso_subject(proposal: PersonProposal, person: User, by: Actor, trail: dict[str, Any]) -> None:
    """Apply an approved move of the binding, as the proposer saw the person, audited."""
    profile, _ = Profile.objects.select_for_update().get_or_create(user=person)
    if profile.sso_subject != proposal.before.get("sso_subject"):
        raise ValidationError(
            {
                "proposal": ValidationError(
                    "The person's single sign-on binding changed since this was proposed; propose again.",
                    code="stale",
                )
            }
        )
    subject = proposal.changes["sso_subject"]
    _refuse_subject_of_another(person, subject)
    profile.sso_subject = subject
    profile.save(update_fields=["sso_subject", "updated_at"])
    audit_record(
        action=actions.PERSON_SSO_SUBJECT_MOVED,
        actor=by,
        object_type="person",
        object_id=person.pk,
        details={
            "username": person.get_username(),
            "before": proposal.before.get("sso_subject"),
            "after": subject,
            "reason": proposal.reason,
            **trail,
        },
    )


def _pending_for_update(proposal: PersonProposal, answered_by: User) -> PersonProposal:
    locked = (
        PersonProposal.objects.select_for_update(of=("self",))
        .select_related("person", "proposed_by")
        .get(pk=proposal.pk)
    )
    _require_administrator(answered_by, "answers proposed changes to people")
    if locked.status != ProposalStatus.PENDING:
        raise ValidationError(
            {
                "proposal": ValidationError(
                    f"This proposal has already been answered ({locked.status}).", code="answered"
                )
            }
        )
    if answered_by.pk == locked.proposed_by_id:
        raise ValidationError(
            {
                "proposal": ValidationError(
                    "A second administrator must answer this proposal, not its proposer.", code="own_proposal"
                )
            }
        )
    if locked.person_id is not None and answered_by.pk == locked.person_id:
        raise ValidationError(
            {
                "proposal": ValidationError(
                    "Another administrator must answer a proposal about yourself.", code="about_self"
                )
            }
        )
    return locked


def _apply(proposal: PersonProposal, by: Actor, trail: dict[str, Any]) -> User:
    changes = proposal.changes
    if proposal.kind == ProposalKind.CREATE:
        until = changes.get("screened_until")
        return services._create(
            username=proposal.username,
            roles=changes["roles"],
            by=by,
            screened_until=datetime.date.fromisoformat(until) if until else None,
            screening_reference=changes.get("screening_reference") or "",
            password=None,
            password_hash=proposal.password_hash,
            email=changes.get("email") or "",
            first_name=changes.get("first_name") or "",
            last_name=changes.get("last_name") or "",
            employee_number=changes.get("employee_number"),
            proposal=trail,
        )
    assert proposal.person_id is not None  # only a new person's proposal has none
    person = User.objects.select_for_update().get(pk=proposal.person_id)
    if proposal.kind == ProposalKind.SSO_SUBJECT:
        _move_sso_subject(proposal, person, by, trail)
        return person
    if proposal.kind == ProposalKind.SECOND_FACTOR_RESET:
        if not second_factor.has_second_factor(person) or _second_factor_of(person) != proposal.before.get(
            "second_factor"
        ):
            raise ValidationError(
                {
                    "proposal": ValidationError(
                        "The person's second factor changed since this was proposed; propose again.",
                        code="stale",
                    )
                }
            )
        second_factor_services._reset(person=person, by=by, reason=proposal.reason, trail=trail)
        return person
    # Applied only to the person as the proposer saw them: otherwise the approver would approve
    # something other than what is shown.
    if proposal.kind == ProposalKind.ROLES:
        if sorted(roles_of(person)) != proposal.before.get("roles"):
            raise ValidationError(
                {
                    "proposal": ValidationError(
                        "The person's roles changed since this was proposed; propose again.", code="stale"
                    )
                }
            )
        services._set_roles(person=person, roles=changes["roles"], by=by, proposal=trail)
    else:
        if _screening_of(person) != proposal.before:
            raise ValidationError(
                {
                    "proposal": ValidationError(
                        "The person's screening changed since this was proposed; propose again.", code="stale"
                    )
                }
            )
        until = changes.get("screened_until")
        services._set_screening(
            person=person,
            valid_until=datetime.date.fromisoformat(until) if until else None,
            reference=changes.get("screening_reference") or "",
            by=by,
            proposal=trail,
        )
    return person


@transaction.atomic
def person_proposal_approve(
    *, proposal: PersonProposal, approved_by: User, by: Actor, note: str = ""
) -> User:
    """The second administrator's yes: the change is applied now, checked again as when proposed."""
    locked = _pending_for_update(proposal, approved_by)
    now = timezone.now()
    locked.status = ProposalStatus.APPROVED
    locked.answered_by = approved_by
    locked.answered_at = now
    locked.answer_note = note.strip()
    locked.save(update_fields=["status", "answered_by", "answered_at", "answer_note"])
    audit_record(
        action=actions.PERSON_CHANGE_APPROVED,
        actor=by,
        object_type="person_proposal",
        object_id=locked.pk,
        details={
            "kind": locked.kind,
            "username": locked.username,
            "proposed_by": locked.proposed_by.get_username(),
            "note": locked.answer_note,
        },
    )
    trail = {
        "proposal_id": locked.pk,
        "proposed_by": locked.proposed_by.get_username(),
        "approved_by": approved_by.get_username(),
    }
    person = _apply(locked, by, trail)
    if locked.person_id is None:
        PersonProposal.objects.filter(pk=locked.pk).update(person=person)
        locked.person = person
    return person


@transaction.atomic
def person_proposal_reject(
    *, proposal: PersonProposal, rejected_by: User, by: Actor, note: str
) -> PersonProposal:
    locked = _pending_for_update(proposal, rejected_by)
    if not note or not note.strip():
        raise ValidationError(
            {"note": ValidationError("Say why the proposal is rejected.", code="note_missing")}
        )
    locked.status = ProposalStatus.REJECTED
    locked.answered_by = rejected_by
    locked.answered_at = timezone.now()
    locked.answer_note = note.strip()
    locked.save(update_fields=["status", "answered_by", "answered_at", "answer_note"])
    audit_record(
        action=actions.PERSON_CHANGE_REJECTED,
        actor=by,
        object_type="person_proposal",
        object_id=locked.pk,
        details={
            "kind": locked.kind,
            "username": locked.username,
            "proposed_by": locked.proposed_by.get_username(),
            "note": locked.answer_note,
        },
    )
    return locked
