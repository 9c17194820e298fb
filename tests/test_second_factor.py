"""The second factor of password sign-in (issue 16, item 2; people.second_factor): required for
administrators, privacy officers and security managers, offered to everyone; the code step sits
before Django's ``login()``, on ``/accounts/login/`` and on the admin's login alike. Every code here
is a real TOTP code computed from the device's key (tests.second_factor_helpers)."""

from __future__ import annotations

import datetime
import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit import actions
from audit.actor import Actor
from people import second_factor
from people.second_factor import PENDING_SESSION_KEY
from people.services import person_deactivate
from siem.models import Alert
from siem.rules import sweep
from tests.matrix import events_since, last_sequence
from tests.personas import PASSWORD, PEOPLE
from tests.second_factor_helpers import (
    code_at,
    code_now,
    current_step,
    enrol,
    enrol_through_page,
    fresh_code,
    key_from_page,
)

ADDRESS = "198.51.100.44"
REQUIRED = {"administrator", "privacy_officer", "security_manager"}


@pytest.fixture
def browser() -> Client:
    return Client(REMOTE_ADDR=ADDRESS)


def password_step(browser: Client, username: str, path: str = "/accounts/login/", **extra: str):
    return browser.post(path, {"username": username, "password": PASSWORD, **extra})


def unthrottle(person) -> None:
    """Moves the device's last failure back, as if the throttle's wait had passed."""
    TOTPDevice.objects.filter(user=person).update(
        throttling_failure_timestamp=timezone.now() - datetime.timedelta(hours=1)
    )


# --- who is asked ---

# Persona → where the right password leads: the enrolment for the three roles, home for the others.
PASSWORD_LEADS_TO = {name: "/accounts/login/enrol/" if name in REQUIRED else "/" for name in PEOPLE}


def test_the_matrix_covers_every_persona():
    assert set(PASSWORD_LEADS_TO) == set(PEOPLE)
    assert {
        name for name, roles in PEOPLE.items() if second_factor.SECOND_FACTOR_ROLES & set(roles)
    } == REQUIRED


@pytest.mark.parametrize("persona", sorted(PASSWORD_LEADS_TO))
def test_the_password_alone_signs_in_only_where_no_second_factor_is_required(cast, browser, persona):
    before = last_sequence()
    response = password_step(browser, persona)
    assert (response.status_code, response["Location"]) == (302, PASSWORD_LEADS_TO[persona])
    signed_in = [e for e in events_since(before) if e.action == actions.PERSON_SIGNED_IN]
    if persona in REQUIRED:
        # Pending, not signed in: no session for the person, no sign-in event, and the start page
        # sends them to sign in.
        assert SESSION_KEY not in browser.session
        assert browser.session[PENDING_SESSION_KEY]["user_id"] == cast[persona].pk
        assert signed_in == []
        assert browser.get("/")["Location"].startswith("/accounts/login/")
    else:
        assert browser.session[SESSION_KEY] == str(cast[persona].pk)
        assert [e.details for e in signed_in] == [{"method": "password"}]


