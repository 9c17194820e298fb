"""The only writers of retention policies, decisions and removals. Each writes its audit event in the
same transaction; a refused request raises ``ValidationError`` before anything is stored.

(The daily sweep is in ``retention.sweep``, the audit trail's own purge in ``retention.purge``.)
"""

from __future__ import annotations

import datetime
from dataclasses import asdict
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from audit.actor import Actor
from audit.services import audit_record
from authz import cache as authz_cache
from cases.models import Case, Dataset, DatasetStatus
from cases.selectors import is_case_manager
from hansken_governance.environments import Environment
from hansken_governance.reported_times import CLOCK_SKEW
from hansken_governance.service_errors import refusal
from retention import actions
from retention.models import (
    NoticeStatus,
    RemovalStatus,
    RemovalTask,
    RetentionNotice,
    RetentionPolicy,
)
from retention.policies import Rules

MAX_DAYS = 3650  # ten years: a longer period is a typing error, not a policy
MAX_KEEP = datetime.timedelta(days=MAX_DAYS)


class Decision:
    KEEP = "keep"
    DELETE = "delete"
    CHOICES = (KEEP, DELETE)


# Policies


def _check_days(values: dict[str, int]) -> None:
    errors = {
        name: ValidationError(
            "Give a whole number of days from 1 to %(max)s.",
            code="days_out_of_range",
            params={"max": MAX_DAYS},
        )
        for name, value in values.items()
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DAYS
    }
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def policy_set(
    *,
    environment: str | None = None,
    case: Case | None = None,
    inactivity_days: int,
    reminder_days: int,
    escalation_days: int,
    closure_limit_days: int,
    by: Actor,
) -> RetentionPolicy:
    """Set the policy of an environment, or the override of one case (exactly one of the two)."""
    if (environment is None) == (case is None):
        raise refusal(None, "Give either an environment or a case.", "environment_or_case")
    if environment is not None and environment not in Environment.values:
        raise refusal(
            "environment",
            "Unknown environment: %(environment)s.",
            "unknown_environment",
            environment=environment,
        )
    rules = Rules(inactivity_days, reminder_days, escalation_days, closure_limit_days)
    _check_days(asdict(rules))
    if case is not None:
        policy = RetentionPolicy.objects.select_for_update().filter(case=case).first()
    else:
        policy = RetentionPolicy.objects.select_for_update().filter(environment=environment).first()
    before = asdict(Rules.of(policy)) if policy is not None else None
    if policy is None:
        policy = RetentionPolicy(environment=environment, case=case)
    for name, value in asdict(rules).items():
        setattr(policy, name, value)
    policy.save()
    audit_record(
        action=actions.POLICY_SET,
        actor=by,
        project_id=case.project_id if case is not None else None,
        object_type="retention_policy",
        object_id=policy.pk,
        details={
            "environment": environment,
            "case": case.case_number if case is not None else None,
            "before": before,
            "after": asdict(rules),
        },
    )
    return policy


@transaction.atomic
def policy_override_remove(*, case: Case, by: Actor) -> None:
    policy = RetentionPolicy.objects.select_for_update().filter(case=case).first()
    if policy is None:
        raise refusal(
            "case",
            "Case %(case_number)s has no retention policy of its own.",
            "no_case_policy",
            case_number=case.case_number,
        )
    before = asdict(Rules.of(policy))
    policy_id = policy.pk
    policy.delete()
    audit_record(
        action=actions.POLICY_OVERRIDE_REMOVED,
        actor=by,
        project_id=case.project_id,
        object_type="retention_policy",
        object_id=policy_id,
        details={"case": case.case_number, "before": before},
    )


# Decisions


def _notice_event(notice: RetentionNotice, dataset: Dataset, case: Case) -> dict[str, Any]:
    return {
        "project_id": case.project_id,
        "image_id": dataset.image_id,
        "object_type": "retention_notice",
        "object_id": notice.pk,
    }


