"""Monitoring rules over the audit trail.

``sweep`` looks at the audit events after its own cursor (``MonitorCursor``), in chunks; each chunk's
alerts and the cursor move commit together, so a repeated or lost run neither double-counts nor
skips. Each rule turns matching events into sightings of (rule, person and/or case, window); an
alert is stored once per rule, subject and window (``siem.services.alert_record``).

The rules and their thresholds (settings, documented in docs/siem.md):

- ``no_grant_usage``: Hansken usage by a person who had no grant covering that case, moment and
  environment (the ingest marks it ``basis`` = no_grant, unknown_user or unknown_project); per
  person, case and day. In the experiment environment a missing grant is ``experiment_without_grant``.
- ``denied_burst``: more than ``HG_MONITOR_DENIED_PER_HOUR`` denied decisions (``authz.denied``) for
  one person in one clock hour.
- ``export_burst``: more than ``HG_MONITOR_EXPORTS_PER_DAY`` allowed export checks
  (``export_check.allowed``: Hansken asks before every export) for one person in one day.
- ``blocked_exports``: more than ``HG_MONITOR_BLOCKED_EXPORTS_PER_DAY`` refused export checks
  (``export_check.refused``: privileged data, a removed dataset, or no export right) for one person
  in one day: someone trying to take out what they may not.
  Both count export checks, not their trail events: a check of more than 1,000 traces is written as
  several events (``details.part`` of ``details.parts``), and only its first part is counted.
- ``screening_lapsed``: usage by a person whose screening was not valid on that day, as the
  screening history in the trail says it was then.
- ``experiment_without_grant``: usage in the experiment environment on a case on which the person
  had no grant covering the experiment environment (the case lead excepted).
- ``chain_verification_failed``: the audit chain failed verification (``audit.verification_failed``).
- ``person_privileges_changed``: a change of a person's roles or screening (``person.roles_changed``,
  ``person.screening_changed``), or a reset of their second factor (``person.second_factor_reset``),
  or a new person given roles (``person.created``: as much a change of privileges as giving the
  roles later); per changed person and day. High when the change did not pass a second
  administrator (made from the command line), medium when it did: each changes who may reach case
  data or approve such changes, or what protects such an account, so reviewers see every one. The
  enrolment of a second factor that the person's roles require (``person.second_factor_enrolled``
  with ``required_by_roles``) is seen too, medium: the person's own act, but whoever held their new
  password first could have enrolled in their place (trust on first use), and the person would only
  notice at their next sign-in.
- ``sign_in_failures_person``: more than ``HG_MONITOR_FAILED_SIGN_INS_PER_HOUR`` failed sign-ins
  (``session.sign_in_failed``, lockout refusals included) naming one username in one clock hour:
  someone guessing a person's password, or a person locked out.
- ``sign_in_failures_source``: the same threshold for failed sign-ins from one source address
  (as ``client_address`` saw it) in one clock hour, whatever usernames they tried: password
  spraying from one place.
- ``siem_backlog``: the oldest event not yet delivered to the SIEM is older than
  ``SIEM_BACKLOG_MAX_AGE_MINUTES``; per day while it lasts.

Days are calendar days in ``TIME_ZONE``; hours are clock hours.
"""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Min, Q, TextChoices
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit import actions as audit_actions
from audit.models import AuditEvent, Basis
from audit.usage import HANSKEN_ACTION_PREFIX
from authz import actions as authz_actions
from people.selectors import screened_until_at, screening_history
from privilege import actions as privilege_actions
from siem.models import MonitorCursor, Severity
from siem.selectors import backlog
from siem.services import AlertSighting, alert_record


def _burst_stats() -> dict[str, Any]:
    """What a burst rule reads of the events it counts: how many, and the first and last of them."""
    return {
        "count": Count("sequence"),
        "first": Min("occurred_at"),
        "last": Max("occurred_at"),
        "first_seq": Min("sequence"),
        "last_seq": Max("sequence"),
    }


