"""Grant management through the API: who may, what is stored, what the history says."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from authz.models import AccessRequest, Grant, GrantVersion
from authz.selectors import access_at
from tests.authz_helpers import check, grant
from tests.matrix import (
    ANONYMOUS,
    Endpoint,
    assert_status,
    assert_table_shape,
    call,
    cells,
    events_since,
    last_sequence,
)
from tests.personas import CASE_PROJECT_ID, Cast

GRANTS_URL = f"/api/v1/cases/{CASE_PROJECT_ID}/grants"


def iso(delta_days: float) -> str:
    return (timezone.now() + datetime.timedelta(days=delta_days)).isoformat()


def grant_body(**overrides):
    body = {
        "grantee": "investigator",
        "rights": ["read", "search"],
        "environments": ["production"],
        "valid_until": iso(30),
        "reason": "Analysis of the laptop",
    }
    body.update(overrides)
    return body


# Who may create and list the grants of the cast's case: the case lead and the deputy create (201) and,
# with the privacy officer and the security manager, list (200); a person for whom the case is
# outside the door gets 404; machine clients are 403 and anonymous callers 401.
ENDPOINTS: dict[str, Endpoint] = {
    "create_grant": Endpoint(
        "api-case-grants",
        "post",
        GRANTS_URL,
        lambda caller: grant_body(grantee="engineer" if caller == "investigator" else "investigator"),
    ),
    "list_grants": Endpoint("api-case-grants", "get", GRANTS_URL),
}
# fmt: off
# Columns: create_grant, list_grants.
EXPECTED: dict[str, tuple[int, ...]] = {
    "case_lead":          (201, 200),
    "deputy":             (201, 200),
    "other_case_lead":    (404, 404),
    "investigator":       (404, 404),
    "engineer":           (404, 404),
    "operator":           (404, 404),
    "privacy_officer":    (404, 200),
    "security_manager":   (404, 200),
    "administrator":      (404, 404),
    "hansken_production": (403, 403),
    "hansken_experiment": (403, 403),
    ANONYMOUS:            (401, 401),
}
# fmt: on


def test_the_grant_matrix_covers_every_caller():
    assert_table_shape(EXPECTED, ENDPOINTS)


@pytest.mark.parametrize(("caller", "endpoint", "expected"), cells(EXPECTED, ENDPOINTS))
def test_it_answers_each_caller_as_the_table_says(cast: Cast, caller: str, endpoint: str, expected: int):
    spec = ENDPOINTS[endpoint]
    if endpoint == "list_grants":
        grant(cast)
    grants_before = Grant.objects.count()
    before = last_sequence()

    response = call(cast, caller, spec, world=caller)  # the body depends on who asks

    assert_status(response, expected)
    if endpoint == "list_grants":
        assert events_since(before) == []
        if expected == 200:
            assert [g["grantee"] for g in response.json()["results"]] == ["investigator"]
        return
    if expected != 201:
        assert Grant.objects.count() == grants_before == 0
        assert events_since(before) == []
        return
    body = response.json()
    grantee = "engineer" if caller == "investigator" else "investigator"
    stored = Grant.objects.get(pk=body["id"])
    assert stored.grantee.username == grantee
    assert stored.granted_by.username == caller
    assert stored.rights == ["read", "search"]
    assert body["history"][0]["kind"] == "created"
    assert AuditEvent.objects.filter(action="grant.created", grant_id=stored.pk).count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"grantee": "case_lead"}, "grantee"),  # himself
        ({"grantee": "nobody"}, "grantee"),
        ({"rights": []}, "rights"),
        ({"rights": ["fly"]}, "rights"),
        ({"environments": ["moon"]}, "environments"),
        ({"valid_until": iso(-1)}, "valid_until"),
        ({"valid_until": iso(400)}, "valid_until"),  # longer than the one-year maximum
        ({"valid_until": "2030-01-01T00:00:00"}, "valid_until"),  # no offset
        ({"reason": ""}, "reason"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_grants_are_refused_with_the_field_named_and_nothing_stored(cast: Cast, overrides, field):
    before = AuditEvent.objects.count()
    response = cast.api("case_lead").post(GRANTS_URL, grant_body(**overrides), format="json")
    assert response.status_code == 400, response.content
    assert any(e["field"].startswith(field) for e in response.json()["errors"])
    assert Grant.objects.count() == 0
    assert GrantVersion.objects.count() == 0
    assert AuditEvent.objects.count() == before


def test_an_unscreened_or_inactive_grantee_is_refused(cast: Cast):
    from people.models import Profile

    Profile.objects.filter(user__username="investigator").update(screening_valid_until=None)
    response = cast.api("case_lead").post(GRANTS_URL, grant_body(), format="json")
    assert response.status_code == 400
    assert "screening" in response.json()["errors"][0]["message"]


def test_a_grant_beyond_the_screening_is_allowed_with_a_warning(cast: Cast):
    from people.models import Profile

    Profile.objects.filter(user__username="investigator").update(
        screening_valid_until=timezone.localdate() + datetime.timedelta(days=10)
    )
    response = cast.api("case_lead").post(GRANTS_URL, grant_body(valid_until=iso(60)), format="json")
    assert response.status_code == 201
    assert "screening" in response.json()["warnings"][0]


def test_a_grant_of_someone_whose_screening_lapsed_can_be_narrowed_but_not_extended(cast: Cast):
    from people.models import Profile

    created = cast.api("case_lead").post(GRANTS_URL, grant_body(valid_until=iso(30)), format="json").json()
    Profile.objects.filter(user__username="investigator").update(
        screening_valid_until=timezone.localdate() - datetime.timedelta(days=1)
    )
    url = f"/api/v1/grants/{created['id']}"
    api = cast.api("case_lead")
    events = AuditEvent.objects.count()
    for body in (
        {"valid_until": iso(40), "reason": "Longer"},
        {"rights": ["read", "search", "export"], "reason": "Wider"},
    ):
        refused = api.patch(url, body, format="json")
        assert refused.status_code == 400, body
        assert "screening" in refused.json()["errors"][0]["message"]
    assert AuditEvent.objects.count() == events
    assert Grant.objects.get(pk=created["id"]).version == 1
    narrowed = api.patch(url, {"valid_until": iso(10), "reason": "Shorter"}, format="json")
    assert narrowed.status_code == 200
    assert narrowed.json()["history"][-1]["kind"] == "narrowed"


def test_a_change_that_changes_nothing_is_refused_and_recorded_nowhere(cast: Cast):
    created = cast.api("case_lead").post(GRANTS_URL, grant_body(valid_until=iso(30)), format="json").json()
    url = f"/api/v1/grants/{created['id']}"
    events = AuditEvent.objects.count()
    for body in (
        {"reason": "nothing"},
        {
            "rights": list(reversed(created["rights"])),
            "environments": created["environments"],
            "reason": "same",
        },
        {"valid_until": created["valid_until"], "reason": "same end"},
    ):
        refused = cast.api("case_lead").patch(url, body, format="json")
        assert refused.status_code == 400, body
        assert refused.json()["errors"] == [
            {
                "field": "grant",
                "message": "Nothing to change: give other rights, environments or an end date.",
            }
        ]
    assert AuditEvent.objects.count() == events
    assert Grant.objects.get(pk=created["id"]).version == 1


def test_revoke_via_api_keeps_history_and_the_past_stays_answerable(cast: Cast):
    created = cast.api("case_lead").post(GRANTS_URL, grant_body(), format="json").json()
    moment_granted = timezone.now()
    # Deputy narrows, then the case lead revokes.
    narrowed = cast.api("deputy").patch(
        f"/api/v1/grants/{created['id']}", {"rights": ["read"], "reason": "Search not needed"}, format="json"
    )
    assert narrowed.status_code == 200
    assert narrowed.json()["history"][-1]["kind"] == "narrowed"
    moment_narrowed = timezone.now()
    revoked = cast.api("case_lead").post(
        f"/api/v1/grants/{created['id']}/revoke", {"reason": "Investigation finished"}, format="json"
    )
    assert revoked.status_code == 200
    body = revoked.json()
    assert body["status"] == "revoked"
    assert body["revoked_by"] == "case_lead"
    assert [v["kind"] for v in body["history"]] == ["created", "narrowed", "revoked"]
    assert check(cast)["reason"] == "grant_revoked"
    # The history answers for each past moment what the grant was then.
    then = {a.user: a for a in access_at(cast.case, moment_granted)}
    assert then["investigator"].rights == ["read", "search"]
    assert then["investigator"].granted_by == "case_lead"
    assert {a.user: a for a in access_at(cast.case, moment_narrowed)}["investigator"].rights == ["read"]
    assert "investigator" not in {a.user for a in access_at(cast.case, timezone.now())}
    # Revoking twice is refused, stores nothing more.
    again = cast.api("case_lead").post(
        f"/api/v1/grants/{created['id']}/revoke", {"reason": "again"}, format="json"
    )
    assert again.status_code == 400
    assert GrantVersion.objects.filter(grant_id=created["id"]).count() == 3


def test_only_managers_of_the_case_may_revoke(cast: Cast):
    g = grant(cast)
    for persona, expected in [
        ("other_case_lead", 404),
        ("privacy_officer", 404),
        ("investigator", 404),
        ("hansken_production", 403),
    ]:
        response = cast.api(persona).post(f"/api/v1/grants/{g.pk}/revoke", {"reason": "x"}, format="json")
        assert response.status_code == expected, persona
    g.refresh_from_db()
    assert g.revoked_at is None


def test_sign_off_revokes_every_grant_of_the_person_on_the_case(cast: Cast):
    grant(cast, rights=["read"])
    grant(cast, rights=["export"])
    response = cast.api("case_lead").post(
        f"/api/v1/cases/{CASE_PROJECT_ID}/sign-off",
        {"person": "investigator", "reason": "Left the team"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json() == {"revoked": 2}
    assert not Grant.objects.filter(revoked_at__isnull=True).exists()
    assert check(cast)["reason"] == "grant_revoked"


@pytest.mark.parametrize(
    ("asker", "person", "words"),
    [
        # A deputy (or the lead) cannot sign the case lead off: the trail would say the lead left.
        ("deputy", "case_lead", "is the case lead"),
        ("case_lead", "case_lead", "is the case lead"),
        # Nobody to sign off: no grant, no deputyship. Nothing would change but the trail.
        ("case_lead", "privacy_officer", "nothing to sign off"),
        ("deputy", "engineer", "nothing to sign off"),
    ],
)
def test_a_sign_off_that_would_take_nothing_away_is_refused(cast: Cast, asker: str, person: str, words: str):
    events = AuditEvent.objects.count()
    response = cast.api(asker).post(
        f"/api/v1/cases/{CASE_PROJECT_ID}/sign-off", {"person": person, "reason": "x"}, format="json"
    )
    assert response.status_code == 400, response.content
    [error] = response.json()["errors"]
    assert error["field"] == "person" and words in error["message"]
    assert AuditEvent.objects.count() == events


def test_a_deputy_is_signed_off_and_the_deputyship_ends(cast: Cast):
    response = cast.api("case_lead").post(
        f"/api/v1/cases/{CASE_PROJECT_ID}/sign-off", {"person": "deputy", "reason": "Moved on"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"revoked": 0}
    event = AuditEvent.objects.filter(action="case.person_signed_off").get()
    assert event.details["deputyship_ended"] is True
    assert check(cast, user="deputy")["allowed"] is False


def test_access_request_approved_narrowed_and_seen_by_the_requester(cast: Cast):
    asked = cast.api("investigator").post(
        f"/api/v1/cases/{CASE_PROJECT_ID}/access-requests",
        {"rights": ["read", "export"], "valid_until": iso(20), "reason": "Need the chats"},
        format="json",
    )
    assert asked.status_code == 201, asked.content
    request_id = asked.json()["id"]
    pending = cast.api("case_lead").get("/api/v1/access-requests").json()["results"]
    assert [r["id"] for r in pending] == [request_id]
    # Approving with more than asked is refused.
    wider = cast.api("case_lead").post(
        f"/api/v1/access-requests/{request_id}/approve",
        {"rights": ["read", "export", "search"]},
        format="json",
    )
    assert wider.status_code == 400
    approved = cast.api("case_lead").post(
        f"/api/v1/access-requests/{request_id}/approve",
        {"rights": ["read"], "note": "Read only"},
        format="json",
    )
    assert approved.status_code == 201, approved.content
    assert approved.json()["rights"] == ["read"]
    mine = cast.api("investigator").get("/api/v1/access-requests").json()["results"]
    assert mine[0]["status"] == "approved"
    assert check(cast, action="read")["allowed"] is True
    assert check(cast, action="export")["reason"] == "right_missing"


def test_access_request_rejected_needs_a_note(cast: Cast):
    asked = (
        cast.api("investigator")
        .post(
            f"/api/v1/cases/{CASE_PROJECT_ID}/access-requests",
            {"rights": ["read"], "valid_until": iso(20), "reason": "Need it"},
            format="json",
        )
        .json()
    )
    assert (
        cast.api("case_lead")
        .post(f"/api/v1/access-requests/{asked['id']}/reject", {}, format="json")
        .status_code
        == 400
    )
    rejected = cast.api("case_lead").post(
        f"/api/v1/access-requests/{asked['id']}/reject", {"note": "Not on this team"}, format="json"
    )
    assert rejected.status_code == 200
    assert AccessRequest.objects.get(pk=asked["id"]).status == "rejected"
    assert (
        cast.api("other_case_lead")
        .post(f"/api/v1/access-requests/{asked['id']}/approve", {}, format="json")
        .status_code
        == 404
    )


def test_my_grants_lists_only_my_own(cast: Cast):
    grant(cast)
    grant(cast, grantee="engineer")
    mine = cast.api("investigator").get("/api/v1/me/grants").json()["results"]
    assert [g["grantee"] for g in mine] == ["investigator"]


def test_access_at_lists_deputies_as_they_were_at_that_moment(cast: Cast):
    from audit.actor import Actor
    from cases.services import case_remove_deputy

    while_deputy = timezone.now()
    case_remove_deputy(case=cast.case, deputy=cast["deputy"], by=Actor(username="case_lead"))
    after = timezone.now()
    then = {a.user: a for a in access_at(cast.case, while_deputy)}
    assert then["deputy"].basis == "deputy"
    assert then["deputy"].valid_until is not None
    assert "deputy" not in {a.user for a in access_at(cast.case, after)}
    response = cast.api("privacy_officer").get(
        "/api/v1/audit/access-at", {"project_id": str(CASE_PROJECT_ID), "at": while_deputy.isoformat()}
    )
    assert "deputy" in [row["user"] for row in response.json()["access"]]


def test_every_time_the_grants_api_answers_is_utc_with_z(cast: Cast):
    """One way of writing times across the API (the decision and audit APIs write UTC with "Z"),
    whatever the server's display time zone: a time sent with +01:00 comes back as the same moment
    in UTC."""
    sent = (timezone.now() + datetime.timedelta(days=30)).astimezone(
        datetime.timezone(datetime.timedelta(hours=1))
    )
    response = cast.api("case_lead").post(GRANTS_URL, grant_body(valid_until=sent.isoformat()), format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["valid_until"] == sent.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
    listed = cast.api("case_lead").get(GRANTS_URL).json()["results"]
    times = [
        value
        for record in [created, *listed, *(v for g in listed for v in g["history"])]
        for name, value in record.items()
        if name.endswith("_at") or name.startswith("valid_")
        if isinstance(value, str)
    ]
    assert len(times) >= 8
    assert all(
        t.endswith("Z") and datetime.datetime.fromisoformat(t).utcoffset() == datetime.timedelta(0)
        for t in times
    ), times
