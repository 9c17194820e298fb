"""`projects` and `subjects` agree exactly with `check`, over generated worlds of grants (a property
test), and `check-batch` answers in order with the same decisions as single checks."""

from __future__ import annotations

import datetime
import itertools
import uuid

from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authz.cache import invalidate
from authz.models import Action, Grant
from cases.models import Case, DeputyPeriod
from people.models import Profile
from tests.authz_helpers import check, grant
from tests.personas import CASE_PROJECT_ID, IMAGE_ID, OTHER_PROJECT_ID, Cast

USERS = ["investigator", "engineer", "deputy", "other_case_lead", "case_lead", "operator"]
THIRD_PROJECT_ID = uuid.UUID("44444444-4444-4444-8444-444444444444")
PROJECTS = [CASE_PROJECT_ID, OTHER_PROJECT_ID, THIRD_PROJECT_ID]
ACTIONS = list(Action.values)

grant_strategy = st.fixed_dictionaries(
    {
        "user": st.sampled_from(USERS),
        "project": st.sampled_from(PROJECTS),
        "rights": st.sets(st.sampled_from(ACTIONS), min_size=1),
        "environments": st.sets(st.sampled_from(["production", "experiment"]), min_size=1),
        "starts_days": st.integers(min_value=-20, max_value=5),
        "length_days": st.integers(min_value=1, max_value=30),
        "revoked": st.booleans(),
    }
)
# Deputyships beside the cast's own: some ran out, some were removed (issue 11, item 5).
deputy_strategy = st.fixed_dictionaries(
    {
        "user": st.sampled_from(USERS),
        "project": st.sampled_from(PROJECTS),
        "ends_days": st.integers(min_value=-5, max_value=30),
        "removed": st.booleans(),
    }
)
world_strategy = st.fixed_dictionaries(
    {
        "grants": st.lists(grant_strategy, max_size=12),
        "deputies": st.lists(deputy_strategy, max_size=4),
        "cast_deputy_ended": st.sampled_from([None, "expired", "removed"]),
        "inactive": st.sets(st.sampled_from(USERS), max_size=2),
        "unscreened": st.sets(st.sampled_from(USERS), max_size=2),
        "third_case_closed": st.booleans(),
        "client": st.sampled_from(["hansken_production", "hansken_experiment"]),
    }
)


def build_world(cast: Cast, world: dict) -> None:
    now = timezone.now()
    third = Case.objects.create(
        project_id=THIRD_PROJECT_ID,
        case_number="NFI-2026-0003",
        title="Third",
        case_lead=cast["other_case_lead"],
        status="closed" if world["third_case_closed"] else "open",
    )
    cases = {CASE_PROJECT_ID: cast.case, OTHER_PROJECT_ID: cast.other_case, THIRD_PROJECT_ID: third}
    for g in world["grants"]:
        start = now + datetime.timedelta(days=g["starts_days"])
        Grant.objects.create(
            case=cases[g["project"]],
            grantee=cast[g["user"]],
            rights=sorted(g["rights"]),
            environments=sorted(g["environments"]),
            valid_from=start,
            valid_until=start + datetime.timedelta(days=g["length_days"]),
            reason="generated",
            granted_by=cast["case_lead"],
            granted_at=now,
            changed_at=now,
            revoked_at=now if g["revoked"] else None,
        )
    for d in world["deputies"]:
        case = cases[d["project"]]
        if case.case_lead_id == cast[d["user"]].pk:
            continue
        DeputyPeriod.objects.create(
            case=case,
            deputy=cast[d["user"]],
            added_at=now - datetime.timedelta(days=10),
            added_by="generated",
            valid_until=now + datetime.timedelta(days=d["ends_days"], minutes=1),
            removed_at=now if d["removed"] else None,
        )
    if world["cast_deputy_ended"] == "expired":
        DeputyPeriod.objects.filter(deputy=cast["deputy"]).update(valid_until=now)
    elif world["cast_deputy_ended"] == "removed":
        DeputyPeriod.objects.filter(deputy=cast["deputy"]).update(removed_at=now)
    for username in world["inactive"]:
        type(cast[username]).objects.filter(username=username).update(is_active=False)
    for username in world["unscreened"]:
        Profile.objects.filter(user__username=username).update(screening_valid_until=None)
    invalidate()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(world=world_strategy)
