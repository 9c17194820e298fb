"""The audit API: Hansken's usage events (``POST /api/v1/audit/events``), the review of the trail
(``GET /api/v1/audit/events``) and "who had access at a moment" (``GET /api/v1/audit/access-at``).

Who may do what is one table, ``EXPECTED``: only clients with ``audit:write`` post events (the
experiment client too); only the privacy officer, the security manager, and case leads and deputies
(for their own cases) read the trail; everyone else gets 403, anonymous callers 401.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from api_clients.services import personal_token_create
from audit.actor import Actor
from audit.models import AuditEvent, ChainHead
from audit.verify import verify_chain
from authz.services import grant_revoke
from cases.models import Case, Dataset
from people.services import person_create
from tests.audit_helpers import triggers_off
from tests.authz_helpers import grant
from tests.matrix import (
    ANONYMOUS,
    Endpoint,
    assert_status,
    assert_table_shape,
    call,
    cells,
    events_since,
    route_names,
)
from tests.personas import CASE_PROJECT_ID, IMAGE_ID, OTHER_PROJECT_ID, Cast

EVENTS = "/api/v1/audit/events"
ACCESS_AT = "/api/v1/audit/access-at"
UNKNOWN_PROJECT_ID = uuid.UUID("99999999-9999-4999-8999-999999999999")


def iso(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def usage(**overrides: Any) -> dict[str, Any]:
    event = {
        "event_id": str(uuid.uuid4()),
        "occurred_at": iso(timezone.now()),
        "user": "case_lead",
        "project_id": str(CASE_PROJECT_ID),
        "action": "read",
        "outcome": "success",
    }
    event.update(overrides)
    return {key: value for key, value in event.items() if value is not None}


def post(cast: Cast, events: list[dict[str, Any]], client: str = "hansken_production"):
    return cast.api(client).post(EVENTS, {"events": events}, format="json")


def state() -> tuple[int, tuple[int, str]]:
    head = ChainHead.objects.get()
    return AuditEvent.objects.count(), (head.sequence, head.hash)


# Who may call what: one table


ENDPOINTS: dict[str, Endpoint] = {
    "post": Endpoint("api-audit-events", "post", EVENTS, lambda _: {"events": [usage()]}),
    "review": Endpoint("api-audit-events", "get", EVENTS),
    "access_at": Endpoint(
        "api-audit-access-at",
        "get",
        ACCESS_AT,
        lambda _: {"project_id": str(CASE_PROJECT_ID), "at": iso(timezone.now())},
    ),
}
# fmt: off
# Columns: post events, review events, access-at.
EXPECTED: dict[str, tuple[int, ...]] = {
    "case_lead":          (403, 200, 200),
    "deputy":             (403, 200, 200),
    "other_case_lead":    (403, 200, 404),  # another's case: not found
    "investigator":       (403, 403, 403),
    "engineer":           (403, 403, 403),
    "operator":           (403, 403, 403),
    "privacy_officer":    (403, 200, 200),
    "security_manager":   (403, 200, 200),
    "administrator":      (403, 403, 403),
    "hansken_production": (201, 403, 403),
    "hansken_experiment": (201, 403, 403),
    ANONYMOUS:            (401, 401, 401),
}
# fmt: on


def test_the_table_has_a_row_for_every_caller_and_a_column_for_every_audit_route():
    assert_table_shape(EXPECTED, ENDPOINTS)
    assert {e.url_name for e in ENDPOINTS.values()} == route_names("audit.api.views")


@pytest.mark.parametrize(("caller", "endpoint", "expected"), cells(EXPECTED, ENDPOINTS))
def test_it_answers_each_caller_as_the_table_says(cast: Cast, caller: str, endpoint: str, expected: int):
    before = state()
    response = call(cast, caller, ENDPOINTS[endpoint])
    assert_status(response, expected)
    if expected >= 400:
        assert state() == before  # a refusal stores nothing, not even an opening of the trail
        return
    new = events_since(before[1][0])
    if endpoint == "post":
        assert [event.action for event in new] == ["hansken.read"]
        assert new[0].client_name == caller
    else:
        assert [event.action for event in new] == ["audit.viewed"]
        assert new[0].actor == caller
        assert new[0].details["view"] == ("events" if endpoint == "review" else "access_at")


# Usage events


def test_it_stores_usage_events_with_the_basis_of_each_access(cast: Cast):
    held = grant(cast, grantee="investigator", environments=["production"])
    events = [
        usage(user="investigator", action="search", details={"query": "type:email", "hits": 12}),
        usage(user="case_lead"),
        usage(user="deputy", trace_uid=f"{IMAGE_ID}:0-3-1", action="export", outcome="failure"),
        usage(user="engineer"),
        usage(user="nobody-we-know"),
        usage(user="investigator", project_id=str(UNKNOWN_PROJECT_ID)),
    ]
    response = post(cast, events)
    assert response.status_code == 201, response.content
    assert response.json() == {"accepted": 6, "duplicates": 0}
    stored = {str(e.event_id): e for e in AuditEvent.objects.filter(action__startswith="hansken.")}
    rows = [stored[event["event_id"]] for event in events]
    assert [(r.actor, r.basis, r.grant_id) for r in rows] == [
        ("investigator", "grant", held.pk),
        ("case_lead", "case_lead", None),
        ("deputy", "case_lead", None),
        ("engineer", "no_grant", None),
        ("nobody-we-know", "unknown_user", None),
        ("investigator", "unknown_project", None),
    ]
    first = rows[0]
    assert first.action == "hansken.search"
    assert first.details == {"query": "type:email", "hits": 12}
    assert (first.client_name, first.environment, first.channel, first.on_behalf_of) == (
        "hansken_production",
        "production",
        "api",
        "",
    )
    assert first.actor_role == "investigator"
    assert first.source_address == "127.0.0.1"
    assert first.request_id
    assert first.occurred_at == datetime.datetime.fromisoformat(events[0]["occurred_at"])
    assert (rows[2].image_id, rows[2].trace_uid, rows[2].outcome) == (
        IMAGE_ID,
        f"{IMAGE_ID}:0-3-1",
        "failure",
    )
    assert verify_chain(against_checkpoints=False).ok


def test_it_records_the_grant_as_it_was_when_the_event_happened(cast: Cast):
    before_grant = timezone.now() - datetime.timedelta(minutes=10)
    held = grant(cast, grantee="investigator", environments=["production"])
    events = [
        usage(user="investigator", occurred_at=iso(before_grant)),  # before the grant existed
        usage(user="investigator"),  # while it held
    ]
    # The experiment client's events: the grant covers production only.
    assert post(cast, events[:1]).status_code == 201
    assert post(cast, events[1:]).status_code == 201
    in_experiment = usage(user="investigator")
    assert post(cast, [in_experiment], client="hansken_experiment").status_code == 201
    grant_revoke(grant=held, reason="Left the team", revoked_by=cast["case_lead"], by=_actor())
    after_revoke = usage(user="investigator")
    assert post(cast, [after_revoke]).status_code == 201

    def basis(event: dict[str, Any]) -> tuple[str, int | None]:
        row = AuditEvent.objects.get(event_id=event["event_id"])
        return row.basis, row.grant_id

    assert basis(events[0]) == ("no_grant", None)
    assert basis(events[1]) == ("grant", held.pk)
    assert basis(in_experiment) == ("no_grant", None)
    assert AuditEvent.objects.get(event_id=in_experiment["event_id"]).environment == "experiment"
    assert basis(after_revoke) == ("no_grant", None)


def _actor():
    from audit.actor import Actor

    return Actor(username="case_lead", channel="test")


def test_it_counts_an_event_sent_before_as_a_duplicate_and_stores_it_once(cast: Cast):
    first, second = usage(), usage()
    assert post(cast, [first, second]).json() == {"accepted": 2, "duplicates": 0}
    count = AuditEvent.objects.count()
    # The same content again (the same id with other content is a conflict: tests/test_real_access.py).
    again = post(cast, [first, dict(first), second, (third := usage()), dict(third)])
    assert again.status_code == 201
    assert again.json() == {"accepted": 1, "duplicates": 4}
    assert AuditEvent.objects.count() == count + 1
    assert AuditEvent.objects.filter(event_id=first["event_id"]).count() == 1


def test_it_moves_last_access_forward_once_per_request_and_never_back(cast: Cast):
    case = Case.objects.get(project_id=CASE_PROJECT_ID)
    dataset = Dataset.objects.get(image_id=IMAGE_ID)
    other = Case.objects.get(project_id=OTHER_PROJECT_ID)
    assert case.last_accessed_at is None and dataset.last_accessed_at is None
    t1 = timezone.now() - datetime.timedelta(hours=3)
    t2 = timezone.now() - datetime.timedelta(hours=2)
    response = post(
        cast,
        [
            usage(occurred_at=iso(t1), image_id=str(IMAGE_ID)),
            usage(occurred_at=iso(t2), trace_uid=f"{IMAGE_ID}:0-1"),
            usage(
                occurred_at=iso(t2 + datetime.timedelta(minutes=5)), outcome="failure", image_id=str(IMAGE_ID)
            ),
            # The image does not belong to the other case: that case moves, the dataset does not.
            usage(
                occurred_at=iso(t2 + datetime.timedelta(minutes=9)),
                user="other_case_lead",
                project_id=str(OTHER_PROJECT_ID),
                image_id=str(IMAGE_ID),
            ),
        ],
    )
    assert response.status_code == 201, response.content
    case.refresh_from_db()
    dataset.refresh_from_db()
    other.refresh_from_db()
    assert case.last_accessed_at == t2  # the failed attempt is not an access
    assert dataset.last_accessed_at == t2
    assert other.last_accessed_at == t2 + datetime.timedelta(minutes=9)
    assert post(cast, [usage(occurred_at=iso(t1), image_id=str(IMAGE_ID))]).status_code == 201
    case.refresh_from_db()
    dataset.refresh_from_db()
    assert (case.last_accessed_at, dataset.last_accessed_at) == (t2, t2)


def test_it_takes_the_chain_lock_once_and_a_fixed_number_of_queries_per_request(cast: Cast):
    """Queries do not grow with the batch (only SQLite's INSERT batches do; PostgreSQL uses one COPY)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    names = ("case_lead", "deputy", "investigator", "engineer")
    post(cast, [usage()])  # the client's last_used_at is written at most once a minute: not in the count
    counts = []
    for size in (10, 100):
        batch = [usage(user=name) for _ in range(size) for name in names]
        with CaptureQueriesContext(connection) as queries:
            assert post(cast, batch).json() == {"accepted": 4 * size, "duplicates": 0}
        statements = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith("INSERT INTO")]
        assert sum("audit_chainhead" in sql and "FOR UPDATE" in sql for sql in statements) <= 1
        assert sum(sql.startswith("UPDATE") and "audit_chainhead" in sql for sql in statements) == 1
        counts.append(len(statements))
    assert counts[0] == counts[1] <= 16
    assert verify_chain(against_checkpoints=False).ok


