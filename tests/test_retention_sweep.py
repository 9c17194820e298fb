"""The daily retention sweep: notices once, reminders and escalation by time (the clock is moved by
passing ``now``), "accessed again", closure limits, keep decisions, policies, grant and screening
warnings, and a query count that does not grow with the number of datasets."""

from __future__ import annotations

import datetime
import uuid
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.actor import Actor
from audit.models import AuditEvent
from cases.models import Case, CaseStatus, Dataset
from cases.services import dataset_register
from hansken_governance.celery import app as celery_app
from hansken_governance.schedules import BEAT_SCHEDULE
from notifications.messages import render
from notifications.models import Notification
from people.services import person_set_screening
from retention.models import NoticeReason, NoticeStatus, RetentionNotice
from retention.services import notice_decide, policy_set
from retention.sweep import retention_sweep
from tests.authz_helpers import grant
from tests.personas import IMAGE_ID, Cast

BY = Actor.command("tests")
NOW = timezone.now()


def days(n: float) -> datetime.datetime:
    return NOW + datetime.timedelta(days=n)


def add_dataset(
    case: Case, *, idle_days: float, environments: list[str] | None = None, note: str = ""
) -> Dataset:
    dataset = dataset_register(
        case=case,
        image_id=uuid.uuid4(),
        description=note or "Phone image",
        delivered_by="Police unit North",
        imported_at=days(-idle_days),
        environments=environments or ["production"],
        by=BY,
    )
    return dataset


def make_idle(dataset: Dataset, idle_days: float) -> None:
    Dataset.objects.filter(pk=dataset.pk).update(imported_at=days(-idle_days), last_accessed_at=None)


def kinds() -> list[tuple[str, str]]:
    return sorted(Notification.objects.values_list("recipient__username", "kind"))


def test_it_opens_one_notice_per_idle_dataset_once_and_notifies_lead_and_privacy_officer(cast: Cast):
    make_idle(cast.dataset, 200)
    add_dataset(cast.other_case, idle_days=20, note="Recent image")  # used recently: no notice

    first = retention_sweep(now=NOW)

    assert first.opened == 1
    notice = RetentionNotice.objects.get()
    assert notice.dataset == cast.dataset and notice.case == cast.case
    assert notice.reason == NoticeReason.INACTIVE and notice.status == NoticeStatus.OPEN
    assert notice.created_at == NOW
    assert kinds() == [
        ("case_lead", "retention_notices_opened"),
        ("privacy_officer", "retention_notices_opened_officer"),
    ]
    lead_note = Notification.objects.get(recipient__username="case_lead")
    subject, body = render(lead_note.kind, lead_note.params)
    assert subject == "1 dataset of your cases has not been used for a long time"
    assert "NFI-2026-0001" in body
    assert lead_note.link == "/retention/notices/"
    event = AuditEvent.objects.get(action="retention_notice.opened")
    assert event.image_id == IMAGE_ID and event.project_id == cast.case.project_id
    assert event.actor == "system:retention_sweep"
    assert event.object_id == str(notice.pk)

    # Twice, and the next day: nothing new, nothing sent again.
    second = retention_sweep(now=NOW)
    third = retention_sweep(now=days(1))
    assert (second.opened, second.notifications, third.opened, third.notifications) == (0, 0, 0, 0)
    assert RetentionNotice.objects.count() == 1
    assert Notification.objects.count() == 2
    assert AuditEvent.objects.filter(action="retention_notice.opened").count() == 1
    assert AuditEvent.objects.filter(action="retention.sweep_run").count() == 3


def test_a_dataset_just_short_of_its_threshold_gets_no_notice(cast: Cast):
    make_idle(cast.dataset, 179.9)
    assert retention_sweep(now=NOW).opened == 0
    assert retention_sweep(now=days(0.2)).opened == 1


