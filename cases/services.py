"""The only writers of cases and datasets. Each writes its audit event in the same transaction."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from audit import actions
from audit.actor import Actor
from audit.services import audit_record
from authz.cache import invalidate
from cases.last_access import last_access_move_forward
from cases.models import Case, CaseStatus, Dataset, DatasetStatus, DeputyChange, DeputyPeriod, DeputyVersion
from hansken_governance.environments import Environment
from hansken_governance.reported_times import CLOCK_SKEW
from hansken_governance.service_errors import refusal
from people.models import Profile
from people.roles import Role, has_role


def _require_case_lead(person: User, field: str) -> None:
    if not person.is_active:
        raise refusal(field, "%(name)s is not active.", "lead_inactive", name=person.get_username())
    if not has_role(person, Role.CASE_LEAD):
        raise refusal(
            field, "%(name)s does not hold the case lead role.", "not_a_case_lead", name=person.get_username()
        )
    if has_role(person, Role.ADMINISTRATOR):
        # Roles written before the rule "no administrator with a case role" may still combine them.
        raise refusal(
            field, "%(name)s is an administrator.", "lead_administrator", name=person.get_username()
        )


@transaction.atomic
def case_create(*, project_id: uuid.UUID, case_number: str, title: str, case_lead: User, by: Actor) -> Case:
    if by.user_id is not None and by.user_id == case_lead.pk:
        # Whoever registers a case (an operator) does not make himself its lead: then he would decide
        # alone who gets access to data he registered. Another person leads it.
        raise refusal("case_lead", "You cannot register a case with yourself as its case lead.", "self_lead")
    _require_case_lead(case_lead, "case_lead")
    if Case.objects.filter(project_id=project_id).exists():
        raise refusal("project_id", "A case with this project id already exists.", "project_exists")
    if Case.objects.filter(case_number=case_number).exists():
        raise refusal("case_number", "A case with this case number already exists.", "case_number_exists")
    try:
        with transaction.atomic():
            case = Case.objects.create(
                project_id=project_id,
                case_number=case_number,
                title=title,
                case_lead=case_lead,
                # The registering client's environment: a test client's case is a test case.
                registered_in=by.environment if by.client_name else "",
            )
    except IntegrityError as exc:  # a concurrent request created the same case first
        raise refusal(
            "project_id", "A case with this project id or number already exists.", "case_exists"
        ) from exc
    audit_record(
        action=actions.CASE_CREATED,
        actor=by,
        project_id=case.project_id,
        object_type="case",
        object_id=case.pk,
        details={"case_number": case_number, "title": title, "case_lead": case_lead.get_username()},
    )
    return case


def _deputy_end(valid_until: datetime.datetime | None, now: datetime.datetime) -> datetime.datetime:
    """A deputyship ends like a grant: by a date at most ``HG_GRANT_MAX_DAYS`` away (the longest when
    none is given)."""
    max_days = settings.HG_GRANT_MAX_DAYS
    if valid_until is None:
        return now + datetime.timedelta(days=max_days)
    if valid_until <= now:
        raise refusal("valid_until", "The end lies in the past.", "deputy_end_past")
    if valid_until - now > datetime.timedelta(days=max_days):
        raise refusal(
            "valid_until",
            "A deputyship may last at most %(days)s days; choose an earlier end.",
            "deputy_too_long",
            days=max_days,
        )
    return valid_until


def _check_may_deputise(case: Case, deputy: User) -> None:
    name = deputy.get_username()
    if deputy.pk == case.case_lead_id:
        raise refusal("deputy", "The case lead cannot also be the deputy of the same case.", "lead_as_deputy")
    if not deputy.is_active:
        raise refusal("deputy", "%(name)s is not active.", "deputy_inactive", name=name)
    if has_role(deputy, Role.ADMINISTRATOR):
        raise refusal(
            "deputy", "%(name)s is an administrator: no case access.", "deputy_administrator", name=name
        )
    profile = Profile.objects.filter(user=deputy).first()
    if profile is None or not profile.is_screened_on():
        raise refusal("deputy", "%(name)s has no valid screening.", "deputy_not_screened", name=name)


def _write_deputy_version(
    period: DeputyPeriod, kind: str, now: datetime.datetime, by: Actor, reason: str = ""
) -> None:
    DeputyVersion.objects.filter(period=period, superseded_at__isnull=True).update(superseded_at=now)
    DeputyVersion.objects.create(
        period=period,
        version=period.version,
        kind=kind,
        valid_from=period.added_at,
        valid_until=period.valid_until,
        ended=period.removed_at is not None,
        changed_by_label=by.username,
        reason=reason,
        recorded_at=now,
        case_id=period.case_id,
        deputy_id=period.deputy_id,
    )


def _current_period(case: Case, deputy: User, now: datetime.datetime) -> DeputyPeriod | None:
    return (
        DeputyPeriod.objects.select_for_update()
        .filter(case=case, deputy=deputy, removed_at__isnull=True, valid_until__gt=now)
        .first()
    )


def _deputy_details(period: DeputyPeriod, deputy: User, **extra: Any) -> dict[str, Any]:
    return {"deputy": deputy.get_username(), "valid_until": period.valid_until.isoformat(), **extra}


@transaction.atomic
def case_add_deputy(
    *, case: Case, deputy: User, by: Actor, valid_until: datetime.datetime | None = None
) -> DeputyPeriod:
    """Name a deputy until ``valid_until`` (at most ``HG_GRANT_MAX_DAYS``; that long when not given).
    The deputy must be active, screened and no administrator; the decision rule checks the end date
    and the screening again at every decision."""
    now = timezone.now()
    _check_may_deputise(case, deputy)
    end = _deputy_end(valid_until, now)
    if _current_period(case, deputy, now) is not None:
        raise refusal(
            "deputy",
            "%(name)s is already a deputy of this case.",
            "already_deputy",
            name=deputy.get_username(),
        )
    # A period that ran out but was never closed is closed at its own end, so one period is open.
    DeputyPeriod.objects.filter(case=case, deputy=deputy, removed_at__isnull=True).update(
        removed_at=models.F("valid_until"), removed_by="system:expired", removed_reason="expired"
    )
    period = DeputyPeriod.objects.create(
        case=case, deputy=deputy, added_at=now, added_by=by.username, valid_until=end
    )
    _write_deputy_version(period, DeputyChange.APPOINTED, now, by)
    audit_record(
        action=actions.CASE_DEPUTY_ADDED,
        actor=by,
        project_id=case.project_id,
        object_type="case",
        object_id=case.pk,
        details=_deputy_details(period, deputy),
    )
    invalidate(people=[deputy.get_username()])
    return period


@transaction.atomic
def case_change_deputy(
    *, case: Case, deputy: User, valid_until: datetime.datetime, reason: str, by: Actor
) -> DeputyPeriod:
    """Move a deputyship's end date (extend or shorten); the earlier state stays in the history."""
    now = timezone.now()
    period = _current_period(case, deputy, now)
    if period is None:
        raise refusal(
            "deputy", "%(name)s is not a deputy of this case.", "not_a_deputy", name=deputy.get_username()
        )
    end = _deputy_end(valid_until, now)
    if end > period.valid_until:
        # A longer deputyship gives access anew: the same checks as an appointment.
        _check_may_deputise(case, deputy)
    before = period.valid_until
    period.valid_until = end
    period.version += 1
    period.save(update_fields=["valid_until", "version"])
    _write_deputy_version(period, DeputyChange.CHANGED, now, by, reason.strip())
    audit_record(
        action=actions.CASE_DEPUTY_CHANGED,
        actor=by,
        project_id=case.project_id,
        object_type="case",
        object_id=case.pk,
        details=_deputy_details(period, deputy, before=before.isoformat(), reason=reason.strip()),
    )
    invalidate(people=[deputy.get_username()])
    return period


