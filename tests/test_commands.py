"""The provisioning commands of the contract: ``create_person`` and ``create_api_client``.

Each prints its token, if any, alone on the last line of standard output; a refused command exits with
a CommandError and stores nothing.
"""

from __future__ import annotations

import json
import re
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from api_clients.models import ApiClient, PersonalToken
from audit.models import AuditEvent
from people.models import Profile
from tests.personas import CASE_PROJECT_ID, Cast

CASE_URL = f"/api/v1/cases/{CASE_PROJECT_ID}"
TOKEN_LINE = re.compile(r"^hg[cp]_[A-Za-z0-9_-]{40,}$")
PASSWORD = "Amber-Kite-Lantern-47"


def run(*args: str) -> list[str]:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue().splitlines()


def last_line_token(lines: list[str]) -> str:
    assert lines, "no output"
    token = lines[-1]
    assert TOKEN_LINE.match(token), lines
    # Only on the last line: a script that takes the last line gets exactly the token.
    assert all(token not in line for line in lines[:-1])
    return token


def stored() -> tuple[Any, ...]:
    return (
        list(User.objects.order_by("pk").values("pk", "username", "is_active")),
        list(Profile.objects.order_by("pk").values()),
        list(User.groups.through.objects.order_by("pk").values()),
        list(ApiClient.objects.order_by("pk").values()),
        list(PersonalToken.objects.order_by("pk").values()),
        AuditEvent.objects.count(),
    )


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def audit_text() -> str:
    return json.dumps(list(AuditEvent.objects.values()), default=str)


# create_person


def test_it_creates_a_person_with_roles_as_groups_and_screening(db: None):
    lines = run(
        "create_person",
        "jdevries",
        "--role",
        "investigator",
        "--role",
        "engineer",
        "--screened-until",
        "2027-06-30",
    )
    person = User.objects.get(username="jdevries")
    assert set(person.groups.values_list("name", flat=True)) == {"investigator", "engineer"}
    assert str(person.profile.screening_valid_until) == "2027-06-30"
    assert person.is_active
    assert not person.has_usable_password()  # single sign-on only
    assert not PersonalToken.objects.filter(user=person).exists()
    assert not any(TOKEN_LINE.match(line) for line in lines)
    event = AuditEvent.objects.get(action="person.created")
    assert event.object_id == str(person.pk)
    assert event.actor == "command:create_person"
    assert event.channel == "command"
    assert event.details["roles"] == ["engineer", "investigator"]
    assert event.details["screened_until"] == "2027-06-30"


def test_it_prints_a_usable_personal_token_with_with_token(cast: Cast):
    lines = run("create_person", "opsbot", "--role", "operator", "--with-token")
    token = last_line_token(lines)
    assert token.startswith("hgp_")
    response = bearer(token).get(CASE_URL)
    assert response.status_code == 200
    assert response.json()["project_id"] == str(CASE_PROJECT_ID)
    # The token carries the operator role: it passes the create permission and reaches validation.
    assert bearer(token).post("/api/v1/cases", {}, format="json").status_code == 400
    person = User.objects.get(username="opsbot")
    assert PersonalToken.objects.filter(user=person).count() == 1
    assert AuditEvent.objects.filter(action="person.created", object_id=str(person.pk)).count() == 1
    assert AuditEvent.objects.filter(action="personal_token.created", details__person="opsbot").count() == 1
    assert token not in audit_text()
    assert token[4:] not in audit_text()


def test_it_gives_a_personal_token_only_the_persons_own_scope(cast: Cast):
    token = last_line_token(run("create_person", "newlead", "--role", "case_lead", "--with-token"))
    # A case lead of no case: the cast's case does not exist for this person.
    assert bearer(token).get(CASE_URL).status_code == 404


def test_it_lets_a_person_with_a_password_log_in(db: None, client):
    run("create_person", "pvisser", "--role", "privacy_officer", "--password", PASSWORD)
    assert client.login(username="pvisser", password=PASSWORD)
    assert not client.login(username="pvisser", password=PASSWORD + "x")
    person = User.objects.get(username="pvisser")
    assert person.password != PASSWORD and PASSWORD not in person.password
    assert PASSWORD not in audit_text()
    assert AuditEvent.objects.get(action="person.created").details["password_set"] is True