def test_reminders_follow_the_interval_and_escalation_goes_to_the_privacy_officer(cast: Cast):
    make_idle(cast.dataset, 200)
    retention_sweep(now=NOW)
    Notification.objects.all().delete()

    assert retention_sweep(now=days(13.9)).reminded == 0
    at_14 = retention_sweep(now=days(14))
    assert (at_14.reminded, at_14.escalated) == (1, 0)
    assert kinds() == [("case_lead", "retention_reminder")]
    assert retention_sweep(now=days(14)).reminded == 0  # twice at the same moment: once
    assert retention_sweep(now=days(20)).reminded == 0
    at_28 = retention_sweep(now=days(28))
    assert at_28.reminded == 1
    assert RetentionNotice.objects.get().reminders_sent == 2

    at_30 = retention_sweep(now=days(30))
    assert (at_30.escalated, at_30.reminded) == (1, 0)
    assert ("privacy_officer", "retention_escalated") in kinds()
    assert RetentionNotice.objects.get().escalated_at == days(30)
    event = AuditEvent.objects.get(action="retention_notice.escalated")
    assert event.image_id == IMAGE_ID
    assert retention_sweep(now=days(31)).escalated == 0
    assert Notification.objects.filter(kind="retention_escalated").count() == 1


def test_use_after_the_notice_closes_it_as_accessed_again(cast: Cast):
    make_idle(cast.dataset, 200)
    retention_sweep(now=days(-1))  # the notice was raised yesterday
    # Hansken reports use of the image today, through the usage-event ingest.
    response = cast.api("hansken_production").post(
        "/api/v1/audit/events",
        {
            "events": [
                {
                    "event_id": str(uuid.uuid4()),
                    "occurred_at": NOW.isoformat(),
                    "user": "case_lead",
                    "project_id": str(cast.case.project_id),
                    "image_id": str(IMAGE_ID),
                    "action": "search",
                    "outcome": "success",
                }
            ]
        },
        format="json",
    )
    assert response.status_code == 201, response.content

    result = retention_sweep(now=NOW)

    assert result.accessed_again == 1 and result.opened == 0
    notice = RetentionNotice.objects.get()
    assert notice.status == NoticeStatus.ACCESSED_AGAIN and notice.closed_at == NOW
    assert AuditEvent.objects.filter(action="retention_notice.accessed_again", image_id=IMAGE_ID).count() == 1
    assert retention_sweep(now=NOW).accessed_again == 0
    # No reminder or escalation for a closed notice.
    later = retention_sweep(now=days(40))
    assert (later.reminded, later.escalated, later.opened) == (0, 0, 0)


def test_data_kept_past_the_closure_limit_gets_a_notice_which_use_does_not_close(cast: Cast):
    Case.objects.filter(pk=cast.case.pk).update(status=CaseStatus.CLOSED, closed_at=days(-366))
    Dataset.objects.filter(pk=cast.dataset.pk).update(last_accessed_at=days(-1))  # used lately

    assert retention_sweep(now=NOW).opened == 1
    notice = RetentionNotice.objects.get()
    assert notice.reason == NoticeReason.CLOSURE_LIMIT
    Dataset.objects.filter(pk=cast.dataset.pk).update(last_accessed_at=days(0.5))
    assert retention_sweep(now=days(1)).accessed_again == 0
    assert RetentionNotice.objects.get().status == NoticeStatus.OPEN


def test_a_closed_case_within_its_limit_is_left_alone(cast: Cast):
    Case.objects.filter(pk=cast.case.pk).update(status=CaseStatus.CLOSED, closed_at=days(-100))
    assert retention_sweep(now=NOW).opened == 0


def test_a_keep_decision_holds_until_its_date_and_then_the_data_is_asked_about_again(cast: Cast):
    make_idle(cast.dataset, 200)
    retention_sweep(now=NOW)
    notice = RetentionNotice.objects.get()
    notice_decide(
        notice=notice,
        decision="keep",
        reason="Appeal pending",
        keep_until=(NOW + datetime.timedelta(days=60)).date(),
        decided_by=cast["case_lead"],
        by=Actor(username="case_lead"),
        now=NOW,
    )
    assert retention_sweep(now=days(30)).opened == 0
    assert retention_sweep(now=days(59)).opened == 0
    assert retention_sweep(now=days(62)).opened == 1
    assert RetentionNotice.objects.filter(status=NoticeStatus.OPEN).count() == 1