class Rule(TextChoices):
    NO_GRANT_USAGE = "no_grant_usage", _("Use of case data without a grant")
    DENIED_BURST = "denied_burst", _("Many denied decisions")
    EXPORT_BURST = "export_burst", _("Many exports")
    BLOCKED_EXPORTS = "blocked_exports", _("Repeated refused exports")
    SCREENING_LAPSED = "screening_lapsed", _("Use after the screening lapsed")
    EXPERIMENT_WITHOUT_GRANT = (
        "experiment_without_grant",
        _("Experiment environment without an experiment grant"),
    )
    CHAIN_VERIFICATION_FAILED = "chain_verification_failed", _("Audit chain verification failed")
    SIEM_BACKLOG = "siem_backlog", _("SIEM backlog too old")
    PERSON_PRIVILEGES_CHANGED = (
        "person_privileges_changed",
        _("Change of a person's roles, screening or second factor"),
    )
    SIGN_IN_FAILURES_PERSON = "sign_in_failures_person", _("Many failed sign-ins for one person")
    SIGN_IN_FAILURES_SOURCE = "sign_in_failures_source", _("Many failed sign-ins from one address")


SEVERITY = {
    Rule.NO_GRANT_USAGE: Severity.HIGH,
    Rule.DENIED_BURST: Severity.MEDIUM,
    Rule.EXPORT_BURST: Severity.MEDIUM,
    Rule.BLOCKED_EXPORTS: Severity.HIGH,
    Rule.SCREENING_LAPSED: Severity.HIGH,
    Rule.EXPERIMENT_WITHOUT_GRANT: Severity.HIGH,
    Rule.CHAIN_VERIFICATION_FAILED: Severity.CRITICAL,
    Rule.SIEM_BACKLOG: Severity.HIGH,
    Rule.PERSON_PRIVILEGES_CHANGED: Severity.MEDIUM,
    Rule.SIGN_IN_FAILURES_PERSON: Severity.MEDIUM,
    Rule.SIGN_IN_FAILURES_SOURCE: Severity.HIGH,
}


def rule_label(code: str) -> str:
    """A rule's name in the reader's language (a code no rule has any more: the code itself)."""
    return str(Rule(code).label) if code in Rule.values else code


PRIVILEGE_ACTIONS = frozenset(
    {
        audit_actions.PERSON_ROLES_CHANGED,
        audit_actions.PERSON_SCREENING_CHANGED,
        audit_actions.PERSON_SECOND_FACTOR_RESET,
    }
)

EXPERIMENT = "experiment"
NO_GRANT_BASES = frozenset({Basis.NO_GRANT, Basis.UNKNOWN_USER, Basis.UNKNOWN_PROJECT})
CHUNK = 5000
# A burst over many cases names this many of them; the alert says how many there were in all.
MAX_CASES_NAMED = 10
_FIELDS = ("sequence", "occurred_at", "actor", "environment", "action", "project_id", "basis")


@dataclass(frozen=True)
class Row:
    sequence: int
    occurred_at: datetime.datetime
    actor: str
    environment: str
    action: str
    project_id: uuid.UUID | None
    basis: str


@dataclass(frozen=True)
class SweepResult:
    events_seen: int
    alerts_raised: int
    alerts_updated: int


def day_window(moment: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
    day = timezone.localtime(moment).date()
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    end = timezone.make_aware(datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min))
    return start, end


