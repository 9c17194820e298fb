"""The browser pages of case access: who reaches which page (one table), and what the forms store.

Every form is tried the way a browser without JavaScript sends it: a plain POST with the CSRF token
checked, followed by the redirect. Nothing is written but through the services, so each stored
grant must come with its audit event and its history version.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.actor import Actor
from audit.models import AuditEvent
from authz.forms import end_of_day, last_day
from authz.models import AccessRequest, Grant, GrantVersion, RequestStatus
from authz.services import access_request_create
from cases.models import CaseStatus
from notifications.models import Notification
from people.models import Profile
from tests.authz_helpers import check, grant
from tests.personas import CASE_PROJECT_ID, OTHER_PROJECT_ID, PEOPLE, Cast

ANON = None
ACCESS = f"/cases/{CASE_PROJECT_ID}/access/"
PAGES = {
    "my_cases": "/my-cases/",
    "my_access": "/my-access/",
    "request_form": "/my-access/request/",
    "access": ACCESS,
    "other_access": f"/cases/{OTHER_PROJECT_ID}/access/",
    "grant_form": f"{ACCESS}grant/",
    "change": f"{ACCESS}grants/{{grant}}/change/",
    "revoke": f"{ACCESS}grants/{{grant}}/revoke/",
    "sign_off": f"{ACCESS}sign-off/",
    "answer": f"{ACCESS}requests/{{request}}/",
}
# 302: to the sign-in page. A case someone does not lead or deputise on does not exist for them
# here (404), whatever their role: not even administrators or reviewers manage another's access.
OWN = (200, 200, 200)
MANAGER = (200, 404, 200, 200, 200, 200, 200)
OUTSIDER = (404, 404, 404, 404, 404, 404, 404)
EXPECTED: dict[str | None, tuple[int, ...]] = {
    ANON: (302,) * len(PAGES),
    "case_lead": OWN + MANAGER,
    "deputy": OWN + MANAGER,
    "other_case_lead": (*OWN, 404, 200, 404, 404, 404, 404, 404),
    "investigator": OWN + OUTSIDER,
    "engineer": OWN + OUTSIDER,
    "operator": OWN + OUTSIDER,
    "privacy_officer": OWN + OUTSIDER,
    "security_manager": OWN + OUTSIDER,
    "administrator": OWN + OUTSIDER,
}


def client_for(cast: Cast, persona: str | None) -> Client:
    # CSRF is enforced, as in a real browser: each POST carries the token from the page it came from.
    client = Client(enforce_csrf_checks=True)
    if persona is not None:
        client.force_login(cast[persona])
    return client


def post(client: Client, url: str, data: dict[str, object], form_page: str | None = None):
    """POST as the browser does: first load the page with the form, then send its CSRF token."""
    client.get(form_page or url)
    token = client.cookies["csrftoken"].value
    return client.post(url, {**data, "csrfmiddlewaretoken": token})


def changes_recorded() -> int:
    """Audit events other than signing in (``force_login`` records a session event)."""
    return AuditEvent.objects.exclude(action__startswith="session.").count()


def a_day(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


def open_request(cast: Cast, requester: str = "engineer", days: int = 60) -> AccessRequest:
    return access_request_create(
        case=cast.case,
        requester=cast[requester],
        rights=["read", "search", "export"],
        environments=["production", "experiment"],
        valid_until=end_of_day(a_day(days)),
        reason="Analysing the chat exports",
        by=Actor(username=requester, channel="test"),
    )


def grant_form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "grantee": "investigator",
        "rights": ["read", "search"],
        "environments": ["production"],
        "valid_until": a_day(30).isoformat(),
        "reason": "Tactical analysis of the laptop",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


# --- who reaches which page ------------------------------------------------------------------------


def test_it_has_a_row_for_every_person_and_a_column_for_every_page():
    assert set(EXPECTED) == {ANON, *PEOPLE}
    for row in EXPECTED.values():
        assert len(row) == len(PAGES)


@pytest.mark.parametrize("persona", list(EXPECTED))
def test_it_gives_each_persona_the_expected_status_on_each_page(cast: Cast, persona: str | None):
    held = grant(cast, "investigator")
    asked = open_request(cast)
    client = client_for(cast, persona)
    got = {
        page: client.get(url.format(grant=held.pk, request=asked.pk)).status_code
        for page, url in PAGES.items()
    }
    assert got == dict(zip(PAGES, EXPECTED[persona], strict=True))


@pytest.mark.parametrize("persona", ["other_case_lead", "investigator", "operator", "administrator"])
def test_it_lets_nobody_but_the_case_managers_change_anything(cast: Cast, persona: str):
    held = grant(cast, "investigator")
    asked = open_request(cast)
    client = client_for(cast, persona)
    token_page = "/my-access/"  # a page every signed-in person may load, for the CSRF token
    attempts: list[tuple[str, dict[str, object]]] = [
        (f"{ACCESS}grant/", grant_form(grantee="engineer")),
        (f"{ACCESS}grants/{held.pk}/change/", grant_form(valid_until=a_day(90).isoformat())),
        (f"{ACCESS}grants/{held.pk}/revoke/", {"reason": "Not mine to revoke"}),
        (f"{ACCESS}sign-off/", {"person": "investigator", "reason": "Not mine"}),
        (f"{ACCESS}requests/{asked.pk}/approve/", {"approve-rights": ["read"]}),
        (f"{ACCESS}requests/{asked.pk}/reject/", {"reject-note": "Not mine"}),
    ]
    events = changes_recorded()
    for url, data in attempts:
        assert post(client, url, data, form_page=token_page).status_code == 404, url
    held.refresh_from_db()
    asked.refresh_from_db()
    assert Grant.objects.count() == 1
    assert held.version == 1 and held.revoked_at is None
    assert asked.status == RequestStatus.OPEN
    assert changes_recorded() == events


def test_it_refuses_a_post_without_the_csrf_token(cast: Cast):
    client = client_for(cast, "case_lead")
    response = client.post(f"{ACCESS}grant/", grant_form())
    assert response.status_code == 403
    assert not Grant.objects.exists()


def test_it_shows_the_new_pages_in_the_navigation_by_role(cast: Cast):
    lead = [item["url"] for item in client_for(cast, "case_lead").get("/").context["navigation"]]
    investigator = [item["url"] for item in client_for(cast, "investigator").get("/").context["navigation"]]
    operator = [item["url"] for item in client_for(cast, "operator").get("/").context["navigation"]]
    assert "/my-cases/" in lead and "/my-access/" not in lead
    assert "/my-access/" in investigator and "/my-cases/" not in investigator
    assert "/my-cases/" not in operator and "/my-access/" not in operator


# --- my cases and the access page ------------------------------------------------------------------


def test_it_lists_my_cases_with_counts_of_grants_endings_and_requests(cast: Cast):
    grant(cast, "investigator", days=60)
    grant(cast, "engineer", days=5)  # ends within 14 days
    open_request(cast, "operator")
    response = client_for(cast, "case_lead").get("/my-cases/")
    [case] = response.context["cases"]
    assert (case.case_number, case.active_grants, case.ending_soon, case.open_requests) == (
        "NFI-2026-0001",
        2,
        1,
        1,
    )
    body = response.content.decode()
    assert f'href="/cases/{CASE_PROJECT_ID}/access/"' in body
    assert "NFI-2026-0002" not in body
    # The deputy sees the same case, marked as deputy.
    deputy_body = client_for(cast, "deputy").get("/my-cases/").content.decode()
    assert "NFI-2026-0001" in deputy_body and "Deputy" in deputy_body


def test_it_shows_who_has_what_until_when_and_highlights_ending_soon(cast: Cast):
    long = grant(cast, "investigator", rights=["read", "search"], days=60)
    short = grant(cast, "engineer", rights=["read"], days=5)
    response = client_for(cast, "case_lead").get(ACCESS)
    body = response.content.decode()
    rows = {row.grant.pk: row for row in response.context["current"]}
    assert rows[long.pk].ending_soon is False and rows[long.pk].status == "active"
    assert rows[short.pk].ending_soon is True
    assert f'<tr id="grant-{short.pk}" class="ending-soon">' in body
    assert f'<tr id="grant-{long.pk}">' in body
    assert "Ends soon" in body
    for text in ("investigator", "Read, Search", "Production", "case_lead", "Needed for the investigation"):
        assert text in body, text


def test_it_shows_the_full_history_of_each_grant(cast: Cast):
    held = grant(cast, "investigator", days=30)
    client = client_for(cast, "case_lead")
    post(
        client,
        f"{ACCESS}grants/{held.pk}/change/",
        grant_form(valid_until=a_day(90).isoformat(), reason="Trial moved"),
    )
    post(client, f"{ACCESS}grants/{held.pk}/revoke/", {"reason": "Left the team"})
    response = client.get(ACCESS)
    body = response.content.decode()
    [row] = response.context["past"]
    assert [(v.version, v.kind, v.changed_by_label, v.reason) for v in row.versions] == [
        (1, "created", "case_lead", "Needed for the investigation"),
        (2, "extended", "case_lead", "Trial moved"),
        (3, "revoked", "case_lead", "Left the team"),
    ]
    history = body[body.index(f'id="history-{held.pk}"') :]
    for text in ("Granted", "Extended", "Revoked", "Trial moved", "Left the team", "3 versions"):
        assert text in history, text


def test_the_access_page_costs_as_many_queries_for_three_grants_as_for_one(cast: Cast):
    """Two sizes compared, so a query per grant, version or request cannot hide under a ceiling."""
    client = client_for(cast, "case_lead")

    def queries_and_rows() -> tuple[int, int, int]:
        client.get(ACCESS)  # warm the session and role caches
        with CaptureQueriesContext(connection) as queries:
            response = client.get(ACCESS)
        return (
            len(queries.captured_queries),
            len(response.context["current"]),
            len(response.context["open_requests"]),
        )

    grant(cast, "investigator")
    open_request(cast, "privacy_officer")
    few = queries_and_rows()
    held = grant(cast, "engineer")
    grant(cast, "operator")
    open_request(cast, "security_manager")
    post(client, f"{ACCESS}grants/{held.pk}/revoke/", {"reason": "Left the team"})  # a second version
    many = queries_and_rows()
    assert (few[1:], many[1:]) == ((1, 1), (2, 2))
    assert few[0] == many[0], (few, many)


# --- the grant form ----------------------------------------------------------------------------------


def test_it_ticks_production_and_not_experiment_by_default(cast: Cast):
    body = client_for(cast, "case_lead").get(f"{ACCESS}grant/").content.decode()
    assert re.search(r'<input[^>]*value="production"[^>]*checked', body)
    assert not re.search(r'<input[^>]*value="experiment"[^>]*checked', body)
    assert 'type="date"' in body


def test_it_grants_exactly_what_was_entered_and_records_it(cast: Cast):
    client = client_for(cast, "case_lead")
    until = a_day(30)
    response = post(client, f"{ACCESS}grant/", grant_form(valid_until=until.isoformat()))
    [created] = Grant.objects.all()
    assert response.status_code == 302
    assert response["Location"] == f"{ACCESS}#grant-{created.pk}"
    assert created.case == cast.case
    assert created.grantee == cast["investigator"]
    assert created.rights == ["read", "search"]
    assert created.environments == ["production"]
    assert created.valid_until == end_of_day(until)
    assert timezone.localtime(created.valid_until).time() == datetime.time.min
    assert last_day(created.valid_until) == until
    assert created.reason == "Tactical analysis of the laptop"
    assert created.granted_by == cast["case_lead"]
    [version] = GrantVersion.objects.filter(grant=created)
    assert (version.kind, version.changed_by_label) == ("created", "case_lead")
    event = AuditEvent.objects.get(action="grant.created", grant_id=created.pk)
    assert (event.actor, event.channel, str(event.project_id)) == (
        "case_lead",
        "browser",
        str(CASE_PROJECT_ID),
    )
    assert event.details["rights"] == ["read", "search"]
    # After the redirect: the success message and the new row.
    page = client.get(response["Location"]).content.decode()
    assert "investigator now has access to case NFI-2026-0001" in page
    assert f'id="grant-{created.pk}"' in page
    assert check(cast, "investigator", "search")["allowed"] is True
    assert check(cast, "investigator", "export")["reason"] == "right_missing"


def test_it_grants_the_experiment_environment_only_when_ticked(cast: Cast):
    post(
        client_for(cast, "case_lead"),
        f"{ACCESS}grant/",
        grant_form(environments=["production", "experiment"]),
    )
    assert Grant.objects.get().environments == ["experiment", "production"]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"rights": None}, "rights", "Choose at least one right."),
        ({"environments": None}, "environments", "Choose at least one environment."),
        ({"valid_until": ""}, "valid_until", "Give the last day of access."),
        ({"valid_until": "next week"}, "valid_until", "Give the date as day-month-year"),
        ({"valid_until": "2001-01-01"}, "valid_until", "The end date lies in the past."),
        ({"valid_until": "2999-01-01"}, "valid_until", "Access may last at most 365 days"),
        ({"reason": "  "}, "reason", "Say why access is granted."),
        ({"grantee": "nobody"}, "grantee", "There is nobody with the username nobody."),
        ({"grantee": "case_lead"}, "grantee", "You cannot grant access to yourself."),
        ({"rights": ["read", "fly"]}, "rights", "Select a valid choice."),
    ],
)
def test_it_stores_nothing_and_says_what_is_wrong_next_to_the_field(
    cast: Cast, overrides: dict[str, object], field: str, message: str
):
    events = changes_recorded()
    response = post(client_for(cast, "case_lead"), f"{ACCESS}grant/", grant_form(**overrides))
    body = response.content.decode()
    assert response.status_code == 400
    assert not Grant.objects.exists()
    assert changes_recorded() == events
    assert 'role="alert"' in body and "Nothing was saved." in body
    error = re.search(rf'<p class="field-error" id="id_{field}_error">([^<]*)</p>', body)
    assert error is not None, body
    assert message in error.group(1)
    # What was typed is kept, so the person only corrects the wrong part.
    if field != "reason":
        assert "Tactical analysis of the laptop" in body


def test_it_refuses_a_person_without_screening_in_plain_words(cast: Cast):
    Profile.objects.filter(user=cast["investigator"]).update(screening_valid_until=a_day(-1))
    response = post(client_for(cast, "case_lead"), f"{ACCESS}grant/", grant_form())
    assert response.status_code == 400
    assert "investigator has no valid screening, so cannot be given access." in response.content.decode()
    assert not Grant.objects.exists()


def test_it_warns_after_saving_when_the_grant_outlasts_the_screening(cast: Cast):
    Profile.objects.filter(user=cast["investigator"]).update(screening_valid_until=a_day(10))
    client = client_for(cast, "case_lead")
    response = post(client, f"{ACCESS}grant/", grant_form(valid_until=a_day(30).isoformat()))
    assert response.status_code == 302
    assert Grant.objects.count() == 1
    page = client.get(response["Location"]).content.decode()
    assert '<li class="warning">' in page
    assert "The access runs past the screening of investigator" in page


@override_settings(LANGUAGE_CODE="nl")
def test_it_says_the_errors_and_warnings_in_dutch(cast: Cast):
    client = client_for(cast, "case_lead")
    body = post(client, f"{ACCESS}grant/", grant_form(rights=None, grantee="case_lead")).content.decode()
    assert "Kies ten minste één recht." in body
    assert "Er is niets opgeslagen." in body
    body = post(client, f"{ACCESS}grant/", grant_form(grantee="case_lead")).content.decode()
    assert "U kunt uzelf geen toegang geven." in body
    Profile.objects.filter(user=cast["investigator"]).update(screening_valid_until=a_day(10))
    response = post(client, f"{ACCESS}grant/", grant_form())
    page = client.get(response["Location"]).content.decode()
    assert "investigator heeft nu toegang tot zaak NFI-2026-0001" in page
    assert "screening van investigator" in page


# --- change, revoke, sign off ------------------------------------------------------------------------


def test_it_extends_and_narrows_a_grant_keeping_the_history(cast: Cast):
    held = grant(cast, "investigator", rights=["read", "search"], days=30)
    client = client_for(cast, "case_lead")
    form = client.get(f"{ACCESS}grants/{held.pk}/change/").content.decode()
    assert f'value="{last_day(held.valid_until).isoformat()}"' in form
    response = post(
        client,
        f"{ACCESS}grants/{held.pk}/change/",
        grant_form(rights=["read"], reason="Search no longer needed"),
    )
    assert response.status_code == 302
    held.refresh_from_db()
    # The date field was left as it was, so the end did not move.
    assert (held.rights, held.version) == (["read"], 2)
    assert held.valid_until == GrantVersion.objects.get(grant=held, version=1).valid_until
    assert GrantVersion.objects.get(grant=held, version=2).kind == "narrowed"
    post(
        client,
        f"{ACCESS}grants/{held.pk}/change/",
        grant_form(rights=["read"], valid_until=a_day(120).isoformat()),
    )
    held.refresh_from_db()
    assert held.valid_until == end_of_day(a_day(120))
    assert GrantVersion.objects.get(grant=held, version=3).kind == "extended"
    assert AuditEvent.objects.filter(action="grant.changed", grant_id=held.pk).count() == 2


def test_it_revokes_only_after_confirmation_with_a_reason(cast: Cast):
    held = grant(cast, "investigator")
    client = client_for(cast, "case_lead")
    url = f"{ACCESS}grants/{held.pk}/revoke/"
    # The link from the access page leads to a question, not to the act.
    confirmation = client.get(url)
    held.refresh_from_db()
    assert confirmation.status_code == 200
    assert held.revoked_at is None
    body = confirmation.content.decode()
    assert "Revoke the access of investigator to case NFI-2026-0001?" in body
    assert 'name="reason"' in body
    # Without a reason: nothing happens, and the page says why.
    response = post(client, url, {"reason": ""})
    held.refresh_from_db()
    assert response.status_code == 400
    assert "Say why the access is revoked." in response.content.decode()
    assert held.revoked_at is None
    assert check(cast, "investigator")["allowed"] is True
    # With a reason: revoked, recorded, and the very next decision denies.
    response = post(client, url, {"reason": "Left the investigation team"})
    held.refresh_from_db()
    assert response.status_code == 302
    assert held.revoked_at is not None and held.revoke_reason == "Left the investigation team"
    assert AuditEvent.objects.filter(action="grant.revoked", grant_id=held.pk).count() == 1
    decision = check(cast, "investigator")
    assert (decision["allowed"], decision["reason"]) == (False, "grant_revoked")
    # Revoking twice is refused in words, not with an error page.
    again = client.get(url).content.decode()
    assert "This access has already been revoked." in again


def test_it_signs_a_person_off_revoking_all_their_grants_there(cast: Cast):
    first = grant(cast, "investigator", rights=["read"])
    second = grant(cast, "investigator", rights=["search"], environments=["experiment"])
    kept = grant(cast, "engineer")
    client = client_for(cast, "case_lead")
    form = client.get(f"{ACCESS}sign-off/?person=investigator").content.decode()
    assert '<option value="investigator" selected>' in form
    response = post(
        client, f"{ACCESS}sign-off/", {"person": "investigator", "reason": "Moved to another case"}
    )
    assert response.status_code == 302
    assert Grant.objects.filter(pk__in=[first.pk, second.pk], revoked_at__isnull=False).count() == 2
    kept.refresh_from_db()
    assert kept.revoked_at is None
    assert AuditEvent.objects.filter(action="case.person_signed_off").count() == 1
    assert "2 grants were revoked" in client.get(response["Location"]).content.decode()


def test_it_refuses_a_sign_off_without_a_person_or_reason(cast: Cast):
    held = grant(cast, "investigator")
    response = post(client_for(cast, "case_lead"), f"{ACCESS}sign-off/", {"person": "engineer", "reason": ""})
    body = response.content.decode()
    assert response.status_code == 400
    assert "Choose one of the people who have access." in body
    assert "Say why the person is signed off the case." in body
    held.refresh_from_db()
    assert held.revoked_at is None


def test_it_grants_nothing_new_on_a_closed_case(cast: Cast):
    cast.case.status = CaseStatus.CLOSED
    cast.case.save(update_fields=["status"])
    client = client_for(cast, "case_lead")
    assert "Grant access</a>" not in client.get(ACCESS).content.decode()
    response = post(client, f"{ACCESS}grant/", grant_form())
    assert response.status_code == 400
    assert "Access can only be granted on an open case." in response.content.decode()
    assert not Grant.objects.exists()


# --- access requests ---------------------------------------------------------------------------------


def test_it_lets_a_person_ask_for_access_by_case_number(cast: Cast):
    client = client_for(cast, "investigator")
    body = client.get("/my-access/request/").content.decode()
    assert re.search(r'<input[^>]*value="production"[^>]*checked', body)
    response = post(
        client,
        "/my-access/request/",
        {
            "case_number": "nfi-2026-0001",
            "rights": ["read", "search"],
            "environments": ["production"],
            "valid_until": a_day(40).isoformat(),
            "reason": "Second opinion on the chats",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/my-access/#requests"
    [asked] = AccessRequest.objects.all()
    assert (asked.case, asked.requester, asked.rights, asked.environments, asked.status) == (
        cast.case,
        cast["investigator"],
        ["read", "search"],
        ["production"],
        "open",
    )
    assert asked.valid_until == end_of_day(a_day(40))
    assert AuditEvent.objects.filter(action="access_request.created", object_id=str(asked.pk)).count() == 1
    page = client.get("/my-access/").content.decode()
    assert "has been sent to the case lead" in page
    assert f'id="request-{asked.pk}"' in page


@pytest.mark.parametrize("number", ["NFI-2099-9999", "NFI-2026-0002-closed"])
def test_it_refuses_a_request_for_a_case_that_is_not_open(cast: Cast, number: str):
    if number.endswith("-closed"):
        cast.other_case.status = CaseStatus.CLOSED
        cast.other_case.save(update_fields=["status"])
        number = cast.other_case.case_number
    response = post(
        client_for(cast, "investigator"),
        "/my-access/request/",
        {
            "case_number": number,
            "rights": ["read"],
            "environments": ["production"],
            "valid_until": a_day(5).isoformat(),
            "reason": "x",
        },
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert f"There is no open case with the number {number}." in body
    assert 'id="id_case_number_error"' in body
    assert not AccessRequest.objects.exists()


def test_it_refuses_a_second_open_request_next_to_the_case_number(cast: Cast):
    open_request(cast, "investigator")
    response = post(
        client_for(cast, "investigator"),
        "/my-access/request/",
        {
            "case_number": "NFI-2026-0001",
            "rights": ["read"],
            "environments": ["production"],
            "valid_until": a_day(5).isoformat(),
            "reason": "Again",
        },
    )
    body = response.content.decode()
    assert response.status_code == 400
    error = re.search(r'<p class="field-error" id="id_case_number_error">([^<]*)</p>', body)
    assert error is not None and "You already have an open request for this case." in error.group(1)
    assert AccessRequest.objects.count() == 1


def test_it_shows_the_case_lead_open_requests_and_notifications_on_the_start_page(cast: Cast):
    asked = open_request(cast, "engineer")
    client = client_for(cast, "case_lead")
    response = client.get("/")
    body = response.content.decode()
    [requests] = [work for work in response.context["work_lists"] if work.key == "access-requests"]
    assert [item.url for item in requests.items] == [f"/cases/{CASE_PROJECT_ID}/access/requests/{asked.pk}/"]
    assert f'href="/cases/{CASE_PROJECT_ID}/access/requests/{asked.pk}/"' in body
    [notification] = response.context["notifications"]
    assert notification["subject"] == "engineer asks for access to case NFI-2026-0001"
    assert "Analysing the chat exports" in notification["body"]
    # Marking it read takes it off the page; someone else's id changes nothing.
    stored = Notification.objects.get(recipient=cast["case_lead"])
    assert post(client_for(cast, "engineer"), f"/notifications/{stored.pk}/read/", {}, "/").status_code == 302
    stored.refresh_from_db()
    assert stored.read_at is None
    response = post(client, f"/notifications/{stored.pk}/read/", {}, "/")
    assert response["Location"] == "/#notifications"
    stored.refresh_from_db()
    assert stored.read_at is not None
    assert client.get("/").context["notifications"] == []
    # Other people see no requests to answer.
    assert "access-requests" not in [
        w.key for w in client_for(cast, "investigator").get("/").context["work_lists"]
    ]


@override_settings(LANGUAGE_CODE="nl")
def test_it_renders_notifications_in_the_readers_language(cast: Cast):
    open_request(cast, "engineer")
    body = client_for(cast, "case_lead").get("/").content.decode()
    assert "engineer vraagt toegang tot zaak NFI-2026-0001" in body
    assert "Markeren als gelezen" in body


def test_it_marks_read_only_with_a_post(cast: Cast):
    open_request(cast, "engineer")
    stored = Notification.objects.get(recipient=cast["case_lead"])
    assert client_for(cast, "case_lead").get(f"/notifications/{stored.pk}/read/").status_code == 405


def test_it_approves_a_request_narrowed(cast: Cast):
    asked = open_request(cast, "engineer", days=60)
    client = client_for(cast, "case_lead")
    url = f"{ACCESS}requests/{asked.pk}/"
    page = client.get(url).content.decode()
    # Only what was requested is offered, all ticked to begin with.
    assert "Review privileged traces" not in page
    assert re.search(r'<input[^>]*value="export"[^>]*checked', page)
    response = post(
        client,
        f"{url}approve/",
        {
            "approve-rights": ["read", "search"],
            "approve-environments": ["production"],
            "approve-valid_until": a_day(20).isoformat(),
            "approve-note": "Export only after the hearing",
        },
        form_page=url,
    )
    assert response.status_code == 302
    asked.refresh_from_db()
    [created] = Grant.objects.all()
    assert asked.status == "approved" and asked.answer_note == "Export only after the hearing"
    assert (created.grantee, created.rights, created.environments) == (
        cast["engineer"],
        ["read", "search"],
        ["production"],
    )
    assert created.valid_until == end_of_day(a_day(20))
    assert created.request == asked
    assert AuditEvent.objects.filter(action="access_request.approved", grant_id=created.pk).count() == 1
    outcome = client_for(cast, "engineer").get("/my-access/").content.decode()
    assert "Approved" in outcome and "Export only after the hearing" in outcome
    assert f'id="grant-{created.pk}"' in outcome


def test_it_approves_as_requested_when_nothing_is_changed(cast: Cast):
    asked = open_request(cast, "engineer", days=60)
    url = f"{ACCESS}requests/{asked.pk}/"
    response = post(
        client_for(cast, "case_lead"),
        f"{url}approve/",
        {
            "approve-rights": asked.rights,
            "approve-environments": asked.environments,
            "approve-valid_until": last_day(asked.valid_until).isoformat(),
        },
        form_page=url,
    )
    assert response.status_code == 302
    created = Grant.objects.get()
    assert (created.rights, created.environments, created.valid_until) == (
        asked.rights,
        asked.environments,
        asked.valid_until,
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"approve-rights": ["read", "review_privileged"]}, "Select a valid choice."),
        ({"approve-valid_until": "later"}, "Give the date as day-month-year"),
        (
            {"approve-valid_until": "FAR"},
            "You may approve an earlier end date than requested, not a later one.",
        ),
    ],
)
def test_it_never_approves_more_than_was_requested(cast: Cast, data: dict[str, object], message: str):
    asked = open_request(cast, "engineer", days=60)
    url = f"{ACCESS}requests/{asked.pk}/"
    form = {
        "approve-rights": ["read"],
        "approve-environments": ["production"],
        "approve-valid_until": a_day(30).isoformat(),
        **data,
    }
    if form["approve-valid_until"] == "FAR":
        form["approve-valid_until"] = a_day(90).isoformat()
    response = post(client_for(cast, "case_lead"), f"{url}approve/", form, form_page=url)
    assert response.status_code == 400
    assert message in response.content.decode()
    asked.refresh_from_db()
    assert asked.status == "open"
    assert not Grant.objects.exists()


def test_it_rejects_a_request_only_with_a_note(cast: Cast):
    asked = open_request(cast, "engineer")
    client = client_for(cast, "case_lead")
    url = f"{ACCESS}requests/{asked.pk}/"
    response = post(client, f"{url}reject/", {"reject-note": ""}, form_page=url)
    assert response.status_code == 400
    assert "Say why the request is rejected." in response.content.decode()
    asked.refresh_from_db()
    assert asked.status == "open"
    response = post(client, f"{url}reject/", {"reject-note": "Not part of your assignment"}, form_page=url)
    assert response.status_code == 302
    asked.refresh_from_db()
    assert (asked.status, asked.answer_note, asked.answered_by) == (
        "rejected",
        "Not part of your assignment",
        cast["case_lead"],
    )
    assert not Grant.objects.exists()
    assert AuditEvent.objects.filter(action="access_request.rejected", object_id=str(asked.pk)).count() == 1
    # The answered request shows its outcome instead of the forms, and the requester sees it.
    answered = client.get(url).content.decode()
    assert "This request was answered by case_lead" in answered
    assert "approve/" not in answered
    outcome = client_for(cast, "engineer").get("/my-access/").content.decode()
    assert "Rejected" in outcome and "Not part of your assignment" in outcome


def test_it_links_the_case_page_to_the_access_page_for_managers_only(cast: Cast):
    link = f'href="/cases/{CASE_PROJECT_ID}/access/"'
    assert link in client_for(cast, "case_lead").get(f"/cases/{CASE_PROJECT_ID}/").content.decode()
    assert link in client_for(cast, "deputy").get(f"/cases/{CASE_PROJECT_ID}/").content.decode()
    assert link not in client_for(cast, "privacy_officer").get(f"/cases/{CASE_PROJECT_ID}/").content.decode()


def test_it_shows_a_person_their_own_access_and_nobody_elses(cast: Cast):
    mine = grant(cast, "investigator", rights=["read"], days=5)
    theirs = grant(cast, "engineer")
    response = client_for(cast, "investigator").get("/my-access/")
    body = response.content.decode()
    assert [row.grant.pk for row in response.context["current"]] == [mine.pk]
    assert f'id="grant-{theirs.pk}"' not in body
    assert f'<tr id="grant-{mine.pk}" class="ending-soon">' in body
    for text in ("NFI-2026-0001", "Operation Heron", "Read", "Production", "case_lead", "Ends soon"):
        assert text in body, text


# --- issue 11, item 8: the last day of the calendar used to be a 500 --------------------------------

CALENDAR_ENDS = "Give a date between 01-01-1900 and 30-12-9999."


@pytest.mark.parametrize("day", ["9999-12-31", "31-12-9999", "0001-01-01"])
def test_every_end_date_form_refuses_the_ends_of_the_calendar_and_stores_nothing(cast: Cast, day: str):
    held = grant(cast)
    asked = open_request(cast)
    lead, investigator = client_for(cast, "case_lead"), client_for(cast, "investigator")
    answer = f"{ACCESS}requests/{asked.pk}/"
    forms: list[tuple[Client, str, dict[str, object], str | None, str]] = [
        (lead, f"{ACCESS}grant/", grant_form(valid_until=day), None, "valid_until"),
        (
            lead,
            f"{ACCESS}grants/{held.pk}/change/",
            {"rights": ["read"], "environments": ["production"], "valid_until": day, "reason": "Longer"},
            None,
            "valid_until",
        ),
        (
            investigator,
            "/my-access/request/",
            {
                "case_number": "NFI-2026-0001",
                "rights": ["read"],
                "environments": ["production"],
                "valid_until": day,
                "reason": "Second opinion",
            },
            None,
            "valid_until",
        ),
        (
            lead,
            f"{answer}approve/",
            {"approve-rights": ["read"], "approve-environments": ["production"], "approve-valid_until": day},
            answer,
            "approve-valid_until",
        ),
    ]
    events = changes_recorded()
    grants = list(GrantVersion.objects.values_list("pk", flat=True))
    requests = list(AccessRequest.objects.values("pk", "status", "valid_until"))
    for client, url, data, page, field in forms:
        response = post(client, url, data, form_page=page)
        assert response.status_code == 400, (url, response.status_code)
        error = re.search(
            rf'<p class="field-error" id="id_{field}_error">([^<]*)</p>', response.content.decode()
        )
        assert error is not None and CALENDAR_ENDS in error.group(1), url
    assert changes_recorded() == events
    assert list(GrantVersion.objects.values_list("pk", flat=True)) == grants
    assert list(AccessRequest.objects.values("pk", "status", "valid_until")) == requests
