"""The retention pages, through Django's test client: who reaches which page, the forms without
JavaScript (each write through the same service as the API, audited), and bad input shown on the
form with nothing stored."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from cases.models import Dataset, DatasetStatus
from retention.models import NoticeStatus, RemovalStatus, RemovalTask, RetentionNotice, RetentionPolicy
from retention.sweep import retention_sweep
from tests.personas import PEOPLE, Cast


def browser(cast: Cast, username: str) -> Client:
    client = Client()
    client.force_login(cast[username])
    return client


def idle_notice(cast: Cast) -> RetentionNotice:
    Dataset.objects.filter(pk=cast.dataset.pk).update(
        imported_at=timezone.now() - datetime.timedelta(days=200)
    )
    retention_sweep()
    return RetentionNotice.objects.get()


# fmt: off
PAGES = {  # page: the people who may open it (everyone else: 403; the notices list is everyone's own)
    "/retention/": {"privacy_officer"},
    "/retention/policies/": {"privacy_officer"},
    "/retention/removals/": {"operator"},
    "/retention/notices/": set(PEOPLE),
}
# fmt: on


@pytest.mark.parametrize("username", list(PEOPLE))
@pytest.mark.parametrize("path", list(PAGES))
def test_each_page_opens_for_its_roles_only(cast: Cast, path: str, username: str):
    response = browser(cast, username).get(path)
    assert response.status_code == (200 if username in PAGES[path] else 403)


def test_signed_out_people_are_sent_to_sign_in(cast: Cast):
    response = Client().get("/retention/notices/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_navigation_shows_each_role_its_retention_page(cast: Cast):
    assert 'href="/retention/notices/"' in browser(cast, "case_lead").get("/").content.decode()
    assert 'href="/retention/removals/"' in browser(cast, "operator").get("/").content.decode()
    officer = browser(cast, "privacy_officer").get("/").content.decode()
    assert 'href="/retention/"' in officer and 'href="/retention/removals/"' not in officer
    assert "/retention/" not in browser(cast, "investigator").get("/").content.decode()


def test_the_dashboard_shows_idle_data_open_notices_and_decisions(cast: Cast):
    notice = idle_notice(cast)
    page = browser(cast, "privacy_officer").get("/retention/").content.decode()
    assert 'id="figure-idle">1<' in page and 'id="figure-open">1<' in page
    assert "Laptop image" in page and "NFI-2026-0001" in page
    RetentionNotice.objects.filter(pk=notice.pk).update(
        escalate_at=timezone.now() - datetime.timedelta(days=1)
    )
    assert 'id="figure-overdue">1<' in browser(cast, "privacy_officer").get("/retention/").content.decode()


def test_the_case_lead_keeps_the_data_through_the_form(cast: Cast):
    notice = idle_notice(cast)
    client = browser(cast, "case_lead")
    listing = client.get("/retention/notices/").content.decode()
    assert f'href="/retention/notices/{notice.pk}/"' in listing
    until = (timezone.localdate() + datetime.timedelta(days=30)).isoformat()
    response = client.post(
        f"/retention/notices/{notice.pk}/",
        {"decision": "keep", "keep-reason": "Appeal pending", "keep-keep_until": until},
    )
    assert response.status_code == 302 and response["Location"] == "/retention/notices/"
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.KEPT
    assert notice.keep_until is not None and notice.keep_until.isoformat() == until
    event = AuditEvent.objects.get(action="retention_notice.kept")
    assert event.actor == "case_lead" and event.channel == "browser"


def test_a_keep_without_a_date_is_shown_on_the_form_and_stores_nothing(cast: Cast):
    notice = idle_notice(cast)
    client = browser(cast, "case_lead")  # (signing in is itself audited: counted from here)
    before = AuditEvent.objects.count()
    response = client.post(
        f"/retention/notices/{notice.pk}/",
        {"decision": "keep", "keep-reason": "Appeal", "keep-keep_until": ""},
    )
    assert response.status_code == 400
    assert 'id="id_keep-keep_until-error"' in response.content.decode()
    past = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    response = client.post(
        f"/retention/notices/{notice.pk}/",
        {"decision": "keep", "keep-reason": "Appeal", "keep-keep_until": past},
    )
    assert response.status_code == 400
    assert "must lie ahead" in response.content.decode()
    assert RetentionNotice.objects.get(pk=notice.pk).status == NoticeStatus.OPEN
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "The date until which the data is kept must lie ahead."),
        ("nl", "De datum tot wanneer de gegevens bewaard blijven moet in de toekomst liggen."),
    ],
)
def test_a_refusal_of_the_service_is_shown_in_the_readers_language(cast: Cast, language: str, words: str):
    notice = idle_notice(cast)
    past = (timezone.localdate() - datetime.timedelta(days=1)).strftime("%d-%m-%Y")
    response = browser(cast, "case_lead").post(
        f"/retention/notices/{notice.pk}/",
        {"decision": "keep", "keep-reason": "Appeal", "keep-keep_until": past},
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 400
    assert words in response.content.decode()
    assert RetentionNotice.objects.get(pk=notice.pk).status == NoticeStatus.OPEN


def test_others_cannot_answer_a_notice_of_the_case(cast: Cast):
    notice = idle_notice(cast)
    assert browser(cast, "other_case_lead").get(f"/retention/notices/{notice.pk}/").status_code == 404
    assert browser(cast, "privacy_officer").get(f"/retention/notices/{notice.pk}/").status_code == 403
    response = browser(cast, "investigator").post(
        f"/retention/notices/{notice.pk}/", {"decision": "delete", "delete-reason": "x"}
    )
    assert response.status_code == 404
    assert RetentionNotice.objects.get(pk=notice.pk).status == NoticeStatus.OPEN


def test_delete_and_the_operator_confirms_through_the_forms(cast: Cast):
    notice = idle_notice(cast)
    response = browser(cast, "deputy").post(
        f"/retention/notices/{notice.pk}/", {"decision": "delete", "delete-reason": "Case settled"}
    )
    assert response.status_code == 302
    task = RemovalTask.objects.get(notice=notice)
    operator = browser(cast, "operator")
    assert "Remove Laptop image from Production" in operator.get("/retention/removals/").content.decode()

    future = (timezone.localtime() + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    refused = operator.post(
        "/retention/removals/",
        {"task": task.pk, f"task-{task.pk}-removed_at": future, f"task-{task.pk}-reference": ""},
    )
    assert refused.status_code == 400 and "lies in the future" in refused.content.decode()
    assert RemovalTask.objects.get(pk=task.pk).status == RemovalStatus.OPEN

    removed_at = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    response = operator.post(
        "/retention/removals/",
        {"task": task.pk, f"task-{task.pk}-removed_at": removed_at, f"task-{task.pk}-reference": "CHG-9"},
    )
    assert response.status_code == 302
    assert Dataset.objects.get(pk=cast.dataset.pk).status == DatasetStatus.DELETED
    assert (
        AuditEvent.objects.filter(action="dataset.deleted", actor="operator", channel="browser").count() == 1
    )


def test_the_privacy_officer_sets_policies_audited(cast: Cast):
    client = browser(cast, "privacy_officer")
    response = client.post(
        "/retention/policies/",
        {
            "action": "experiment",
            "experiment-inactivity_days": "90",
            "experiment-reminder_days": "7",
            "experiment-escalation_days": "21",
            "experiment-closure_limit_days": "180",
        },
    )
    assert response.status_code == 302
    policy = RetentionPolicy.objects.get(environment="experiment")
    assert (policy.inactivity_days, policy.closure_limit_days) == (90, 180)
    event = AuditEvent.objects.get(action="retention_policy.set")
    assert event.actor == "privacy_officer"
    assert event.details["before"] is None and event.details["after"]["inactivity_days"] == 90

    response = client.post(
        "/retention/policies/",
        {
            "action": "override",
            "override-case": "NFI-2026-0002",
            "override-inactivity_days": "30",
            "override-reminder_days": "7",
            "override-escalation_days": "14",
            "override-closure_limit_days": "60",
        },
    )
    assert response.status_code == 302
    assert RetentionPolicy.objects.get(case=cast.other_case).inactivity_days == 30
    assert "NFI-2026-0002" in client.get("/retention/").content.decode()

    bad = client.post(
        "/retention/policies/",
        {
            "action": "production",
            "production-inactivity_days": "0",
            "production-reminder_days": "7",
            "production-escalation_days": "14",
            "production-closure_limit_days": "60",
        },
    )
    assert bad.status_code == 400
    assert not RetentionPolicy.objects.filter(environment="production").exists()

    response = client.post("/retention/policies/", {"action": "remove-override", "case": "NFI-2026-0002"})
    assert response.status_code == 302
    assert not RetentionPolicy.objects.filter(case=cast.other_case).exists()
    assert AuditEvent.objects.filter(action="retention_policy.override_removed").count() == 1