def hour_window(moment: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
    start = moment.astimezone(datetime.UTC).replace(minute=0, second=0, microsecond=0)
    return start, start + datetime.timedelta(hours=1)


def _group(
    rule: Rule, rows: Iterable[Row], key: Any, window: Any, details: dict[str, Any] | None = None
) -> list[AlertSighting]:
    """One sighting per (person, case, window) of the rows; ``key`` gives (person, case)."""
    groups: dict[tuple[str, uuid.UUID | None, datetime.datetime], list[Row]] = defaultdict(list)
    windows: dict[datetime.datetime, datetime.datetime] = {}
    for row in rows:
        person, project = key(row)
        start, end = window(row.occurred_at)
        windows[start] = end
        groups[(person, project, start)].append(row)
    return [
        AlertSighting(
            rule=rule,
            severity=SEVERITY[rule],
            person=person,
            project_id=project,
            window_start=start,
            window_end=windows[start],
            first_seen=min(r.occurred_at for r in matched),
            last_seen=max(r.occurred_at for r in matched),
            count=len(matched),
            first_sequence=min(r.sequence for r in matched),
            last_sequence=max(r.sequence for r in matched),
            details=dict(details or {}),
        )
        for (person, project, start), matched in groups.items()
    ]


# An export check of many traces is several trail events, one per part; the check is counted once,
# by its first part (an event without parts is a whole check).
ONE_PER_EXPORT_CHECK = Q(details__part__isnull=True) | Q(details__part=1)


def _threshold(
    rule: Rule,
    rows: list[Row],
    action_codes: list[str],
    limit: int,
    window: Any,
    up_to: int,
    counted_events: Q | None = None,
) -> list[AlertSighting]:
    """Count the trail itself per person and window (up to this chunk), so the count spans sweeps.
    ``counted_events`` narrows which of the events count (one per export check)."""
    candidates = {(row.actor, window(row.occurred_at)) for row in rows if row.action in action_codes}
    sightings = []
    for person, (start, end) in sorted(candidates):
        counted = AuditEvent.objects.filter(
            action__in=action_codes,
            actor=person,
            occurred_at__gte=start,
            occurred_at__lt=end,
            sequence__lte=up_to,
        )
        if counted_events is not None:
            counted = counted.filter(counted_events)
        stats = counted.aggregate(**_burst_stats())
        if stats["count"] <= limit:
            continue
        sightings.append(
            AlertSighting(
                rule=rule,
                severity=SEVERITY[rule],
                person=person,
                project_id=None,
                window_start=start,
                window_end=end,
                first_seen=stats["first"],
                last_seen=stats["last"],
                count=stats["count"],
                first_sequence=stats["first_seq"],
                last_sequence=stats["last_seq"],
                details={"threshold": limit, **_cases_of(counted)},
                exact=True,
            )
        )
    return sightings


def _cases_of(counted: Any) -> dict[str, Any]:
    """The cases a per-person burst touched, for the reviewer: the rule counts across cases, so the
    alert has no single case, and "case: -" told a reviewer nothing. The first few project ids
    (sorted) and how many there were in all."""
    touched = counted.exclude(project_id=None).order_by().values_list("project_id", flat=True).distinct()
    project_ids = sorted(str(project_id) for project_id in touched)
    return {"cases": project_ids[:MAX_CASES_NAMED], "case_count": len(project_ids)}


def _screening_lapsed(rows: list[Row]) -> list[AlertSighting]:
    from people.models import Profile

    usage = [row for row in rows if row.basis in (Basis.GRANT, Basis.CASE_LEAD)]
    if not usage:
        return []
    usernames = {row.actor for row in usage}
    current = dict(
        Profile.objects.filter(user__username__in=usernames).values_list(
            "user__username", "screening_valid_until"
        )
    )
    history = screening_history(usernames)
    lapsed = []
    for row in usage:
        until = screened_until_at(history.get(row.actor, []), row.occurred_at, current.get(row.actor))
        if until is None or until < timezone.localtime(row.occurred_at).date():
            lapsed.append(row)
    return _group(Rule.SCREENING_LAPSED, lapsed, lambda r: (r.actor, None), day_window)


def _changes_privileges(row: Row, details: dict[str, Any]) -> bool:
    """A change of roles, screening or second factor; an enrolment the person's roles require; or a
    new person given roles (as much a change of privileges as giving those roles later, which is
    alerted whatever the roles; from the command line it passes no second administrator either)."""
    if row.action == audit_actions.PERSON_SECOND_FACTOR_ENROLLED:
        return bool(details.get("required_by_roles"))
    if row.action == audit_actions.PERSON_CREATED:
        return bool(details.get("roles"))
    return row.action in PRIVILEGE_ACTIONS


def _privileges_changed(rows: list[Row]) -> list[AlertSighting]:
    """One sighting per changed person and day; the person and whether a second administrator
    approved are in the event's details, read for these few rows only. An enrolment counts only
    when the person's roles require the factor; it is the person's own act, not an unapproved
    change."""
    changes = [
        row
        for row in rows
        if row.action in PRIVILEGE_ACTIONS
        or row.action in (audit_actions.PERSON_SECOND_FACTOR_ENROLLED, audit_actions.PERSON_CREATED)
    ]
    if not changes:
        return []
    details = dict(
        AuditEvent.objects.filter(sequence__in=[row.sequence for row in changes]).values_list(
            "sequence", "details"
        )
    )
    changes = [row for row in changes if _changes_privileges(row, details.get(row.sequence) or {})]
    unapproved = {
        row.sequence
        for row in changes
        if row.action != audit_actions.PERSON_SECOND_FACTOR_ENROLLED
        and "proposal_id" not in (details.get(row.sequence) or {})
    }
    sightings = _group(
        Rule.PERSON_PRIVILEGES_CHANGED,
        changes,
        lambda r: ((details.get(r.sequence) or {}).get("username", ""), None),
        day_window,
    )
    result = []
    for sighting in sightings:
        # The sighting's rows are exactly the changes of its person in its window.
        mine = [
            row.sequence
            for row in changes
            if (details.get(row.sequence) or {}).get("username", "") == sighting.person
            and sighting.window_start <= row.occurred_at < sighting.window_end
        ]
        without = any(sequence in unapproved for sequence in mine)
        result.append(
            dataclasses.replace(
                sighting,
                severity=Severity.HIGH if without else sighting.severity,
                details={"without_second_administrator": without},
            )
        )
    return result


def _sign_in_failures(rows: list[Row], up_to: int) -> list[AlertSighting]:
    """Failed sign-ins per attempted username and per source address, counted in the trail itself
    per clock hour (up to this chunk), so a burst spread over sweeps is still one count. The
    attempted username is in the event's details (the actor is ``anonymous``: nobody was proven)."""
    failed = [row for row in rows if row.action == audit_actions.PERSON_SIGN_IN_FAILED]
    if not failed:
        return []
    limit = settings.HG_MONITOR_FAILED_SIGN_INS_PER_HOUR
    facts = AuditEvent.objects.filter(sequence__in=[row.sequence for row in failed]).values_list(
        "occurred_at", "details", "source_address"
    )
    people: set[tuple[str, tuple[datetime.datetime, datetime.datetime]]] = set()
    sources: set[tuple[str, tuple[datetime.datetime, datetime.datetime]]] = set()
    for occurred_at, details, source in facts:
        attempted = (details or {}).get("attempted_username") or ""
        if attempted:
            people.add((attempted, hour_window(occurred_at)))
        if source:
            sources.add((source, hour_window(occurred_at)))
    in_trail = AuditEvent.objects.filter(action=audit_actions.PERSON_SIGN_IN_FAILED, sequence__lte=up_to)
    sightings = []
    for rule, candidates, lookup in (
        (Rule.SIGN_IN_FAILURES_PERSON, people, "details__attempted_username"),
        (Rule.SIGN_IN_FAILURES_SOURCE, sources, "source_address"),
    ):
        for subject, (start, end) in sorted(candidates):
            stats = in_trail.filter(
                **{lookup: subject}, occurred_at__gte=start, occurred_at__lt=end
            ).aggregate(**_burst_stats())
            if stats["count"] <= limit:
                continue
            by_source = rule == Rule.SIGN_IN_FAILURES_SOURCE
            sightings.append(
                AlertSighting(
                    rule=rule,
                    severity=SEVERITY[rule],
                    person="" if by_source else subject,
                    project_id=None,
                    window_start=start,
                    window_end=end,
                    first_seen=stats["first"],
                    last_seen=stats["last"],
                    count=stats["count"],
                    first_sequence=stats["first_seq"],
                    last_sequence=stats["last_seq"],
                    details={"threshold": limit, **({"source_address": subject} if by_source else {})},
                    exact=True,
                    other_subject=subject if by_source else "",
                )
            )
    return sightings


def evaluate(rows: list[Row]) -> list[AlertSighting]:
    """Every sighting in these events (consecutive in sequence order)."""
    if not rows:
        return []
    up_to = rows[-1].sequence
    usage = [row for row in rows if row.action.startswith(HANSKEN_ACTION_PREFIX)]
    no_grant = [row for row in usage if row.basis in NO_GRANT_BASES]
    experiment = [row for row in no_grant if row.environment == EXPERIMENT and row.basis == Basis.NO_GRANT]
    elsewhere = [
        row for row in no_grant if not (row.environment == EXPERIMENT and row.basis == Basis.NO_GRANT)
    ]
    per_person_case = lambda r: (r.actor, r.project_id)  # noqa: E731
    sightings = _group(Rule.NO_GRANT_USAGE, elsewhere, per_person_case, day_window)
    sightings += _group(Rule.EXPERIMENT_WITHOUT_GRANT, experiment, per_person_case, day_window)
    sightings += _screening_lapsed(usage)
    sightings += _threshold(
        Rule.DENIED_BURST,
        rows,
        [authz_actions.DECISION_DENIED],
        settings.HG_MONITOR_DENIED_PER_HOUR,
        hour_window,
        up_to,
    )
    sightings += _threshold(
        Rule.EXPORT_BURST,
        rows,
        [privilege_actions.EXPORT_ALLOWED],
        settings.HG_MONITOR_EXPORTS_PER_DAY,
        day_window,
        up_to,
        ONE_PER_EXPORT_CHECK,
    )
    sightings += _threshold(
        Rule.BLOCKED_EXPORTS,
        rows,
        [privilege_actions.EXPORT_REFUSED],
        settings.HG_MONITOR_BLOCKED_EXPORTS_PER_DAY,
        day_window,
        up_to,
        ONE_PER_EXPORT_CHECK,
    )
    sightings += _privileges_changed(rows)
    sightings += _sign_in_failures(rows, up_to)
    broken = [row for row in rows if row.action == audit_actions.AUDIT_VERIFICATION_FAILED]
    sightings += _group(Rule.CHAIN_VERIFICATION_FAILED, broken, lambda r: ("", None), day_window)
    return sightings


def _cursor_for_update() -> MonitorCursor:
    MonitorCursor.objects.get_or_create(pk=1)
    return MonitorCursor.objects.select_for_update().get(pk=1)


def sweep(*, now: datetime.datetime | None = None, chunk: int = CHUNK) -> SweepResult:
    """Evaluate every rule over the events after the monitoring cursor, then the SIEM backlog."""
    now = now or timezone.now()
    seen = raised = updated = 0
    while True:
        with transaction.atomic():
            cursor = _cursor_for_update()
            rows = [
                Row(*values)
                for values in AuditEvent.objects.filter(sequence__gt=cursor.last_sequence)
                .order_by("sequence")
                .values_list(*_FIELDS)[:chunk]
            ]
            for sighting in evaluate(rows):
                _, new = alert_record(sighting=sighting)
                raised += new
                updated += not new
            if rows:
                cursor.last_sequence = rows[-1].sequence
            cursor.last_run_at = now
            cursor.save(update_fields=["last_sequence", "last_run_at"])
        seen += len(rows)
        if len(rows) < chunk:
            break
    backlog_alert = _check_backlog(now)
    if backlog_alert is not None:
        raised += backlog_alert
        updated += not backlog_alert
    return SweepResult(events_seen=seen, alerts_raised=raised, alerts_updated=updated)


def _check_backlog(now: datetime.datetime) -> bool | None:
    """None when the backlog is fine (or forwarding is off); else whether the alert was new."""
    if not settings.SIEM_HOST:
        return None
    pending = backlog(now)
    if not pending.too_old or pending.oldest_recorded_at is None:
        return None
    start, end = day_window(now)
    _, new = alert_record(
        sighting=AlertSighting(
            rule=Rule.SIEM_BACKLOG,
            severity=SEVERITY[Rule.SIEM_BACKLOG],
            person="",
            project_id=None,
            window_start=start,
            window_end=end,
            first_seen=now,
            last_seen=now,
            count=1,
            first_sequence=pending.delivered_up_to + 1,
            last_sequence=None,
            details={
                "backlog": pending.count,
                "oldest_age_minutes": round((pending.age_seconds or 0) / 60, 1),
                "threshold_minutes": settings.SIEM_BACKLOG_MAX_AGE_MINUTES,
            },
        )
    )
    return new