@transaction.atomic
def notice_decide(
    *,
    notice: RetentionNotice,
    decision: str,
    reason: str,
    keep_until: datetime.date | None,
    decided_by: User,
    by: Actor,
    now: datetime.datetime | None = None,
) -> RetentionNotice:
    """The case lead's (or a deputy's) answer. Keep: with a reason and a date until which the data
    stays without a new notice. Delete: the dataset becomes ``delete_requested`` and every
    environment holding it gets a removal task for the operators."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    reason = (reason or "").strip()
    if decision not in Decision.CHOICES:
        raise refusal("decision", "Choose keep or delete.", "unknown_decision")
    if not reason:
        raise refusal("reason", "Give the reason for the decision.", "reason_for_decision")
    if decision == Decision.KEEP:
        if keep_until is None:
            raise refusal("keep_until", "Give the date until which the data is kept.", "no_keep_until")
        if keep_until <= today:
            raise refusal(
                "keep_until", "The date until which the data is kept must lie ahead.", "keep_until_passed"
            )
        if keep_until > today + MAX_KEEP:
            raise refusal(
                "keep_until",
                "Keep the data for at most %(days)s days at a time.",
                "keep_too_long",
                days=MAX_DAYS,
            )
    elif keep_until is not None:
        raise refusal(
            "keep_until",
            "A date to keep until goes only with the decision to keep.",
            "keep_until_with_delete",
        )

    # Lock order: dataset, then notice (as removal_confirm), then the chain head in audit_record.
    dataset = Dataset.objects.select_for_update().select_related("case").get(pk=notice.dataset_id)
    notice = RetentionNotice.objects.select_for_update().get(pk=notice.pk)
    if notice.status != NoticeStatus.OPEN:
        raise refusal(
            None,
            "This notice is no longer open: its status is %(status)s.",
            "notice_closed",
            status=notice.status,
        )
    if decision == Decision.DELETE and dataset.status != DatasetStatus.ACTIVE:
        raise refusal(
            None,
            "The dataset's status is %(status)s; it cannot be deleted again.",
            "dataset_not_active",
            status=dataset.status,
        )
    case = dataset.case
    if not is_case_manager(decided_by, case):
        # Defence in depth: the views already scope notices to the caller's cases, but a service
        # never trusts its caller (as the grant services do).
        raise PermissionDenied("Only the case lead or a deputy of this case decides about its data.")
    notice.decided_at = now
    notice.decided_by = decided_by
    notice.decision_reason = reason
    notice.closed_at = now

    if decision == Decision.KEEP:
        notice.status = NoticeStatus.KEPT
        notice.keep_until = keep_until
        notice.save()
        assert keep_until is not None
        audit_record(
            action=actions.NOTICE_KEPT,
            actor=by,
            details={"reason": reason, "keep_until": keep_until.isoformat(), "notice_reason": notice.reason},
            **_notice_event(notice, dataset, case),
        )
        return notice

    notice.status = NoticeStatus.DELETE_REQUESTED
    notice.save()
    environments = sorted(set(dataset.environments or []))
    tasks = RemovalTask.objects.bulk_create(
        [
            RemovalTask(notice=notice, dataset=dataset, environment=env, requested_at=now)
            for env in environments
        ]
    )
    dataset.status = DatasetStatus.DELETE_REQUESTED
    dataset.save(update_fields=["status"])
    authz_cache.invalidate(cases=[dataset.case.project_id])
    audit_record(
        action=actions.NOTICE_DELETE_REQUESTED,
        actor=by,
        details={"reason": reason, "environments": environments, "notice_reason": notice.reason},
        **_notice_event(notice, dataset, case),
    )
    if not tasks:  # held in no environment: there is nothing to remove, so it is deleted now
        _dataset_deleted(notice=notice, dataset=dataset, case=case, now=now, by=by)
    return notice


# Removals


@transaction.atomic
def removal_confirm(
    *,
    task: RemovalTask,
    environment: str,
    removed_at: datetime.datetime,
    reference: str,
    confirmed_by: User,
    by: Actor,
    now: datetime.datetime | None = None,
) -> RemovalTask:
    """The operator confirms the removal from one environment: when, by whom, with an optional
    reference (a ticket, a log). When every environment is confirmed, the dataset is deleted and
    every decision on its traces denies (``dataset_deleted``)."""
    now = now or timezone.now()
    reference = (reference or "").strip()
    if environment != task.environment:
        raise refusal(
            "environment",
            "This task is the removal from %(task)s, not from %(environment)s.",
            "other_environment",
            task=task.environment,
            environment=environment,
        )
    if removed_at > now + CLOCK_SKEW:
        raise refusal("removed_at", "The removal time lies in the future.", "removal_in_future")
    if removed_at < task.requested_at - CLOCK_SKEW:
        raise refusal(
            "removed_at", "The removal time lies before the deletion was requested.", "removal_before_request"
        )
    if len(reference) > RemovalTask._meta.get_field("reference").max_length:  # type: ignore[operator]
        raise refusal(
            "reference", "The reference is too long (at most 200 characters).", "reference_too_long"
        )

    # The dataset row first: two operators confirming two environments at once take turns, so the
    # last of them sees every task confirmed and deletes the dataset.
    dataset = Dataset.objects.select_for_update().select_related("case").get(pk=task.dataset_id)
    task = RemovalTask.objects.select_for_update().select_related("notice").get(pk=task.pk)
    if task.status != RemovalStatus.OPEN:
        raise refusal(None, "This removal has already been confirmed.", "removal_confirmed")
    task.status = RemovalStatus.CONFIRMED
    task.removed_at = removed_at
    task.confirmed_at = now
    task.confirmed_by = confirmed_by
    task.reference = reference
    task.save()
    case = dataset.case
    audit_record(
        action=actions.REMOVAL_CONFIRMED,
        actor=by,
        project_id=case.project_id,
        image_id=dataset.image_id,
        object_type="removal_task",
        object_id=task.pk,
        details={
            "environment": task.environment,
            "removed_at": removed_at.isoformat(),
            "reference": reference,
            "notice": task.notice_id,
        },
    )
    if not RemovalTask.objects.filter(notice_id=task.notice_id, status=RemovalStatus.OPEN).exists():
        _dataset_deleted(notice=task.notice, dataset=dataset, case=case, now=now, by=by)
    return task


def _dataset_deleted(
    *, notice: RetentionNotice, dataset: Dataset, case: Case, now: datetime.datetime, by: Actor
) -> None:
    notice.status = NoticeStatus.REMOVED
    notice.save(update_fields=["status"])
    dataset.status = DatasetStatus.DELETED
    dataset.save(update_fields=["status"])
    authz_cache.invalidate(
        cases=[case.project_id]
    )  # from the next decision on, its traces are denied (dataset_deleted)
    removals = list(
        RemovalTask.objects.filter(notice=notice)
        .order_by("environment")
        .values("environment", "removed_at", "confirmed_by__username", "reference")
    )
    audit_record(
        action=actions.DATASET_DELETED,
        actor=by,
        project_id=case.project_id,
        image_id=dataset.image_id,
        object_type="dataset",
        object_id=dataset.pk,
        details={
            "notice": notice.pk,
            "removals": [
                {
                    "environment": r["environment"],
                    "removed_at": r["removed_at"].isoformat() if r["removed_at"] else None,
                    "confirmed_by": r["confirmed_by__username"],
                    "reference": r["reference"],
                }
                for r in removals
            ],
        },
    )
