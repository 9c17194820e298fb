"""Every route of the grants API and of the privacy statement's API, tried by every persona and by an
anonymous caller (as ``test_api_permission_matrix`` does for cases), with a route-coverage check: a
new route of either module without its column fails ``test_it_covers_every_route``.

The world: the cast, one grant (the investigator on the case, granted by its lead), one open access
request (the engineer's, on the case) and version 1 of the privacy statement, published.

Where the rules come from: grants and access requests are for people only (``PeopleOnly``: a client
is 403, whatever its scopes); a grant or request is managed through the scoping door
(``CasePurpose.MANAGE_ACCESS``: the case lead and deputies; anyone else 404, so another case's lead
cannot even learn it exists); a case's grants are listed for its managers and the reviewers
(``REVIEW_AUDIT``); a grant is shown to those and to its grantee. The privacy statement and its
versions are public; an acknowledgement takes scope ``audit:write`` or a person acknowledging for
himself.

A refused call changes no row: every row of every table these routes write is compared, column by
column, before and after (not counts).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from api_clients.services import api_client_create
from audit.actor import Actor
from audit.models import AuditEvent
from authz.models import AccessRequest, Grant, GrantVersion
from authz.services import access_request_create
from notifications.models import Notification
from privacy_statement.models import Acknowledgement, StatementVersion
from tests.authz_helpers import grant
from tests.matrix import (
    ANONYMOUS,
    Endpoint,
    assert_status,
    assert_table_shape,
    call,
    cells,
    events_since,
    last_sequence,
    route_names,
)
from tests.personas import CASE_PROJECT_ID, Cast
from tests.privacy_helpers import publish


@dataclass
class World:
    cast: Cast
    grant: Grant
    request: AccessRequest
    caller: str = ""


def _in_days(days: int) -> str:
    return (timezone.now() + datetime.timedelta(days=days)).astimezone(datetime.UTC).isoformat()


def _acknowledgement(world: World) -> dict[str, Any]:
    person = world.caller if world.caller in world.cast.people else "investigator"
    return {"user": person, "version": "1"}


CASE = f"/api/v1/cases/{CASE_PROJECT_ID}"
STATEMENT = "/api/v1/privacy-statement"
ENDPOINTS: dict[str, Endpoint] = {
    "list_grants": Endpoint("api-case-grants", "get", f"{CASE}/grants"),
    "create_grant": Endpoint(
        "api-case-grants",
        "post",
        f"{CASE}/grants",
        lambda w: {
            "grantee": "operator",
            "rights": ["read"],
            "environments": ["production"],
            "valid_until": _in_days(20),
            "reason": "Checks the import",
        },
    ),
    "view_grant": Endpoint("api-grant-detail", "get", lambda w: f"/api/v1/grants/{w.grant.pk}"),
    "change_grant": Endpoint(
        "api-grant-detail",
        "patch",
        lambda w: f"/api/v1/grants/{w.grant.pk}",
        lambda w: {"valid_until": _in_days(10), "reason": "The hearing moved"},
    ),
    "revoke_grant": Endpoint(
        "api-grant-revoke",
        "post",
        lambda w: f"/api/v1/grants/{w.grant.pk}/revoke",
        lambda w: {"reason": "Left the investigation"},
    ),
    "sign_off": Endpoint(
        "api-case-sign-off",
        "post",
        f"{CASE}/sign-off",
        lambda w: {"person": "investigator", "reason": "Left the team"},
    ),
    "list_case_requests": Endpoint("api-case-access-requests", "get", f"{CASE}/access-requests"),
    "approve_request": Endpoint(
        "api-access-request-approve",
        "post",
        lambda w: f"/api/v1/access-requests/{w.request.pk}/approve",
        lambda w: {"note": "Agreed"},
    ),
    "reject_request": Endpoint(
        "api-access-request-reject",
        "post",
        lambda w: f"/api/v1/access-requests/{w.request.pk}/reject",
        lambda w: {"note": "Not needed for this case"},
    ),
    "my_grants": Endpoint("api-my-grants", "get", "/api/v1/me/grants"),
    "my_requests": Endpoint("api-access-requests", "get", "/api/v1/access-requests"),
    "statement": Endpoint("api-privacy-statement", "get", "/api/v1/privacy-statement?lang=en"),
    "statement_versions": Endpoint(
        "api-privacy-statement-versions", "get", "/api/v1/privacy-statement/versions"
    ),
    "acknowledge": Endpoint(
        "api-privacy-statement-acknowledgements",
        "post",
        "/api/v1/privacy-statement/acknowledgements",
        _acknowledgement,
    ),
}

# fmt: off
# Columns: list_grants, create_grant, view_grant, change_grant, revoke_grant, sign_off,
# list_case_requests, approve_request, reject_request, my_grants, my_requests, statement,
# statement_versions, acknowledge.
EXPECTED: dict[str, tuple[int, ...]] = {
    "case_lead":          (200, 201, 200, 200, 200, 200, 200, 201, 200, 200, 200, 200, 200, 201),
    "deputy":             (200, 201, 200, 200, 200, 200, 200, 201, 200, 200, 200, 200, 200, 201),
    "other_case_lead":    (404, 404, 404, 404, 404, 404, 404, 404, 404, 200, 200, 200, 200, 201),
    "investigator":       (404, 404, 200, 404, 404, 404, 404, 404, 404, 200, 200, 200, 200, 201),
    "engineer":           (404, 404, 404, 404, 404, 404, 404, 404, 404, 200, 200, 200, 200, 201),
    "operator":           (404, 404, 404, 404, 404, 404, 404, 404, 404, 200, 200, 200, 200, 201),
    "privacy_officer":    (200, 404, 200, 404, 404, 404, 404, 404, 404, 200, 200, 200, 200, 201),
    "security_manager":   (200, 404, 200, 404, 404, 404, 404, 404, 404, 200, 200, 200, 200, 201),
    "administrator":      (404, 404, 404, 404, 404, 404, 404, 404, 404, 200, 200, 200, 200, 201),
    "hansken_production": (403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200, 200, 201),
    "hansken_experiment": (403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200, 200, 201),
    ANONYMOUS:            (401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 200, 200, 401),
}
# fmt: on

# The models whose rows these routes write, with their audit events and notifications.
WRITTEN = (Grant, GrantVersion, AccessRequest, Acknowledgement, StatementVersion, Notification, AuditEvent)


def rows() -> dict[str, list[dict[str, Any]]]:
    """Every row of every written table, every column: what a refused call must leave as it was."""
    return {
        model.__name__: [
            {field.attname: getattr(row, field.attname) for field in model._meta.concrete_fields}
            for row in model.objects.order_by("pk")
        ]
        for model in WRITTEN
    }


@pytest.fixture
def world(cast: Cast) -> World:
    publish(cast)
    request = access_request_create(
        case=cast.case,
        requester=cast["engineer"],
        rights=["read", "search"],
        environments=["production"],
        valid_until=timezone.now() + datetime.timedelta(days=60),
        reason="Analysing the chat exports",
        by=Actor(username="engineer", channel="test"),
    )
    return World(cast, grant(cast), request)


def test_it_has_one_row_per_caller_and_one_column_per_endpoint():
    assert_table_shape(EXPECTED, ENDPOINTS)


def test_it_covers_every_route():
    # A new grant, access-request or privacy-statement route must get its column here, or this fails.
    assert {endpoint.url_name for endpoint in ENDPOINTS.values()} == route_names(
        "authz.api.views", "privacy_statement.api.views"
    )


def _actor(caller: str) -> str:
    return f"client:{caller}" if caller.startswith("hansken_") else caller


@pytest.mark.parametrize(("caller", "endpoint", "expected"), cells(EXPECTED, ENDPOINTS))
def test_it_answers_each_caller_as_the_table_says(world: World, caller: str, endpoint: str, expected: int):
    world.caller = caller
    spec = ENDPOINTS[endpoint]
    before = rows()
    sequence = last_sequence()

    response = call(world.cast, caller, spec, world)

    assert_status(response, expected)
    if expected >= 400 or spec.method == "get":
        # Refused, or only read: every row as it was, not even an audit event.
        assert rows() == before
        if expected == 200:
            _check_read(world, caller, endpoint, response.json())
        return
    after = rows()
    assert after != before
    new_events = events_since(sequence)
    assert new_events, "a write without its audit event"
    assert {event.actor for event in new_events} == {_actor(caller)}
    _check_write(world, caller, endpoint, response.json())


def _check_read(world: World, caller: str, endpoint: str, data: dict[str, Any]) -> None:
    if endpoint == "list_grants":
        assert [g["id"] for g in data["results"]] == [world.grant.pk]
    elif endpoint == "view_grant":
        assert data["id"] == world.grant.pk and data["grantee"] == "investigator"
    elif endpoint == "list_case_requests":
        assert [r["id"] for r in data["results"]] == [world.request.pk]
    elif endpoint == "my_grants":
        expected = [world.grant.pk] if caller == "investigator" else []
        assert [g["id"] for g in data["results"]] == expected
    elif endpoint == "my_requests":
        # The requester sees his own; the case's managers see its open requests; nobody else any.
        mine = caller in ("engineer", "case_lead", "deputy")
        assert [r["id"] for r in data["results"]] == ([world.request.pk] if mine else [])
    elif endpoint == "statement":
        assert data["version"] == "1" and data["language"] == "en"
    elif endpoint == "statement_versions":
        assert [v["version"] for v in data["results"]] == ["1"]
    else:  # pragma: no cover - the table has only these reads
        raise AssertionError(endpoint)


def _check_write(world: World, caller: str, endpoint: str, data: dict[str, Any]) -> None:
    if endpoint == "create_grant":
        created = Grant.objects.get(pk=data["id"])
        assert created.grantee.username == "operator"
        assert created.granted_by is not None and created.granted_by.username == caller
    elif endpoint == "change_grant":
        assert GrantVersion.objects.filter(grant=world.grant).count() == 2
    elif endpoint in ("revoke_grant", "sign_off"):
        world.grant.refresh_from_db()
        revoked_by = world.grant.revoked_by
        assert world.grant.revoked_at is not None and revoked_by is not None and revoked_by.username == caller
    elif endpoint == "approve_request":
        world.request.refresh_from_db()
        answered_by = world.request.answered_by
        assert (
            world.request.status == "approved" and answered_by is not None and answered_by.username == caller
        )
        assert Grant.objects.get(pk=data["id"]).grantee.username == "engineer"
    elif endpoint == "reject_request":
        world.request.refresh_from_db()
        answered_by = world.request.answered_by
        assert (
            world.request.status == "rejected" and answered_by is not None and answered_by.username == caller
        )
    elif endpoint == "acknowledge":
        person = _acknowledgement(world)["user"]
        assert data["user"] == person and data["created"] is True
        assert Acknowledgement.objects.filter(person__username=person, version__number=1).count() == 1
    else:  # pragma: no cover - the table has only these writes
        raise AssertionError(endpoint)


# A production client with a scope that opens none of these routes: refused (403) wherever a token
# matters, and nothing changes; the public statement stays public.
WRONG_SCOPE_EXPECTED = {
    name: (200 if name in ("statement", "statement_versions") else 403) for name in ENDPOINTS
}


def test_a_client_with_a_wrong_scope_is_refused_and_changes_no_row(world: World):
    _, token = api_client_create(
        name="decisions-only", environment="production", scopes=["authz:check"], by=Actor.command("tests")
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    before = rows()
    world.caller = "decisions-only"
    answered = {
        name: getattr(client, spec.method)(spec.url(world), spec.data(world), format="json").status_code
        for name, spec in ENDPOINTS.items()
    }
    assert answered == WRONG_SCOPE_EXPECTED
    assert rows() == before


def test_the_row_comparison_sees_a_change_of_one_column(world: World):
    """The comparison above would notice a refused call that changed any column of any row."""
    before = rows()
    Grant.objects.filter(pk=world.grant.pk).update(reason="changed behind the services' back")
    assert len(rows()["Grant"]) == len(before["Grant"])  # a count would not see it
    assert rows() != before