def _end_period(period: DeputyPeriod, *, now: datetime.datetime, by: Actor, reason: str) -> None:
    period.removed_at = now
    period.removed_by = by.username
    period.removed_reason = reason
    period.version += 1
    period.save(update_fields=["removed_at", "removed_by", "removed_reason", "version"])
    _write_deputy_version(period, DeputyChange.ENDED, now, by, reason)
    audit_record(
        action=actions.CASE_DEPUTY_REMOVED,
        actor=by,
        project_id=period.case.project_id,
        object_type="case",
        object_id=period.case_id,
        details=_deputy_details(period, period.deputy, reason=reason),
    )


@transaction.atomic
def case_remove_deputy(*, case: Case, deputy: User, by: Actor, reason: str = "") -> None:
    now = timezone.now()
    period = _current_period(case, deputy, now)
    if period is None:
        raise refusal(
            "deputy", "%(name)s is not a deputy of this case.", "not_a_deputy", name=deputy.get_username()
        )
    _end_period(period, now=now, by=by, reason=reason.strip() or "removed by the case lead")
    invalidate(people=[deputy.get_username()])


@transaction.atomic
def deputyships_end(*, person: User, by: Actor, reason: str, case: Case | None = None) -> int:
    """End every deputyship of ``person`` that has not ended (on ``case`` only, when given): on
    deactivation and on signing off a case, inside the caller's transaction; one
    ``case.deputy_removed`` event per deputyship, like the ``grant.revoked`` of each grant."""
    now = timezone.now()
    periods = DeputyPeriod.objects.select_for_update().select_related("case", "deputy")
    periods = periods.filter(deputy=person, removed_at__isnull=True, valid_until__gt=now)
    if case is not None:
        periods = periods.filter(case=case)
    ended = list(periods)
    for period in ended:
        _end_period(period, now=now, by=by, reason=reason)
    if ended:
        invalidate(people=[person.get_username()])
    return len(ended)


