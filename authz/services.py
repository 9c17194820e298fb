"""The only writers of grants and access requests. Each writes its audit event and a grant version
in the same transaction, and invalidates the decision cache before and after commit."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from audit.actor import Actor
from audit.services import audit_record
from authz import actions
from authz.cache import invalidate
from authz.models import AccessRequest, Action, ChangeKind, Grant, GrantVersion, RequestStatus
from cases.models import Case, CaseStatus
from cases.selectors import is_case_manager
from cases.services import deputyships_end
from hansken_governance.environments import GRANT_ENVIRONMENTS, Environment
from people.models import Profile
from people.roles import Role, has_role


@dataclass
class GrantTerms:
    rights: list[str]
    environments: list[str]
    valid_from: datetime.datetime
    valid_until: datetime.datetime
    warnings: list[str] = field(default_factory=list)


def _clean_terms(
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


def _check_grantee(*, case: Case, grantee: User, granted_by: User, today: datetime.date) -> None:
    if grantee.pk == granted_by.pk:
        raise ValidationError({"grantee": "Nobody can grant access to himself."})
    if grantee.pk == case.case_lead_id:
        raise ValidationError({"grantee": "The case lead already has access to the case."})
    _check_may_hold_access(grantee, today)


def _check_may_hold_access(grantee: User, today: datetime.date) -> None:
    if not grantee.is_active:
        raise ValidationError({"grantee": f"{grantee.get_username()} is not active."})
    if has_role(grantee, Role.ADMINISTRATOR):
        # An administrator manages accounts; case access he could otherwise arrange for himself.
        raise ValidationError(
            {
                "grantee": ValidationError(
                    f"{grantee.get_username()} is an administrator: no case access.", code="administrator"
                )
            }
        )
    profile = Profile.objects.filter(user=grantee).first()
    if profile is None or not profile.is_screened_on(today):
        raise ValidationError(
            {"grantee": f"{grantee.get_username()} has no valid screening; access cannot be granted."}
        )


def _require_manager(case: Case, person: User) -> None:
    """Defence in depth: views already scope cases, but a service never trusts its caller."""
    if not is_case_manager(person, case):
        raise PermissionDenied("Only the case lead or a deputy of this case manages its access.")


def _write_version(
    grant: Grant, kind: str, now: datetime.datetime, by: Actor, person: User | None, reason: str
) -> GrantVersion:
    GrantVersion.objects.filter(grant=grant, superseded_at__isnull=True).update(superseded_at=now)
    return GrantVersion.objects.create(
        grant=grant,
        version=grant.version,
        kind=kind,
        rights=grant.rights,
        environments=grant.environments,
        valid_from=grant.valid_from,
        valid_until=grant.valid_until,
        revoked=grant.revoked_at is not None,
        changed_by=person,
        changed_by_label=by.username,
        reason=reason,
        recorded_at=now,
        case_id=grant.case_id,
        grantee_id=grant.grantee_id,
    )


def _grant_details(grant: Grant, **extra: Any) -> dict[str, Any]:
    return {
        "grantee": grant.grantee.get_username(),
        "rights": grant.rights,
        "environments": grant.environments,
        "valid_from": grant.valid_from.isoformat(),
        "valid_until": grant.valid_until.isoformat(),
        "version": grant.version,
        **extra,
    }


@transaction.atomic
def grant_create(
    *,
    case: Case,
    grantee: User,
    rights: Iterable[str],
    valid_until: datetime.datetime,
    reason: str,
    granted_by: User,
    by: Actor,
    environments: Iterable[str] | None = None,
    valid_from: datetime.datetime | None = None,
    request: AccessRequest | None = None,
) -> tuple[Grant, list[str]]:
    """Grant ``rights`` on ``case`` to ``grantee``. Returns the grant and any warnings (e.g. the
    grant outlasts the grantee's screening)."""
    now = timezone.now()
    _require_manager(case, granted_by)
    if case.status != CaseStatus.OPEN:
        raise ValidationError({"case": "Access can only be granted on an open case."})
    if not reason or not reason.strip():
        raise ValidationError({"reason": "Say why access is granted."})
    _check_grantee(case=case, grantee=grantee, granted_by=granted_by, today=timezone.localdate())
    terms = _clean_terms(
        grantee=grantee,
        rights=rights,
        environments=environments if environments is not None else [Environment.PRODUCTION],
        valid_from=valid_from,
        valid_until=valid_until,
        now=now,
    )
    grant = Grant.objects.create(
        case=case,
        grantee=grantee,
        rights=terms.rights,
        environments=terms.environments,
        valid_from=terms.valid_from,
        valid_until=terms.valid_until,
        reason=reason.strip(),
        granted_by=granted_by,
        granted_at=now,
        changed_at=now,
        request=request,
    )
    _write_version(grant, ChangeKind.CREATED, now, by, granted_by, reason.strip())
    audit_record(
        action=actions.GRANT_CREATED,
        actor=by,
        project_id=case.project_id,
        object_type="grant",
        object_id=grant.pk,
        grant_id=grant.pk,
        details=_grant_details(grant, reason=grant.reason, warnings=terms.warnings),
    )
    invalidate(people=[grantee.get_username()])
    return grant, terms.warnings


def _change_kind(grant: Grant, rights: list[str], envs: list[str], valid_until: datetime.datetime) -> str:
    wider = not set(rights) <= set(grant.rights) or not set(envs) <= set(grant.environments)
    narrower = not set(grant.rights) <= set(rights) or not set(grant.environments) <= set(envs)
    if not wider and not narrower:
        if valid_until > grant.valid_until:
            return ChangeKind.EXTENDED
        if valid_until < grant.valid_until:
            return ChangeKind.NARROWED
        return ChangeKind.CHANGED
    if narrower and not wider and valid_until <= grant.valid_until:
        return ChangeKind.NARROWED
    return ChangeKind.CHANGED


@transaction.atomic
def grant_change(
    *,
    grant: Grant,
    changed_by: User,
    by: Actor,
    reason: str,
    rights: Iterable[str] | None = None,
    environments: Iterable[str] | None = None,
    valid_until: datetime.datetime | None = None,
) -> tuple[Grant, list[str]]:
    """Extend, narrow or otherwise change a grant. The previous state stays in the history."""
    now = timezone.now()
    grant = Grant.objects.select_for_update().select_related("case", "grantee").get(pk=grant.pk)
    _require_manager(grant.case, changed_by)
    if grant.revoked_at is not None:
        raise ValidationError({"grant": "A revoked grant cannot be changed; grant access anew."})
    if grant.valid_until <= now:
        raise ValidationError({"grant": "This grant has ended; grant access anew."})
    if not reason or not reason.strip():
        raise ValidationError({"reason": "Say why the grant is changed."})
    if grant.grantee_id == changed_by.pk:
        raise ValidationError({"grantee": "Nobody can change his own access."})
    terms = _clean_terms(
        grantee=grant.grantee,
        rights=rights if rights is not None else grant.rights,
        environments=environments if environments is not None else grant.environments,
        valid_from=grant.valid_from,
        valid_until=valid_until or grant.valid_until,
        now=now,
    )
    kind = _change_kind(grant, terms.rights, terms.environments, terms.valid_until)
    if kind != ChangeKind.NARROWED:
        # Extending or widening gives access anew, so the grantee must still be active and screened;
        # narrowing the grant of someone whose screening lapsed stays possible.
        _check_may_hold_access(grant.grantee, timezone.localdate(now))
    before = _grant_details(grant)
    grant.rights = terms.rights
    grant.environments = terms.environments
    grant.valid_until = terms.valid_until
    grant.changed_at = now
    grant.version += 1
    grant.save(update_fields=["rights", "environments", "valid_until", "changed_at", "version"])
    _write_version(grant, kind, now, by, changed_by, reason.strip())
    audit_record(
        action=actions.GRANT_CHANGED,
        actor=by,
        project_id=grant.case.project_id,
        object_type="grant",
        object_id=grant.pk,
        grant_id=grant.pk,
        details={"kind": kind, "before": before, "after": _grant_details(grant), "reason": reason.strip()},
    )
    invalidate(people=[grant.grantee.get_username()])
    return grant, terms.warnings


def _revoke(grant: Grant, *, reason: str, by: Actor, person: User | None, now: datetime.datetime) -> None:
    grant.revoked_at = now
    grant.revoked_by = person
    grant.revoked_by_label = by.username
    grant.revoke_reason = reason
    grant.changed_at = now
    grant.version += 1
    grant.save(
        update_fields=[
            "revoked_at",
            "revoked_by",
            "revoked_by_label",
            "revoke_reason",
            "changed_at",
            "version",
        ]
    )
    _write_version(grant, ChangeKind.REVOKED, now, by, person, reason)
    audit_record(
        action=actions.GRANT_REVOKED,
        actor=by,
        project_id=grant.case.project_id,
        object_type="grant",
        object_id=grant.pk,
        grant_id=grant.pk,
        details=_grant_details(grant, reason=reason),
    )


@transaction.atomic
def grant_revoke(*, grant: Grant, reason: str, revoked_by: User, by: Actor) -> Grant:
    now = timezone.now()
    grant = Grant.objects.select_for_update().select_related("case", "grantee").get(pk=grant.pk)
    _require_manager(grant.case, revoked_by)
    if grant.revoked_at is not None:
        raise ValidationError({"grant": "This grant has already been revoked."})
    if not reason or not reason.strip():
        raise ValidationError({"reason": "Say why the grant is revoked."})
    _revoke(grant, reason=reason.strip(), by=by, person=revoked_by, now=now)
    invalidate(people=[grant.grantee.get_username()])
    return grant


@transaction.atomic
def case_sign_off(*, case: Case, person: User, reason: str, signed_off_by: User, by: Actor) -> int:
    """A person leaves the case: every grant they hold there is revoked and a deputyship there ends,
    in one action."""
    _require_manager(case, signed_off_by)
    if not reason or not reason.strip():
        raise ValidationError({"reason": "Say why the person is signed off the case."})
    now = timezone.now()
    grants = list(
        Grant.objects.select_for_update()
        .select_related("case", "grantee")
        .filter(case=case, grantee=person, revoked_at__isnull=True, valid_until__gt=now)
    )
    for grant in grants:
        _revoke(grant, reason=reason.strip(), by=by, person=signed_off_by, now=now)
    # Whoever leaves the case stops being its deputy too.
    deputyships = deputyships_end(person=person, by=by, reason=f"Signed off: {reason.strip()}", case=case)
    audit_record(
        action=actions.CASE_SIGNED_OFF,
        actor=by,
        project_id=case.project_id,
        object_type="person",
        object_id=person.pk,
        details={
            "person": person.get_username(),
            "grants_revoked": [g.pk for g in grants],
            "deputyship_ended": bool(deputyships),
            "reason": reason,
        },
    )
    invalidate(people=[person.get_username()])
    return len(grants)


@transaction.atomic
def grants_revoke_all_of_person(*, person: User, reason: str, by: Actor) -> int:
    """On deactivation: every grant the person holds anywhere is revoked (called by
    ``people.services.person_deactivate`` in its own transaction)."""
    now = timezone.now()
    grants = list(
        Grant.objects.select_for_update()
        .select_related("case", "grantee")
        .filter(grantee=person, revoked_at__isnull=True, valid_until__gt=now)
    )
    for grant in grants:
        _revoke(grant, reason=reason, by=by, person=None, now=now)
    invalidate(people=[person.get_username()])
    return len(grants)


def grants_record_expiries(*, now: datetime.datetime | None = None) -> int:
    """Sweep: each grant that has run out gets one ``grant.expired`` event. Idempotent."""
    now = now or timezone.now()
    count = 0
    due = Grant.objects.filter(revoked_at__isnull=True, valid_until__lte=now, expiry_recorded_at__isnull=True)
    for grant_id in due.values_list("pk", flat=True)[:10_000]:
        with transaction.atomic():
            grant = (
                Grant.objects.select_for_update()
                .select_related("case", "grantee")
                .filter(pk=grant_id, expiry_recorded_at__isnull=True)
                .first()
            )
            if grant is None:
                continue
            Grant.objects.filter(pk=grant.pk).update(expiry_recorded_at=now)
            audit_record(
                action=actions.GRANT_EXPIRED,
                actor=Actor.system("grant_expiry"),
                project_id=grant.case.project_id,
                object_type="grant",
                object_id=grant.pk,
                grant_id=grant.pk,
                occurred_at=grant.valid_until,
                details=_grant_details(grant),
            )
            count += 1
    return count


# Access requests ---------------------------------------------------------------------------------


@transaction.atomic
def access_request_create(
    *,
    case: Case,
    requester: User,
    rights: Iterable[str],
    valid_until: datetime.datetime,
    reason: str,
    by: Actor,
    environments: Iterable[str] | None = None,
    valid_from: datetime.datetime | None = None,
) -> AccessRequest:
    now = timezone.now()
    if case.status != CaseStatus.OPEN:
        raise ValidationError({"case": "Access can only be requested on an open case."})
    if requester.pk == case.case_lead_id:
        raise ValidationError({"case": "You lead this case and already have access."})
    if not reason or not reason.strip():
        raise ValidationError({"reason": "Say why you need access."})
    terms = _clean_terms(
        grantee=requester,
        rights=rights,
        environments=environments if environments is not None else [Environment.PRODUCTION],
        valid_from=valid_from,
        valid_until=valid_until,
        now=now,
    )
    if AccessRequest.objects.filter(case=case, requester=requester, status=RequestStatus.OPEN).exists():
        raise ValidationError({"case": "You already have an open request for this case."})
    access_request = AccessRequest.objects.create(
        case=case,
        requester=requester,
        rights=terms.rights,
        environments=terms.environments,
        valid_from=terms.valid_from,
        valid_until=terms.valid_until,
        reason=reason.strip(),
        created_at=now,
    )
    audit_record(
        action=actions.ACCESS_REQUESTED,
        actor=by,
        project_id=case.project_id,
        object_type="access_request",
        object_id=access_request.pk,
        details={
            "rights": terms.rights,
            "environments": terms.environments,
            "valid_from": terms.valid_from.isoformat(),
            "valid_until": terms.valid_until.isoformat(),
            "reason": access_request.reason,
        },
    )
    from notifications.services import notify

    notify(
        recipient=case.case_lead,
        kind="access_requested",
        params={
            "requester": requester.get_username(),
            "case": case.case_number,
            "rights": _rights_text(terms.rights),
            "until": _last_moment(terms.valid_until),
            "reason": access_request.reason,
        },
        dedup_key=f"access-requested:{access_request.pk}",
        link=f"/cases/{case.project_id}/",
    )
    return access_request


def _open_request_for_update(access_request: AccessRequest, answered_by: User) -> AccessRequest:
    locked = (
        AccessRequest.objects.select_for_update()
        .select_related("case", "requester")
        .get(pk=access_request.pk)
    )
    _require_manager(locked.case, answered_by)
    if locked.status != RequestStatus.OPEN:
        raise ValidationError({"request": f"This request has already been answered ({locked.status})."})
    return locked


@transaction.atomic
def access_request_approve(
    *,
    access_request: AccessRequest,
    approved_by: User,
    by: Actor,
    note: str = "",
    rights: Iterable[str] | None = None,
    environments: Iterable[str] | None = None,
    valid_until: datetime.datetime | None = None,
) -> tuple[Grant, list[str]]:
    """Approve, possibly narrowing: fewer rights, fewer environments, an earlier end — never more."""
    locked = _open_request_for_update(access_request, approved_by)
    final_rights = sorted(set(rights)) if rights is not None else locked.rights
    final_envs = sorted(set(environments)) if environments is not None else locked.environments
    final_until = valid_until or locked.valid_until
    if not set(final_rights) <= set(locked.rights):
        raise ValidationError({"rights": "An approval may narrow the requested rights, not add to them."})
    if not set(final_envs) <= set(locked.environments):
        raise ValidationError({"environments": "An approval may narrow the environments, not add to them."})
    if final_until > locked.valid_until:
        raise ValidationError({"valid_until": "An approval may end earlier than requested, not later."})
    now = timezone.now()
    grant, warnings = grant_create(
        case=locked.case,
        grantee=locked.requester,
        rights=final_rights,
        environments=final_envs,
        valid_from=max(locked.valid_from, now),
        valid_until=final_until,
        reason=f"Request {locked.pk}: {locked.reason}",
        granted_by=approved_by,
        by=by,
        request=locked,
    )
    locked.status = RequestStatus.APPROVED
    locked.answered_at = now
    locked.answered_by = approved_by
    locked.answer_note = note
    locked.save(update_fields=["status", "answered_at", "answered_by", "answer_note"])
    audit_record(
        action=actions.ACCESS_REQUEST_APPROVED,
        actor=by,
        project_id=locked.case.project_id,
        object_type="access_request",
        object_id=locked.pk,
        grant_id=grant.pk,
        details={
            "note": note,
            "narrowed": final_rights != locked.rights or final_envs != locked.environments,
        },
    )
    _notify_answer(locked, "approved")
    return grant, warnings


@transaction.atomic
def access_request_reject(
    *, access_request: AccessRequest, rejected_by: User, note: str, by: Actor
) -> AccessRequest:
    locked = _open_request_for_update(access_request, rejected_by)
    if not note or not note.strip():
        raise ValidationError({"note": "Say why the request is rejected."})
    locked.status = RequestStatus.REJECTED
    locked.answered_at = timezone.now()
    locked.answered_by = rejected_by
    locked.answer_note = note.strip()
    locked.save(update_fields=["status", "answered_at", "answered_by", "answer_note"])
    audit_record(
        action=actions.ACCESS_REQUEST_REJECTED,
        actor=by,
        project_id=locked.case.project_id,
        object_type="access_request",
        object_id=locked.pk,
        details={"note": locked.answer_note},
    )
    _notify_answer(locked, "rejected")
    return locked


def _notify_answer(access_request: AccessRequest, outcome: str) -> None:
    from notifications.services import notify

    notify(
        recipient=access_request.requester,
        kind="request_answered",
        params={
            "case": access_request.case.case_number,
            "outcome": outcome,
            "note": access_request.answer_note,
        },
        dedup_key=f"request-answered:{access_request.pk}",
        link="/",
    )


# Notifications ------------------------------------------------------------------------------------

ENDING_SOON = datetime.timedelta(days=14)


def _rights_text(rights: list[str]) -> str:
    return ", ".join(rights)


def _last_moment(end: datetime.datetime) -> str:
    """The last minute an exclusive end still includes, in local time, for people to read."""
    return timezone.localtime(end - datetime.timedelta(seconds=1)).strftime("%Y-%m-%d %H:%M")


def grants_notify_ending_soon(*, now: datetime.datetime | None = None) -> int:
    """Sweep: the grantee and the case lead hear of every grant that ends within 14 days. Keyed
    on the end date, so a second run sends nothing twice and an extended grant is announced anew."""
    from notifications.services import notify

    now = now or timezone.now()
    sent = 0
    ending = Grant.objects.filter(
        revoked_at__isnull=True, valid_from__lte=now, valid_until__gt=now, valid_until__lte=now + ENDING_SOON
    ).select_related("case__case_lead", "grantee")
    for grant in ending.iterator(chunk_size=500):
        params = {
            "case": grant.case.case_number,
            "grantee": grant.grantee.get_username(),
            "rights": _rights_text(grant.rights),
            # The last moment included (an end "until 6 January" is stored as 7 January 00:00).
            "until": _last_moment(grant.valid_until),
            "project_id": str(grant.case.project_id),
            "grant_id": grant.pk,
        }
        key = f"grant-ending:{grant.pk}:{grant.valid_until.isoformat()}"
        link = f"/cases/{grant.case.project_id}/"
        sent += notify(
            recipient=grant.grantee,
            kind="grant_ending_grantee",
            params=params,
            dedup_key=f"{key}:grantee",
            link=link,
        )
        sent += notify(
            recipient=grant.case.case_lead,
            kind="grant_ending_lead",
            params=params,
            dedup_key=f"{key}:lead",
            link=link,
        )
    return sent
