"""The browser pages, tried by every person of the cast (and by nobody signed in).

The expected status of each page for each persona is one table, NetBox style; content tests below
check what the scoping door and the navigation by role show.
"""

from __future__ import annotations

import re
import uuid

import pytest
from django.contrib.staticfiles import finders
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.views import defaults

from audit.actor import Actor
from cases.services import case_add_deputy, case_create, dataset_register
from tests.personas import CASE_PROJECT_ID, IMAGE_ID, OTHER_PROJECT_ID, PASSWORD, PEOPLE, Cast

ANON = None
PAGES = {
    "start": "/",
    "cases": "/cases/",
    "case": f"/cases/{CASE_PROJECT_ID}/",
    "other_case": f"/cases/{OTHER_PROJECT_ID}/",
    "unknown_case": f"/cases/{uuid.UUID(int=7)}/",
    "sign_in": "/accounts/login/",
}
# 302: to the sign-in page (anonymous) or away from it (signed in already).
# A case outside a person's scope does not exist for them: 404, never 403.
# Each row: (start, cases, case, other_case, unknown_case, sign_in), in the order of PAGES.
EXPECTED: dict[str | None, tuple[int, ...]] = {
    ANON: (302, 302, 302, 302, 302, 200),
    "case_lead": (200, 200, 200, 404, 404, 302),
    "deputy": (200, 200, 200, 404, 404, 302),
    "other_case_lead": (200, 200, 404, 200, 404, 302),
    "investigator": (200, 200, 404, 404, 404, 302),
    "engineer": (200, 200, 404, 404, 404, 302),
    "operator": (200, 200, 200, 200, 404, 302),
    "privacy_officer": (200, 200, 200, 200, 404, 302),
    "security_manager": (200, 200, 200, 200, 404, 302),
    # Administrators manage people, not cases: no case is theirs to see.
    "administrator": (200, 200, 404, 404, 404, 302),
}


def client_for(cast: Cast, persona: str | None) -> Client:
    client = Client()
    if persona is not None:
        client.force_login(cast[persona])
    return client


def test_it_has_a_row_for_every_person_and_a_column_for_every_page():
    assert set(EXPECTED) == {ANON, *PEOPLE}
    for row in EXPECTED.values():
        assert len(row) == len(PAGES)


@pytest.mark.parametrize("persona", list(EXPECTED))
def test_it_gives_each_persona_the_expected_status_on_each_page(cast: Cast, persona: str | None):
    client = client_for(cast, persona)
    got = {page: client.get(url).status_code for page, url in PAGES.items()}
    assert got == dict(zip(PAGES, EXPECTED[persona], strict=True))


def test_it_sends_an_anonymous_visitor_to_sign_in_and_back(cast: Cast):
    response = Client().get(f"/cases/{CASE_PROJECT_ID}/")
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next=/cases/{CASE_PROJECT_ID}/"


def test_it_shows_a_case_lead_only_their_own_cases(cast: Cast):
    body = client_for(cast, "case_lead").get("/cases/").content.decode()
    assert "NFI-2026-0001" in body
    assert "Operation Heron" in body
    assert f'href="/cases/{CASE_PROJECT_ID}/"' in body
    assert "NFI-2026-0002" not in body


def test_it_shows_an_investigator_without_grants_no_cases(cast: Cast):
    body = client_for(cast, "investigator").get("/cases/").content.decode()
    assert "NFI-2026-0001" not in body
    assert "There are no cases you can see." in body


def test_it_shows_a_reviewer_every_case(cast: Cast):
    body = client_for(cast, "privacy_officer").get("/cases/").content.decode()
    assert "NFI-2026-0001" in body
    assert "NFI-2026-0002" in body


def test_it_shows_the_case_detail(cast: Cast):
    response = client_for(cast, "case_lead").get(f"/cases/{CASE_PROJECT_ID}/")
    body = response.content.decode()
    assert response.context["case"] == cast.case
    assert response.context["deputies"] == ["deputy"]
    for text in (
        "NFI-2026-0001",
        "Operation Heron",
        "case_lead",
        "deputy",
        "Open",
        "Laptop image",
        "Police unit East",
        "Production",
        str(IMAGE_ID),
    ):
        assert text in body, text


