"""The daily retention sweep (``retention.tasks.sweep``, ``python manage.py retention_sweep``).

Every step is one set-based statement over all datasets or notices, so the number of queries does
not grow with the number of datasets (``benchmarks/retention_sweep.py`` measures it):

1. open notices on data used since the notice close as ``accessed_again``;
2. each active dataset kept past its case's closure limit, or idle past its threshold, that has no
   open notice (and no ``keep`` decision still in force) gets one: ``INSERT ... SELECT``;
3. open notices whose reminder is due are reminded; those unanswered past the escalation go to the
   privacy officer.

Each step stamps the rows it changed with the run's id and reads exactly those back, for one audit
event per notice (written in bulk) and one notification per recipient listing them. It all commits
together, so a sweep that fails halfway leaves nothing half-sent, and a second run finds nothing new:
running twice sends nothing twice.

The same daily run also warns of grants that end soon (``authz.services.grants_notify_ending_soon``,
hourly already; idempotent) and of screenings that lapse within 30 days.
"""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import DateTimeField, DurationField, Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from audit.actor import Actor
from audit.services import audit_record_many
from cases.models import CaseStatus, Dataset, DatasetStatus
from notifications.services import notify
from people.roles import Role
from retention import actions
from retention.models import NoticeReason, NoticeStatus, RetentionNotice
from retention.policies import PolicyMap, Rules, policy_map

SCREENING_WARNING = datetime.timedelta(days=30)
LISTED_CASES = 10  # case numbers named in one aggregated notification; the rest are counted

SWEEP_ACTOR = "retention_sweep"


@dataclass(frozen=True)
class SweepResult:
    opened: int
    accessed_again: int
    reminded: int
    escalated: int
    notifications: int
    grants_notified: int
    screenings_notified: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def retention_sweep(*, now: datetime.datetime | None = None, by: Actor | None = None) -> SweepResult:
    """The whole daily run. ``now`` may be given (tests move the clock that way); ``by`` is who
    started it (the schedule itself when not given)."""
    from authz.services import grants_notify_ending_soon

    now = now or timezone.now()
    notices = notices_sweep(now=now, by=by or Actor.system(SWEEP_ACTOR))
    grants = grants_notify_ending_soon(now=now)
    screenings = screenings_notify_lapsing(now=now)
    return SweepResult(**{**notices, "grants_notified": grants, "screenings_notified": screenings})


@transaction.atomic
def notices_sweep(*, now: datetime.datetime, by: Actor) -> dict[str, int]:
    run = uuid.uuid4().hex
    actor = by
    policies = policy_map()
    officers = list(
        User.objects.filter(groups__name=Role.PRIVACY_OFFICER, is_active=True).order_by("pk").distinct()
    )

    accessed = _close_accessed_again(now=now, stamp=f"{run}:a")
    _open_notices(now=now, policies=policies, stamp=f"{run}:o")
    opened = _stamped(f"{run}:o")
    reminded = _remind(now=now, stamp=f"{run}:r")
    escalated = _escalate(now=now, stamp=f"{run}:e")

    events: list[dict[str, Any]] = []
    events += [_event(actions.NOTICE_OPENED, actor, row) for row in opened]
    events += [_event(actions.NOTICE_ACCESSED_AGAIN, actor, row) for row in accessed]
    events += [_event(actions.NOTICE_ESCALATED, actor, row) for row in escalated]
    counts = {
        "opened": len(opened),
        "accessed_again": len(accessed),
        "reminded": len(reminded),
        "escalated": len(escalated),
    }
    events.append(
        {"action": actions.SWEEP_RUN, "actor": actor, "object_type": "retention", "details": {**counts}}
    )
    audit_record_many(events)

    sent = 0
    sent += _notify_leads(opened, kind="retention_notices_opened", key=f"retention:{run}:opened")
    sent += _notify_leads(reminded, kind="retention_reminder", key=f"retention:{run}:reminder")
    sent += _notify_officers(
        officers, opened, kind="retention_notices_opened_officer", key=f"retention:{run}:opened"
    )
    sent += _notify_officers(
        officers, escalated, kind="retention_escalated", key=f"retention:{run}:escalated"
    )
    return {**counts, "notifications": sent}