def deputyships_record_expiries(*, now: datetime.datetime | None = None) -> int:
    """Sweep: each deputyship whose end date passed (and that nobody ended earlier) gets one
    ``case.deputy_expired`` event, dated at that end, as each grant that runs out gets its
    ``grant.expired``: the trail then shows when a deputy's power ended, not only when it began.
    Decisions never wait for this (they compare the end with the clock). Idempotent."""
    now = now or timezone.now()
    count = 0
    due = DeputyPeriod.objects.filter(
        removed_at__isnull=True, valid_until__lte=now, expiry_recorded_at__isnull=True
    )
    for period_id in due.values_list("pk", flat=True)[:10_000]:
        with transaction.atomic():
            period = (
                DeputyPeriod.objects.select_for_update()
                .select_related("case", "deputy")
                .filter(pk=period_id, removed_at__isnull=True, expiry_recorded_at__isnull=True)
                .first()
            )
            if period is None:
                continue
            DeputyPeriod.objects.filter(pk=period.pk).update(expiry_recorded_at=now)
            audit_record(
                action=actions.CASE_DEPUTY_EXPIRED,
                actor=Actor.system("deputy_expiry"),
                project_id=period.case.project_id,
                object_type="case",
                object_id=period.case_id,
                occurred_at=period.valid_until,
                details=_deputy_details(period, period.deputy),
            )
            count += 1
    return count


# A case moves between these by the case lead's hand; "deleted" comes only from retention.
STATUS_CHANGES = {
    CaseStatus.OPEN: {CaseStatus.CLOSED},
    CaseStatus.CLOSED: {CaseStatus.OPEN, CaseStatus.ARCHIVED},
    CaseStatus.ARCHIVED: {CaseStatus.CLOSED},
}


