"""The case lead names deputies and closes, reopens or archives the case; decisions follow at once."""

from __future__ import annotations

from cases.models import DeputyPeriod
from tests.authz_helpers import check, grant
from tests.personas import CASE_PROJECT_ID, Cast
from tests.redis_helpers import reachable_redis_url

BASE = f"/api/v1/cases/{CASE_PROJECT_ID}"


def test_a_named_deputy_may_act_at_once_and_not_after_removal(cast: Cast, settings):
    from authz.cache import fact_cache

    settings.REDIS_URL = reachable_redis_url()
    fact_cache.clear()
    lead = cast.api("case_lead")
    assert check(cast, user="engineer")["reason"] == "no_grant"
    assert lead.post(f"{BASE}/deputies", {"deputy": "engineer"}, format="json").status_code == 201
    assert check(cast, user="engineer", action="export")["reason"] == "case_lead"
    assert lead.delete(f"{BASE}/deputies/engineer").status_code == 200
    assert check(cast, user="engineer")["reason"] == "no_grant"
    period = DeputyPeriod.objects.get(deputy__username="engineer")
    assert period.removed_at is not None and period.removed_by == "case_lead"
    fact_cache.clear()


def test_deputy_mistakes_are_refused_with_the_field_named(cast: Cast):
    lead = cast.api("case_lead")
    for body in ({"deputy": "deputy"}, {"deputy": "case_lead"}, {"deputy": "nobody"}, {}):
        response = lead.post(f"{BASE}/deputies", body, format="json")
        assert response.status_code == 400, body
        assert response.json()["errors"][0]["field"] == "deputy"
    assert lead.delete(f"{BASE}/deputies/engineer").status_code == 400
    assert lead.delete(f"{BASE}/deputies/nobody").status_code == 404


def test_closing_and_reopening_the_case(cast: Cast):
    grant(cast)
    lead = cast.api("case_lead")
    assert (
        lead.post(f"{BASE}/status", {"status": "closed", "reason": "Done"}, format="json").status_code == 200
    )
    assert check(cast)["reason"] == "case_closed"
    assert check(cast, user="case_lead")["reason"] == "case_closed"
    # Only the allowed moves, each with a reason.
    assert (
        lead.post(f"{BASE}/status", {"status": "closed", "reason": "again"}, format="json").status_code == 400
    )
    assert lead.post(f"{BASE}/status", {"status": "open"}, format="json").status_code == 400
    assert lead.post(f"{BASE}/status", {"status": "deleted", "reason": "x"}, format="json").status_code == 400
    reopened = lead.post(f"{BASE}/status", {"status": "open", "reason": "New evidence"}, format="json")
    assert reopened.status_code == 200
    assert reopened.json()["closed_at"] is None
    assert check(cast)["allowed"] is True
