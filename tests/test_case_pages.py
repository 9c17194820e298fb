"""The case lead's pages for naming deputies and changing the case's status: who reaches which page
(one table per method), and what the forms store.

Every form is sent as a browser without JavaScript sends it: a plain POST carrying the CSRF token of
the page it came from, followed by the redirect. Each change must come with its audit event, and the
decision API must follow it at once.
"""

from __future__ import annotations

import pytest
from django.test import Client

from audit.models import AuditEvent
from cases.models import Case, CaseStatus, DeputyPeriod
from cases.selectors import case_deputy_usernames
from cases.services import STATUS_CHANGES
from cases.views import MOVES
from tests.authz_helpers import check, grant
from tests.personas import CASE_PROJECT_ID, PEOPLE, Cast

ANON = None
CASE = f"/cases/{CASE_PROJECT_ID}"
ACCESS = f"{CASE}/access/"
TOKEN_PAGE = "/"  # a page every signed-in person may load, for the CSRF token
# The new pages, GET: the form to name a deputy, the confirmation to remove one, and the
# confirmation (with the reason) to close the case.
PAGES = {
    "deputy_add": f"{CASE}/deputies/add/",
    "deputy_remove": f"{CASE}/deputies/deputy/remove/",
    "close": f"{CASE}/status/closed/",
}
# Only the case lead: a deputy manages grants but is refused these (403); to everyone else the
# case does not exist here (404), whatever their role; 302 is the way to the sign-in page.
EXPECTED_GET: dict[str | None, tuple[int, ...]] = {
    ANON: (302, 302, 302),
    "case_lead": (200, 200, 200),
    "deputy": (403, 403, 403),
    "other_case_lead": (404, 404, 404),
    "investigator": (404, 404, 404),
    "engineer": (404, 404, 404),
    "operator": (404, 404, 404),
    "privacy_officer": (404, 404, 404),
    "security_manager": (404, 404, 404),
    "administrator": (404, 404, 404),
}
# The same pages, POSTed with valid input. The case lead's POSTs succeed and redirect (302).
EXPECTED_POST = {
    persona: tuple(302 if persona in (ANON, "case_lead") else code for code in row)
    for persona, row in EXPECTED_GET.items()
}
VALID_POSTS: dict[str, dict[str, str]] = {
    "deputy_add": {"deputy": "engineer"},
    "deputy_remove": {},
    "close": {"reason": "The investigation is finished"},
}


def client_for(cast: Cast, persona: str | None) -> Client:
    # CSRF is enforced, as in a real browser.
    client = Client(enforce_csrf_checks=True)
    if persona is not None:
        client.force_login(cast[persona])
    return client


def post(client: Client, url: str, data: dict[str, str], form_page: str | None = None):
    """POST as the browser does: load the page with the form, then send its CSRF token."""
    client.get(form_page or url)
    token = client.cookies["csrftoken"].value
    return client.post(url, {**data, "csrfmiddlewaretoken": token})


def changes_recorded() -> int:
    """Audit events other than signing in (``force_login`` records a session event)."""
    return AuditEvent.objects.exclude(action__startswith="session.").count()


def case_status() -> str:
    return Case.objects.get(project_id=CASE_PROJECT_ID).status


# --- who reaches which page ------------------------------------------------------------------------


def test_it_has_a_row_for_every_person_and_a_column_for_every_page():
    assert set(EXPECTED_GET) == set(EXPECTED_POST) == {ANON, *PEOPLE}
    for row in (*EXPECTED_GET.values(), *EXPECTED_POST.values()):
        assert len(row) == len(PAGES)
    assert set(VALID_POSTS) == set(PAGES)


def test_it_has_words_for_exactly_the_moves_the_service_allows():
    allowed = {(before, after) for before, afters in STATUS_CHANGES.items() for after in afters}
    assert set(MOVES) == allowed


@pytest.mark.parametrize("persona", list(EXPECTED_GET))
def test_it_gives_each_persona_the_expected_status_on_each_page(cast: Cast, persona: str | None):
    client = client_for(cast, persona)
    got = {page: client.get(url).status_code for page, url in PAGES.items()}
    assert got == dict(zip(PAGES, EXPECTED_GET[persona], strict=True))


@pytest.mark.parametrize("persona", list(EXPECTED_POST))
def test_it_lets_only_the_case_lead_post(cast: Cast, persona: str | None):
    client = client_for(cast, persona)
    events = changes_recorded()
    got = {}
    for page, url in PAGES.items():
        # Anonymous people have no session yet; the sign-in page gives them a CSRF token.
        response = post(
            client, url, VALID_POSTS[page], form_page=TOKEN_PAGE if persona else "/accounts/login/"
        )
        got[page] = response.status_code
        if persona is None:
            assert response["Location"].startswith("/accounts/login/"), page
    assert got == dict(zip(PAGES, EXPECTED_POST[persona], strict=True))
    if persona == "case_lead":
        assert case_deputy_usernames(cast.case) == ["engineer"]
        assert case_status() == CaseStatus.CLOSED
        assert changes_recorded() == events + 3
    else:
        assert case_deputy_usernames(cast.case) == ["deputy"]
        assert case_status() == CaseStatus.OPEN
        assert changes_recorded() == events