BAD_EVENTS: list[tuple[str, dict[str, Any], str]] = [
    ("missing event_id", usage(event_id=None), "event_id"),
    ("event_id not a UUID", usage(event_id="42"), "event_id"),
    ("event_id a number", usage(event_id=42), "event_id"),
    ("time without offset", usage(occurred_at="2026-01-31T12:00:00"), "occurred_at"),
    ("time not a time", usage(occurred_at="yesterday"), "occurred_at"),
    (
        "time in the future",
        usage(occurred_at=iso(timezone.now() + datetime.timedelta(days=1))),
        "occurred_at",
    ),
    ("time before Hansken", usage(occurred_at="0001-01-01T00:00:00+14:00"), "occurred_at"),
    ("empty user", usage(user="  "), "user"),
    ("user not text", usage(user=["case_lead"]), "user"),
    ("user with a control character", usage(user="case_lead\n"), "user"),
    ("missing project", usage(project_id=None), "project_id"),
    ("empty action", usage(action=""), "action"),
    ("action too long", usage(action="x" * 93), "action"),
    ("unknown outcome", usage(outcome="denied"), "outcome"),
    ("image not a UUID", usage(image_id="laptop"), "image_id"),
    ("trace uid without id", usage(trace_uid=str(IMAGE_ID)), "trace_uid"),
    ("trace uid with a bad id", usage(trace_uid=f"{IMAGE_ID}:0-a"), "trace_uid"),
    ("trace uid not in the image", usage(image_id=str(uuid.uuid4()), trace_uid=f"{IMAGE_ID}:0"), "trace_uid"),
    ("details not an object", usage(details=["a"]), "details"),
    ("NUL in details", usage(details={"note": "a\u0000b"}), "details.note"),
    ("huge float in details", usage(details={"size": 1e300}), "details.size"),
    (
        "details nested too deep",
        usage(details={"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {}}}}}}}}}),
        "details.a.b.c.d.e.f.g.h",
    ),
    ("unknown field", usage(severity="high"), "severity"),
]


@pytest.mark.parametrize(("event", "field"), [pytest.param(e, f, id=name) for name, e, f in BAD_EVENTS])
def test_one_bad_event_rejects_the_whole_request_naming_it(cast: Cast, event: dict[str, Any], field: str):
    before = state()
    case = Case.objects.get(project_id=CASE_PROJECT_ID)
    response = post(cast, [usage(), usage(), event, usage()])
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert len(errors) == 1
    assert (errors[0]["index"], errors[0]["field"]) == (2, field)
    assert errors[0]["message"]
    assert state() == before
    case.refresh_from_db()
    assert case.last_accessed_at is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"events": []}, "events", id="no events"),
        pytest.param({"events": {"a": 1}}, "events", id="events not a list"),
        pytest.param({}, "events", id="no events key"),
        pytest.param({"events": [usage()], "batch": 1}, "batch", id="unknown key"),
        pytest.param([usage()], None, id="a list, not an object"),
        pytest.param({"events": ["not an object"]}, None, id="an event not an object"),
    ],
)
def test_it_refuses_a_malformed_request(cast: Cast, body: Any, field: str | None):
    before = state()
    response = cast.api("hansken_production").post(EVENTS, body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field
    assert state() == before


def test_it_refuses_more_than_ten_thousand_events_and_invalid_json(cast: Cast):
    before = state()
    event = usage()
    response = post(cast, [event] * 10_001)
    assert response.status_code == 400
    assert "10,000" in response.json()["errors"][0]["message"]
    api = cast.api("hansken_production")
    for raw in ('{"events": [', '{"events": [{"details": {"x": NaN}}]}'):
        response = api.post(EVENTS, raw, content_type="application/json")
        assert response.status_code == 400, raw
    assert api.post(EVENTS, "events=1", content_type="text/plain").status_code == 415
    assert state() == before


def test_it_reports_every_bad_event_up_to_a_hundred(cast: Cast):
    response = post(cast, [usage(outcome="maybe")] * 150)
    errors = response.json()["errors"]
    assert len(errors) == 100
    assert [error["index"] for error in errors] == list(range(100))


# Review of the trail


def _ingest(cast: Cast) -> None:
    moments = [timezone.now() - datetime.timedelta(hours=h) for h in (5, 4, 3)]
    post(
        cast,
        [
            usage(user="case_lead", occurred_at=iso(moments[0])),
            usage(user="investigator", occurred_at=iso(moments[1]), outcome="failure"),
            usage(user="other_case_lead", project_id=str(OTHER_PROJECT_ID), occurred_at=iso(moments[2])),
        ],
    )


def test_reviewers_see_everything_and_case_leads_only_their_own_cases(cast: Cast):
    _ingest(cast)
    everything = cast.api("privacy_officer").get(EVENTS, {"limit": 1000}).json()["results"]
    assert {e["project_id"] for e in everything} >= {str(CASE_PROJECT_ID), str(OTHER_PROJECT_ID), None}
    own = cast.api("case_lead").get(EVENTS, {"limit": 1000}).json()["results"]
    assert own and {e["project_id"] for e in own} == {str(CASE_PROJECT_ID)}
    assert {e["project_id"] for e in cast.api("deputy").get(EVENTS).json()["results"]} == {
        str(CASE_PROJECT_ID)
    }
    assert cast.api("case_lead").get(EVENTS, {"project_id": str(OTHER_PROJECT_ID)}).status_code == 404
    # Events of unknown projects are evidence too: the reviewers see them.
    post(cast, [usage(project_id=str(UNKNOWN_PROJECT_ID))])
    found = (
        cast.api("security_manager").get(EVENTS, {"project_id": str(UNKNOWN_PROJECT_ID)}).json()["results"]
    )
    assert [e["basis"] for e in found] == ["unknown_project"]


def test_it_filters_and_pages_newest_first_with_an_opaque_cursor(cast: Cast):
    _ingest(cast)
    api = cast.api("privacy_officer")
    hansken = api.get(EVENTS, {"project_id": str(CASE_PROJECT_ID), "action": "hansken.read"}).json()[
        "results"
    ]
    assert [e["actor"] for e in hansken] == ["investigator", "case_lead"]
    assert (
        api.get(EVENTS, {"user": "investigator", "outcome": "failure"}).json()["results"][0]["outcome"]
        == "failure"
    )
    since = iso(timezone.now() - datetime.timedelta(hours=4, minutes=30))
    until = iso(timezone.now() - datetime.timedelta(hours=3, minutes=30))
    window = api.get(EVENTS, {"action": "hansken.read", "since": since, "until": until}).json()["results"]
    assert [e["actor"] for e in window] == ["investigator"]
    # A "+" offset sent unescaped arrives as a space; it still counts as the offset.
    plus = (timezone.now() - datetime.timedelta(hours=4, minutes=30)).astimezone(
        datetime.timezone(datetime.timedelta(hours=2))
    )
    spaced = api.get(f"{EVENTS}?action=hansken.read&since={plus.isoformat()}")
    assert spaced.status_code == 200
    assert len(spaced.json()["results"]) == 2

    total = AuditEvent.objects.count()
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = api.get(EVENTS, params).json()
        seen += [e["sequence"] for e in page["results"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    # Each page's opening is audited, after its read: the pages cover the trail as it was at the start.
    assert seen[:total] == sorted(seen[:total], reverse=True)
    assert set(range(1, total + 1)) <= set(seen)
    assert len(seen) == len(set(seen))
    viewed = AuditEvent.objects.filter(action="audit.viewed", actor="privacy_officer").order_by("-sequence")
    assert viewed.count() >= pages
    assert "cursor" in viewed[0].details["filters"]


def test_every_opening_is_audited_with_its_filters(cast: Cast):
    since = "2026-01-01T00:00:00Z"
    response = cast.api("case_lead").get(EVENTS, {"project_id": str(CASE_PROJECT_ID), "since": since})
    assert response.status_code == 200
    event = AuditEvent.objects.latest("sequence")
    assert event.action == "audit.viewed"
    assert event.actor == "case_lead"
    assert event.project_id == CASE_PROJECT_ID
    assert event.details == {
        "view": "events",
        "filters": {"project_id": str(CASE_PROJECT_ID), "since": "2026-01-01T00:00:00+00:00"},
    }
    assert all(e["sequence"] < event.sequence for e in response.json()["results"])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"project_id": "case-1"}, "project_id"),
        ({"outcome": "maybe"}, "outcome"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-01-01T00:00:00"}, "since"),
        ({"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "until"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "YmVmb3JlOi0x"}, "cursor"),  # "before:-1", well encoded but not ours
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"user": "u" * 201}, "user"),
        ({"projectid": str(CASE_PROJECT_ID)}, "projectid"),
    ],
)
def test_it_refuses_bad_review_queries(cast: Cast, params: dict[str, str], field: str):
    before = state()
    response = cast.api("privacy_officer").get(EVENTS, params)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field
    assert state() == before