@transaction.atomic
def case_set_status(*, case: Case, status: str, reason: str, by: Actor) -> Case:
    """Close, reopen or archive a case. Decisions on a case that is not open deny (case_closed); the
    closure date starts the retention's closure limit."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    allowed = STATUS_CHANGES.get(CaseStatus(case.status), set())
    if status not in allowed:
        choices = ", ".join(sorted(allowed)) or "none"
        raise refusal(
            "status",
            "A %(status)s case can become: %(choices)s.",
            "status_move",
            status=case.status,
            choices=choices,
        )
    if not reason or not reason.strip():
        raise refusal("reason", "Say why the status changes.", "reason_for_status")
    before = case.status
    case.status = status
    if status == CaseStatus.CLOSED and before == CaseStatus.OPEN:
        case.closed_at = timezone.now()
    elif status == CaseStatus.OPEN:
        case.closed_at = None
    case.save(update_fields=["status", "closed_at"])  # post_save replaces the decision-cache epoch
    audit_record(
        action=actions.CASE_STATUS_CHANGED,
        actor=by,
        project_id=case.project_id,
        object_type="case",
        object_id=case.pk,
        details={"before": before, "after": status, "reason": reason.strip()},
    )
    return case


def _clean_environments(environments: list[str]) -> list[str]:
    unknown = sorted(set(environments) - set(Environment.values))
    if unknown:
        raise refusal(
            "environments",
            "Unknown environment(s): %(unknown)s.",
            "unknown_environments",
            unknown=", ".join(unknown),
        )
    return sorted(set(environments))


@transaction.atomic
def dataset_register(
    *,
    case: Case,
    image_id: uuid.UUID,
    description: str,
    delivered_by: str,
    imported_at: datetime.datetime | None,
    environments: list[str] | None,
    by: Actor,
) -> Dataset:
    if Dataset.objects.filter(image_id=image_id).exists():
        raise refusal("image_id", "A dataset with this image id is already registered.", "dataset_exists")
    # As for a last access: Hansken reports its own import, which cannot lie ahead (beyond clock
    # skew); an import time in the future would keep the dataset out of the idle-data sweep.
    if imported_at is not None and imported_at > timezone.now() + CLOCK_SKEW:
        raise refusal("imported_at", "The import time lies in the future.", "import_in_future")
    envs = _clean_environments(environments if environments is not None else [Environment.PRODUCTION])
    try:
        with transaction.atomic():
            dataset = Dataset.objects.create(
                case=case,
                image_id=image_id,
                description=description,
                delivered_by=delivered_by,
                imported_at=imported_at or timezone.now(),
                environments=envs,
            )
    except IntegrityError as exc:
        raise refusal(
            "image_id", "A dataset with this image id is already registered.", "dataset_exists"
        ) from exc
    audit_record(
        action=actions.DATASET_REGISTERED,
        actor=by,
        project_id=case.project_id,
        image_id=dataset.image_id,
        object_type="dataset",
        object_id=dataset.pk,
        details={
            "description": description,
            "delivered_by": delivered_by,
            "imported_at": dataset.imported_at.isoformat(),
            "environments": envs,
        },
    )
    return dataset


@transaction.atomic
def dataset_report_last_access(
    *, dataset: Dataset, last_accessed_at: datetime.datetime, by: Actor
) -> Dataset:
    """Hansken's own ``lastAccessedDate``. Last access only ever moves forward: an older report is
    accepted and recorded but changes nothing."""
    if dataset.status == DatasetStatus.DELETED:
        raise refusal("image_id", "This dataset has been deleted.", "dataset_deleted")
    if last_accessed_at > timezone.now() + CLOCK_SKEW:
        raise refusal("last_accessed_at", "The last access lies in the future.", "access_in_future")
    previous = dataset.last_accessed_at
    # Conditional updates, so two concurrent reports can never move the time backwards.
    _, moved_datasets = last_access_move_forward(
        datasets={(dataset.image_id, dataset.case_id): last_accessed_at}
    )
    moved = moved_datasets > 0
    if moved:
        dataset.last_accessed_at = last_accessed_at
        last_access_move_forward(cases={dataset.case_id: last_accessed_at})
    audit_record(
        action=actions.DATASET_LAST_ACCESS_REPORTED,
        actor=by,
        project_id=dataset.case.project_id,
        image_id=dataset.image_id,
        object_type="dataset",
        object_id=dataset.pk,
        details={
            "reported": last_accessed_at.isoformat(),
            "previous": previous.isoformat() if previous else None,
            "moved_forward": moved,
        },
    )
    return dataset
