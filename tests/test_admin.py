"""The administration (Django admin): only administrators get in, every write goes through a service
and leaves its audit event, nothing is deleted, and nothing in it changes who may act on a case.

Everything is driven through Django's test client, so routing, the admin site's permission policy,
the forms and the services are all on the path.
"""

from __future__ import annotations

import datetime
from typing import Any
from unittest import mock

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from api_clients import services as client_services
from api_clients.models import ApiClient, PersonalToken
from api_clients.tokens import token_digest
from audit import append as audit_append
from audit.actor import Actor
from audit.models import AuditEvent
from authz.models import Grant
from cases.models import Case
from hansken_governance.admin_site import site
from people import services as people_services
from people.roles import roles_of
from tests.authz_helpers import grant
from tests.matrix import last_sequence
from tests.personas import CASE_PROJECT_ID, PASSWORD, PEOPLE, Cast
from tests.second_factor_helpers import enrol, enrol_through_page

PEOPLE_URL = "/admin/auth/user/"
CLIENTS_URL = "/admin/api_clients/apiclient/"
TOKENS_URL = "/admin/api_clients/personaltoken/"
CASES_URL = "/admin/cases/case/"
DATASETS_URL = "/admin/cases/dataset/"
PROJECTS_URL = "/api/v1/authz/projects?user=investigator&action=read"


def admin_client(cast: Cast, persona: str = "administrator") -> Client:
    client = Client()
    client.force_login(cast[persona])
    return client


def events_after(sequence: int) -> list[AuditEvent]:
    """The events written since ``sequence``, leaving out the test client's own sign-ins
    (``force_login`` records a ``session.signed_in``, which is not the admin's doing)."""
    return list(
        AuditEvent.objects.filter(sequence__gt=sequence)
        .exclude(action__startswith="session.")
        .order_by("sequence")
    )


def change_data(person: User, **overrides: Any) -> dict[str, Any]:
    """The change form as the browser would send it back unchanged, with ``overrides`` applied."""
    person.refresh_from_db()
    profile = person.profile
    data: dict[str, Any] = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email,
        "employee_number": profile.employee_number or "",
        "roles": sorted(roles_of(person)),
        "screening_valid_until": profile.screening_valid_until.isoformat()
        if profile.screening_valid_until
        else "",
        "screening_reference": profile.screening_reference,
        "is_active": person.is_active,
        "status_reason": "",
        "_save": "Save",
    }
    data.update(overrides)
    if not data["is_active"]:
        del data["is_active"]  # an unticked checkbox is not sent at all
    return data


def every_admin_page(cast: Cast) -> list[str]:
    client = ApiClient.objects.get(name="hansken_production")
    token = PersonalToken.objects.filter(user=cast["investigator"]).first()
    assert token is not None
    return [
        "/admin/",
        "/admin/auth/",
        PEOPLE_URL,
        f"{PEOPLE_URL}add/",
        f"{PEOPLE_URL}{cast['investigator'].pk}/change/",
        f"{PEOPLE_URL}{cast['investigator'].pk}/delete/",
        "/admin/api_clients/",
        CLIENTS_URL,
        f"{CLIENTS_URL}add/",
        f"{CLIENTS_URL}{client.pk}/change/",
        TOKENS_URL,
        f"{TOKENS_URL}{token.pk}/change/",
        "/admin/cases/",
        CASES_URL,
        f"{CASES_URL}{cast.case.pk}/change/",
        DATASETS_URL,
        f"{DATASETS_URL}{cast.dataset.pk}/change/",
        "/admin/privacy_statement/",
        "/admin/privacy_statement/statementversion/",
        "/admin/privacy_statement/acknowledgement/",
        "/admin/password_change/",
    ]


# --- who gets in ---


