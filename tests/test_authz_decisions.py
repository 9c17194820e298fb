"""The decision rule through the real API: one case per reason code, and fail-closed behaviour."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from audit.actor import Actor
from audit.models import AuditEvent
from authz.services import grant_change, grant_revoke
from cases.models import Case, Dataset, DatasetStatus
from people.models import Profile
from people.services import person_deactivate
from tests.authz_helpers import check, grant
from tests.db_outage import dropped_connection
from tests.personas import CASE_PROJECT_ID, IMAGE_ID, OTHER_PROJECT_ID, Cast
from tests.redis_helpers import reachable_redis_url

LEAD = Actor(username="case_lead", channel="test")


def skip_without_change_feed() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: without its change feed (SQLite) decisions use no fact cache")


def test_it_allows_on_a_covering_grant_and_names_it(cast: Cast):
    g = grant(cast)
    body = check(cast)
    assert body["allowed"] is True
    assert body["reason"] == "grant"
    assert body["grant_id"] == g.pk
    assert body["valid_until"].startswith(g.valid_until.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M"))
    uuid.UUID(body["decision_id"])


def test_it_allows_the_case_lead_and_deputy_without_a_grant(cast: Cast):
    assert check(cast, user="case_lead", action="export")["reason"] == "case_lead"
    assert check(cast, user="deputy", action="review_privileged")["allowed"] is True


@pytest.mark.parametrize(
    ("setup", "user", "action", "project", "reason"),
    [
        ("none", "nobody-at-all", "read", CASE_PROJECT_ID, "unknown_user"),
        ("none", "investigator", "read", uuid.UUID(int=5), "unknown_project"),
        ("none", "investigator", "read", CASE_PROJECT_ID, "no_grant"),
        ("grant", "investigator", "export", CASE_PROJECT_ID, "right_missing"),
        ("grant", "investigator", "read", OTHER_PROJECT_ID, "no_grant"),
        ("experiment_only", "investigator", "read", CASE_PROJECT_ID, "environment_not_covered"),
        ("future", "investigator", "read", CASE_PROJECT_ID, "grant_not_yet_valid"),
        ("inactive", "investigator", "read", CASE_PROJECT_ID, "user_inactive"),
        ("unscreened", "investigator", "read", CASE_PROJECT_ID, "screening_expired"),
        ("closed", "investigator", "read", CASE_PROJECT_ID, "case_closed"),
        ("revoked", "investigator", "read", CASE_PROJECT_ID, "grant_revoked"),
    ],
)
def test_it_denies_with_the_right_reason(cast: Cast, setup, user, action, project, reason):
    if setup == "grant":
        grant(cast)
    elif setup == "experiment_only":
        grant(cast, environments=["experiment"])
    elif setup == "future":
        grant(cast, valid_from=timezone.now() + datetime.timedelta(days=2))
    elif setup == "inactive":
        grant(cast)
        User.objects.filter(username="investigator").update(is_active=False)
    elif setup == "unscreened":
        grant(cast)
        Profile.objects.filter(user__username="investigator").update(
            screening_valid_until=timezone.localdate() - datetime.timedelta(days=1)
        )
    elif setup == "closed":
        grant(cast)
        Case.objects.filter(pk=cast.case.pk).update(status="closed")
    elif setup == "revoked":
        g = grant(cast)
        grant_revoke(grant=g, reason="Left the team", revoked_by=cast["case_lead"], by=LEAD)
    before = AuditEvent.objects.filter(action="authz.denied").count()
    body = check(cast, user=user, action=action, project_id=project)
    assert body["allowed"] is False
    assert body["reason"] == reason
    assert body["valid_until"] is None
    # Every denied decision is an audit event whose id is the decision id.
    event = AuditEvent.objects.get(event_id=body["decision_id"])
    assert event.outcome == "denied"
    assert event.details["reason"] == reason
    assert event.actor == user
    assert event.client_name == "hansken_production"
    assert AuditEvent.objects.filter(action="authz.denied").count() == before + 1


def test_it_denies_an_expired_grant(cast: Cast):
    g = grant(cast)
    from authz.models import Grant

    Grant.objects.filter(pk=g.pk).update(
        valid_from=timezone.now() - datetime.timedelta(days=10),
        valid_until=timezone.now() - datetime.timedelta(seconds=1),
    )
    assert check(cast)["reason"] == "grant_expired"


def test_it_denies_traces_in_a_removed_dataset(cast: Cast):
    grant(cast)
    trace = f"{IMAGE_ID}:0-3-1"
    assert check(cast, trace_uid=trace)["allowed"] is True
    Dataset.objects.filter(image_id=IMAGE_ID).update(status=DatasetStatus.DELETED)
    from authz.cache import invalidate

    invalidate()
    assert check(cast, trace_uid=trace)["reason"] == "dataset_deleted"
    # The rest of the case stays available.
    assert check(cast)["allowed"] is True


def test_the_experiment_client_needs_an_explicit_experiment_grant(cast: Cast):
    grant(cast, environments=["production"])
    assert check(cast, client="hansken_experiment")["reason"] == "environment_not_covered"
    grant(cast, environments=["production", "experiment"])
    assert check(cast, client="hansken_experiment")["allowed"] is True


@pytest.fixture(params=["no-redis", "redis", "redis-down"])
def cache_mode(request, settings):
    from authz.cache import fact_cache

    fact_cache.clear()
    if request.param == "no-redis":
        settings.REDIS_URL = None
    elif request.param == "redis":
        settings.REDIS_URL = reachable_redis_url()
    else:
        settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there: connection refused
    yield request.param
    fact_cache.clear()


def test_a_revoke_is_honoured_by_the_very_next_decision(cast: Cast, cache_mode):
    g = grant(cast)
    assert check(cast)["allowed"] is True
    assert check(cast)["allowed"] is True  # now cached, where a cache is in use
    grant_revoke(grant=g, reason="Done", revoked_by=cast["case_lead"], by=LEAD)
    assert check(cast)["reason"] == "grant_revoked"


def batch_reasons(cast: Cast, actions: list[str]) -> list[str]:
    items = [
        {
            "user": "investigator",
            "project_id": str(CASE_PROJECT_ID),
            "action": action,
            "correlation_id": str(i),
        }
        for i, action in enumerate(actions)
    ]
    response = cast.api("hansken_production").post(
        "/api/v1/authz/check-batch", {"checks": items}, format="json"
    )
    assert response.status_code == 200, response.content
    return [result["reason"] for result in response.json()["results"]]


def test_the_batchs_short_way_honours_a_revoke_at_once(cast: Cast, cache_mode):
    """The batch answers a remembered question without taking the item apart; a revoke still
    reaches the very next batch, and its denials reach the trail with their own ids."""
    g = grant(cast, rights=["read"])
    assert batch_reasons(cast, ["read", "export"]) == ["grant", "right_missing"]
    assert batch_reasons(cast, ["read", "export"]) == ["grant", "right_missing"]  # remembered now
    grant_revoke(grant=g, reason="Done", revoked_by=cast["case_lead"], by=LEAD)
    assert batch_reasons(cast, ["read", "export"]) == ["grant_revoked", "grant_revoked"]


def test_the_batchs_short_way_honours_an_expiry_without_any_write(cast: Cast, cache_mode, monkeypatch):
    grant(cast, days=1)
    assert batch_reasons(cast, ["read"]) == ["grant"]
    assert batch_reasons(cast, ["read"]) == ["grant"]  # remembered now
    later = timezone.now() + datetime.timedelta(days=2)
    monkeypatch.setattr("authz.api.decision.deciding.timezone.now", lambda: later)
    monkeypatch.setattr(
        "authz.api.decision.deciding.timezone.localdate", lambda *a: timezone.localtime(later).date()
    )
    assert batch_reasons(cast, ["read"]) == ["grant_expired"]


def test_narrowing_and_deactivation_are_honoured_at_once(cast: Cast, cache_mode):
    g = grant(cast, rights=["read", "export"])
    assert check(cast, action="export")["allowed"] is True
    grant_change(grant=g, rights=["read"], reason="No export needed", changed_by=cast["case_lead"], by=LEAD)
    assert check(cast, action="export")["reason"] == "right_missing"
    assert check(cast, action="read")["allowed"] is True
    person_deactivate(person=cast["investigator"], reason="Left the institute", by=LEAD)
    assert check(cast, action="read")["reason"] == "user_inactive"


def test_a_lapsed_screening_is_honoured_without_any_write(cast: Cast, cache_mode, monkeypatch):
    Profile.objects.filter(user__username="investigator").update(
        screening_valid_until=timezone.localdate() + datetime.timedelta(days=10)
    )
    grant(cast, days=60)
    assert check(cast)["allowed"] is True
    # Move the clock past the screening date: no write happens, yet the next decision denies.
    later = timezone.now() + datetime.timedelta(days=11)
    monkeypatch.setattr("authz.api.decision.deciding.timezone.now", lambda: later)
    monkeypatch.setattr(
        "authz.api.decision.deciding.timezone.localdate", lambda *a: timezone.localtime(later).date()
    )
    assert check(cast)["reason"] == "screening_expired"


@pytest.mark.django_db(transaction=True)
def test_database_trouble_is_an_error_never_an_allow(cast: Cast):
    """The database server ends the connection under the decision (``tests.db_outage``): 503."""
    grant(cast)
    from authz.cache import fact_cache

    fact_cache.clear()
    assert check(cast)["allowed"] is True  # the same question, with the database there
    fact_cache.clear()
    with override_settings(REDIS_URL=None), dropped_connection():
        response = cast.api("hansken_production").post(
            "/api/v1/authz/check",
            {"user": "investigator", "project_id": str(CASE_PROJECT_ID), "action": "read"},
            format="json",
        )
    assert response.status_code == 503
    assert "allowed" not in response.json()
    assert response.json()["errors"][0]["message"]


def test_the_cache_is_really_used_and_only_invalidation_refreshes_it(cast: Cast, settings):
    """Shows the cache is in play with Redis: a write that bypasses the services (and so sends no
    invalidation) is not seen until the generation changes. Services always invalidate."""
    skip_without_change_feed()
    from authz.cache import fact_cache, invalidate
    from authz.models import Grant

    settings.REDIS_URL = reachable_redis_url()
    fact_cache.clear()
    g = grant(cast)
    assert check(cast)["allowed"] is True
    Grant.objects.filter(pk=g.pk).update(revoked_at=timezone.now())  # no signal, no invalidation
    assert check(cast)["allowed"] is True
    invalidate()
    assert check(cast)["reason"] == "grant_revoked"
    fact_cache.clear()


def test_a_trace_outside_the_cases_datasets_is_denied(cast: Cast):
    from audit.actor import Actor as A
    from cases.services import dataset_register

    grant(cast)
    other_image = uuid.UUID("55555555-5555-4555-8555-555555555555")
    dataset_register(
        case=cast.other_case,
        image_id=other_image,
        description="Phone",
        delivered_by="Police",
        imported_at=None,
        environments=["production"],
        by=A(username="operator"),
    )
    # An image of another case, and an image registered nowhere, are nobody's to read under this case.
    assert check(cast, trace_uid=f"{other_image}:0-1")["reason"] == "no_grant"
    assert check(cast, trace_uid=f"{uuid.UUID(int=99)}:0-1")["reason"] == "no_grant"
    assert check(cast, user="case_lead", trace_uid=f"{other_image}:0-1")["allowed"] is False
    assert check(cast, trace_uid=f"{IMAGE_ID}:0-1")["allowed"] is True


def test_test_and_development_clients_are_never_allowed(cast: Cast):
    from api_clients.services import api_client_create

    grant(cast)
    _, token = api_client_create(
        name="ci-test", environment="test", scopes=["authz:check"], by=Actor(username="t", channel="test")
    )
    api = cast.api(None)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    for user in ("investigator", "case_lead"):
        body = api.post(
            "/api/v1/authz/check",
            {"user": user, "project_id": str(CASE_PROJECT_ID), "action": "read"},
            format="json",
        ).json()
        assert (body["allowed"], body["reason"]) == (False, "environment_not_covered")


def test_grants_name_only_production_and_experiment(cast: Cast):
    response = cast.api("case_lead").post(
        f"/api/v1/cases/{CASE_PROJECT_ID}/grants",
        {
            "grantee": "investigator",
            "rights": ["read"],
            "environments": ["test"],
            "valid_until": (timezone.now() + datetime.timedelta(days=3)).isoformat(),
            "reason": "x",
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"].startswith("environments")


def test_a_bad_token_is_401_and_a_personal_token_403_on_decisions(cast: Cast):
    api = cast.api(None)
    body = {"user": "investigator", "project_id": str(CASE_PROJECT_ID), "action": "read"}
    api.credentials(HTTP_AUTHORIZATION="Bearer bogus")
    assert api.post("/api/v1/authz/check", body, format="json").status_code == 401
    assert cast.api("investigator").post("/api/v1/authz/check", body, format="json").status_code == 403


def test_api_errors_are_in_english_whatever_the_browser_asks(cast: Cast):
    response = cast.api("hansken_production").post(
        "/api/v1/cases", {}, format="json", HTTP_ACCEPT_LANGUAGE="nl"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "This field is required."


def test_control_characters_in_the_username_are_refused(cast: Cast):
    response = cast.api("hansken_production").post(
        "/api/v1/authz/check",
        {"user": "inv\x00estigator", "project_id": str(CASE_PROJECT_ID), "action": "read"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "user"


@pytest.mark.parametrize("user", ["", "inv\x01estigator", "line\nbreak", "x" * 151])
def test_projects_refuses_a_username_that_check_would_refuse(cast: Cast, user):
    response = cast.api("hansken_production").get("/api/v1/authz/projects", {"user": user, "action": "read"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "user"
    assert cast.api("hansken_production").get(
        "/api/v1/authz/projects", {"user": "x" * 150, "action": "read"}
    ).json() == {"project_ids": []}


def test_a_change_published_by_another_worker_drops_only_that_persons_facts(cast: Cast, settings):
    """Another worker's change reaches this one through the change log in Redis: only the named
    person's facts are dropped; others stay cached (shown by a write that bypasses invalidation)."""
    skip_without_change_feed()
    from authz.cache import LOG_KEY, _redis, fact_cache
    from authz.models import Grant

    settings.REDIS_URL = reachable_redis_url()
    fact_cache.clear()
    mine = grant(cast)
    theirs = grant(cast, grantee="engineer")
    assert check(cast)["allowed"] is True
    assert check(cast, user="engineer")["allowed"] is True
    now = timezone.now()
    Grant.objects.filter(pk__in=[mine.pk, theirs.pk]).update(revoked_at=now)  # no signal, no publish
    _redis().rpush(LOG_KEY, "p:investigator")  # as another worker's invalidate() would
    assert check(cast)["reason"] == "grant_revoked"
    assert check(cast, user="engineer")["allowed"] is True  # still the cached facts: not named
    fact_cache.clear()