def test_a_required_role_enrols_before_the_first_sign_in_completes(cast, browser):
    person = cast["privacy_officer"]
    password_step(browser, "privacy_officer", next="/audit/")
    before = last_sequence()

    page = browser.get("/accounts/login/enrol/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html and 'id="second-factor-secret"' in html  # the QR code, and the key as text
    assert SESSION_KEY not in browser.session

    # A wrong code enrols nothing and signs nobody in.
    wrong = f"{(int(code_now(key_from_page(html))) + 1) % 1_000_000:06d}"
    response = browser.post("/accounts/login/enrol/", {"code": wrong})
    assert response.status_code == 400
    assert not TOTPDevice.objects.filter(user=person).exists()
    assert SESSION_KEY not in browser.session

    key, codes, response = enrol_through_page(browser)
    assert browser.session[SESSION_KEY] == str(person.pk)
    assert len(codes) == second_factor.RECOVERY_CODE_COUNT == len(set(codes))
    assert 'href="/audit/"' in response.content.decode()  # continue to where the sign-in was going
    device = TOTPDevice.objects.get(user=person)
    assert (device.confirmed, device.key) == (True, key)
    assert sorted(StaticToken.objects.filter(device__user=person).values_list("token", flat=True)) == sorted(
        codes
    )

    events = [e for e in events_since(before) if e.action != actions.AUDIT_VIEWED]
    assert [e.action for e in events] == [actions.PERSON_SECOND_FACTOR_ENROLLED, actions.PERSON_SIGNED_IN]
    enrolled, signed_in = events
    assert (enrolled.actor, enrolled.object_id) == ("privacy_officer", str(person.pk))
    assert enrolled.details == {
        "username": "privacy_officer",
        "recovery_codes": 10,
        "required_by_roles": True,
    }
    assert signed_in.details == {"method": "password", "second_factor": "authenticator"}
    assert key not in str(enrolled.details) and not any(code in str(enrolled.details) for code in codes)


def test_an_enrolment_the_roles_require_is_seen_by_the_monitoring_an_optional_one_is_not(cast, browser):
    """Trust on first use: whoever held a privacy officer's new password first could enrol in her
    place. The enrolment is her own act (medium, not "without a second administrator"), but the
    reviewers see it; a case lead's optional enrolment raises nothing."""
    password_step(browser, "privacy_officer")
    enrol_through_page(browser)
    own = Client(REMOTE_ADDR=ADDRESS)
    own.force_login(cast["case_lead"])
    enrol_through_page(own, "/accounts/second-factor/")
    sweep()
    [alert] = Alert.objects.filter(rule="person_privileges_changed")
    assert (alert.subject_person, alert.severity, alert.count, alert.details) == (
        "privacy_officer",
        "medium",
        1,
        {"without_second_administrator": False},
    )


def test_the_enrolment_code_cannot_be_used_again_to_sign_in(cast, browser):
    password_step(browser, "security_manager")
    key, _, _ = enrol_through_page(browser)
    browser.post("/accounts/logout/")
    second = Client(REMOTE_ADDR=ADDRESS)
    assert password_step(second, "security_manager")["Location"] == "/accounts/login/code/"
    device = TOTPDevice.objects.get(user=cast["security_manager"])
    response = second.post("/accounts/login/code/", {"code": code_at(key, device.last_t)})
    assert response.status_code == 400
    assert SESSION_KEY not in second.session


def test_an_enrolled_person_signs_in_with_the_apps_code(cast, browser):
    person = cast["operator"]
    enrol(person)
    response = password_step(browser, "operator")
    assert response["Location"] == "/accounts/login/code/"
    assert SESSION_KEY not in browser.session
    before = last_sequence()
    response = browser.post("/accounts/login/code/", {"code": fresh_code(person)})
    assert (response.status_code, response["Location"]) == (302, "/")
    assert browser.session[SESSION_KEY] == str(person.pk)
    assert PENDING_SESSION_KEY not in browser.session
    [event] = events_since(before)
    assert (event.action, event.actor, event.source_address) == (
        actions.PERSON_SIGNED_IN,
        "operator",
        ADDRESS,
    )
    assert event.details == {"method": "password", "second_factor": "authenticator"}


def test_a_wrong_code_is_refused_throttled_and_audited_as_a_failed_sign_in(cast, browser, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 60  # django-otp's wait after one failure: a minute, not a second
    person = cast["administrator"]
    key = enrol(person)
    password_step(browser, "administrator")
    before = last_sequence()
    wrong = f"{(int(code_now(key)) + 1) % 1_000_000:06d}"
    response = browser.post("/accounts/login/code/", {"code": wrong})
    assert response.status_code == 400
    assert "That code is not right" in response.content.decode()
    assert SESSION_KEY not in browser.session

    # Right after a wrong code the device waits (django-otp's throttle): even the right code is refused.
    response = browser.post("/accounts/login/code/", {"code": fresh_code(person)})
    assert response.status_code == 400
    assert "Too many wrong codes" in response.content.decode()
    assert SESSION_KEY not in browser.session

    events = events_since(before)
    assert [(e.action, e.outcome, e.actor) for e in events] == [
        (actions.PERSON_SIGN_IN_FAILED, "failure", "anonymous")
    ] * 2
    assert [e.details for e in events] == [
        {"method": "second_factor", "attempted_username": "administrator", "reason": reason}
        for reason in ("invalid_code", "throttled")
    ]
    assert {(e.object_type, e.object_id, e.source_address) for e in events} == {
        ("person", str(person.pk), ADDRESS)
    }
    assert TOTPDevice.objects.get(user=person).throttling_failure_count == 1

    # Once the wait has passed, the right code signs in and the throttle starts over.
    unthrottle(person)
    response = browser.post("/accounts/login/code/", {"code": fresh_code(person)})
    assert response.status_code == 302
    assert browser.session[SESSION_KEY] == str(person.pk)
    assert TOTPDevice.objects.get(user=person).throttling_failure_count == 0


def test_a_replayed_code_is_refused(cast):
    person = cast["investigator"]
    enrol(person)
    first = Client(REMOTE_ADDR=ADDRESS)
    password_step(first, "investigator")
    code = fresh_code(person)
    assert first.post("/accounts/login/code/", {"code": code}).status_code == 302

    # Someone who saw the code (and knows the password) tries it again at once.
    other = Client(REMOTE_ADDR="203.0.113.45")
    password_step(other, "investigator")
    before = last_sequence()
    response = other.post("/accounts/login/code/", {"code": code})
    assert response.status_code == 400
    assert SESSION_KEY not in other.session
    [failed] = events_since(before)
    assert failed.details["reason"] == "invalid_code"


def test_a_recovery_code_works_once(cast, browser):
    person = cast["privacy_officer"]
    enrol(person)
    codes = list(StaticToken.objects.filter(device__user=person).values_list("token", flat=True))
    password_step(browser, "privacy_officer")
    before = last_sequence()
    # Typed as people copy it: upper case, with a dash and spaces.
    typed = f" {codes[0][:4].upper()}-{codes[0][4:]} "
    response = browser.post("/accounts/login/code/", {"code": typed})
    assert response.status_code == 302
    assert browser.session[SESSION_KEY] == str(person.pk)
    used, signed_in = events_since(before)
    assert (used.action, used.actor) == (actions.PERSON_RECOVERY_CODE_USED, "privacy_officer")
    assert used.details == {"username": "privacy_officer", "recovery_codes_left": 9}
    assert signed_in.details == {"method": "password", "second_factor": "recovery_code"}
    assert codes[0] not in str(used.details)

    again = Client(REMOTE_ADDR=ADDRESS)
    password_step(again, "privacy_officer")
    before = last_sequence()
    response = again.post("/accounts/login/code/", {"code": codes[0]})
    assert response.status_code == 400
    assert SESSION_KEY not in again.session
    [failed] = events_since(before)
    assert (failed.action, failed.details["reason"]) == (actions.PERSON_SIGN_IN_FAILED, "invalid_code")


def test_guessing_codes_locks_the_sign_in_out(cast, browser, settings):
    settings.AXES_FAILURE_LIMIT = 3
    person = cast["security_manager"]
    key = enrol(person)
    password_step(browser, "security_manager")
    wrong = f"{(int(code_now(key)) + 500_000) % 1_000_000:06d}"
    before = last_sequence()
    statuses = []
    for _ in range(3):
        unthrottle(person)  # past django-otp's wait each time: the lockout is what stops this
        statuses.append(browser.post("/accounts/login/code/", {"code": wrong}).status_code)
    assert statuses == [400, 400, 429]
    actions_seen = [e.action for e in events_since(before)]
    assert actions_seen.count(actions.PERSON_SIGN_IN_FAILED) == 3
    assert actions.PERSON_LOCKED_OUT in actions_seen
    # The lockout holds for the password step too, and a right code is not even checked.
    again = Client(REMOTE_ADDR=ADDRESS)
    assert password_step(again, "security_manager").status_code == 429
    assert SESSION_KEY not in again.session


def test_the_code_step_needs_a_recent_password_step(cast, browser, settings):
    person = cast["operator"]
    enrol(person)
    # Without the password step there is nobody to sign in.
    response = browser.post("/accounts/login/code/", {"code": fresh_code(person)})
    assert (response.status_code, response["Location"]) == (302, "/accounts/login/")
    assert SESSION_KEY not in browser.session
    # A password step older than HG_SECOND_FACTOR_PENDING_SECONDS has lapsed.
    password_step(browser, "operator")
    session = browser.session
    session[PENDING_SESSION_KEY] = {
        **session[PENDING_SESSION_KEY],
        "since": time.time() - settings.HG_SECOND_FACTOR_PENDING_SECONDS - 1,
    }
    session.save()
    response = browser.post("/accounts/login/code/", {"code": fresh_code(person)})
    assert (response.status_code, response["Location"]) == (302, "/accounts/login/")
    assert SESSION_KEY not in browser.session


# --- the admin's login ---


def test_the_admin_login_cannot_bypass_the_second_factor(cast, browser):
    response = password_step(browser, "administrator", path="/admin/login/", next="/admin/")
    assert (response.status_code, response["Location"]) == (302, "/accounts/login/enrol/")
    assert SESSION_KEY not in browser.session
    assert browser.get("/admin/").status_code == 302  # still the admin's sign-in
    _, _, response = enrol_through_page(browser)
    assert 'href="/admin/"' in response.content.decode()
    assert browser.get("/admin/").status_code == 200

    # Enrolled: the admin's login asks for the code too.
    other = Client(REMOTE_ADDR="203.0.113.46")
    response = password_step(other, "administrator", path="/admin/login/", next="/admin/")
    assert (response.status_code, response["Location"]) == (302, "/accounts/login/code/")
    assert other.get("/admin/").status_code == 302
    response = other.post("/accounts/login/code/", {"code": fresh_code(cast["administrator"])})
    assert (response.status_code, response["Location"]) == (302, "/admin/")
    assert other.get("/admin/").status_code == 200


def test_the_admin_login_still_refuses_people_without_the_role(cast, browser):
    response = password_step(browser, "privacy_officer", path="/admin/login/", next="/admin/")
    assert response.status_code == 200  # the form again: not an administrator
    assert PENDING_SESSION_KEY not in browser.session


# --- a person's own page ---


def test_anyone_may_enrol_on_their_own_page_and_is_then_asked_for_the_code(cast):
    person = cast["case_lead"]
    own = Client(REMOTE_ADDR=ADDRESS)
    own.force_login(person)
    page = own.get("/accounts/second-factor/")
    assert page.status_code == 200 and 'id="second-factor-secret"' in page.content.decode()
    before = last_sequence()
    _, codes, _ = enrol_through_page(own, "/accounts/second-factor/")
    assert len(codes) == 10
    [enrolled] = events_since(before)
    assert (enrolled.action, enrolled.actor) == (actions.PERSON_SECOND_FACTOR_ENROLLED, "case_lead")

    browser = Client(REMOTE_ADDR=ADDRESS)
    assert password_step(browser, "case_lead")["Location"] == "/accounts/login/code/"
    assert SESSION_KEY not in browser.session


def test_new_recovery_codes_replace_the_old_ones(cast):
    person = cast["engineer"]
    key = enrol(person)
    old = set(StaticToken.objects.filter(device__user=person).values_list("token", flat=True))
    own = Client()
    own.force_login(person)
    before = last_sequence()
    # A session alone is not enough: the app's code is asked again.
    for wrong in ("", "12345", code_at(key, current_step() + 5)):
        unthrottle(person)
        response = own.post("/accounts/second-factor/recovery-codes/", {"code": wrong})
        assert response.status_code == 400
        assert "That code is not right" in response.content.decode()
    # A code during the throttle's wait is not checked.
    response = own.post("/accounts/second-factor/recovery-codes/", {"code": fresh_code(person)})
    assert response.status_code == 400
    assert set(StaticToken.objects.filter(device__user=person).values_list("token", flat=True)) == old
    # Each refusal is in the trail, by the signed-in person, with why.
    refused = events_since(before)
    assert [(e.action, e.actor, e.outcome, e.details) for e in refused] == [
        (
            actions.PERSON_SECOND_FACTOR_CONFIRM_FAILED,
            "engineer",
            "failure",
            {"username": "engineer", "reason": reason},
        )
        for reason in ("invalid_code", "invalid_code", "invalid_code", "throttled")
    ]
    before = last_sequence()
    unthrottle(person)
    response = own.post("/accounts/second-factor/recovery-codes/", {"code": fresh_code(person)})
    assert response.status_code == 200
    new = set(StaticToken.objects.filter(device__user=person).values_list("token", flat=True))
    assert len(new) == 10 and not new & old
    assert all(code in response.content.decode() for code in new)
    [renewed] = events_since(before)
    assert (renewed.action, renewed.details) == (
        actions.PERSON_RECOVERY_CODES_RENEWED,
        {"username": "engineer", "recovery_codes": 10},
    )


def test_the_factor_can_be_removed_only_where_no_role_requires_it(cast):
    enrol(cast["engineer"])
    enrol(cast["security_manager"])
    engineer = Client()
    engineer.force_login(cast["engineer"])
    before = last_sequence()
    assert engineer.post("/accounts/second-factor/remove/", {"code": "000000x"}).status_code == 400
    assert TOTPDevice.objects.filter(user=cast["engineer"]).exists()
    assert [e.action for e in events_since(before)] == [actions.PERSON_SECOND_FACTOR_CONFIRM_FAILED]
    before = last_sequence()
    unthrottle(cast["engineer"])
    assert (
        engineer.post("/accounts/second-factor/remove/", {"code": fresh_code(cast["engineer"])}).status_code
        == 302
    )
    assert not TOTPDevice.objects.filter(user=cast["engineer"]).exists()
    assert not StaticToken.objects.filter(device__user=cast["engineer"]).exists()
    [removed] = events_since(before)
    assert (removed.action, removed.details) == (
        actions.PERSON_SECOND_FACTOR_REMOVED,
        {"username": "engineer", "authenticators_removed": 1, "recovery_codes_removed": 10},
    )
    manager = Client()
    manager.force_login(cast["security_manager"])
    before = last_sequence()
    response = manager.post("/accounts/second-factor/remove/", {"code": fresh_code(cast["security_manager"])})
    assert response.status_code == 302
    assert TOTPDevice.objects.filter(user=cast["security_manager"], confirmed=True).exists()
    assert events_since(before) == []


def test_the_pages_speak_dutch(cast):
    person = cast["operator"]
    enrol(person)
    browser = Client(REMOTE_ADDR=ADDRESS, HTTP_ACCEPT_LANGUAGE="nl")
    browser.post("/i18n/setlang/", {"language": "nl", "next": "/accounts/login/"})
    password_step(browser, "operator")
    html = browser.get("/accounts/login/code/").content.decode()
    assert "Tweede factor" in html
    response = browser.post("/accounts/login/code/", {"code": "12"})
    assert "Die code klopt niet" in response.content.decode()


def test_a_person_deactivated_between_password_and_code_is_not_signed_in(cast, browser):
    person = cast["operator"]
    enrol(person)
    password_step(browser, "operator")
    person_deactivate(person=person, reason="left the institute", by=Actor.command("tests"))
    response = browser.post("/accounts/login/code/", {"code": fresh_code(person)})
    assert (response.status_code, response["Location"]) == (302, "/accounts/login/")
    assert SESSION_KEY not in browser.session
    assert PENDING_SESSION_KEY not in browser.session


def test_the_code_step_goes_only_where_the_password_form_may_send_people(cast, browser):
    person = cast["operator"]
    enrol(person)
    password_step(browser, "operator", next="https://elsewhere.example/steal")
    response = browser.post("/accounts/login/code/", {"code": fresh_code(person)})
    assert (response.status_code, response["Location"]) == (302, "/")
    other = Client(REMOTE_ADDR=ADDRESS)
    password_step(other, "operator", next="/cases/")
    response = other.post("/accounts/login/code/", {"code": fresh_code(person)})
    assert (response.status_code, response["Location"]) == (302, "/cases/")
