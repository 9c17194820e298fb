"""Reads for retention, through the cases' scoping door: a notice of a case outside the caller's
scope does not exist for that caller."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import DateTimeField, QuerySet
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from cases.models import Case, Dataset, DatasetStatus
from cases.selectors import CasePurpose, cases_for_person
from retention.models import NoticeStatus, RemovalStatus, RemovalTask, RetentionNotice
from retention.policies import policy_map


def notices_visible_to(user: Any) -> QuerySet[RetentionNotice]:
    """The privacy officer and the security manager see every notice; a case lead or deputy those of
    their cases (the same door as the audit review: ``CasePurpose.REVIEW_AUDIT``)."""
    return RetentionNotice.objects.filter(
        case__in=cases_for_person(user, CasePurpose.REVIEW_AUDIT)
    ).select_related("case", "dataset", "decided_by")


def notices_to_answer(user: Any) -> QuerySet[RetentionNotice]:
    return notices_visible_to(user).filter(case__in=cases_for_person(user, CasePurpose.MANAGE_ACCESS))


def notice_to_answer(user: Any, notice_id: int) -> RetentionNotice:
    """404 when the notice is not the caller's to see; 403 when they see it (a reviewer) but may not
    answer it: only the case lead or a deputy decides."""
    notice = get_object_or_404(notices_visible_to(user), pk=notice_id)
    if not cases_for_person(user, CasePurpose.MANAGE_ACCESS).filter(pk=notice.case_id).exists():
        raise PermissionDenied("Only the case lead or a deputy of this case may answer its notices.")
    return notice


def removal_tasks() -> QuerySet[RemovalTask]:
    return RemovalTask.objects.select_related("dataset__case", "confirmed_by", "notice__decided_by")


def idle_datasets(*, now: datetime.datetime | None = None, limit: int = 50) -> tuple[int, list[Dataset]]:
    """Active datasets idle past their threshold right now (with or without a notice): the count and
    the longest idle first, for the privacy officer's dashboard."""
    now = now or timezone.now()
    policies = policy_map()
    cutoff = policies.expression(lambda r: now - datetime.timedelta(days=r.inactivity_days), DateTimeField())
    idle = (
        Dataset.objects.filter(status=DatasetStatus.ACTIVE)
        .annotate(idle_since=Coalesce("last_accessed_at", "imported_at"), cutoff=cutoff)
        .filter(idle_since__lt=cutoff)
    )
    return idle.count(), list(idle.select_related("case", "case__case_lead").order_by("idle_since")[:limit])


def overdue_notices(*, now: datetime.datetime | None = None) -> QuerySet[RetentionNotice]:
    now = now or timezone.now()
    return RetentionNotice.objects.filter(status=NoticeStatus.OPEN, escalate_at__lte=now).select_related(
        "case", "case__case_lead", "dataset"
    )


def cases_with_override() -> QuerySet[Case]:
    return Case.objects.filter(retention_policy__isnull=False).select_related("retention_policy")


def open_notices_to_answer(user: Any) -> QuerySet[RetentionNotice]:
    """The open notices on the cases this person leads or deputises on, oldest first (start page)."""
    return notices_to_answer(user).filter(status=NoticeStatus.OPEN).order_by("created_at", "pk")


def open_removals() -> QuerySet[RemovalTask]:
    """Removals requested by a case lead and not yet confirmed by an operator, oldest first."""
    return removal_tasks().filter(status=RemovalStatus.OPEN).order_by("requested_at", "pk")