def test_projects_and_subjects_agree_with_check(cast: Cast, world):
    with transaction.atomic():
        build_world(cast, world)
        api = cast.api(world["client"])
        pairs = list(itertools.product(USERS, PROJECTS, ACTIONS))
        batch = api.post(
            "/api/v1/authz/check-batch",
            {
                "checks": [
                    {"correlation_id": f"{u}|{p}|{a}", "user": u, "project_id": str(p), "action": a}
                    for u, p, a in pairs
                ]
            },
            format="json",
        )
        assert batch.status_code == 200
        allowed = {tuple(r["correlation_id"].split("|")) for r in batch.json()["results"] if r["allowed"]}
        for user, action in itertools.product(USERS, ACTIONS):
            body = api.get("/api/v1/authz/projects", {"user": user, "action": action}).json()
            expected = sorted(str(p) for p in PROJECTS if (user, str(p), action) in allowed)
            assert body["project_ids"] == expected, (user, action)
        for project, action in itertools.product(PROJECTS, ACTIONS):
            body = api.get("/api/v1/authz/subjects", {"project_id": str(project), "action": action}).json()
            expected = sorted(u for u in USERS if (u, str(project), action) in allowed)
            assert body["users"] == expected, (project, action)
        transaction.set_rollback(True)


def test_batch_answers_in_order_like_single_checks(cast: Cast):
    grant(cast, rights=["read"])
    items = [
        {"correlation_id": "a", "user": "investigator", "project_id": str(CASE_PROJECT_ID), "action": "read"},
        {
            "correlation_id": "b",
            "user": "investigator",
            "project_id": str(CASE_PROJECT_ID),
            "action": "export",
        },
        {"correlation_id": "c", "user": "ghost", "project_id": str(CASE_PROJECT_ID), "action": "read"},
        {
            "correlation_id": "d",
            "user": "investigator",
            "project_id": str(CASE_PROJECT_ID),
            "action": "read",
            "trace_uid": f"{IMAGE_ID}:0-1",
        },
    ]
    response = cast.api("hansken_production").post(
        "/api/v1/authz/check-batch", {"checks": items}, format="json"
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["correlation_id"] for r in results] == ["a", "b", "c", "d"]
    assert [r["reason"] for r in results] == ["grant", "right_missing", "unknown_user", "grant"]
    for item, result in zip(items, results, strict=True):
        single = check(
            cast,
            user=item["user"],
            action=item["action"],
            **({"trace_uid": item["trace_uid"]} if "trace_uid" in item else {}),
        )
        assert (single["allowed"], single["reason"]) == (result["allowed"], result["reason"])