def test_it_does_not_let_a_person_without_a_password_log_in(db: None, client):
    run("create_person", "ssoonly", "--role", "investigator")
    assert not client.login(username="ssoonly", password="")
    assert not client.login(username="ssoonly", password="!")


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["newbie", "--role", "wizard"], id="unknown-role"),
        pytest.param(["newbie", "--role", "investigator", "--role", "root"], id="one-unknown-role"),
        pytest.param(["newbie"], id="no-role"),
        pytest.param(["newbie", "--role", "investigator", "--screened-until", "2027-13-01"], id="bad-month"),
        pytest.param(
            ["newbie", "--role", "investigator", "--screened-until", "30-06-2027"], id="dutch-order"
        ),
        pytest.param(["newbie", "--role", "investigator", "--screened-until", "soon"], id="not-a-date"),
        pytest.param(["newbie", "--role", "investigator", "--password", "12345678"], id="weak-password"),
        pytest.param(
            ["newbie", "--role", "investigator", "--password", "newbie123"], id="password-like-name"
        ),
        pytest.param(["bad name!", "--role", "investigator"], id="bad-username"),
        pytest.param(["case_lead", "--role", "investigator"], id="duplicate-username"),
        pytest.param(["case_lead", "--role", "investigator", "--with-token"], id="duplicate-with-token"),
    ],
)
def test_it_refuses_bad_create_person_arguments_and_stores_nothing(cast: Cast, args: list[str]):
    before = stored()
    with pytest.raises(CommandError) as caught:
        run("create_person", *args)
    assert str(caught.value).strip()
    assert stored() == before


def test_it_names_the_problem_of_a_duplicate_username(cast: Cast):
    with pytest.raises(CommandError, match="case_lead already exists"):
        run("create_person", "case_lead", "--role", "investigator")


def test_it_refuses_a_duplicate_employee_number(db: None):
    run("create_person", "a_person", "--role", "investigator", "--employee-number", "E-1")
    before = stored()
    with pytest.raises(CommandError, match="employee_number"):
        run("create_person", "b_person", "--role", "investigator", "--employee-number", "E-1")
    assert stored() == before


# create_api_client


def test_it_prints_a_usable_client_token(cast: Cast):
    lines = run(
        "create_api_client",
        "hansken-acceptance",
        "--environment",
        "production",
        "--scope",
        "cases:write",
        "--scope",
        "authz:check",
    )
    token = last_line_token(lines)
    assert token.startswith("hgc_")
    response = bearer(token).get(CASE_URL)
    assert response.status_code == 200
    assert response.json()["case_number"] == "NFI-2026-0001"
    client = ApiClient.objects.get(name="hansken-acceptance")
    assert client.environment == "production"
    assert client.scopes == ["authz:check", "cases:write"]
    assert client.allowed_sources == []
    event = AuditEvent.objects.get(action="api_client.created", object_id=str(client.pk))
    assert event.actor == "command:create_api_client"
    assert event.details["scopes"] == ["authz:check", "cases:write"]
    assert event.details["token_hint"] == token[:8]
    assert token not in audit_text()
    assert token[4:] not in audit_text()


def test_it_stores_allowed_sources_as_networks(cast: Cast):
    lines = run(
        "create_api_client",
        "ci",
        # Production: a test client would see no real case at all (tests/test_real_access.py).
        "--environment",
        "production",
        "--scope",
        "cases:write",
        "--allow-source",
        "127.0.0.1",
        "--allow-source",
        "10.0.0.0/8",
    )
    token = last_line_token(lines)
    assert ApiClient.objects.get(name="ci").allowed_sources == ["127.0.0.1/32", "10.0.0.0/8"]
    assert bearer(token).get(CASE_URL).status_code == 200  # the test client calls from 127.0.0.1


def test_it_gives_a_client_token_only_its_scopes(cast: Cast):
    token = last_line_token(
        run("create_api_client", "decider", "--environment", "production", "--scope", "authz:check")
    )
    assert bearer(token).get(CASE_URL).status_code == 403


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(
            ["hansken_production", "--environment", "production", "--scope", "cases:write"], id="dup"
        ),
        pytest.param(["x", "--environment", "production", "--scope", "cases:admin"], id="unknown-scope"),
        pytest.param(["x", "--environment", "staging", "--scope", "cases:write"], id="unknown-environment"),
        pytest.param(["x", "--environment", "production"], id="no-scope"),
        pytest.param(["x", "--scope", "cases:write"], id="no-environment"),
        pytest.param(["x", "--environment", "experiment", "--scope", "cases:write"], id="experiment-manages"),
        pytest.param(
            ["x", "--environment", "experiment", "--scope", "authz:check", "--scope", "privilege:write"],
            id="experiment-marks-privileged",
        ),
        pytest.param(
            ["x", "--environment", "test", "--scope", "cases:write", "--allow-source", "the-office"],
            id="bad-source",
        ),
    ],
)
def test_it_refuses_bad_create_api_client_arguments_and_stores_nothing(cast: Cast, args: list[str]):
    before = stored()
    with pytest.raises(CommandError) as caught:
        run("create_api_client", *args)
    assert str(caught.value).strip()
    assert stored() == before
