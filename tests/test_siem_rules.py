"""Monitoring rules: each rule raises one alert per subject and window, idempotently; alerts are
audited, notified (and mailed where configured) to privacy officers and security managers, shown on
/monitoring/ to them only, and acknowledged with a note, which is audited too."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.core import mail
from django.utils import timezone, translation

from audit.actor import Actor
from audit.models import AuditEvent, Outcome
from audit.services import audit_record, audit_record_many, verification_failed
from audit.verify import VerificationResult
from authz.services import grant_create
from cases.models import Case
from notifications.messages import render
from notifications.models import Notification
from people.services import person_set_screening
from siem.models import Alert, AlertStatus
from siem.rules import MAX_CASES_NAMED, sweep
from tests.personas import CASE_PROJECT_ID, IMAGE_ID, OTHER_PROJECT_ID, PASSWORD
from tests.siem_helpers import denials_sighting

CASE = str(CASE_PROJECT_ID)


def _usage(cast, client: str, user: str, *, action: str = "read", count: int = 1, occurred_at=None) -> None:
    moment = (occurred_at or timezone.now()).astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
    response = cast.api(client).post(
        "/api/v1/audit/events",
        {
            "events": [
                {
                    "event_id": str(uuid.uuid4()),
                    "occurred_at": moment,
                    "user": user,
                    "project_id": CASE,
                    "action": action,
                    "outcome": "success",
                }
                for _ in range(count)
            ]
        },
        format="json",
    )
    assert response.status_code == 201, response.content


def _alerts(rule: str) -> list[Alert]:
    return list(Alert.objects.filter(rule=rule).order_by("pk"))


def test_usage_without_a_grant_raises_one_alert_per_person_case_and_day(cast, settings):
    _usage(cast, "hansken_production", "investigator", count=2)
    _usage(cast, "hansken_production", "case_lead")  # the case lead needs no grant
    result = sweep()
    [alert] = _alerts("no_grant_usage")
    assert (alert.subject_person, alert.subject_project_id, alert.count) == (
        "investigator",
        CASE_PROJECT_ID,
        2,
    )
    assert alert.severity == "high" and alert.status == AlertStatus.OPEN
    assert result.alerts_raised == 1
    # Idempotent: a repeated sweep neither counts again nor raises again.
    sweep()
    alert.refresh_from_db()
    assert alert.count == 2
    # More of the same in the same window: the same alert, counted on.
    _usage(cast, "hansken_production", "investigator")
    sweep()
    alert.refresh_from_db()
    assert alert.count == 3
    assert Alert.objects.count() == 1
    raised = AuditEvent.objects.filter(action="monitoring.alert_raised")
    assert raised.count() == 1
    assert raised.get().details["rule"] == "no_grant_usage"


def test_usage_covered_by_a_grant_raises_nothing(cast):
    now = timezone.now()
    grant_create(
        case=cast.case,
        grantee=cast["investigator"],
        rights=["read"],
        valid_from=now - datetime.timedelta(minutes=5),
        valid_until=now + datetime.timedelta(days=30),
        reason="analysis",
        granted_by=cast["case_lead"],
        by=Actor(username="case_lead"),
    )
    _usage(cast, "hansken_production", "investigator", count=3)
    assert sweep().alerts_raised == 0
    assert Alert.objects.count() == 0


def test_experiment_use_without_an_experiment_grant_is_its_own_rule(cast):
    now = timezone.now()
    grant_create(
        case=cast.case,
        grantee=cast["investigator"],
        rights=["read"],
        environments=["production"],
        valid_from=now - datetime.timedelta(minutes=5),
        valid_until=now + datetime.timedelta(days=30),
        reason="analysis",
        granted_by=cast["case_lead"],
        by=Actor(username="case_lead"),
    )
    _usage(cast, "hansken_production", "investigator")  # covered in production
    _usage(cast, "hansken_experiment", "investigator", count=2)  # not in the experiment environment
    _usage(cast, "hansken_experiment", "case_lead")
    sweep()
    [alert] = _alerts("experiment_without_grant")
    assert (alert.subject_person, alert.subject_project_id, alert.count) == (
        "investigator",
        CASE_PROJECT_ID,
        2,
    )
    assert _alerts("no_grant_usage") == []


def _denials(person: str, count: int, project_id: uuid.UUID = CASE_PROJECT_ID) -> None:
    audit_record_many(
        [
            {
                "action": "authz.denied",
                "actor": Actor(username=person, client_name="hansken_production", channel="api"),
                "outcome": Outcome.DENIED,
                "project_id": project_id,
                "details": {"requested_action": "read", "reason": "no_grant"},
            }
            for _ in range(count)
        ]
    )


def test_denied_decisions_above_the_hourly_threshold_raise_an_alert_counted_across_sweeps(db, settings):
    settings.HG_MONITOR_DENIED_PER_HOUR = 3
    _denials("engineer", 2)
    _denials("investigator", 3)  # at the threshold, not above it
    sweep()
    assert _alerts("denied_burst") == []
    _denials("engineer", 2)
    sweep()
    [alert] = _alerts("denied_burst")
    assert (alert.subject_person, alert.count, alert.severity) == ("engineer", 4, "medium")
    assert alert.window_end - alert.window_start == datetime.timedelta(hours=1)
    assert alert.details["threshold"] == 3
    _denials("engineer", 1)
    sweep()
    alert.refresh_from_db()
    assert alert.count == 5
    assert Alert.objects.count() == 1


def test_a_denied_burst_names_the_cases_it_spans_on_the_page_and_in_the_notification(cast, client, settings):
    """The rule counts one person's denials across cases, so the alert has no single case: it must
    name the cases it touched (by case number on the page) rather than show "Case: -"."""
    settings.HG_MONITOR_DENIED_PER_HOUR = 2
    _denials("engineer", 3)
    sweep()
    [alert] = _alerts("denied_burst")
    assert (alert.details["cases"], alert.details["case_count"]) == ([CASE], 1)
    [notice] = Notification.objects.filter(kind="monitoring_alert", recipient=cast["privacy_officer"])
    number = Case.objects.get(project_id=CASE).case_number
    assert f"Case: {number} ({CASE})." in render(notice.kind, notice.params)[1]
    _denials("engineer", 1, project_id=OTHER_PROJECT_ID)
    sweep()
    alert.refresh_from_db()
    assert (alert.details["cases"], alert.details["case_count"]) == (sorted([CASE, str(OTHER_PROJECT_ID)]), 2)
    page = _signed_in(client, cast, "privacy_officer").get("/monitoring/").content.decode()
    case_cell = page.split(f'id="alert-{alert.pk}"')[1].split('class="alert-cases">')[1].split("</td>")[0]
    numbers = dict(Case.objects.values_list("project_id", "case_number"))
    assert case_cell == (
        f"2 cases: {numbers[uuid.UUID(alert.details['cases'][0])]} ({alert.details['cases'][0]}), "
        f"{numbers[uuid.UUID(alert.details['cases'][1])]} ({alert.details['cases'][1]})"
    )


def test_a_burst_over_many_cases_names_the_first_and_says_how_many(cast, settings):
    settings.HG_MONITOR_DENIED_PER_HOUR = 2
    many = sorted(str(uuid.uuid4()) for _ in range(MAX_CASES_NAMED + 2))
    for project_id in many:
        _denials("engineer", 1, project_id=uuid.UUID(project_id))
    sweep()
    [alert] = _alerts("denied_burst")
    assert (alert.details["cases"], alert.details["case_count"]) == (many[:MAX_CASES_NAMED], len(many))
    [notice] = Notification.objects.filter(kind="monitoring_alert")[:1]
    named = ", ".join(many[:MAX_CASES_NAMED])
    assert f"Case: {len(many)} cases, among them {named}." in render(notice.kind, notice.params)[1]


def test_the_notification_names_the_severity_in_the_readers_language(cast, settings):
    settings.HG_MONITOR_DENIED_PER_HOUR = 2
    _denials("engineer", 3)
    sweep()
    [notice] = Notification.objects.filter(kind="monitoring_alert")[:1]
    with translation.override("en"):
        assert render(notice.kind, notice.params)[1].startswith("Monitoring alert (Medium): ")
    with translation.override("nl"):
        assert render(notice.kind, notice.params)[1].startswith("Monitoringsmelding (Middel): ")
    # One sighting is "1 time", not "1 times".
    with translation.override("en"):
        assert "Seen 1 time since" in render(notice.kind, {**notice.params, "count": 1})[1]
        assert "Seen 3 times since" in render(notice.kind, {**notice.params, "count": 3})[1]


def _export_check(cast, user: str, trace_ids: list[str], count: int = 1) -> None:
    for _ in range(count):
        response = cast.api("hansken_production").post(
            "/api/v1/authz/export-check",
            {"user": user, "project_id": CASE, "trace_uids": [f"{IMAGE_ID}:{t}" for t in trace_ids]},
            format="json",
        )
        assert response.status_code == 200, response.content


def test_exports_above_the_daily_threshold_raise_an_alert(cast, settings):
    """The rule counts the export checks Hansken makes before every export (allowed ones)."""
    settings.HG_MONITOR_EXPORTS_PER_DAY = 2
    _export_check(cast, "case_lead", ["0-1"], count=2)
    sweep()
    assert _alerts("export_burst") == []
    _export_check(cast, "case_lead", ["0-2"])
    _usage(cast, "hansken_production", "case_lead", action="read", count=5)  # not exports
    _export_check(cast, "investigator", ["0-2"], count=3)  # refused (no grant): not exports
    sweep()
    [alert] = _alerts("export_burst")
    assert (alert.subject_person, alert.count) == ("case_lead", 3)


def test_repeated_refused_exports_raise_an_alert(cast, settings):
    settings.HG_MONITOR_BLOCKED_EXPORTS_PER_DAY = 2
    marks = {
        "marks": [
            {"trace_uid": f"{IMAGE_ID}:0-3-1", "status": "confirmed", "marked_at": "2026-11-01T10:00:00Z"}
        ]
    }
    assert (
        cast.api("hansken_production")
        .post(f"/api/v1/cases/{CASE}/privileged", marks, format="json")
        .status_code
        == 201
    )
    _export_check(cast, "case_lead", ["0-3"], count=2)  # a mailbox holding a privileged e-mail
    _export_check(cast, "case_lead", ["0-4"], count=4)  # allowed: not counted here
    sweep()
    assert _alerts("blocked_exports") == []
    _export_check(cast, "case_lead", ["0-3-1"])
    sweep()
    [alert] = _alerts("blocked_exports")
    assert (alert.subject_person, alert.count, alert.severity) == ("case_lead", 3, "high")


def test_an_export_check_of_many_traces_counts_once_though_the_trail_holds_it_in_parts(cast, settings):
    """A check of 2,500 traces is three trail events (1,000 traces each at most); the rules count
    export checks, so two such checks stay under a threshold of two, and a third crosses it."""
    settings.HG_MONITOR_EXPORTS_PER_DAY = 2
    settings.HG_MONITOR_BLOCKED_EXPORTS_PER_DAY = 2
    many = [f"0-5-{n}" for n in range(2_500)]
    _export_check(cast, "case_lead", many, count=2)  # allowed
    _export_check(cast, "investigator", many, count=2)  # refused: no export grant
    parts = AuditEvent.objects.filter(action__startswith="export_check.", actor="case_lead")
    assert sorted(parts.values_list("details__part", flat=True)) == [1, 1, 2, 2, 3, 3]
    sweep()
    assert _alerts("export_burst") == [] and _alerts("blocked_exports") == []
    _export_check(cast, "case_lead", many)
    _export_check(cast, "investigator", many)
    sweep()
    [burst] = _alerts("export_burst")
    [blocked] = _alerts("blocked_exports")
    assert (burst.subject_person, burst.count) == ("case_lead", 3)
    assert (blocked.subject_person, blocked.count) == ("investigator", 3)


def test_use_after_the_screening_lapsed_raises_an_alert_judged_by_the_screening_then(cast):
    days_ago = timezone.now() - datetime.timedelta(days=3)
    person_set_screening(
        person=cast["case_lead"],
        valid_until=timezone.localdate() - datetime.timedelta(days=1),
        reference="lapsed",
        by=Actor.command("tests"),
    )
    # Three days ago the screening was still valid (the change came later): no alert for that use.
    _usage(cast, "hansken_production", "case_lead", occurred_at=days_ago)
    sweep()
    assert _alerts("screening_lapsed") == []
    _usage(cast, "hansken_production", "case_lead")
    sweep()
    [alert] = _alerts("screening_lapsed")
    assert (alert.subject_person, alert.count, alert.severity) == ("case_lead", 1, "high")


def test_a_failed_chain_verification_raises_a_critical_alert(db):
    verification_failed(
        result=VerificationResult(ok=False, checked=10, broken_at=7, reason="hash mismatch"),
        by=Actor.system("verify_chain"),
    )
    sweep()
    [alert] = _alerts("chain_verification_failed")
    assert alert.severity == "critical"
    assert alert.subject_person == "" and alert.subject_project_id is None


def test_an_old_siem_backlog_raises_an_alert(db, settings):
    audit_record(action="case.created", actor=Actor(username="someone"))
    settings.SIEM_HOST = None
    sweep()
    assert _alerts("siem_backlog") == []  # forwarding off: no backlog to watch
    settings.SIEM_HOST = "127.0.0.1"
    sweep()
    assert _alerts("siem_backlog") == []  # younger than SIEM_BACKLOG_MAX_AGE_MINUTES
    settings.SIEM_BACKLOG_MAX_AGE_MINUTES = 0
    sweep()
    sweep()
    [alert] = _alerts("siem_backlog")
    assert alert.count == 2  # one alert per day, seen by both sweeps
    assert alert.details["backlog"] >= 1


def test_a_new_alert_notifies_and_mails_privacy_officers_and_security_managers(
    cast, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_HOST = "mail.example"
    for name in ("privacy_officer", "security_manager", "investigator"):
        cast[name].email = f"{name}@example.org"
        cast[name].save(update_fields=["email"])
    _usage(cast, "hansken_production", "investigator")
    with django_capture_on_commit_callbacks(execute=True):
        sweep()
        sweep()
    notified = Notification.objects.filter(kind="monitoring_alert")
    assert sorted(n.recipient.username for n in notified) == ["privacy_officer", "security_manager"]
    assert sorted(address for message in mail.outbox for address in message.to) == [
        "privacy_officer@example.org",
        "security_manager@example.org",
    ]
    assert "investigator" in mail.outbox[0].body


# The monitoring page and acknowledging


def _signed_in(client, cast, name: str):
    assert client.login(username=name, password=PASSWORD)
    return client


@pytest.mark.parametrize("name", ["privacy_officer", "security_manager"])
def test_reviewers_see_the_alerts_and_the_backlog(cast, client, name):
    _usage(cast, "hansken_production", "investigator")
    sweep()
    response = _signed_in(client, cast, name).get("/monitoring/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Use of case data without a grant" in page
    assert "investigator" in page
    assert 'id="siem-backlog"' in page
    assert 'href="/monitoring/"' in page  # in the navigation


@pytest.mark.parametrize("name", ["investigator", "case_lead", "operator", "administrator"])
def test_others_may_not_see_the_monitoring_page(cast, client, name):
    response = _signed_in(client, cast, name).get("/monitoring/")
    assert response.status_code == 403
    assert 'href="/monitoring/"' not in client.get("/").content.decode()


def test_the_monitoring_page_needs_a_sign_in(db, client):
    response = client.get("/monitoring/")
    assert response.status_code == 302 and "/accounts/" in response["Location"]


def test_the_monitoring_page_speaks_dutch(cast, client):
    _usage(cast, "hansken_production", "investigator")
    sweep()
    _signed_in(client, cast, "privacy_officer")
    response = client.get("/monitoring/", HTTP_ACCEPT_LANGUAGE="nl")
    page = response.content.decode()
    assert "Gebruik van zaakgegevens zonder autorisatie" in page
    assert "Openstaande meldingen" in page


def test_acknowledging_with_a_note_is_stored_and_audited(cast, client):
    _usage(cast, "hansken_production", "investigator")
    sweep()
    alert = Alert.objects.get()
    _signed_in(client, cast, "security_manager")
    response = client.post(
        f"/monitoring/alerts/{alert.pk}/acknowledge", {"note": "Checked with the case lead."}
    )
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED
    assert alert.acknowledged_by == cast["security_manager"]
    assert alert.acknowledgement_note == "Checked with the case lead."
    assert alert.acknowledged_at is not None
    event = AuditEvent.objects.get(action="monitoring.alert_acknowledged")
    assert event.actor == "security_manager"
    assert event.object_id == str(alert.pk)
    assert event.details["note"] == "Checked with the case lead."
    # Twice is refused, and changes nothing.
    client.post(f"/monitoring/alerts/{alert.pk}/acknowledge", {"note": "again"})
    alert.refresh_from_db()
    assert alert.acknowledgement_note == "Checked with the case lead."
    assert AuditEvent.objects.filter(action="monitoring.alert_acknowledged").count() == 1


def test_acknowledging_without_a_note_is_refused(cast, client):
    _usage(cast, "hansken_production", "investigator")
    sweep()
    alert = Alert.objects.get()
    _signed_in(client, cast, "privacy_officer")
    response = client.post(f"/monitoring/alerts/{alert.pk}/acknowledge", {"note": "   "}, follow=True)
    assert "Write a note" in response.content.decode()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN
    assert not AuditEvent.objects.filter(action="monitoring.alert_acknowledged").exists()


def test_only_reviewers_may_acknowledge(cast, client):
    _usage(cast, "hansken_production", "investigator")
    sweep()
    alert = Alert.objects.get()
    _signed_in(client, cast, "investigator")
    response = client.post(f"/monitoring/alerts/{alert.pk}/acknowledge", {"note": "mine"})
    assert response.status_code == 403
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN


def test_the_schedules_run_the_forwarder_and_the_rules_every_minute(db, settings):
    from hansken_governance.schedules import BEAT_SCHEDULE
    from siem import tasks

    by_task = {entry["task"]: entry["schedule"] for entry in BEAT_SCHEDULE.values()}
    for task in (tasks.forward_events, tasks.evaluate_rules):
        assert by_task[task.name].minute == set(range(60))
    settings.SIEM_HOST = None
    verification_failed(result=VerificationResult(ok=False, checked=1, broken_at=1), by=Actor.system("t"))
    assert tasks.forward_events() == 0  # forwarding off
    assert tasks.evaluate_rules() == 1
    assert tasks.evaluate_rules() == 0  # a repeated run raises nothing new


def test_a_graver_sighting_opens_an_acknowledged_alert_without_its_old_acknowledgement(cast):
    """The acknowledgement was of the milder alert: once graver and open again, nobody has
    acknowledged it yet (the old acknowledgement stays in the trail), and it can be acknowledged anew."""
    from siem.services import alert_acknowledge, alert_record

    now = timezone.now()
    reviewer = cast["privacy_officer"]
    by = Actor(username="privacy_officer", channel="test")
    alert, _ = alert_record(sighting=denials_sighting("medium", now=now))
    alert_acknowledge(alert_id=alert.pk, person=reviewer, note="Looked into it: a typo.", by=by)
    alert_record(sighting=denials_sighting("high", now=now))
    alert.refresh_from_db()
    assert (alert.severity, alert.status) == ("high", AlertStatus.OPEN)
    assert (alert.acknowledged_by, alert.acknowledged_at, alert.acknowledgement_note) == (None, None, "")
    acknowledged = AuditEvent.objects.filter(action="monitoring.alert_acknowledged", object_id=str(alert.pk))
    assert [e.details.get("note") for e in acknowledged] == ["Looked into it: a typo."]
    alert_acknowledge(alert_id=alert.pk, person=reviewer, note="The graver one: handled.", by=by)
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED
    assert alert.acknowledgement_note == "The graver one: handled."