# Who had access at a moment


def test_it_answers_who_had_access_at_a_moment_as_it_was_then(cast: Cast):
    held = grant(cast, grantee="investigator", rights=["read"], environments=["production", "experiment"])
    during = timezone.now()
    grant_revoke(grant=held, reason="Left the team", revoked_by=cast["case_lead"], by=_actor())
    after = timezone.now() + datetime.timedelta(seconds=1)
    api = cast.api("privacy_officer")

    then = api.get(ACCESS_AT, {"project_id": str(CASE_PROJECT_ID), "at": iso(during)})
    assert then.status_code == 200
    access = then.json()["access"]
    fields = {
        "user",
        "rights",
        "environments",
        "grant_id",
        "granted_by",
        "granted_at",
        "valid_from",
        "valid_until",
        "reason",
    }
    assert all(set(row) == fields | {"could_act", "blocked_by"} for row in access)
    by_user = {row["user"]: row for row in access}
    assert by_user["investigator"]["grant_id"] == held.pk
    assert by_user["investigator"]["rights"] == ["read"]
    assert sorted(by_user["investigator"]["environments"]) == ["experiment", "production"]
    assert by_user["investigator"]["granted_by"] == "case_lead"
    assert by_user["investigator"]["reason"] == "Needed for the investigation"
    assert by_user["case_lead"]["grant_id"] is None

    now = api.get(ACCESS_AT, {"project_id": str(CASE_PROJECT_ID), "at": iso(after)}).json()["access"]
    assert "investigator" not in {row["user"] for row in now}
    opened = AuditEvent.objects.filter(action="audit.viewed", details__view="access_at")
    assert opened.count() == 2


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"at": "2026-01-01T00:00:00Z"}, 400, "project_id"),
        ({"project_id": str(CASE_PROJECT_ID)}, 400, "at"),
        ({"project_id": "x", "at": "2026-01-01T00:00:00Z"}, 400, "project_id"),
        ({"project_id": str(CASE_PROJECT_ID), "at": "2026-01-01"}, 400, "at"),
        ({"project_id": str(CASE_PROJECT_ID), "at": "2026-01-01T00:00:00Z", "user": "x"}, 400, "user"),
        ({"project_id": str(UNKNOWN_PROJECT_ID), "at": "2026-01-01T00:00:00Z"}, 404, None),
    ],
)
def test_it_refuses_bad_access_at_queries(cast: Cast, params: dict[str, str], status: int, field: str | None):
    before = state()
    response = cast.api("security_manager").get(ACCESS_AT, params)
    assert response.status_code == status
    assert response.json()["errors"][0]["field"] == field
    assert state() == before


