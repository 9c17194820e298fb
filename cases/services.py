"""The only writers of cases and datasets. Each writes its audit event in the same transaction."""

from __future__ import annotations

import datetime
import uuid

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from audit import actions
from audit.actor import Actor
from audit.services import audit_record
from cases.models import Case, CaseStatus, Dataset, DatasetStatus, DeputyPeriod
from cases.selectors import DEPUTY_PERMISSION
from hansken_governance.environments import Environment
from people.models import Profile
from people.roles import Role, has_role


def _require_case_lead(person: User, field: str) -> None:
    if not person.is_active:
        raise ValidationError({field: f"{person.get_username()} is not active."})
    if not has_role(person, Role.CASE_LEAD):
        raise ValidationError({field: f"{person.get_username()} does not hold the case lead role."})
    if has_role(person, Role.ADMINISTRATOR):
        # Roles written before the rule "no administrator with a case role" may still combine them.
        raise ValidationError(
            {field: ValidationError(f"{person.get_username()} is an administrator.", code="administrator")}
        )


@transaction.atomic
def case_create(*, project_id: uuid.UUID, case_number: str, title: str, case_lead: User, by: Actor) -> Case:
    if by.user_id is not None and by.user_id == case_lead.pk:
        # Whoever registers a case (an operator) does not make himself its lead: then he would decide
        # alone who gets access to data he registered. Another person leads it.
        raise ValidationError(
            {
                "case_lead": ValidationError(
                    "You cannot register a case with yourself as its case lead.", code="self_lead"
                )
            }
        )
    _require_case_lead(case_lead, "case_lead")
    if Case.objects.filter(project_id=project_id).exists():
        raise ValidationError({"project_id": "A case with this project id already exists."})
    if Case.objects.filter(case_number=case_number).exists():
        raise ValidationError({"case_number": "A case with this case number already exists."})
    try:
        with transaction.atomic():
            case = Case.objects.create(
                project_id=project_id, case_number=case_number, title=title, case_lead=case_lead
            )
    except IntegrityError as exc:  # a concurrent request created the same case first
        raise ValidationError(
            {"project_id": "A case with this project id or number already exists."}
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


@transaction.atomic
def case_add_deputy(*, case: Case, deputy: User, by: Actor) -> None:
    if deputy.pk == case.case_lead_id:
        raise ValidationError({"deputy": "The case lead cannot also be the deputy of the same case."})
    if not deputy.is_active:
        raise ValidationError({"deputy": f"{deputy.get_username()} is not active."})
    if has_role(deputy, Role.ADMINISTRATOR):
        raise ValidationError(
            {
                "deputy": ValidationError(
                    f"{deputy.get_username()} is an administrator: no case access.", code="administrator"
                )
            }
        )
    profile = Profile.objects.filter(user=deputy).first()
    if profile is None or not profile.is_screened_on():
        raise ValidationError({"deputy": f"{deputy.get_username()} has no valid screening."})
    if DeputyPeriod.objects.filter(case=case, deputy=deputy, removed_at__isnull=True).exists():
        raise ValidationError({"deputy": f"{deputy.get_username()} is already a deputy of this case."})
    DeputyPeriod.objects.create(case=case, deputy=deputy, added_at=timezone.now(), added_by=by.username)
    assign_perm(f"cases.{DEPUTY_PERMISSION}", deputy, case)
    audit_record(
        action=actions.CASE_DEPUTY_ADDED,
        actor=by,
        project_id=case.project_id,
        object_type="case",
        object_id=case.pk,
        details={"deputy": deputy.get_username()},
    )


@transaction.atomic
def case_remove_deputy(*, case: Case, deputy: User, by: Actor) -> None:
    closed = DeputyPeriod.objects.filter(case=case, deputy=deputy, removed_at__isnull=True).update(
        removed_at=timezone.now(), removed_by=by.username
    )
    if not closed:
        raise ValidationError({"deputy": f"{deputy.get_username()} is not a deputy of this case."})
    remove_perm(f"cases.{DEPUTY_PERMISSION}", deputy, case)
    audit_record(
        action=actions.CASE_DEPUTY_REMOVED,
        actor=by,
        project_id=case.project_id,
        object_type="case",
        object_id=case.pk,
        details={"deputy": deputy.get_username()},
    )


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
        raise ValidationError({"status": f"A {case.status} case can become: {choices}."})
    if not reason or not reason.strip():
        raise ValidationError({"reason": "Say why the status changes."})
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
        raise ValidationError({"environments": f"Unknown environment(s): {', '.join(unknown)}."})
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
        raise ValidationError({"image_id": "A dataset with this image id is already registered."})
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
        raise ValidationError({"image_id": "A dataset with this image id is already registered."}) from exc
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
        raise ValidationError({"image_id": "This dataset has been deleted."})
    if last_accessed_at > timezone.now() + datetime.timedelta(minutes=5):
        raise ValidationError({"last_accessed_at": "The last access lies in the future."})
    previous = dataset.last_accessed_at
    # Conditional updates, so two concurrent reports can never move the time backwards.
    earlier = Q(last_accessed_at__isnull=True) | Q(last_accessed_at__lt=last_accessed_at)
    moved = Dataset.objects.filter(earlier, pk=dataset.pk).update(last_accessed_at=last_accessed_at) > 0
    if moved:
        dataset.last_accessed_at = last_accessed_at
        Case.objects.filter(earlier, pk=dataset.case_id).update(last_accessed_at=last_accessed_at)
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