@pytest.mark.parametrize("persona", [None, *[name for name in PEOPLE if name != "administrator"]])
def test_it_sends_everyone_but_administrators_to_the_admin_sign_in(cast: Cast, persona: str | None):
    client = Client()
    if persona is not None:
        client.force_login(cast[persona])
    for url in every_admin_page(cast):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/?next="), url
    # A write is turned away the same way, and stores nothing.
    before = last_sequence()
    response = client.post(f"{PEOPLE_URL}add/", {"username": "intruder", "roles": ["administrator"]})
    assert response.status_code == 302
    assert not User.objects.filter(username="intruder").exists()
    assert events_after(before) == []


def test_it_opens_every_admin_page_to_an_administrator(cast: Cast):
    client = admin_client(cast)
    for url in every_admin_page(cast):
        expected = 403 if url.endswith("/delete/") else 200
        assert client.get(url).status_code == expected, url


def test_it_admits_by_role_not_by_superuser_or_staff_flag(cast: Cast):
    # A superuser and staff flag set behind our back opens nothing without the role...
    User.objects.filter(pk=cast["case_lead"].pk).update(is_superuser=True, is_staff=True)
    response = admin_client(cast, "case_lead").get(PEOPLE_URL)
    assert response.status_code == 302
    # ...and the administrator role alone is enough.
    assert not cast["administrator"].is_superuser
    assert admin_client(cast).get(PEOPLE_URL).status_code == 200


def test_it_signs_in_administrators_only_through_the_admin_sign_in_form(cast: Cast):
    lead = Client()
    response = lead.post("/admin/login/", {"username": "case_lead", "password": PASSWORD, "next": "/admin/"})
    assert response.status_code == 200  # the form again, with an error
    assert "_auth_user_id" not in lead.session
    admin = Client()
    response = admin.post(
        "/admin/login/", {"username": "administrator", "password": PASSWORD, "next": "/admin/"}
    )
    # The password alone does not open the admin: first the second factor (tests/test_second_factor.py).
    assert (response.status_code, response["Location"]) == (302, "/accounts/login/enrol/")
    assert admin.get("/admin/").status_code == 302
    _, _, enrolled = enrol_through_page(admin)
    assert 'href="/admin/"' in enrolled.content.decode()
    assert admin.get("/admin/").status_code == 200


def test_it_makes_is_staff_follow_the_administrator_role(cast: Cast):
    assert cast["administrator"].is_staff
    assert not cast["case_lead"].is_staff
    by = Actor.command("tests")
    people_services.person_set_roles(person=cast["operator"], roles=["operator", "administrator"], by=by)
    assert User.objects.get(username="operator").is_staff
    people_services.person_set_roles(person=cast["operator"], roles=["operator"], by=by)
    assert not User.objects.get(username="operator").is_staff


# --- what is there, and what is not ---


def test_it_registers_no_grants_groups_or_audit_models(cast: Cast):
    registered = {model._meta.label for model in site._registry}
    assert registered == {
        "auth.User",
        "api_clients.ApiClient",
        "api_clients.PersonalToken",
        "cases.Case",
        "cases.Dataset",
        "privacy_statement.StatementVersion",
        "privacy_statement.Acknowledgement",
    }
    client = admin_client(cast)
    for url in (
        "/admin/authz/grant/",
        "/admin/authz/grantversion/",
        "/admin/authz/accessrequest/",
        "/admin/authz/",
        "/admin/auth/group/",
        "/admin/cases/caseuserobjectpermission/",
        "/admin/audit/auditevent/",
        "/admin/auditlog/logentry/",
        # Privileged marks are for the case lead, deputies, reviewers and the privacy officer only
        # (HANSKEN_API.md), not for administrators.
        "/admin/privilege/privilegedmark/",
        "/admin/privilege/privilegedmarkversion/",
    ):
        assert client.get(url).status_code == 404, url
    index = client.get("/admin/")
    apps = {app["app_label"] for app in index.context["app_list"]}
    assert apps == {"auth", "api_clients", "cases", "privacy_statement"}


