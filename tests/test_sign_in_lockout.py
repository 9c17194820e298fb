"""Lockout of password sign-in (django-axes, configured in settings; people.lockout): per username and
per source address, with a cool-off, on /accounts/login/ and on the admin's login; the source is
our own ``client_address``, so a made-up X-Forwarded-For does not escape it. The lockout is in the
trail, and the monitoring rules see bursts of failed sign-ins per person and per source."""

from __future__ import annotations

import datetime

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.test import Client

from audit import actions
from siem.models import Alert
from siem.rules import sweep
from tests.matrix import events_since as events_after
from tests.matrix import last_sequence
from tests.personas import PASSWORD

WRONG = "Wrong-Horse-Battery-0"
LIMIT = 3


@pytest.fixture(autouse=True)
def _small_limit(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT


def attempt(username: str, password: str, *, address: str, path: str = "/accounts/login/", **headers):
    return Client(REMOTE_ADDR=address, **headers).post(path, {"username": username, "password": password})


def test_a_person_is_locked_out_after_the_limit_from_any_address(cast):
    before = last_sequence()
    for n in range(LIMIT):
        response = attempt("case_lead", WRONG, address=f"198.51.100.{n + 1}")
    # The failure that reaches the limit gets the lockout page, not the form.
    assert response.status_code == 429
    assert "Sign-in temporarily blocked" in response.content.decode()

    events = events_after(before)
    # axes counts the failure (and so starts the lockout) before our receiver records it.
    assert [e.action for e in events] == [actions.PERSON_SIGN_IN_FAILED] * (LIMIT - 1) + [
        actions.PERSON_LOCKED_OUT,
        actions.PERSON_SIGN_IN_FAILED,
    ]
    failures = [e for e in events if e.action == actions.PERSON_SIGN_IN_FAILED]
    assert [e.details["reason"] for e in failures] == ["invalid_credentials"] * LIMIT
    locked = events[-2]
    assert locked.actor == "anonymous"
    assert locked.source_address == f"198.51.100.{LIMIT}"
    assert (locked.object_type, locked.object_id) == ("person", str(cast["case_lead"].pk))
    assert locked.details == {
        "attempted_username": "case_lead",
        "failures": LIMIT,
        "failure_limit": LIMIT,
        "cooloff_minutes": 15,
    }

    # The right password, from an address that never failed, is refused without being checked.
    before = last_sequence()
    browser = Client(REMOTE_ADDR="203.0.113.9")
    response = browser.post("/accounts/login/", {"username": "case_lead", "password": PASSWORD})
    assert response.status_code == 429
    assert SESSION_KEY not in browser.session
    [refused] = events_after(before)
    assert refused.action == actions.PERSON_SIGN_IN_FAILED
    assert refused.details == {
        "method": "password",
        "attempted_username": "case_lead",
        "reason": "locked_out",
    }
    # Another person is not affected.
    assert attempt("investigator", PASSWORD, address="203.0.113.9").status_code == 302


def test_the_lockout_ends_after_the_cool_off(cast, settings):
    for _ in range(LIMIT):
        attempt("operator", WRONG, address="198.51.100.7")
    assert attempt("operator", PASSWORD, address="203.0.113.10").status_code == 429
    # Cool-off passed: the attempts are older than HG_SIGN_IN_COOLOFF_MINUTES.
    AccessAttempt.objects.update(
        attempt_time=datetime.datetime.now(datetime.UTC) - settings.AXES_COOLOFF_TIME * 2
    )
    browser = Client(REMOTE_ADDR="203.0.113.10")
    response = browser.post("/accounts/login/", {"username": "operator", "password": PASSWORD})
    assert response.status_code == 302
    assert browser.session[SESSION_KEY] == str(cast["operator"].pk)


def test_a_source_trying_many_usernames_is_locked_out(cast):
    for name in ("engineer", "investigator", "nobody")[:LIMIT]:
        attempt(name, WRONG, address="198.51.100.66")
    before = last_sequence()
    # Someone else's correct password from that source is refused too.
    response = attempt("privacy_officer", PASSWORD, address="198.51.100.66")
    assert response.status_code == 429
    assert [(e.action, e.details["reason"]) for e in events_after(before)] == [
        (actions.PERSON_SIGN_IN_FAILED, "locked_out")
    ]
    # From another address that person signs in.
    assert attempt("privacy_officer", PASSWORD, address="198.51.100.67").status_code == 302


def test_a_made_up_forwarded_for_does_not_escape_the_source_lockout(cast, settings):
    settings.HG_TRUSTED_PROXIES = ()  # the peer is the client; X-Forwarded-For is not believed
    for n in range(LIMIT):
        attempt(f"nobody{n}", WRONG, address="198.51.100.80", HTTP_X_FORWARDED_FOR=f"192.0.2.{n + 1}")
    response = attempt("engineer", PASSWORD, address="198.51.100.80", HTTP_X_FORWARDED_FOR="192.0.2.200")
    assert response.status_code == 429


def test_behind_a_trusted_proxy_the_client_is_the_source(cast, settings):
    settings.HG_TRUSTED_PROXIES = ("10.0.0.0/8",)
    before = last_sequence()
    for n in range(LIMIT):
        attempt(f"nobody{n}", WRONG, address="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.50")
    locked = [e for e in events_after(before) if e.action == actions.PERSON_LOCKED_OUT]
    assert [e.source_address for e in locked] == ["192.0.2.50"]
    # Another client behind the same proxy is not locked out by the first one's failures.
    response = attempt("engineer", PASSWORD, address="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.51")
    assert response.status_code == 302
    response = attempt("engineer", PASSWORD, address="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.50")
    assert response.status_code == 429


def test_the_admin_login_is_locked_out_too(cast):
    for _ in range(LIMIT):
        attempt("administrator", WRONG, address="198.51.100.90", path="/admin/login/")
    before = last_sequence()
    browser = Client(REMOTE_ADDR="203.0.113.90")
    response = browser.post("/admin/login/", {"username": "administrator", "password": PASSWORD})
    assert response.status_code == 429
    assert SESSION_KEY not in browser.session
    assert [(e.action, e.details["reason"]) for e in events_after(before)] == [
        (actions.PERSON_SIGN_IN_FAILED, "locked_out")
    ]


def test_a_successful_sign_in_clears_earlier_failures(cast):
    for _ in range(LIMIT - 1):
        attempt("deputy", WRONG, address="198.51.100.30")
    assert attempt("deputy", PASSWORD, address="198.51.100.30").status_code == 302
    for _ in range(LIMIT - 1):
        attempt("deputy", WRONG, address="198.51.100.30")
    assert attempt("deputy", PASSWORD, address="198.51.100.30").status_code == 302


def test_bursts_of_failed_sign_ins_raise_alerts_per_person_and_per_source(cast, settings):
    settings.AXES_ENABLED = False  # count the failures themselves, without lockouts in between
    settings.HG_MONITOR_FAILED_SIGN_INS_PER_HOUR = 3
    for n in range(4):  # one person, from four places
        attempt("security_manager", WRONG, address=f"198.51.100.{110 + n}")
    for n in range(3):  # one place, three names: at the threshold, not above it
        attempt(f"guess{n}", WRONG, address="203.0.113.77")
    sweep()
    [person_alert] = Alert.objects.filter(rule="sign_in_failures_person")
    assert (person_alert.subject_person, person_alert.count, person_alert.severity) == (
        "security_manager",
        4,
        "medium",
    )
    assert person_alert.window_end - person_alert.window_start == datetime.timedelta(hours=1)
    assert not Alert.objects.filter(rule="sign_in_failures_source").exists()

    attempt("guess9", WRONG, address="203.0.113.77")
    attempt("security_manager", WRONG, address="198.51.100.200")
    sweep()
    [source_alert] = Alert.objects.filter(rule="sign_in_failures_source")
    assert (source_alert.subject_person, source_alert.count, source_alert.severity) == ("", 4, "high")
    assert source_alert.details == {"threshold": 3, "source_address": "203.0.113.77"}
    person_alert.refresh_from_db()
    assert person_alert.count == 5  # counted across sweeps, one alert per person and hour
    assert Alert.objects.filter(rule="sign_in_failures_person").count() == 1