def test_the_case_list_costs_as_many_queries_for_five_cases_as_for_two(cast: Cast):
    """Two sizes compared, so a query per case (its lead, deputies or datasets) cannot hide under a
    ceiling."""
    client = client_for(cast, "privacy_officer")

    def queries_and_rows() -> tuple[int, int]:
        client.get("/cases/")  # warm the session and role caches
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/cases/")
        return len(queries.captured_queries), len(response.context["cases"])

    few = queries_and_rows()
    setup = Actor.command("tests")
    for n in range(3):
        case = case_create(
            project_id=uuid.uuid4(),
            case_number=f"NFI-2026-09{n}",
            title=f"Operation {n}",
            case_lead=cast["other_case_lead"],
            by=setup,
        )
        case_add_deputy(case=case, deputy=cast["case_lead"], by=setup)
        dataset_register(
            case=case,
            image_id=uuid.uuid4(),
            description="Phone image",
            delivered_by="Police unit North",
            imported_at=None,
            environments=["production"],
            by=setup,
        )
    many = queries_and_rows()
    assert (few[1], many[1]) == (2, 5)
    assert few[0] == many[0], (few, many)


def test_it_answers_an_unknown_page_with_an_html_page(cast: Cast):
    response = client_for(cast, "case_lead").get(f"/cases/{OTHER_PROJECT_ID}/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "Page not found" in response.content.decode()


@pytest.mark.parametrize(
    ("persona", "task"),
    [
        ("case_lead", "my-cases"),
        ("investigator", "my-access"),
        ("engineer", "my-access"),
        ("privacy_officer", "review"),
        ("privacy_officer", "privacy-statement"),
        ("security_manager", "review"),
        ("operator", "datasets"),
        ("administrator", "admin"),
    ],
)
def test_it_shows_on_the_start_page_what_each_role_can_do(cast: Cast, persona: str, task: str):
    response = client_for(cast, persona).get("/")
    keys = [t["key"] for t in response.context["tasks"]]
    assert task in keys
    assert f'id="task-{task}"' in response.content.decode()


def test_it_shows_no_task_of_another_role(cast: Cast):
    keys = [t["key"] for t in client_for(cast, "case_lead").get("/").context["tasks"]]
    assert keys == ["my-cases"]


def test_it_shows_the_administration_only_to_administrators(cast: Cast):
    admin_nav = [i["url"] for i in client_for(cast, "administrator").get("/").context["navigation"]]
    lead_nav = [i["url"] for i in client_for(cast, "case_lead").get("/").context["navigation"]]
    assert "/admin/" in admin_nav
    assert "/admin/" not in lead_nav
    assert lead_nav[:3] == ["/", "/cases/", "/my-cases/"]


def test_it_marks_the_current_page_and_section_in_the_navigation(cast: Cast):
    client = client_for(cast, "case_lead")
    on_list = {i["url"]: i["current"] for i in client.get("/cases/").context["navigation"]}
    on_case = {i["url"]: i["current"] for i in client.get(f"/cases/{CASE_PROJECT_ID}/").context["navigation"]}
    # Only the Cases entry is current; every other entry (whatever the roles add) is not.
    assert on_list == dict.fromkeys(on_list) | {"/cases/": "page"}
    assert on_case == dict.fromkeys(on_case) | {"/cases/": "true"}


def test_it_signs_in_with_the_form(cast: Cast):
    client = Client()
    response = client.post("/accounts/login/", {"username": "case_lead", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/cases/").status_code == 200


def test_it_refuses_a_wrong_password_and_says_so(cast: Cast):
    client = Client()
    response = client.post("/accounts/login/", {"username": "case_lead", "password": "wrong"})
    body = response.content.decode()
    assert response.status_code == 200
    assert 'role="alert"' in body
    assert "did not match" in body
    assert 'value="case_lead"' in body  # the username is kept, the password is not
    assert client.get("/cases/").status_code == 302


def test_it_signs_out_with_a_post(cast: Cast):
    client = client_for(cast, "case_lead")
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_it_serves_its_own_stylesheet_and_nothing_from_elsewhere(cast: Cast):
    body = client_for(cast, "case_lead").get(f"/cases/{CASE_PROJECT_ID}/").content.decode()
    assert 'href="/static/css/app.css"' in body
    assert re.findall(r'(?:src|href)="(?:https?:)?//', body) == []
    assert finders.find("css/app.css") is not None


def test_it_offers_a_skip_link_to_the_main_content(cast: Cast):
    body = client_for(cast, "case_lead").get("/").content.decode()
    assert '<a class="skip-link" href="#main">' in body
    assert '<main id="main"' in body


def test_it_shows_a_plain_error_page_that_needs_no_database_or_request_context(rf):
    # The 500 page is rendered when anything may be broken, the database included.
    response = defaults.server_error(rf.get("/cases/"))
    body = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong" in body
    assert "nothing was stored" in body
