"""Password sign-in, failed sign-in and sign-out each leave exactly one audit event, with the source
address and request id, and never a password."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import SESSION_KEY, authenticate, login
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.test import Client, RequestFactory

from audit import actions
from audit.actor import Actor
from audit.models import AuditEvent
from people.services import person_deactivate
from tests.matrix import events_since as events_after
from tests.matrix import last_sequence
from tests.personas import PASSWORD

ADDRESS = "198.51.100.23"
WRONG_PASSWORD = "Wrong-Horse-Battery-0"


@pytest.fixture
def browser() -> Client:
    return Client(REMOTE_ADDR=ADDRESS)


def sign_in(browser: Client, username: str, password: str):
    return browser.post("/accounts/login/", {"username": username, "password": password})


def test_it_records_a_password_sign_in(cast, browser):
    person = cast["case_lead"]
    before = last_sequence()

    response = sign_in(browser, "case_lead", PASSWORD)

    assert response.status_code == 302
    assert browser.session[SESSION_KEY] == str(person.pk)
    events = events_after(before)
    assert len(events) == 1
    event = events[0]
    assert (event.action, event.outcome) == (actions.PERSON_SIGNED_IN, "success")
    assert event.actor == "case_lead"
    assert event.actor_role == "case_lead"
    assert event.channel == "browser"
    assert event.source_address == ADDRESS
    assert event.request_id == response["X-Request-ID"]
    assert (event.object_type, event.object_id) == ("person", str(person.pk))
    assert event.details == {"method": "password"}


def test_it_records_a_wrong_password(cast, browser):
    person = cast["case_lead"]
    before = last_sequence()

    response = sign_in(browser, "case_lead", WRONG_PASSWORD)

    assert response.status_code == 200  # the form again, with its error
    assert SESSION_KEY not in browser.session
    events = events_after(before)
    assert len(events) == 1
    event = events[0]
    assert (event.action, event.outcome) == (actions.PERSON_SIGN_IN_FAILED, "failure")
    assert event.actor == "anonymous"  # nobody proved who they are
    assert event.source_address == ADDRESS
    assert event.request_id == response["X-Request-ID"]
    assert (event.object_type, event.object_id) == ("person", str(person.pk))
    assert event.details == {
        "method": "password",
        "attempted_username": "case_lead",
        "reason": "invalid_credentials",
    }


def test_it_records_an_unknown_username(cast, browser):
    before = last_sequence()
    sign_in(browser, "nobody-here", WRONG_PASSWORD)
    [event] = events_after(before)
    assert (event.action, event.outcome) == (actions.PERSON_SIGN_IN_FAILED, "failure")
    assert (event.object_type, event.object_id) == ("", "")
    assert event.details["attempted_username"] == "nobody-here"


def test_it_records_the_right_password_of_an_inactive_person_as_a_failure(cast, browser):
    person_deactivate(person=cast["engineer"], reason="left", by=Actor.command("tests"))
    before = last_sequence()
    sign_in(browser, "engineer", PASSWORD)
    assert SESSION_KEY not in browser.session
    [event] = events_after(before)
    assert (event.action, event.outcome) == (actions.PERSON_SIGN_IN_FAILED, "failure")
    assert event.details["attempted_username"] == "engineer"


def test_it_cuts_a_long_attempted_username_to_150_characters(cast):
    # The sign-in form already refuses usernames over 150 characters; other callers of
    # authenticate() (the API's basic auth, scripts) do not, so the receiver cuts them itself.
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR=ADDRESS)
    before = last_sequence()
    assert authenticate(request, username="x" * 500, password=WRONG_PASSWORD) is None
    [event] = events_after(before)
    assert event.details["attempted_username"] == "x" * 150
    assert event.source_address == ADDRESS


def test_it_records_a_sign_out(cast, browser):
    person = cast["investigator"]
    assert sign_in(browser, "investigator", PASSWORD).status_code == 302
    before = last_sequence()

    response = browser.post("/accounts/logout/")

    assert response.status_code == 302
    assert SESSION_KEY not in browser.session
    events = events_after(before)
    assert len(events) == 1
    event = events[0]
    assert (event.action, event.outcome) == (actions.PERSON_SIGNED_OUT, "success")
    assert event.actor == "investigator"
    assert event.source_address == ADDRESS
    assert event.request_id == response["X-Request-ID"]
    assert (event.object_type, event.object_id) == ("person", str(person.pk))
    assert event.details == {"method": "password"}


def test_signing_out_without_a_session_records_nothing(cast, browser):
    before = last_sequence()
    assert browser.post("/accounts/logout/").status_code == 302
    assert events_after(before) == []


def test_no_password_reaches_the_audit_trail(cast, browser):
    sign_in(browser, "case_lead", WRONG_PASSWORD)
    sign_in(browser, "case_lead", PASSWORD)
    browser.post("/accounts/logout/")
    trail = json.dumps(list(AuditEvent.objects.values()), default=str)
    assert actions.PERSON_SIGN_IN_FAILED in trail and actions.PERSON_SIGNED_OUT in trail
    assert PASSWORD not in trail
    assert WRONG_PASSWORD not in trail
    assert "********" not in trail  # not even Django's cleansed stand-in: credentials are never copied


def test_no_session_is_stored_when_the_sign_in_event_cannot_be_written(cast, monkeypatch):
    def broken_audit(**kwargs):
        raise RuntimeError("audit trail unavailable")

    monkeypatch.setattr("people.signals.audit_record", broken_audit)
    browser = Client(REMOTE_ADDR=ADDRESS, raise_request_exception=False)
    before = last_sequence()

    response = sign_in(browser, "case_lead", PASSWORD)

    assert response.status_code == 500
    assert events_after(before) == []
    signed_in = [s for s in Session.objects.all() if SESSION_KEY in s.get_decoded()]
    assert signed_in == []
    assert browser.get("/").status_code == 302  # still signed out


def test_the_sign_in_stores_its_session_in_the_same_transaction_as_its_event(cast):
    # No middleware here: whatever is in the session table was written by login() and its receiver.
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR=ADDRESS)
    request.session = SessionStore()
    person = authenticate(request, username="operator", password=PASSWORD)
    assert person is not None
    before = last_sequence()
    login(request, person)
    stored = Session.objects.get(session_key=request.session.session_key).get_decoded()
    assert stored[SESSION_KEY] == str(person.pk)
    assert [e.action for e in events_after(before)] == [actions.PERSON_SIGNED_IN]


def test_the_sign_in_event_is_undone_when_its_session_cannot_be_stored(cast, monkeypatch):
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR=ADDRESS)
    request.session = SessionStore()
    person = authenticate(request, username="operator", password=PASSWORD)
    before = last_sequence()

    create = request.session.save

    def broken_save(must_create=False):
        if must_create:  # login() may make a fresh, empty session first: let that through
            return create(must_create=True)
        raise RuntimeError("session store unavailable")

    monkeypatch.setattr(request.session, "save", broken_save)
    with pytest.raises(RuntimeError, match="session store unavailable"):
        login(request, person)
    assert events_after(before) == []
