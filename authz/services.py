"""The only writers of grants and access requests. Each writes its audit event and a grant version
in the same transaction, and invalidates the decision cache once per change (``authz.cache.invalidate``:
in the transaction through PostgreSQL, after the commit through Redis); no signal does it again."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from audit.actor import Actor
from audit.services import audit_record
from authz import actions
from authz.cache import invalidate
from authz.history import change_kind, grant_details, write_version
from authz.models import AccessRequest, ChangeKind, Grant, RequestStatus
from authz.notices import ENDING_SOON, announce_ending, notify_access_requested, notify_answer
from authz.terms import check_grantee, check_may_hold_access, clean_terms
from cases.models import Case, CaseStatus
from cases.selectors import deputyships_not_ended, is_case_manager
from cases.services import deputyships_end
from hansken_governance.environments import Environment
from hansken_governance.service_errors import ServiceWarning, refusal


def _require_manager(case: Case, person: User) -> None:
    """Defence in depth: views already scope cases, but a service never trusts its caller."""
    if not is_case_manager(person, case):
        raise PermissionDenied("Only the case lead or a deputy of this case manages its access.")


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
) -> tuple[Grant, list[ServiceWarning]]:
    """Grant ``rights`` on ``case`` to ``grantee``. Returns the grant and any warnings (e.g. the
    grant outlasts the grantee's screening)."""
    now = timezone.now()
    _require_manager(case, granted_by)
    if case.status != CaseStatus.OPEN:
        raise refusal("case", "Access can only be granted on an open case.", "case_not_open")
    if not reason or not reason.strip():
        raise refusal("reason", "Say why access is granted.", "reason_for_grant")
    check_grantee(case=case, grantee=grantee, granted_by=granted_by, today=timezone.localdate())
    terms = clean_terms(
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
    write_version(grant, ChangeKind.CREATED, now, by, granted_by, reason.strip())
    audit_record(
        action=actions.GRANT_CREATED,
        actor=by,
        project_id=case.project_id,
        object_type="grant",
        object_id=grant.pk,
        grant_id=grant.pk,
        details=grant_details(grant, reason=grant.reason, warnings=[str(w) for w in terms.warnings]),
    )
    invalidate(people=[grantee.get_username()])
    return grant, terms.warnings


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
) -> tuple[Grant, list[ServiceWarning]]:
    """Extend, narrow or otherwise change a grant. The previous state stays in the history."""
    now = timezone.now()
    grant = Grant.objects.select_for_update().select_related("case", "grantee").get(pk=grant.pk)
    _require_manager(grant.case, changed_by)
    if grant.revoked_at is not None:
        raise refusal("grant", "A revoked grant cannot be changed; grant access anew.", "grant_revoked")
    if grant.valid_until <= now:
        raise refusal("grant", "This grant has ended; grant access anew.", "grant_ended")
    if not reason or not reason.strip():
        raise refusal("reason", "Say why the grant is changed.", "reason_for_change")
    if grant.grantee_id == changed_by.pk:
        raise refusal("grantee", "Nobody can change his own access.", "change_own_access")
    terms = clean_terms(
        grantee=grant.grantee,
        rights=rights if rights is not None else grant.rights,
        environments=environments if environments is not None else grant.environments,
        valid_from=grant.valid_from,
        valid_until=valid_until or grant.valid_until,
        now=now,
    )
    if (
        set(terms.rights) == set(grant.rights)
        and set(terms.environments) == set(grant.environments)
        and terms.valid_until == grant.valid_until
    ):
        # A version and a trail event that change nothing would tell of a change that never was.
        raise refusal(
            "grant", "Nothing to change: give other rights, environments or an end date.", "nothing_to_change"
        )
    kind = change_kind(grant, terms.rights, terms.environments, terms.valid_until)
    if kind != ChangeKind.NARROWED:
        # Extending or widening gives access anew, so the grantee must still be active and screened;
        # narrowing the grant of someone whose screening lapsed stays possible.
        check_may_hold_access(grant.grantee, timezone.localdate(now))
    before = grant_details(grant)
    grant.rights = terms.rights
    grant.environments = terms.environments
    grant.valid_until = terms.valid_until
    grant.changed_at = now
    grant.version += 1
    grant.save(update_fields=["rights", "environments", "valid_until", "changed_at", "version"])
    write_version(grant, kind, now, by, changed_by, reason.strip())
    audit_record(
        action=actions.GRANT_CHANGED,
        actor=by,
        project_id=grant.case.project_id,
        object_type="grant",
        object_id=grant.pk,
        grant_id=grant.pk,
        details={"kind": kind, "before": before, "after": grant_details(grant), "reason": reason.strip()},
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
    write_version(grant, ChangeKind.REVOKED, now, by, person, reason)
    audit_record(
        action=actions.GRANT_REVOKED,
        actor=by,
        project_id=grant.case.project_id,
        object_type="grant",
        object_id=grant.pk,
        grant_id=grant.pk,
        details=grant_details(grant, reason=reason),
    )


@transaction.atomic
def grant_revoke(*, grant: Grant, reason: str, revoked_by: User, by: Actor) -> Grant:
    now = timezone.now()
    grant = Grant.objects.select_for_update().select_related("case", "grantee").get(pk=grant.pk)
    _require_manager(grant.case, revoked_by)
    if grant.revoked_at is not None:
        raise refusal("grant", "This grant has already been revoked.", "already_revoked")
    if not reason or not reason.strip():
        raise refusal("reason", "Say why the grant is revoked.", "reason_for_revoke")
    _revoke(grant, reason=reason.strip(), by=by, person=revoked_by, now=now)
    invalidate(people=[grant.grantee.get_username()])
    return grant


@transaction.atomic
def case_sign_off(*, case: Case, person: User, reason: str, signed_off_by: User, by: Actor) -> int:
    """A person leaves the case: every grant they hold there is revoked and a deputyship there ends,
    in one action."""
    _require_manager(case, signed_off_by)
    if not reason or not reason.strip():
        raise refusal("reason", "Say why the person is signed off the case.", "reason_for_sign_off")
    name = person.get_username()
    if person.pk == case.case_lead_id:
        # The trail would say the lead left the case while the lead stays: a case keeps its lead.
        raise refusal(
            "person",
            "%(name)s is the case lead and cannot be signed off the case.",
            "sign_off_lead",
            name=name,
        )
    now = timezone.now()
    grants = list(
        Grant.objects.select_for_update()
        .select_related("case", "grantee")
        .filter(case=case, grantee=person, revoked_at__isnull=True, valid_until__gt=now)
    )
    if not grants and not deputyships_not_ended().filter(case=case, deputy=person).exists():
        # Nothing would change, yet the trail would record a sign-off that never took anything away.
        raise refusal(
            "person",
            "%(name)s holds no access to this case (no grant in force or to come, no deputyship): "
            "there is nothing to sign off.",
            "nothing_to_sign_off",
            name=name,
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
                details=grant_details(grant),
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
        raise refusal("case", "Access can only be requested on an open case.", "request_case_not_open")
    if requester.pk == case.case_lead_id:
        raise refusal("case", "You lead this case and already have access.", "requester_leads_case")
    if not reason or not reason.strip():
        raise refusal("reason", "Say why you need access.", "reason_for_request")
    terms = clean_terms(
        grantee=requester,
        rights=rights,
        environments=environments if environments is not None else [Environment.PRODUCTION],
        valid_from=valid_from,
        valid_until=valid_until,
        now=now,
    )
    if AccessRequest.objects.filter(case=case, requester=requester, status=RequestStatus.OPEN).exists():
        raise refusal("case", "You already have an open request for this case.", "request_already_open")
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
    notify_access_requested(access_request)
    return access_request


def _open_request_for_update(access_request: AccessRequest, answered_by: User) -> AccessRequest:
    locked = (
        AccessRequest.objects.select_for_update()
        .select_related("case", "requester")
        .get(pk=access_request.pk)
    )
    _require_manager(locked.case, answered_by)
    if locked.status != RequestStatus.OPEN:
        raise refusal(
            "request",
            "This request has already been answered (%(status)s).",
            "request_answered",
            status=locked.status,
        )
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
) -> tuple[Grant, list[ServiceWarning]]:
    """Approve, possibly narrowing: fewer rights, fewer environments, an earlier end — never more."""
    locked = _open_request_for_update(access_request, approved_by)
    final_rights = sorted(set(rights)) if rights is not None else locked.rights
    final_envs = sorted(set(environments)) if environments is not None else locked.environments
    final_until = valid_until or locked.valid_until
    if not set(final_rights) <= set(locked.rights):
        raise refusal(
            "rights", "An approval may narrow the requested rights, not add to them.", "approval_adds_rights"
        )
    if not set(final_envs) <= set(locked.environments):
        raise refusal(
            "environments",
            "An approval may narrow the environments, not add to them.",
            "approval_adds_environments",
        )
    if final_until > locked.valid_until:
        raise refusal(
            "valid_until", "An approval may end earlier than requested, not later.", "approval_ends_later"
        )
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
    notify_answer(locked, "approved")
    return grant, warnings


@transaction.atomic
def access_request_reject(
    *, access_request: AccessRequest, rejected_by: User, note: str, by: Actor
) -> AccessRequest:
    locked = _open_request_for_update(access_request, rejected_by)
    if not note or not note.strip():
        raise refusal("note", "Say why the request is rejected.", "reason_for_rejection")
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
    notify_answer(locked, "rejected")
    return locked


# Notifications ------------------------------------------------------------------------------------


def grants_notify_ending_soon(*, now: datetime.datetime | None = None) -> int:
    """Sweep: the grantee and the case lead hear of every grant that ends within 14 days. Keyed
    on the end date, so a second run sends nothing twice and an extended grant is announced anew."""
    now = now or timezone.now()
    sent = 0
    ending = Grant.objects.filter(
        revoked_at__isnull=True, valid_from__lte=now, valid_until__gt=now, valid_until__lte=now + ENDING_SOON
    ).select_related("case__case_lead", "grantee")
    for grant in ending.iterator(chunk_size=500):
        sent += announce_ending(grant)
    return sent