def test_bad_batches_are_refused_whole_with_the_index(cast: Cast):
    api = cast.api("hansken_production")
    good = {
        "correlation_id": "x",
        "user": "investigator",
        "project_id": str(CASE_PROJECT_ID),
        "action": "read",
    }
    cases = [
        ({"checks": []}, "checks", None),
        ({"checks": [good] * 1001}, "checks", None),
        ({"checks": [good, {**good, "action": "fly"}]}, "action", 1),
        ({"checks": [good, good, {**good, "project_id": "nope"}]}, "project_id", 2),
        ({"checks": [{**good, "trace_uid": "not-a-trace"}]}, "trace_uid", 0),
        ({"checks": [{**good, "extra": 1}]}, "extra", 0),
        ({"checks": [good], "more": 1}, "more", None),
        # Values of the wrong JSON type, in an item with exactly the usual four fields too.
        ({"checks": [good, {**good, "project_id": ["x"]}]}, "project_id", 1),
        ({"checks": [{**good, "project_id": {"a": 1}}]}, "project_id", 0),
        ({"checks": [{**good, "action": ["read"]}]}, "action", 0),
        ({"checks": [{**good, "user": ["investigator"]}]}, "user", 0),
        ({"checks": [{**good, "user": ""}]}, "user", 0),
        ({"checks": [{**good, "user": "a\u0000b"}]}, "user", 0),
        ({"checks": [{**good, "correlation_id": 7}]}, "correlation_id", 0),
        ({"checks": [{**good, "correlation_id": "x" * 201}]}, "correlation_id", 0),
        ({"checks": [{**good, "correlation_id": None}]}, "correlation_id", 0),
        ({"checks": [{**good, "correlation_id": "a\x00b"}]}, "correlation_id", 0),
        ({"checks": [{**good, "correlation_id": "line\nbreak"}]}, "correlation_id", 0),
        ({"checks": [good, 7]}, None, 1),
    ]
    from audit.models import AuditEvent

    before = AuditEvent.objects.count()
    for body, field, index in cases:
        response = api.post("/api/v1/authz/check-batch", body, format="json")
        assert response.status_code == 400, body
        error = response.json()["errors"][0]
        assert error["field"] == field
        assert error.get("index") == index
    assert AuditEvent.objects.count() == before
    assert api.post("/api/v1/authz/check-batch", "[]", content_type="application/json").status_code == 400
    assert (
        api.post("/api/v1/authz/check-batch", "{not json", content_type="application/json").status_code == 400
    )
    assert api.post("/api/v1/authz/check-batch", "x=1", content_type="text/plain").status_code == 415


DECISION_ENDPOINTS = [
    ("post", "/api/v1/authz/check"),
    ("post", "/api/v1/authz/check-batch"),
    ("get", "/api/v1/authz/projects?user=investigator&action=read"),
    ("get", f"/api/v1/authz/subjects?project_id={CASE_PROJECT_ID}&action=read"),
]


def test_decision_endpoints_admit_only_clients_with_authz_check(cast: Cast):
    from api_clients.services import api_client_create
    from audit.actor import Actor

    _, no_scope = api_client_create(
        name="ci", environment="test", scopes=["reports:write"], by=Actor(username="t", channel="test")
    )
    for method, url in DECISION_ENDPOINTS:
        one = {"user": "investigator", "project_id": str(CASE_PROJECT_ID), "action": "read"}
        body: dict = {"checks": [{"correlation_id": "1", **one}]} if "batch" in url else one
        for persona, expected in [
            ("hansken_production", 200),
            ("hansken_experiment", 200),
            ("case_lead", 403),  # a personal token is not a Hansken client
            ("privacy_officer", 403),
            (None, 401),
        ]:
            api = cast.api(persona)
            response = api.post(url, body, format="json") if method == "post" else api.get(url)
            assert response.status_code == expected, (url, persona, response.content)
        api = cast.api(None)
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {no_scope}")
        response = api.post(url, body, format="json") if method == "post" else api.get(url)
        assert response.status_code == 403
        api.credentials(HTTP_AUTHORIZATION="Bearer hgc_not-a-real-token")
        response = api.post(url, body, format="json") if method == "post" else api.get(url)
        assert response.status_code == 401


def test_the_denies_of_a_batch_extend_one_unbroken_chain(cast: Cast):
    from audit.models import AuditEvent
    from audit.verify import verify_chain

    grant(cast, rights=["read"])
    checks = [
        {
            "correlation_id": str(i),
            "user": "investigator",
            "project_id": str(CASE_PROJECT_ID),
            "action": action,
        }
        for i, action in enumerate(["read", "export", "search", "read", "review_privileged"])
    ]
    before = AuditEvent.objects.filter(action="authz.denied").count()
    response = cast.api("hansken_production").post(
        "/api/v1/authz/check-batch", {"checks": checks}, format="json"
    )
    denied = [r for r in response.json()["results"] if not r["allowed"]]
    assert len(denied) == 3
    stored = AuditEvent.objects.filter(action="authz.denied").order_by("sequence")
    assert stored.count() == before + 3
    assert {str(e.event_id) for e in stored} >= {r["decision_id"] for r in denied}
    result = verify_chain(against_checkpoints=False)
    assert result.ok, result.message