def test_it_refuses_a_post_without_the_csrf_token(cast: Cast):
    response = client_for(cast, "case_lead").post(PAGES["close"], {"reason": "Done"})
    assert response.status_code == 403
    assert case_status() == CaseStatus.OPEN


# --- the sections on the access page ---------------------------------------------------------------


def test_it_shows_the_case_lead_the_deputies_and_the_forms(cast: Cast):
    body = client_for(cast, "case_lead").get(ACCESS).content.decode()
    assert 'id="deputies"' in body and 'id="status"' in body
    assert f'href="{CASE}/deputies/deputy/remove/"' in body
    assert f'action="{CASE}/deputies/add/"' in body
    # Closing asks for confirmation on its own page: a link here, not a form.
    assert f'href="{CASE}/status/closed/"' in body
    assert f'action="{CASE}/status/closed/"' not in body


def test_it_shows_a_deputy_the_list_but_no_forms(cast: Cast):
    response = client_for(cast, "deputy").get(ACCESS)
    body = response.content.decode()
    assert response.status_code == 200
    assert '<tr id="deputy-deputy">' in body
    assert "/deputies/add/" not in body and "/remove/" not in body and "/status/" not in body
    assert "Only the case lead closes, reopens or archives the case." in body


def test_it_offers_reopening_and_archiving_a_closed_case(cast: Cast):
    client = client_for(cast, "case_lead")
    assert post(client, PAGES["close"], {"reason": "Finished"}).status_code == 302
    body = client.get(ACCESS).content.decode()
    # Reopening needs no confirmation: its form, with the reason, is on the access page.
    assert f'action="{CASE}/status/open/"' in body
    assert 'id="id_reason_open"' in body
    assert f'href="{CASE}/status/archived/"' in body
    assert f'href="{CASE}/status/closed/"' not in body


# --- deputies --------------------------------------------------------------------------------------


def test_a_deputy_named_through_the_form_is_stored_audited_and_decides_at_once(cast: Cast):
    client = client_for(cast, "case_lead")
    assert check(cast, user="engineer")["reason"] == "no_grant"
    response = post(client, PAGES["deputy_add"], {"deputy": " engineer "}, form_page=ACCESS)
    assert response.status_code == 302
    assert response["Location"] == f"{ACCESS}#deputies"
    period = DeputyPeriod.objects.get(case=cast.case, deputy=cast["engineer"])
    assert period.removed_at is None and period.added_by == "case_lead"
    event = AuditEvent.objects.filter(action="case.deputy_added").latest("sequence")
    assert event.actor == "case_lead" and event.details["deputy"] == "engineer"
    assert event.details["valid_until"]  # the longest term, when the form leaves the end empty
    assert str(event.project_id) == str(CASE_PROJECT_ID)
    assert check(cast, user="engineer", action="export")["reason"] == "case_lead"
    page = client.get(response["Location"])
    assert "engineer is now a deputy of case NFI-2026-0001." in page.content.decode()
    assert '<tr id="deputy-engineer">' in page.content.decode()


def test_removing_a_deputy_asks_first_then_removes(cast: Cast):
    client = client_for(cast, "case_lead")
    confirm = client.get(PAGES["deputy_remove"])
    assert "Remove deputy as deputy of case NFI-2026-0001?" in confirm.content.decode()
    assert case_deputy_usernames(cast.case) == ["deputy"]  # a GET changes nothing
    response = post(client, PAGES["deputy_remove"], {})
    assert response.status_code == 302 and response["Location"] == f"{ACCESS}#deputies"
    assert case_deputy_usernames(cast.case) == []
    period = DeputyPeriod.objects.get(case=cast.case, deputy=cast["deputy"])
    assert period.removed_at is not None and period.removed_by == "case_lead"
    assert AuditEvent.objects.filter(action="case.deputy_removed", actor="case_lead").count() == 1
    assert check(cast, user="deputy")["reason"] == "no_grant"
    # The former deputy no longer reaches the access page at all.
    assert client_for(cast, "deputy").get(ACCESS).status_code == 404
    # Asked again, the page says so instead of offering the button.
    again = client.get(PAGES["deputy_remove"]).content.decode()
    assert "deputy is not a deputy of this case (any more)." in again
    assert "Yes, remove the deputy" not in again


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("", "Give the username of the person you name deputy."),
        ("nobody", "There is nobody with the username nobody."),
        ("case_lead", "You lead this case, so you cannot also be its deputy."),
        ("deputy", "deputy is already a deputy of this case."),
    ],
)
def test_a_bad_deputy_shows_the_error_next_to_the_field_and_stores_nothing(
    cast: Cast, typed: str, error: str
):
    client = client_for(cast, "case_lead")
    events = changes_recorded()
    response = post(client, PAGES["deputy_add"], {"deputy": typed}, form_page=ACCESS)
    assert response.status_code == 400
    body = response.content.decode()
    assert f'<p class="field-error" id="id_deputy_error">{error}</p>' in body
    assert "Nothing was saved." in body
    assert case_deputy_usernames(cast.case) == ["deputy"]
    assert DeputyPeriod.objects.count() == 1
    assert changes_recorded() == events