@pytest.mark.parametrize("url", [PEOPLE_URL, CLIENTS_URL, TOKENS_URL, CASES_URL, DATASETS_URL])
def test_it_offers_no_deletion(cast: Cast, url: str):
    response = admin_client(cast).get(url)
    assert response.status_code == 200
    actions = (
        [name for name, _ in response.context["action_form"].fields["action"].choices]
        if response.context.get("action_form")
        else []
    )
    assert "delete_selected" not in actions


def test_it_refuses_to_delete_a_person_even_when_asked_directly(cast: Cast):
    client = admin_client(cast)
    investigator = cast["investigator"]
    before = last_sequence()
    assert client.post(f"{PEOPLE_URL}{investigator.pk}/delete/", {"post": "yes"}).status_code == 403
    response = client.post(
        PEOPLE_URL, {"action": "delete_selected", "_selected_action": [investigator.pk], "post": "yes"}
    )
    assert response.status_code in (200, 302)
    assert User.objects.filter(pk=investigator.pk, is_active=True).exists()
    assert events_after(before) == []


def test_it_shows_cases_read_only_with_their_deputies(cast: Cast):
    client = admin_client(cast)
    listing = client.get(CASES_URL).content.decode()
    assert "NFI-2026-0001" in listing and "deputy" in listing
    page = client.get(f"{CASES_URL}{cast.case.pk}/change/")
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert "deputy" in page.content.decode()
    assert "Laptop image" in page.content.decode()  # its dataset, inline
    before = last_sequence()
    response = client.post(
        f"{CASES_URL}{cast.case.pk}/change/", {"title": "Renamed", "case_lead": cast["administrator"].pk}
    )
    assert response.status_code == 403
    case = Case.objects.get(pk=cast.case.pk)
    assert (case.title, case.case_lead_id) == ("Operation Heron", cast["case_lead"].pk)
    assert events_after(before) == []


def test_it_gives_an_administrator_no_case_access_through_the_admin(cast: Cast):
    # After using the admin, the administrator still holds no grant and the decision says no.
    admin_client(cast).get(CASES_URL)
    assert not Grant.objects.filter(grantee=cast["administrator"]).exists()
    response = cast.api("hansken_production").get("/api/v1/authz/projects?user=administrator&action=read")
    assert response.status_code == 200
    assert response.json()["project_ids"] == []


# --- people: every change through its service, with its event ---


def test_it_lists_people_with_roles_and_screening(cast: Cast):
    response = admin_client(cast).get(PEOPLE_URL)
    body = response.content.decode()
    for username in PEOPLE:
        assert username in body
    assert "Case lead" in body and "Privacy officer" in body
    response = admin_client(cast).get(PEOPLE_URL, {"role": "operator"})
    assert [person.username for person in response.context["cl"].result_list] == ["operator"]


def test_it_shows_who_has_set_up_a_second_factor_without_a_query_per_person(cast: Cast):
    enrol(cast["privacy_officer"])
    client = admin_client(cast)
    client.get(PEOPLE_URL)  # the session's first request loads what every later one has cached
    with CaptureQueriesContext(connection) as few:
        response = client.get(PEOPLE_URL)
    shown = {person.username: person.second_factor_enrolled for person in response.context["cl"].result_list}
    assert {name for name, enrolled in shown.items() if enrolled} == {"privacy_officer"}
    # Two more people on the list, one of them enrolled, cost no extra query.
    enrol(cast["operator"])
    for name in ("extra.one", "extra.two"):
        person = people_services.person_create(username=name, roles=["operator"], by=Actor.command("tests"))
    enrol(person)
    with CaptureQueriesContext(connection) as more:
        response = client.get(PEOPLE_URL)
    assert len(response.context["cl"].result_list) == len(shown) + 2
    assert len(more.captured_queries) == len(few.captured_queries)