def test_policies_per_environment_and_per_case(cast: Cast):
    policy_set(
        environment="production",
        inactivity_days=30,
        reminder_days=7,
        escalation_days=10,
        closure_limit_days=90,
        by=BY,
    )
    policy_set(
        case=cast.other_case,
        inactivity_days=100,
        reminder_days=7,
        escalation_days=10,
        closure_limit_days=90,
        by=BY,
    )
    make_idle(cast.dataset, 40)  # production: 30 days → notice
    in_other = add_dataset(cast.other_case, idle_days=40)  # the case's own 100 days → none
    in_test = add_dataset(cast.case, idle_days=40, environments=["test"])  # test: default 180 → none
    # Held in production and test: the strictest (production's 30 days) applies.
    in_both = add_dataset(cast.case, idle_days=40, environments=["production", "test"])

    retention_sweep(now=NOW)

    noticed = set(RetentionNotice.objects.values_list("dataset_id", flat=True))
    assert noticed == {cast.dataset.pk, in_both.pk}
    assert in_other.pk not in noticed and in_test.pk not in noticed
    notice = RetentionNotice.objects.get(dataset=cast.dataset)
    assert notice.reminder_interval == datetime.timedelta(days=7)
    assert notice.next_reminder_at == days(7)
    assert notice.escalate_at == days(10)
    assert retention_sweep(now=days(7)).reminded == 2
    assert retention_sweep(now=days(61)).opened == 1  # the other case's dataset passes 100 days


def test_it_warns_of_grants_ending_soon_and_screenings_lapsing_once(cast: Cast):
    grant(cast, days=10)
    person_set_screening(
        person=cast["investigator"],
        valid_until=timezone.localdate() + datetime.timedelta(days=20),
        reference="S-1",
        by=BY,
    )

    result = retention_sweep()

    assert result.grants_notified == 2
    assert result.screenings_notified == 2
    assert ("investigator", "screening_lapsing") in kinds()
    assert ("administrator", "screening_lapsing_admin") in kinds()
    admin_note = Notification.objects.get(kind="screening_lapsing_admin")
    assert "investigator" in render(admin_note.kind, admin_note.params)[0]
    again = retention_sweep()
    assert (again.grants_notified, again.screenings_notified) == (0, 0)


def test_the_command_runs_the_sweep_and_names_who_started_it(cast: Cast):
    make_idle(cast.dataset, 200)
    out = StringIO()
    call_command("retention_sweep", stdout=out)
    assert "opened: 1" in out.getvalue()
    event = AuditEvent.objects.get(action="retention_notice.opened")
    assert event.actor == "command:retention_sweep"
    call_command("retention_sweep", stdout=out)
    assert RetentionNotice.objects.count() == 1


def test_it_is_scheduled_daily_as_a_registered_task():
    celery_app.loader.import_default_modules()  # what a worker does at start: find every app's tasks
    entry = BEAT_SCHEDULE["retention-sweep"]
    assert entry["task"] == "retention.tasks.sweep"
    assert entry["task"] in celery_app.tasks
    assert BEAT_SCHEDULE["audit-retention-purge"]["task"] in celery_app.tasks


def _sweep_queries(count: int) -> int:
    case = Case.objects.get(case_number="NFI-2026-0002")
    for _ in range(count):
        add_dataset(case, idle_days=300)
    with CaptureQueriesContext(connection) as queries:
        result = retention_sweep(now=NOW)
    assert result.opened == count
    RetentionNotice.objects.all().delete()
    Notification.objects.all().delete()
    return len(queries.captured_queries)


@pytest.mark.parametrize("step", ["open"])
def test_the_number_of_queries_does_not_grow_with_the_datasets(cast: Cast, step: str):
    few = _sweep_queries(3)
    Dataset.objects.filter(case__case_number="NFI-2026-0002").update(status="deleted")
    many = _sweep_queries(40)
    assert few == many, (few, many)


def test_only_a_manager_of_the_case_decides_even_when_the_service_is_called_directly(cast: Cast):
    from django.core.exceptions import PermissionDenied

    from audit.models import AuditEvent

    make_idle(cast.dataset, 200)
    retention_sweep(now=NOW)
    notice = RetentionNotice.objects.get()
    events = AuditEvent.objects.count()
    for outsider in ("investigator", "other_case_lead", "privacy_officer"):
        with pytest.raises(PermissionDenied):
            notice_decide(
                notice=notice,
                decision="delete",
                reason="Not mine to decide",
                keep_until=None,
                decided_by=cast[outsider],
                by=Actor(username=outsider),
                now=NOW,
            )
    notice.refresh_from_db()
    assert notice.status == "open" and notice.decided_by is None
    assert AuditEvent.objects.count() == events
    # The deputy may.
    notice_decide(
        notice=notice,
        decision="keep",
        reason="Appeal pending",
        keep_until=(NOW + datetime.timedelta(days=30)).date(),
        decided_by=cast["deputy"],
        by=Actor(username="deputy"),
        now=NOW,
    )
    notice.refresh_from_db()
    assert notice.status == "kept"
