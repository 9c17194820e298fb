"""The monitoring page for privacy officers and security managers: the SIEM backlog and the alerts,
each acknowledged with a note (a service, audited)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from audit.actor import Actor
from people.roles import REVIEWER_ROLES, has_role
from siem.messages import alert_cases_text
from siem.models import Alert, AlertStatus
from siem.rules import rule_label
from siem.selectors import backlog, case_numbers
from siem.services import AlertAlreadyAcknowledged, alert_acknowledge

MAX_ROWS = 200


def _reviewer(request: HttpRequest) -> User:
    if not has_role(request.user, *REVIEWER_ROLES):
        raise PermissionDenied
    assert isinstance(request.user, User)
    return request.user


def _rows(reviewer: User, alerts: list[Alert]) -> list[dict[str, Any]]:
    """Each alert with its rule's label and its case(s) in words, by case number where known."""
    numbers = case_numbers(
        reviewer,
        {str(a.subject_project_id) for a in alerts if a.subject_project_id}
        | {case for a in alerts for case in a.details.get("cases", [])},
    )
    return [
        {
            "alert": alert,
            "rule": rule_label(alert.rule),
            "cases": alert_cases_text(
                project_id=alert.subject_project_id,
                cases=alert.details.get("cases", []),
                case_count=alert.details.get("case_count", 0),
                numbers=numbers,
            ),
        }
        for alert in alerts
    ]


@login_required
@require_GET
def monitoring(request: HttpRequest) -> HttpResponse:
    reviewer = _reviewer(request)
    open_alerts = list(Alert.objects.filter(status=AlertStatus.OPEN).order_by("-last_seen")[:MAX_ROWS])
    acknowledged = list(
        Alert.objects.filter(status=AlertStatus.ACKNOWLEDGED)
        .select_related("acknowledged_by")
        .order_by("-acknowledged_at")[:MAX_ROWS]
    )
    pending = backlog()
    return render(
        request,
        "siem/monitoring.html",
        {
            "forwarding": bool(settings.SIEM_HOST),
            "backlog": pending,
            "age_minutes": int((pending.age_seconds or 0) // 60),
            "max_age_minutes": settings.SIEM_BACKLOG_MAX_AGE_MINUTES,
            "open_alerts": _rows(reviewer, open_alerts),
            "acknowledged_alerts": _rows(reviewer, acknowledged),
        },
    )


@login_required
@require_POST
def acknowledge(request: HttpRequest, alert_id: int) -> HttpResponse:
    person = _reviewer(request)
    alert = get_object_or_404(Alert, pk=alert_id)
    try:
        alert_acknowledge(
            alert_id=alert.pk,
            person=person,
            note=request.POST.get("note", ""),
            by=Actor.from_request(request),
        )
    except ValidationError:
        messages.error(request, _("Write a note: what was done, or why no action is needed."))
    except AlertAlreadyAcknowledged:
        messages.error(request, _("This alert was already acknowledged."))
    else:
        messages.success(request, _("The alert is acknowledged."))
    return HttpResponseRedirect(reverse("monitoring"))