def test_a_case_lead_cannot_ask_about_another_case(cast: Cast):
    response = cast.api("case_lead").get(
        ACCESS_AT, {"project_id": str(OTHER_PROJECT_ID), "at": iso(timezone.now())}
    )
    assert response.status_code == 404


def test_a_case_lead_who_leads_no_case_now_gets_404_for_a_case_not_403(cast: Cast):
    """The contract: an object outside the caller's scope is 404. A case lead's scope may be empty
    (a deputyship ended, no case of their own yet); they are still a case lead, not a stranger."""
    idle = person_create(
        username="lead.idle",
        roles=["case_lead"],
        screened_until=timezone.localdate() + datetime.timedelta(days=30),
        by=Actor.command("tests"),
    )
    _, token = personal_token_create(person=idle, by=Actor.command("tests"))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    asked = {"project_id": str(CASE_PROJECT_ID), "at": iso(timezone.now())}
    assert api.get(ACCESS_AT, asked).status_code == 404
    assert api.get(EVENTS, {"project_id": str(CASE_PROJECT_ID)}).status_code == 404
    everything = api.get(EVENTS)
    assert everything.status_code == 200 and everything.json()["results"] == []
    # Without the role, someone with no case to review is no reviewer at all.
    assert cast.api("investigator").get(ACCESS_AT, asked).status_code == 403


