"""Deputies are end-dated and follow the person (issue 11, item 5): a deputyship has an end date of at
most HG_GRANT_MAX_DAYS, ends on deactivation and on sign-off (and stays ended on reactivation),
requires a valid screening when named and at every decision, takes effect on the very next decision,
and "access at a moment" shows it as it was then."""

from __future__ import annotations

import datetime
from typing import Any
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from audit.actor import Actor
from audit.models import AuditEvent
from authz.services import case_sign_off
from cases import services as case_services
from cases.models import DeputyPeriod, DeputyVersion
from cases.selectors import CasePurpose, cases_for_person, is_case_manager
from people.services import person_deactivate, person_reactivate, person_set_screening
from tests.audit_helpers import access_at_rows, iso
from tests.authz_helpers import check
from tests.personas import CASE_PROJECT_ID, Cast

DEPUTIES = f"/api/v1/cases/{CASE_PROJECT_ID}/deputies"
COMMAND = Actor.command("tests")


def lead_actor(cast: Cast) -> Actor:
    return Actor(username="case_lead", user_id=cast["case_lead"].pk, channel="test")


def manages(cast: Cast, username: str) -> bool:
    person = cast[username]
    person.refresh_from_db()
    return cases_for_person(person, CasePurpose.MANAGE_ACCESS).filter(pk=cast.case.pk).exists()


# --- the end date --------------------------------------------------------------------------------


