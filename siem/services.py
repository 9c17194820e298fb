"""The only writers of alerts. Each alert is stored once per rule, subject and window; raising it
writes an audit event (which the forwarder sends to the SIEM with a high severity) and notifies the
privacy officers and security managers (by mail where mail is configured). Acknowledging it, with a
note, is audited too."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from audit.actor import Actor
from audit.models import Outcome
from audit.services import audit_record
from notifications.services import notify
from people.roles import REVIEWER_ROLES, has_role
from siem import actions
from siem.models import Alert, AlertStatus, Severity

MAX_NOTE = 2000


@dataclass(frozen=True)
class AlertSighting:
    """What a rule saw for one subject in one window. ``count`` is added to the alert's count, or,
    with ``exact``, is the window's whole count (rules that count the trail itself)."""

    rule: str
    severity: str
    person: str
    project_id: uuid.UUID | None
    window_start: datetime.datetime
    window_end: datetime.datetime
    first_seen: datetime.datetime
    last_seen: datetime.datetime
    count: int
    first_sequence: int | None
    last_sequence: int | None
    details: dict[str, Any]
    exact: bool = False
    # A subject that is neither a person nor a case (a source address); part of the key when set.
    other_subject: str = ""

    @property
    def dedup_key(self) -> str:
        window = self.window_start.astimezone(datetime.UTC).isoformat()
        key = f"{self.rule}|{self.person}|{self.project_id or ''}|{window}"
        return f"{key}|{self.other_subject}" if self.other_subject else key


def _reviewers() -> list[User]:
    return list(
        User.objects.filter(is_active=True, groups__name__in=list(REVIEWER_ROLES)).distinct().order_by("pk")
    )


# Severities in rising order: a later sighting in an alert's window can only raise it.
_SEVERITY_RANK = {Severity.MEDIUM: 0, Severity.HIGH: 1, Severity.CRITICAL: 2}


@transaction.atomic
def alert_record(*, sighting: AlertSighting) -> tuple[Alert, bool]:
    """Create the alert for this rule, subject and window, or update its count and last sighting.
    True when it was new (then it is audited and the reviewers are notified, once).

    A later sighting of higher severity in the same window (a person's own enrolment seen in the
    morning, a reset from the command line in the afternoon) raises the alert: its severity and
    details become the sighting's, an acknowledged alert is open again (its acknowledgement cleared:
    it stays in the trail), and it is audited and notified as a new alert would be, so the graver
    event is not hidden behind the milder one."""
    alert = Alert.objects.select_for_update().filter(dedup_key=sighting.dedup_key).first()
    if alert is not None:
        alert.count = sighting.count if sighting.exact else alert.count + sighting.count
        alert.last_seen = max(alert.last_seen, sighting.last_seen)
        alert.first_seen = min(alert.first_seen, sighting.first_seen)
        if sighting.last_sequence is not None:
            alert.last_sequence = max(alert.last_sequence or 0, sighting.last_sequence)
        escalated_from = None
        if _SEVERITY_RANK[Severity(sighting.severity)] > _SEVERITY_RANK[Severity(alert.severity)]:
            escalated_from, alert.severity, alert.status = alert.severity, sighting.severity, AlertStatus.OPEN
            # Open again, so nobody has acknowledged it (yet): an earlier acknowledgement was of the
            # milder alert, and stays in the trail (``monitoring.alert_acknowledged``).
            alert.acknowledged_by, alert.acknowledged_at, alert.acknowledgement_note = None, None, ""
        if sighting.exact or escalated_from is not None:
            # An exact sighting saw the whole window, so its details (e.g. the cases a burst
            # touched) are the window's, newer than what the alert was raised with; a graver one
            # says why it is graver.
            alert.details = {**alert.details, **sighting.details}
        alert.save(
            update_fields=[
                "count",
                "last_seen",
                "first_seen",
                "last_sequence",
                "details",
                "severity",
                "status",
                "acknowledged_by",
                "acknowledged_at",
                "acknowledgement_note",
            ]
        )
        if escalated_from is not None:
            _announce(alert, sighting.details, escalated_from=escalated_from)
        return alert, False
    alert = Alert.objects.create(
        rule=sighting.rule,
        severity=sighting.severity,
        subject_person=sighting.person,
        subject_project_id=sighting.project_id,
        window_start=sighting.window_start,
        window_end=sighting.window_end,
        dedup_key=sighting.dedup_key,
        first_seen=sighting.first_seen,
        last_seen=sighting.last_seen,
        count=sighting.count,
        first_sequence=sighting.first_sequence,
        last_sequence=sighting.last_sequence,
        details=sighting.details,
    )
    _announce(alert, sighting.details)
    return alert, True