# The steps


def _close_accessed_again(*, now: datetime.datetime, stamp: str) -> list[dict[str, Any]]:
    """Data used after its notice was raised is not idle: the notice closes. Only for inactivity;
    use does not shorten the time since a case was closed."""
    RetentionNotice.objects.filter(
        status=NoticeStatus.OPEN,
        reason=NoticeReason.INACTIVE,
        dataset__last_accessed_at__gt=F("created_at"),
    ).update(status=NoticeStatus.ACCESSED_AGAIN, closed_at=now, sweep_stamp=stamp)
    return _stamped(stamp)


def _open_notices(*, now: datetime.datetime, policies: PolicyMap, stamp: str) -> None:
    # Closure first: a dataset that is both idle and past its case's closure limit is reported for
    # the closure, which use of the data cannot cure.
    closed_too_long = Q(
        case__status__in=[CaseStatus.CLOSED, CaseStatus.ARCHIVED],
        case__closed_at__lt=_cutoff(policies, now, lambda r: r.closure_limit_days),
    )
    _insert(_candidates(now).filter(closed_too_long), NoticeReason.CLOSURE_LIMIT, now, policies, stamp)
    idle = Q(_idle_since__lt=_cutoff(policies, now, lambda r: r.inactivity_days))
    _insert(_candidates(now).filter(idle), NoticeReason.INACTIVE, now, policies, stamp)


def _candidates(now: datetime.datetime) -> QuerySet[Dataset]:
    """Active datasets without an open notice and without a keep decision still in force."""
    answered = RetentionNotice.objects.filter(dataset=OuterRef("pk")).filter(
        Q(status=NoticeStatus.OPEN) | Q(status=NoticeStatus.KEPT, keep_until__gte=timezone.localdate(now))
    )
    return (
        Dataset.objects.filter(status=DatasetStatus.ACTIVE)
        .annotate(_idle_since=Coalesce("last_accessed_at", "imported_at"))
        .filter(~Exists(answered))
        .order_by()
    )


def _cutoff(policies: PolicyMap, now: datetime.datetime, days: Any) -> Any:
    return policies.expression(lambda r: now - datetime.timedelta(days=days(r)), DateTimeField())


def _insert(
    candidates: QuerySet[Dataset], reason: str, now: datetime.datetime, policies: PolicyMap, stamp: str
) -> None:
    """``INSERT INTO notice (...) SELECT ... FROM dataset WHERE ...``: the ORM builds the SELECT
    (the policy CASE expressions included) and the database copies the rows in one statement."""

    def rule(pick: Any, field: Any) -> Any:
        return policies.expression(pick, field)

    def interval(r: Rules) -> datetime.timedelta:
        return datetime.timedelta(days=r.reminder_days)

    columns = {
        "dataset_id": F("pk"),
        "case_id": F("case_id"),
        "reason": Value(reason),
        "status": Value(NoticeStatus.OPEN.value),
        "created_at": Value(now, output_field=DateTimeField()),
        "idle_since": F("_idle_since"),
        "reminder_interval": rule(interval, DurationField()),
        "next_reminder_at": rule(lambda r: now + interval(r), DateTimeField()),
        "reminders_sent": Value(0),
        "escalate_at": rule(lambda r: now + datetime.timedelta(days=r.escalation_days), DateTimeField()),
        "decision_reason": Value(""),
        "sweep_stamp": Value(stamp),
    }
    aliases = {f"_c_{name}": expression for name, expression in columns.items()}
    select = candidates.annotate(**aliases).values_list(*aliases)
    sql, params = select.query.get_compiler(connection=connection).as_sql()
    table = RetentionNotice._meta.db_table
    with connection.cursor() as cursor:
        # ON CONFLICT DO NOTHING: a sweep running at the same moment may have opened the notice
        # first (the one-open-notice-per-dataset index); that dataset is then simply skipped.
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) {sql} ON CONFLICT DO NOTHING",
            params,
        )