def test_a_tampered_row_is_still_shown_as_stored(cast: Cast):
    """The review shows what is in the table; the chain (audit_verify) is what says it was changed."""
    _ingest(cast)
    target = AuditEvent.objects.filter(action="hansken.read").earliest("sequence")
    with triggers_off():
        AuditEvent.objects.filter(pk=target.pk).update(actor="mallory")
    results = cast.api("privacy_officer").get(EVENTS, {"user": "mallory"}).json()["results"]
    assert [e["sequence"] for e in results] == [target.sequence]
    assert verify_chain(against_checkpoints=False).broken_at == target.sequence


def test_control_characters_in_review_filters_are_refused(cast):
    response = cast.api("privacy_officer").get("/api/v1/audit/events", {"user": "a\x00b"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "user"


def test_the_contracts_largest_batch_of_usage_events_is_accepted(cast):
    import uuid as _uuid

    events = [
        {
            "event_id": str(_uuid.uuid4()),
            "occurred_at": "2026-11-01T10:00:00Z",
            "user": "investigator",
            "project_id": "11111111-1111-4111-8111-111111111111",
            "image_id": "33333333-3333-4333-8333-333333333333",
            "trace_uid": f"33333333-3333-4333-8333-333333333333:0-{i}",
            "action": "read",
            "outcome": "success",
            "details": {"query": "from:someone@example.org " * 4, "hits": i},
        }
        for i in range(10_000)
    ]
    response = cast.api("hansken_production").post("/api/v1/audit/events", {"events": events}, format="json")
    assert response.status_code == 201, response.content[:300]
    assert response.json() == {"accepted": 10_000, "duplicates": 0}


# Issue 11, item 9: the review filter finds what Hansken sent


def test_the_action_filter_finds_usage_events_by_the_action_hansken_sent(cast: Cast):
    _ingest(cast)
    post(cast, [usage(user="case_lead", action="export")])
    api = cast.api("privacy_officer")

    def actors(action: str) -> list[str]:
        response = api.get(EVENTS, {"action": action, "limit": "1000"})
        assert response.status_code == 200, response.content
        return [e["actor"] for e in response.json()["results"]]

    stored_as = actors("hansken.read")
    assert stored_as == ["other_case_lead", "investigator", "case_lead"]
    # As Hansken sent it: the same events, with their stored code.
    assert actors("read") == stored_as
    assert {e["action"] for e in api.get(EVENTS, {"action": "read"}).json()["results"]} == {"hansken.read"}
    assert actors("export") == ["case_lead"] == actors("hansken.export")
    # Governance codes are found as before, and a filter on an action nobody took finds nothing.
    assert [e["action"] for e in api.get(EVENTS, {"action": "case.created"}).json()["results"]] == [
        "case.created",
        "case.created",
    ]
    assert actors("fly") == []
    # The other filters still narrow it, and the opening records the filter as typed.
    assert actors("read") and cast.api("case_lead").get(EVENTS, {"action": "read"}).json()["results"]
    own = [e["project_id"] for e in cast.api("case_lead").get(EVENTS, {"action": "read"}).json()["results"]]
    assert set(own) == {str(CASE_PROJECT_ID)}
    viewed = AuditEvent.objects.filter(action="audit.viewed", actor="case_lead").order_by("-sequence").first()
    assert viewed is not None and viewed.details["filters"] == {"action": "read"}


def test_the_action_filter_takes_both_codes_when_both_occur(cast: Cast):
    """A governance code that Hansken also sent as an action (stored with the prefix): both."""
    post(cast, [usage(user="case_lead", action="case.created")])
    found = cast.api("privacy_officer").get(EVENTS, {"action": "case.created"}).json()["results"]
    assert sorted(e["action"] for e in found) == ["case.created", "case.created", "hansken.case.created"]