def test_a_deputy_without_screening_is_refused_in_plain_words(cast: Cast):
    from people.models import Profile

    Profile.objects.filter(user=cast["engineer"]).update(screening_valid_until=None)
    response = post(client_for(cast, "case_lead"), PAGES["deputy_add"], {"deputy": "engineer"})
    assert response.status_code == 400
    assert "engineer has no valid screening, so cannot be named deputy." in response.content.decode()
    assert case_deputy_usernames(cast.case) == ["deputy"]


def test_removing_someone_who_is_no_deputy_stores_nothing(cast: Cast):
    client = client_for(cast, "case_lead")
    events = changes_recorded()
    response = post(client, f"{CASE}/deputies/engineer/remove/", {})
    assert response.status_code == 400
    assert "engineer is not a deputy of this case (any more)." in response.content.decode()
    assert client.get(f"{CASE}/deputies/nobody/remove/").status_code == 404
    assert changes_recorded() == events


# --- the case's status -----------------------------------------------------------------------------


def test_closing_asks_first_then_closes_and_decisions_deny(cast: Cast):
    grant(cast, "investigator")
    client = client_for(cast, "case_lead")
    confirm = client.get(PAGES["close"]).content.decode()
    assert "Close case NFI-2026-0001?" in confirm and "Yes, close the case" in confirm
    assert case_status() == CaseStatus.OPEN
    response = post(client, PAGES["close"], {"reason": "The investigation is finished"})
    assert response.status_code == 302 and response["Location"] == f"{ACCESS}#status"
    case = Case.objects.get(project_id=CASE_PROJECT_ID)
    assert case.status == CaseStatus.CLOSED and case.closed_at is not None
    event = AuditEvent.objects.filter(action="case.status_changed").latest("sequence")
    assert event.actor == "case_lead"
    assert event.details == {"before": "open", "after": "closed", "reason": "The investigation is finished"}
    assert check(cast)["reason"] == "case_closed"
    assert check(cast, user="case_lead")["reason"] == "case_closed"
    assert "Case NFI-2026-0001 has been closed." in client.get(ACCESS).content.decode()


def test_archiving_and_the_way_back(cast: Cast):
    grant(cast, "investigator")
    client = client_for(cast, "case_lead")
    steps = [
        ("closed", "Finished"),
        ("archived", "Kept for the appeal"),
        ("closed", "Appeal"),
        ("open", "New"),
    ]
    for status, reason in steps:
        response = post(client, f"{CASE}/status/{status}/", {"reason": reason}, form_page=ACCESS)
        assert response.status_code == 302, status
        assert case_status() == status
    assert AuditEvent.objects.filter(action="case.status_changed").count() == len(steps)
    assert Case.objects.get(project_id=CASE_PROJECT_ID).closed_at is None
    assert check(cast)["allowed"] is True


def test_a_status_change_without_a_reason_shows_the_error_and_stores_nothing(cast: Cast):
    client = client_for(cast, "case_lead")
    events = changes_recorded()
    for reason in ("", "   "):
        response = post(client, PAGES["close"], {"reason": reason})
        assert response.status_code == 400
        body = response.content.decode()
        assert (
            '<p class="field-error" id="id_reason_error">Say why the status of the case changes.</p>' in body
        )
    assert case_status() == CaseStatus.OPEN
    assert changes_recorded() == events
    assert check(cast, user="case_lead")["reason"] == "case_lead"


def test_a_move_the_case_cannot_make_is_refused_and_stores_nothing(cast: Cast):
    client = client_for(cast, "case_lead")
    events = changes_recorded()
    # Open cannot become archived or deleted at the case lead's hand; an unknown status does not exist.
    page = client.get(f"{CASE}/status/archived/").content.decode()
    assert "This change of status is not possible" in page
    assert 'name="reason"' not in page
    for status in ("archived", "deleted", "open"):
        response = post(client, f"{CASE}/status/{status}/", {"reason": "Try"}, form_page=ACCESS)
        assert response.status_code == 400, status
        assert "no longer possible" in response.content.decode()
    assert client.get(f"{CASE}/status/gone/").status_code == 404
    assert case_status() == CaseStatus.OPEN
    assert changes_recorded() == events