def _remind(*, now: datetime.datetime, stamp: str) -> list[dict[str, Any]]:
    due = RetentionNotice.objects.filter(status=NoticeStatus.OPEN, next_reminder_at__lte=now)
    due.update(
        next_reminder_at=Value(now, output_field=DateTimeField()) + F("reminder_interval"),
        last_reminded_at=now,
        reminders_sent=F("reminders_sent") + 1,
        sweep_stamp=stamp,
    )
    return _stamped(stamp)


def _escalate(*, now: datetime.datetime, stamp: str) -> list[dict[str, Any]]:
    RetentionNotice.objects.filter(
        status=NoticeStatus.OPEN, escalated_at__isnull=True, escalate_at__lte=now
    ).update(escalated_at=now, sweep_stamp=stamp)
    return _stamped(stamp)


def _stamped(stamp: str) -> list[dict[str, Any]]:
    return [
        dict(row)
        for row in RetentionNotice.objects.filter(sweep_stamp=stamp)
        .order_by("pk")
        .values(
            "pk",
            "reason",
            "idle_since",
            "reminders_sent",
            "dataset__image_id",
            "case__project_id",
            "case__case_number",
            "case__case_lead_id",
        )
    ]


def _event(action: str, actor: Actor, row: dict[str, Any]) -> dict[str, Any]:
    return {
        "action": action,
        "actor": actor,
        "project_id": row["case__project_id"],
        "image_id": row["dataset__image_id"],
        "object_type": "retention_notice",
        "object_id": row["pk"],
        "details": {"reason": row["reason"], "idle_since": row["idle_since"].isoformat()},
    }


# Notifications: one per recipient per step, listing the cases, so their number follows the
# number of people, not of datasets.


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    cases = sorted({row["case__case_number"] for row in rows})
    listed = cases[:LISTED_CASES]
    return {
        "count": len(rows),
        "case_count": len(cases),
        "cases": ", ".join(listed) + (" …" if len(cases) > len(listed) else ""),
    }


def _notify_leads(rows: list[dict[str, Any]], *, kind: str, key: str) -> int:
    by_lead: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_lead[row["case__case_lead_id"]].append(row)
    if not by_lead:
        return 0
    link = reverse("retention-notices")
    sent = 0
    for lead in User.objects.filter(pk__in=list(by_lead)).order_by("pk"):
        sent += notify(
            recipient=lead,
            kind=kind,
            params=_summary(by_lead[lead.pk]),
            dedup_key=f"{key}:{lead.pk}",
            link=link,
        )
    return sent


def _notify_officers(officers: list[User], rows: list[dict[str, Any]], *, kind: str, key: str) -> int:
    if not rows:
        return 0
    link = reverse("retention-dashboard")
    params = _summary(rows)
    return sum(
        notify(
            recipient=officer, kind=kind, params=params, dedup_key=f"{key}:officer:{officer.pk}", link=link
        )
        for officer in officers
    )


# Screenings


def screenings_notify_lapsing(*, now: datetime.datetime | None = None) -> int:
    """The person and every administrator hear of a screening that lapses within 30 days, once per
    person and screening date (a renewed screening is announced anew when it nears its end)."""
    today = timezone.localdate(now or timezone.now())
    lapsing = list(
        User.objects.filter(
            is_active=True,
            profile__screening_valid_until__gte=today,
            profile__screening_valid_until__lte=today + SCREENING_WARNING,
        )
        .select_related("profile")
        .order_by("pk")
    )
    if not lapsing:
        return 0
    administrators = list(
        User.objects.filter(groups__name=Role.ADMINISTRATOR, is_active=True).order_by("pk").distinct()
    )
    sent = 0
    for person in lapsing:
        until = person.profile.screening_valid_until
        assert until is not None
        params = {"person": person.get_username(), "until": until.isoformat()}
        key = f"screening-lapsing:{person.pk}:{until.isoformat()}"
        sent += notify(recipient=person, kind="screening_lapsing", params=params, dedup_key=f"{key}:person")
        for admin in administrators:
            if admin.pk == person.pk:
                continue  # an administrator whose own screening lapses hears it once, as the person
            sent += notify(
                recipient=admin,
                kind="screening_lapsing_admin",
                params=params,
                dedup_key=f"{key}:admin:{admin.pk}",
            )
    return sent