def second_administrator() -> User:
    """Another administrator, made on the operator's installation path (the command line)."""
    return people_services.person_create(
        username="admin.two", roles=["administrator"], password=PASSWORD, by=Actor.command("tests")
    )


def test_it_proposes_a_person_with_case_roles_and_a_second_administrator_creates_them(cast: Cast):
    before = last_sequence()
    response = admin_client(cast).post(
        f"{PEOPLE_URL}add/",
        {
            "username": "newcomer",
            "first_name": "Noor",
            "last_name": "de Vries",
            "email": "noor@example.org",
            "employee_number": "E-1234",
            "password": "Amber-Kite-Lantern-47",
            "roles": ["investigator", "engineer"],
            "screening_valid_until": "2027-06-30",
            "screening_reference": "SCR-77",
            "change_reason": "Joins team East",
            "_save": "Save",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert response["Location"] == "/accounts/proposals/"
    # Nobody is created yet: the proposal waits for a second administrator.
    assert not User.objects.filter(username="newcomer").exists()
    [proposed] = events_after(before)
    assert proposed.action == "person.change_proposed"
    assert (proposed.actor, proposed.channel) == ("administrator", "browser")
    assert proposed.details["changes"]["roles"] == ["engineer", "investigator"]
    assert proposed.details["reason"] == "Joins team East"
    assert "Amber" not in str(proposed.details)

    # The proposer sees it waiting, without buttons, and cannot answer it.
    proposal_id = int(proposed.object_id)
    page = admin_client(cast).get("/accounts/proposals/").content.decode()
    assert "newcomer" in page and f"/accounts/proposals/{proposal_id}/approve/" not in page
    admin_client(cast).post(f"/accounts/proposals/{proposal_id}/approve/", {"note": ""})
    assert not User.objects.filter(username="newcomer").exists()

    second = Client()
    second.force_login(second_administrator())
    assert (
        f"/accounts/proposals/{proposal_id}/approve/" in second.get("/accounts/proposals/").content.decode()
    )
    before = last_sequence()
    response = second.post(f"/accounts/proposals/{proposal_id}/approve/", {"note": "Checked with HR"})
    assert response.status_code == 302
    person = User.objects.get(username="newcomer")
    assert (person.first_name, person.email, person.is_active, person.is_staff) == (
        "Noor",
        "noor@example.org",
        True,
        False,
    )
    assert person.profile.employee_number == "E-1234"
    assert person.profile.screening_valid_until == datetime.date(2027, 6, 30)
    assert person.profile.screening_reference == "SCR-77"
    assert roles_of(person) == {"investigator", "engineer"}
    assert person.check_password("Amber-Kite-Lantern-47")
    approved, created = events_after(before)
    assert approved.action == "person.change_approved"
    assert approved.actor == "admin.two" and approved.details["proposed_by"] == "administrator"
    assert created.action == "person.created"
    assert (created.actor, created.channel, created.object_id) == ("admin.two", "browser", str(person.pk))
    assert created.details["roles"] == ["engineer", "investigator"]
    assert (created.details["proposal_id"], created.details["approved_by"]) == (proposal_id, "admin.two")
    assert "Amber" not in str(created.details)
    assert LogEntry.objects.count() == 0  # Django's own admin log is not a second history


def test_it_creates_a_person_without_case_roles_at_once(cast: Cast):
    before = last_sequence()
    response = admin_client(cast).post(
        f"{PEOPLE_URL}add/",
        {
            "username": "newcomer",
            "roles": ["operator"],
            "screening_valid_until": "2027-06-30",
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == PEOPLE_URL
    person = User.objects.get(username="newcomer")
    assert roles_of(person) == {"operator"}
    [event] = events_after(before)
    assert (event.action, event.actor) == ("person.created", "administrator")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("username", "case_lead", "already exists"),
        ("employee_number", "TAKEN-1", "already in use"),
        ("password", "newcomer1", "too similar"),
        ("roles", [], "required"),
        ("roles", ["superhero"], "not one of the available choices"),
    ],
)
def test_it_refuses_a_bad_new_person_on_the_form_and_stores_nothing(cast: Cast, field, value, message):
    people_services.person_update_details(
        person=cast["operator"],
        by=Actor.command("tests"),
        first_name="",
        last_name="",
        email="",
        employee_number="TAKEN-1",
    )
    before = last_sequence()
    data = {"username": "newcomer", "roles": ["investigator"], "_save": "Save", field: value}
    response = admin_client(cast).post(f"{PEOPLE_URL}add/", data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert message in str(errors[field])
    assert not User.objects.filter(username="newcomer").exists()
    assert events_after(before) == []


def test_it_changes_details_at_once_and_proposes_roles_and_screening(cast: Cast):
    client = admin_client(cast)
    engineer = cast["engineer"]
    url = f"{PEOPLE_URL}{engineer.pk}/change/"
    assert client.get(url).status_code == 200

    # Sent back unchanged: nothing written, no event.
    before = last_sequence()
    assert client.post(url, change_data(engineer)).status_code == 302
    assert events_after(before) == []

    response = client.post(
        url,
        change_data(
            engineer,
            first_name="Eva",
            employee_number="E-9",
            roles=["engineer", "investigator"],
            screening_valid_until="2026-12-31",
            screening_reference="SCR-9",
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/proposals/"
    engineer.refresh_from_db()
    assert engineer.first_name == "Eva"
    assert engineer.profile.employee_number == "E-9"
    # Roles and screening wait for a second administrator.
    assert roles_of(User.objects.get(pk=engineer.pk)) == {"engineer"}
    assert engineer.profile.screening_valid_until != datetime.date(2026, 12, 31)
    events = events_after(before)
    assert [event.action for event in events] == [
        "person.details_changed",
        "person.change_proposed",
        "person.change_proposed",
    ]
    assert {event.actor for event in events} == {"administrator"}
    assert events[0].details["after"] == {"employee_number": "E-9", "first_name": "Eva"}
    assert events[1].details["changes"] == {"roles": ["engineer", "investigator"]}
    assert events[1].details["before"] == {"roles": ["engineer"]}
    assert events[2].details["changes"] == {"screened_until": "2026-12-31", "screening_reference": "SCR-9"}

    second = Client()
    second.force_login(second_administrator())
    before = last_sequence()
    for event in events[1:]:
        assert second.post(f"/accounts/proposals/{event.object_id}/approve/", {}).status_code == 302
    engineer.refresh_from_db()
    assert roles_of(User.objects.get(pk=engineer.pk)) == {"engineer", "investigator"}
    assert engineer.profile.screening_valid_until == datetime.date(2026, 12, 31)
    applied = events_after(before)
    assert [event.action for event in applied] == [
        "person.change_approved",
        "person.roles_changed",
        "person.change_approved",
        "person.screening_changed",
    ]
    assert {event.actor for event in applied} == {"admin.two"}
    assert applied[1].details["before"] == ["engineer"]
    assert applied[1].details["after"] == ["engineer", "investigator"]
    assert applied[1].details["proposed_by"] == "administrator"
    assert applied[3].details["after"] == "2026-12-31"
    assert LogEntry.objects.count() == 0


def test_it_deactivates_a_person_with_a_reason_and_revokes_their_grants(cast: Cast):
    held = grant(cast, "investigator")
    client = admin_client(cast)
    investigator = cast["investigator"]
    url = f"{PEOPLE_URL}{investigator.pk}/change/"

    # Without a reason: the form says so, nothing changes.
    before = last_sequence()
    response = client.post(url, change_data(investigator, is_active=False))
    assert response.status_code == 200
    assert "status_reason" in response.context["adminform"].form.errors
    assert User.objects.get(pk=investigator.pk).is_active
    assert events_after(before) == []

    response = client.post(
        url, change_data(investigator, is_active=False, status_reason="Left the institute")
    )
    assert response.status_code == 302
    assert not User.objects.get(pk=investigator.pk).is_active
    held.refresh_from_db()
    assert held.revoked_at is not None
    events = events_after(before)
    assert [event.action for event in events] == ["grant.revoked", "person.deactivated"]
    assert events[1].details["grants_revoked"] == 1
    assert events[1].details["reason"] == "Left the institute"
    assert events[1].actor == "administrator"
    check = cast.api("hansken_production").post(
        "/api/v1/authz/check",
        {"user": "investigator", "project_id": str(CASE_PROJECT_ID), "action": "read"},
        format="json",
    )
    assert check.json()["allowed"] is False

    # Reactivated: signs in again, but the revoked grant stays revoked.
    before = last_sequence()
    response = client.post(url, change_data(investigator, is_active=True, status_reason="Came back"))
    assert response.status_code == 302
    assert User.objects.get(pk=investigator.pk).is_active
    assert [event.action for event in events_after(before)] == ["person.reactivated"]
    held.refresh_from_db()
    assert held.revoked_at is not None


def test_it_lets_no_administrator_change_their_own_roles_screening_or_status(cast: Cast):
    admin = cast["administrator"]
    client = admin_client(cast)
    url = f"{PEOPLE_URL}{admin.pk}/change/"
    form = client.get(url).context["adminform"].form
    assert all(form.fields[name].disabled for name in ("roles", "screening_valid_until", "is_active"))
    before = last_sequence()
    response = client.post(
        url,
        change_data(
            admin,
            roles=["administrator", "operator"],
            screening_valid_until="2099-01-01",
            is_active=False,
            status_reason="x",
        ),
    )
    assert response.status_code == 302
    admin = User.objects.get(pk=admin.pk)
    assert roles_of(admin) == {"administrator"}
    assert admin.is_active
    assert admin.profile.screening_valid_until != datetime.date(2099, 1, 1)
    assert events_after(before) == []
    # The services refuse it too, whoever calls them.
    own = Actor(username="administrator", user_id=admin.pk)
    with pytest.raises(ValidationError):
        people_services.person_set_roles(person=admin, roles=["operator"], by=own)
    with pytest.raises(ValidationError):
        people_services.person_set_screening(person=admin, valid_until=None, reference="", by=own)
    with pytest.raises(ValidationError):
        people_services.person_deactivate(person=admin, reason="x", by=own)


def test_it_changes_the_administrators_own_password_through_the_service(cast: Cast):
    client = admin_client(cast)
    before = last_sequence()
    response = client.post(
        "/admin/password_change/",
        {
            "old_password": PASSWORD,
            "new_password1": "Quiet-Meadow-Harbour-83",
            "new_password2": "Quiet-Meadow-Harbour-83",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(username="administrator").check_password("Quiet-Meadow-Harbour-83")
    [event] = events_after(before)
    assert event.action == "person.password_changed"
    assert event.details == {"username": "administrator", "by_self": True}
    assert client.get("/admin/").status_code == 200  # still signed in


# --- API clients and personal tokens ---


def create_client(client: Client, **overrides: Any) -> Any:
    data = {
        "name": "hansken_acceptance",
        "environment": "test",
        "scopes": ["authz:check"],
        "allowed_sources": "",
        "_save": "Save",
    }
    data.update(overrides)
    return client.post(f"{CLIENTS_URL}add/", data)


def test_it_creates_a_client_shows_its_token_once_and_the_token_works(cast: Cast):
    grant(cast, "investigator")
    client = admin_client(cast)
    before = last_sequence()
    # A production client: the grant covers production, so the decision has something to allow.
    response = create_client(client, environment="production")
    assert response.status_code == 200
    token = response.context["token"]
    body = response.content.decode()
    assert token.startswith("hgc_") and token in body
    assert "Copy this token now. It is not stored" in body
    created = ApiClient.objects.get(name="hansken_acceptance")
    assert created.token_digest == token_digest(token)
    assert token not in str(list(ApiClient.objects.values()))
    [event] = events_after(before)
    assert (event.action, event.actor) == ("api_client.created", "administrator")
    assert token not in str(event.details)
    # Never again: not on the list, not on the client's own page.
    assert token not in client.get(CLIENTS_URL).content.decode()
    assert token not in client.get(f"{CLIENTS_URL}{created.pk}/change/").content.decode()

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = api.get(PROJECTS_URL)
    assert response.status_code == 200, response.content
    assert response.json()["project_ids"] == [str(CASE_PROJECT_ID)]

    # Deactivated: the very next request is refused.
    before = last_sequence()
    response = client.post(CLIENTS_URL, {"action": "deactivate_clients", "_selected_action": [created.pk]})
    assert response.status_code == 302
    assert not ApiClient.objects.get(pk=created.pk).is_active
    [event] = events_after(before)
    assert (event.action, event.actor, event.details["name"]) == (
        "api_client.deactivated",
        "administrator",
        "hansken_acceptance",
    )
    assert api.get(PROJECTS_URL).status_code == 401


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"environment": "experiment", "scopes": ["authz:check", "cases:write"]}, "scopes"),
        ({"allowed_sources": "10.0.0.0/8\nnot-an-address"}, "allowed_sources"),
        ({"name": "hansken_production"}, "name"),
        ({"expires_at_0": "2001-01-01", "expires_at_1": "12:00:00"}, "expires_at"),
        ({"scopes": []}, "scopes"),
    ],
)
def test_it_refuses_a_bad_client_on_its_field_and_stores_nothing(cast: Cast, overrides, field):
    count, before = ApiClient.objects.count(), last_sequence()
    response = create_client(admin_client(cast), **overrides)
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert "token" not in response.context
    assert ApiClient.objects.count() == count
    assert events_after(before) == []


def test_it_shows_clients_read_only_without_their_digest(cast: Cast):
    production = ApiClient.objects.get(name="hansken_production")
    response = admin_client(cast).get(f"{CLIENTS_URL}{production.pk}/change/")
    assert response.context["has_change_permission"] is False
    assert production.token_digest not in response.content.decode()
    assert production.token_hint in response.content.decode()
    listing = admin_client(cast).get(CLIENTS_URL).content.decode()
    assert "authz:check, audit:write" in listing or "audit:write" in listing
    before = last_sequence()
    assert (
        admin_client(cast).post(f"{CLIENTS_URL}{production.pk}/change/", {"name": "renamed"}).status_code
        == 403
    )
    assert ApiClient.objects.get(pk=production.pk).name == "hansken_production"
    assert events_after(before) == []


def test_it_revokes_a_personal_token(cast: Cast):
    api = cast.api("investigator")
    assert api.get("/api/v1/me/grants").status_code == 200
    token = PersonalToken.objects.get(user=cast["investigator"])
    before = last_sequence()
    response = admin_client(cast).post(
        TOKENS_URL, {"action": "revoke_tokens", "_selected_action": [token.pk]}
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    [event] = events_after(before)
    assert (event.action, event.actor, event.details["person"]) == (
        "personal_token.revoked",
        "administrator",
        "investigator",
    )
    assert api.get("/api/v1/me/grants").status_code == 401
    # Revoking again changes nothing and records nothing.
    before = last_sequence()
    admin_client(cast).post(TOKENS_URL, {"action": "revoke_tokens", "_selected_action": [token.pk]})
    assert events_after(before) == []
    assert admin_client(cast).get(f"{TOKENS_URL}add/").status_code == 403


# --- the new services: one event each, nothing stored when the trail cannot be written ---

BY = Actor.command("tests")
SERVICE_WRITES = [
    pytest.param(
        people_services,
        "person.reactivated",
        lambda cast: people_services.person_deactivate(person=cast["engineer"], reason="left", by=BY),
        lambda cast: people_services.person_reactivate(person=cast["engineer"], reason="back", by=BY),
        id="person_reactivate",
    ),
    pytest.param(
        people_services,
        "person.details_changed",
        None,
        lambda cast: people_services.person_update_details(
            person=cast["engineer"], by=BY, first_name="Eva", last_name="", email="", employee_number="E-1"
        ),
        id="person_update_details",
    ),
    pytest.param(
        people_services,
        "person.password_changed",
        None,
        lambda cast: people_services.person_set_password(
            person=cast["engineer"], password="Silver-Otter-Canyon-12", by=BY
        ),
        id="person_set_password",
    ),
    pytest.param(
        client_services,
        "api_client.deactivated",
        None,
        lambda cast: client_services.api_client_deactivate(client=cast.clients["hansken_experiment"], by=BY),
        id="api_client_deactivate",
    ),
    pytest.param(
        client_services,
        "personal_token.revoked",
        None,
        lambda cast: client_services.personal_token_revoke(
            token=PersonalToken.objects.get(user=cast["engineer"]), by=BY
        ),
        id="personal_token_revoke",
    ),
]


def state() -> str:
    return str(
        [
            list(User.objects.order_by("pk").values("pk", "first_name", "is_active", "password")),
            list(ApiClient.objects.order_by("pk").values("pk", "is_active")),
            list(PersonalToken.objects.order_by("pk").values("pk", "revoked_at")),
            list(User.objects.order_by("pk").values("pk", "profile__employee_number")),
            AuditEvent.objects.count(),
        ]
    )


@pytest.mark.parametrize(("module", "action", "prepare", "write"), SERVICE_WRITES)
def test_it_leaves_exactly_one_event_per_new_service_write(cast: Cast, module, action, prepare, write):
    if prepare:
        prepare(cast)
    before, snapshot = last_sequence(), state()
    write(cast)
    assert [event.action for event in events_after(before)] == [action]
    assert state() != snapshot


@pytest.mark.parametrize(("module", "action", "prepare", "write"), SERVICE_WRITES)
def test_it_stores_nothing_when_the_new_services_event_cannot_be_written(
    cast: Cast, module, action, prepare, write
):
    if prepare:
        prepare(cast)
    snapshot = state()
    with (
        mock.patch.object(audit_append, "row_hash", side_effect=RuntimeError("trail down")),
        pytest.raises(RuntimeError),
    ):
        write(cast)
    assert state() == snapshot


def test_it_does_not_reactivate_an_active_person_or_without_a_reason(cast: Cast):
    with pytest.raises(ValidationError):
        people_services.person_reactivate(person=cast["engineer"], reason="back", by=BY)
    people_services.person_deactivate(person=cast["engineer"], reason="left", by=BY)
    with pytest.raises(ValidationError):
        people_services.person_reactivate(person=cast["engineer"], reason="  ", by=BY)


# --- Dutch ---


@override_settings(LANGUAGE_CODE="nl")
def test_it_speaks_dutch_in_the_admin(cast: Cast):
    client = admin_client(cast)
    index = client.get("/admin/").content.decode()
    assert "Beheer van Hansken Governance" in index
    assert "Afmelden" in index  # Django's own Dutch for "Log out"
    form = client.get(f"{PEOPLE_URL}add/").content.decode()
    for text in ("Rollen", "Zaakverantwoordelijke", "Screening geldig tot", "Personeelsnummer", "Wachtwoord"):
        assert text in form, text
    created = create_client(client)
    assert "Kopieer dit token nu" in created.content.decode()


def test_it_keeps_the_expiry_default_when_none_is_given(cast: Cast):
    create_client(admin_client(cast))
    created = ApiClient.objects.get(name="hansken_acceptance")
    assert created.expires_at > timezone.now() + datetime.timedelta(days=300)