def test_a_deputyship_ends_at_most_after_the_longest_grant(cast: Cast, settings):
    settings.HG_GRANT_MAX_DAYS = 30
    lead = cast.api("case_lead")
    too_long = iso(timezone.now() + datetime.timedelta(days=31))
    response = lead.post(DEPUTIES, {"deputy": "engineer", "valid_until": too_long}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "valid_until"
    past = iso(timezone.now() - datetime.timedelta(minutes=1))
    assert lead.post(DEPUTIES, {"deputy": "engineer", "valid_until": past}, format="json").status_code == 400
    assert not DeputyPeriod.objects.filter(deputy=cast["engineer"]).exists()

    before = timezone.now()
    assert lead.post(DEPUTIES, {"deputy": "engineer"}, format="json").status_code == 201
    period = DeputyPeriod.objects.get(deputy=cast["engineer"])
    # Without an end date, the longest allowed.
    assert (
        before + datetime.timedelta(days=30)
        <= period.valid_until
        <= timezone.now() + datetime.timedelta(days=30)
    )
    event = AuditEvent.objects.filter(action="case.deputy_added").order_by("-sequence").first()
    assert event is not None and event.details["valid_until"] == period.valid_until.isoformat()


def test_a_deputy_acts_as_the_case_lead_until_the_end_and_no_longer(cast: Cast):
    answer = check(cast, user="deputy", action="export")
    assert (answer["allowed"], answer["reason"]) == (True, "case_lead")
    period = DeputyPeriod.objects.get(deputy=cast["deputy"])
    assert answer["valid_until"] == iso(period.valid_until)
    assert manages(cast, "deputy")

    # The end passes (time moved on; the row is changed directly, as the clock would).
    DeputyPeriod.objects.filter(pk=period.pk).update(
        valid_until=timezone.now() - datetime.timedelta(seconds=1)
    )
    from authz.cache import invalidate

    invalidate(people=["deputy"])
    answer = check(cast, user="deputy", action="read")
    assert (answer["allowed"], answer["reason"]) == (False, "no_grant")
    assert not manages(cast, "deputy")
    assert not is_case_manager(cast["deputy"], cast.case)
    subjects = cast.api("hansken_production").get(
        "/api/v1/authz/subjects", {"project_id": str(CASE_PROJECT_ID), "action": "read"}
    )
    assert "deputy" not in subjects.json()["users"]
    projects = cast.api("hansken_production").get(
        "/api/v1/authz/projects", {"user": "deputy", "action": "read"}
    )
    assert projects.json()["project_ids"] == []


def test_the_hourly_sweep_records_the_natural_end_of_a_deputyship_once(cast: Cast):
    from authz.tasks import sweep_grants

    period = DeputyPeriod.objects.get(deputy=cast["deputy"])
    case_services.case_add_deputy(case=cast.case, deputy=cast["engineer"], by=Actor.command("tests"))
    case_services.case_remove_deputy(case=cast.case, deputy=cast["engineer"], by=Actor.command("tests"))
    assert sweep_grants()["deputy_expired_recorded"] == 0  # none has run out; a removal is no expiry
    ended_at = timezone.now() - datetime.timedelta(minutes=5)
    DeputyPeriod.objects.update(valid_until=ended_at)  # the clock passed both ends
    assert sweep_grants()["deputy_expired_recorded"] == 1  # only the one nobody ended earlier
    assert sweep_grants()["deputy_expired_recorded"] == 0
    event = AuditEvent.objects.get(action="case.deputy_expired")
    assert (event.actor, event.project_id, event.occurred_at) == (
        "system:deputy_expiry",
        CASE_PROJECT_ID,
        ended_at,
    )
    assert event.details == {"deputy": "deputy", "valid_until": ended_at.isoformat()}
    assert DeputyPeriod.objects.get(pk=period.pk).expiry_recorded_at is not None


def test_changing_the_end_is_kept_in_the_history(cast: Cast):
    lead = cast.api("case_lead")
    sooner = timezone.now() + datetime.timedelta(days=3)
    response = lead.patch(
        f"{DEPUTIES}/deputy", {"valid_until": iso(sooner), "reason": "project ends"}, format="json"
    )
    assert response.status_code == 200, response.content
    period = DeputyPeriod.objects.get(deputy=cast["deputy"])
    assert period.valid_until == sooner
    assert list(DeputyVersion.objects.filter(period=period).values_list("kind", flat=True)) == [
        "appointed",
        "changed",
    ]
    answer = check(cast, user="deputy", action="read")
    assert answer["valid_until"] == iso(sooner)
    event = AuditEvent.objects.filter(action="case.deputy_changed").get()
    assert event.details["reason"] == "project ends"


# --- the deputyship follows the person ----------------------------------------------------------


def test_deactivation_ends_the_deputyship_and_reactivation_does_not_bring_it_back(cast: Cast):
    person_deactivate(person=cast["deputy"], reason="left", by=COMMAND)
    assert check(cast, user="deputy")["reason"] == "user_inactive"
    person_reactivate(person=cast["deputy"], reason="came back", by=COMMAND)
    answer = check(cast, user="deputy")
    assert (answer["allowed"], answer["reason"]) == (False, "no_grant")
    assert not manages(cast, "deputy")
    period = DeputyPeriod.objects.get(deputy=cast["deputy"])
    assert period.removed_at is not None and "deactivated" in period.removed_reason
    deactivated = AuditEvent.objects.get(action="person.deactivated")
    assert deactivated.details["deputyships_ended"] == 1
    assert AuditEvent.objects.filter(action="case.deputy_removed", details__deputy="deputy").count() == 1


def test_signing_off_the_case_ends_the_deputyship(cast: Cast):
    case_sign_off(
        case=cast.case,
        person=cast["deputy"],
        reason="moved to another team",
        signed_off_by=cast["case_lead"],
        by=lead_actor(cast),
    )
    answer = check(cast, user="deputy")
    assert (answer["allowed"], answer["reason"]) == (False, "no_grant")
    assert not manages(cast, "deputy")
    signed_off = AuditEvent.objects.get(action="case.person_signed_off")
    assert signed_off.details["deputyship_ended"] is True


def test_a_deputy_needs_a_valid_screening_when_named_and_at_every_decision(cast: Cast):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    person_set_screening(person=cast["engineer"], valid_until=yesterday, reference="lapsed", by=COMMAND)
    with pytest.raises(ValidationError, match="no valid screening"):
        case_services.case_add_deputy(case=cast.case, deputy=cast["engineer"], by=lead_actor(cast))
    person_set_screening(person=cast["deputy"], valid_until=yesterday, reference="lapsed", by=COMMAND)
    assert check(cast, user="deputy")["reason"] == "screening_expired"
    # Shortening stays possible; extending gives access anew, so it needs the screening.
    case_services.case_change_deputy(
        case=cast.case,
        deputy=cast["deputy"],
        valid_until=timezone.now() + datetime.timedelta(days=10),
        reason="shorter",
        by=lead_actor(cast),
    )
    with pytest.raises(ValidationError, match="no valid screening"):
        case_services.case_change_deputy(
            case=cast.case,
            deputy=cast["deputy"],
            valid_until=timezone.now() + datetime.timedelta(days=300),
            reason="longer",
            by=lead_actor(cast),
        )


def test_every_deputy_change_invalidates_the_decision_cache_for_that_person(cast: Cast):
    calls: list[Any] = []
    with mock.patch.object(case_services, "invalidate", side_effect=lambda **kw: calls.append(kw)):
        case_services.case_add_deputy(case=cast.case, deputy=cast["engineer"], by=lead_actor(cast))
        case_services.case_change_deputy(
            case=cast.case,
            deputy=cast["engineer"],
            valid_until=timezone.now() + datetime.timedelta(days=2),
            reason="short",
            by=lead_actor(cast),
        )
        case_services.case_remove_deputy(case=cast.case, deputy=cast["engineer"], by=lead_actor(cast))
        case_services.deputyships_end(person=cast["deputy"], by=COMMAND, reason="test")
    assert calls == [{"people": ["engineer"]}] * 3 + [{"people": ["deputy"]}]
    # And the very next decision honours it (the answers remembered before are forgotten).
    assert check(cast, user="engineer")["allowed"] is False
    case_services.case_add_deputy(case=cast.case, deputy=cast["engineer"], by=lead_actor(cast))
    assert check(cast, user="engineer")["allowed"] is True
    case_services.case_remove_deputy(case=cast.case, deputy=cast["engineer"], by=lead_actor(cast))
    assert check(cast, user="engineer")["allowed"] is False


# --- access at a moment --------------------------------------------------------------------------


def test_access_at_shows_the_deputyship_as_it_was_then(cast: Cast):
    first_end = DeputyPeriod.objects.get(deputy=cast["deputy"]).valid_until
    before_change = timezone.now()
    sooner = timezone.now() + datetime.timedelta(days=2)
    case_services.case_change_deputy(
        case=cast.case, deputy=cast["deputy"], valid_until=sooner, reason="shorter", by=lead_actor(cast)
    )
    after_change = timezone.now()
    case_services.case_remove_deputy(case=cast.case, deputy=cast["deputy"], by=lead_actor(cast))
    after_removal = timezone.now() + datetime.timedelta(seconds=1)

    then = access_at_rows(cast, before_change)["deputy"]
    assert then["valid_until"] == iso(first_end)
    assert then["grant_id"] is None and then["granted_by"] == "command:tests"
    assert access_at_rows(cast, after_change)["deputy"]["valid_until"] == iso(sooner)
    assert "deputy" not in access_at_rows(cast, after_removal)
    # A moment after a deputyship's end, even one never removed: not listed.
    case_services.case_add_deputy(
        case=cast.case, deputy=cast["engineer"], valid_until=sooner, by=lead_actor(cast)
    )
    assert "engineer" in access_at_rows(cast, timezone.now() + datetime.timedelta(days=1))
    assert "engineer" not in access_at_rows(cast, sooner + datetime.timedelta(seconds=1))


def test_the_case_lead_names_a_deputy_with_an_end_date_in_the_browser(cast: Cast):
    client = Client()
    client.force_login(cast["case_lead"])
    page = client.get(f"/cases/{CASE_PROJECT_ID}/deputies/add/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Deputy until" in page.content.decode()
    day = timezone.localdate() + datetime.timedelta(days=10)
    response = client.post(
        f"/cases/{CASE_PROJECT_ID}/deputies/add/", {"deputy": "engineer", "valid_until": day.isoformat()}
    )
    assert response.status_code == 302
    period = DeputyPeriod.objects.get(deputy=cast["engineer"])
    assert timezone.localtime(period.valid_until).date() == day + datetime.timedelta(days=1)
    too_far = timezone.localdate() + datetime.timedelta(days=400)
    response = client.post(
        f"/cases/{CASE_PROJECT_ID}/deputies/add/",
        {"deputy": "investigator", "valid_until": too_far.isoformat()},
    )
    assert response.status_code == 400
    assert "at most" in response.content.decode()
    assert not DeputyPeriod.objects.filter(deputy=cast["investigator"]).exists()


# --- the history before end dates existed (migration cases.0005) ------------------------------


def test_the_migration_tells_the_truth_about_periods_before_end_dates(cast: Cast, settings):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("cases.migrations.0005_deputy_history")
    settings.HG_GRANT_MAX_DAYS = 30
    now = timezone.now()
    DeputyVersion.objects.all().delete()
    DeputyPeriod.objects.all().delete()
    recent = DeputyPeriod.objects.create(
        case=cast.case,
        deputy=cast["deputy"],
        added_at=now - datetime.timedelta(days=10),
        added_by="lead",
        valid_until=now,
    )
    old = DeputyPeriod.objects.create(
        case=cast.case,
        deputy=cast["engineer"],
        added_at=now - datetime.timedelta(days=40),
        added_by="lead",
        valid_until=now,
    )
    removed = DeputyPeriod.objects.create(
        case=cast.case,
        deputy=cast["investigator"],
        added_at=now - datetime.timedelta(days=20),
        added_by="lead",
        valid_until=now,
        removed_at=now - datetime.timedelta(days=5),
        removed_by="lead",
    )
    migration.end_dates_and_history(apps, None)

    recent.refresh_from_db()
    old.refresh_from_db()
    removed.refresh_from_db()
    assert recent.valid_until == recent.added_at + datetime.timedelta(days=30)
    assert old.valid_until <= timezone.now()  # appointed longer ago than allowed: ends at the migration
    assert removed.valid_until == removed.removed_at
    # Before the migration: the period as it was, without an end date.
    before = access_at_rows(cast, now - datetime.timedelta(days=7))
    assert before["deputy"]["valid_until"] is None
    assert before["investigator"]["valid_until"] is None
    assert "investigator" not in access_at_rows(cast, now - datetime.timedelta(days=4))
    # After it: the end date it got.
    later = access_at_rows(cast, timezone.now() + datetime.timedelta(seconds=1))
    assert later["deputy"]["valid_until"] == iso(recent.valid_until)
    assert "engineer" not in later
    answer = check(cast, user="engineer")
    assert answer["allowed"] is False


def test_the_access_page_shows_each_deputy_with_the_end(cast: Cast):
    end = timezone.now() + datetime.timedelta(days=5)
    case_services.case_change_deputy(
        case=cast.case, deputy=cast["deputy"], valid_until=end, reason="shorter", by=lead_actor(cast)
    )
    client = Client()
    client.force_login(cast["case_lead"])
    body = client.get(f"/cases/{CASE_PROJECT_ID}/access/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    row = body[body.index('id="deputy-deputy"') :]
    row = row[: row.index("</tr>")]
    from authz.templatetags.grant_tags import until

    assert until(end) in row