def _announce(alert: Alert, details: dict[str, Any], *, escalated_from: str | None = None) -> None:
    """The alert into the trail (and so to the SIEM, with its severity) and to every reviewer:
    when it is raised, and again when a graver sighting raises its severity."""
    raised: dict[str, Any] = {
        "rule": alert.rule,
        "severity": alert.severity,
        "person": alert.subject_person,
        "window_start": alert.window_start.isoformat(),
        "window_end": alert.window_end.isoformat(),
        "count": alert.count,
        "first_sequence": alert.first_sequence,
        **details,
    }
    if escalated_from is not None:
        raised["escalated_from"] = escalated_from
    audit_record(
        action=actions.ALERT_RAISED,
        actor=Actor.system("monitoring"),
        outcome=Outcome.SUCCESS,
        project_id=alert.subject_project_id,
        object_type="alert",
        object_id=alert.pk,
        details=raised,
    )
    params = {
        "rule": alert.rule,
        "severity": alert.severity,
        "person": alert.subject_person,
        "case": str(alert.subject_project_id or ""),
        "cases": list(alert.details.get("cases", [])),
        "case_count": alert.details.get("case_count", 0),
        "count": alert.count,
        "first_seen": timezone.localtime(alert.first_seen).strftime("%Y-%m-%d %H:%M"),
    }
    # The case numbers as they are now, so the notification names cases as the monitoring page does
    # (its readers, the privacy officers and security managers, review every case's trail).
    params["case_numbers"] = _case_numbers({params["case"]} if params["case"] else set(params["cases"]))
    link = reverse("monitoring")
    for reviewer in _reviewers():
        notify(
            recipient=reviewer,
            kind="monitoring_alert",
            params=params,
            # One notice per reviewer when raised, and one more if it becomes graver.
            dedup_key=f"alert:{alert.pk}:{reviewer.pk}"
            + (f":{alert.severity}" if escalated_from is not None else ""),
            link=link,
        )


def _case_numbers(project_ids: set[str]) -> dict[str, str]:
    from cases.models import Case

    wanted = []
    for project_id in project_ids:
        try:
            wanted.append(uuid.UUID(project_id))
        except ValueError:
            continue
    rows = Case.objects.filter(project_id__in=wanted).values_list("project_id", "case_number")
    return {str(project_id): number for project_id, number in rows}


class AlertAlreadyAcknowledged(Exception):
    pass


@transaction.atomic
def alert_acknowledge(*, alert_id: int, person: User, note: str, by: Actor) -> Alert:
    """A privacy officer or security manager acknowledges an open alert with a note."""
    if not has_role(person, *REVIEWER_ROLES):
        raise PermissionDenied("Only privacy officers and security managers acknowledge alerts.")
    note = note.strip()
    if not note:
        raise ValidationError({"note": "Say what was done or why no action is needed."})
    if len(note) > MAX_NOTE:
        raise ValidationError({"note": f"At most {MAX_NOTE} characters."})
    alert = Alert.objects.select_for_update().get(pk=alert_id)
    if alert.status == AlertStatus.ACKNOWLEDGED:
        raise AlertAlreadyAcknowledged(alert_id)
    alert.status = AlertStatus.ACKNOWLEDGED
    alert.acknowledged_by = person
    alert.acknowledged_at = timezone.now()
    alert.acknowledgement_note = note
    alert.save(update_fields=["status", "acknowledged_by", "acknowledged_at", "acknowledgement_note"])
    audit_record(
        action=actions.ALERT_ACKNOWLEDGED,
        actor=by,
        project_id=alert.subject_project_id,
        object_type="alert",
        object_id=alert.pk,
        details={"rule": alert.rule, "person": alert.subject_person, "note": note},
    )
    return alert
