"""Sessions (people.sessions): at most HG_SESSION_MAX_HOURS however active, HG_SESSION_IDLE_MINUTES
without a request, and every session of a person ends when the person is deactivated. Also:
X-Forwarded-Proto is believed only from HG_TRUSTED_PROXIES (request_context)."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.test import Client

from audit import actions
from audit.actor import Actor
from people.services import person_deactivate
from people.sessions import LAST_SEEN_AT, SIGNED_IN_AT
from tests.matrix import events_since as events_after
from tests.matrix import last_sequence
from tests.personas import PASSWORD
from tests.test_wsgi_fast_path import call


def signed_in(username: str) -> Client:
    browser = Client(REMOTE_ADDR="198.51.100.5")
    response = browser.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return browser


def shift(browser: Client, **seconds_ago: float) -> None:
    """Move the session's recorded moments into the past, as time passing would."""
    session = browser.session
    for key, ago in seconds_ago.items():
        session[key] = time.time() - ago
    session.save()


def test_the_settings_default_to_a_working_day_and_half_an_hour(settings):
    assert settings.HG_SESSION_MAX_HOURS == 10
    assert settings.HG_SESSION_IDLE_MINUTES == 30
    assert settings.SESSION_COOKIE_AGE == 10 * 3600
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"


def test_an_active_session_lives_on_and_its_last_activity_moves(cast):
    browser = signed_in("investigator")
    shift(browser, **{LAST_SEEN_AT: 25 * 60})
    assert browser.get("/").status_code == 200
    assert time.time() - browser.session[LAST_SEEN_AT] < 5


def test_an_idle_session_is_signed_out_and_audited(cast, settings):
    browser = signed_in("investigator")
    shift(browser, **{LAST_SEEN_AT: settings.HG_SESSION_IDLE_MINUTES * 60 + 5})
    before = last_sequence()
    response = browser.get("/cases/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/cases/"
    assert SESSION_KEY not in browser.session
    assert [(e.action, e.actor, e.details) for e in events_after(before)] == [
        (actions.PERSON_SIGNED_OUT, "investigator", {"method": "password", "reason": "idle"})
    ]


def test_a_session_ends_after_a_working_day_however_active(cast, settings):
    settings.HG_SESSION_IDLE_MINUTES = 30
    browser = signed_in("case_lead")
    shift(browser, **{SIGNED_IN_AT: settings.HG_SESSION_MAX_HOURS * 3600 + 5, LAST_SEEN_AT: 10})
    before = last_sequence()
    response = browser.get("/")
    assert response.status_code == 302
    assert SESSION_KEY not in browser.session
    assert [(e.action, e.details) for e in events_after(before)] == [
        (actions.PERSON_SIGNED_OUT, {"method": "password", "reason": "max_age"})
    ]


def test_the_idle_limit_is_a_setting(cast, settings):
    settings.HG_SESSION_IDLE_MINUTES = 5
    browser = signed_in("investigator")
    shift(browser, **{LAST_SEEN_AT: 6 * 60})
    assert browser.get("/").status_code == 302


def test_an_idle_api_call_with_the_session_is_refused(cast, settings):
    browser = signed_in("case_lead")
    shift(browser, **{LAST_SEEN_AT: settings.HG_SESSION_IDLE_MINUTES * 60 + 5})
    response = browser.get(f"/api/v1/cases/{cast.case.project_id}")
    assert response.status_code in (401, 403)
    assert SESSION_KEY not in browser.session


def test_deactivation_signs_the_person_out_everywhere(cast):
    laptop, desktop = signed_in("engineer"), signed_in("engineer")
    other = signed_in("investigator")
    assert Session.objects.count() == 3
    before = last_sequence()

    person_deactivate(person=cast["engineer"], reason="left the institute", by=Actor.command("tests"))

    remaining = [s.get_decoded().get(SESSION_KEY) for s in Session.objects.all()]
    assert remaining == [str(cast["investigator"].pk)]
    [deactivated] = [e for e in events_after(before) if e.action == actions.PERSON_DEACTIVATED]
    assert deactivated.details["sessions_ended"] == 2
    for browser in (laptop, desktop):
        response = browser.get("/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    assert other.get("/").status_code == 200


@pytest.fixture
def https_required(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.HG_TRUSTED_PROXIES = ("10.0.0.0/8",)


@pytest.mark.parametrize(
    ("peer", "expected"),
    [
        pytest.param("10.0.0.2", 200, id="from the trusted proxy: believed"),
        pytest.param("198.51.100.9", 301, id="from anyone else: dropped, so redirected to HTTPS"),
    ],
)
def test_forwarded_proto_is_believed_only_from_trusted_proxies(db, https_required, peer, expected):
    response = Client(REMOTE_ADDR=peer).get("/healthz", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == expected
    response = Client(REMOTE_ADDR=peer).get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == expected


def test_the_decision_fast_path_applies_the_same_rule(cast, https_required):
    # The real WSGI handler (gunicorn's): the fast path skips the middleware.
    body = {"user": "investigator", "project_id": str(cast.case.project_id), "action": "read"}
    token = cast.tokens["hansken_production"]
    for peer, expected in (("10.0.0.2", 200), ("198.51.100.9", 403)):
        environ = {"REMOTE_ADDR": peer, "HTTP_X_FORWARDED_PROTO": "https"}
        status, _, content = call("/api/v1/authz/check", token, body, environ=environ)
        assert status == expected, (peer, content)
