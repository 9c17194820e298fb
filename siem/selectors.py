"""Reads for /readyz and the monitoring dashboard."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from audit.models import AuditEvent, ChainHead
from siem.models import Alert, AlertStatus, SiemCursor


@dataclass(frozen=True)
class Backlog:
    count: int  # events in the trail after the cursor
    oldest_recorded_at: datetime.datetime | None  # when the oldest undelivered event entered the trail
    age_seconds: float | None
    delivered_up_to: int
    last_success_at: datetime.datetime | None
    last_error: str

    @property
    def too_old(self) -> bool:
        limit = settings.SIEM_BACKLOG_MAX_AGE_MINUTES * 60
        return self.age_seconds is not None and self.age_seconds > limit


def backlog(now: datetime.datetime | None = None) -> Backlog:
    """Two indexed lookups: cheap enough for every /readyz probe. The count is the chain head minus
    the cursor (rows leave the trail only through the retention purge, long after delivery)."""
    now = now or timezone.now()
    cursor = SiemCursor.objects.filter(pk=1).first()
    delivered = cursor.last_sequence if cursor else 0
    head = ChainHead.objects.filter(pk=1).values_list("sequence", flat=True).first() or 0
    oldest = (
        AuditEvent.objects.filter(sequence__gt=delivered)
        .order_by("sequence")
        .values_list("recorded_at", flat=True)
        .first()
    )
    return Backlog(
        count=max(head - delivered, 0) if oldest is not None else 0,
        oldest_recorded_at=oldest,
        age_seconds=max((now - oldest).total_seconds(), 0.0) if oldest is not None else None,
        delivered_up_to=delivered,
        last_success_at=cursor.last_success_at if cursor else None,
        last_error=cursor.last_error if cursor else "",
    )


def open_alerts() -> QuerySet[Alert]:
    """Alerts nobody has acknowledged yet, the most recently seen first (start page)."""
    return Alert.objects.filter(status=AlertStatus.OPEN).order_by("-last_seen", "-pk")


def case_numbers(reviewer: Any, project_ids: set[str]) -> dict[str, str]:
    """Case number per project id, through the one scoping door (the reviewer reviews every case's
    trail); a project id that names no case (a denial on an unknown project) is left out."""
    from cases.selectors import CasePurpose, cases_for_person

    if not project_ids:
        return {}
    cases = cases_for_person(reviewer, CasePurpose.REVIEW_AUDIT).filter(project_id__in=sorted(project_ids))
    return {str(project_id): number for project_id, number in cases.values_list("project_id", "case_number")}
