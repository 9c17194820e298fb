"""Single sign-on against a real OpenID Connect provider (tests/oidc_provider.py) on 127.0.0.1.

The browser is Django's test client; its redirects to the provider are followed by hand with
``requests``, and the backend talks to the provider's token, userinfo and JWKS endpoints over real
HTTP. Only existing, active people sign in; every outcome leaves exactly one audit event.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings

from audit import actions
from audit.actor import Actor
from audit.models import AuditEvent
from people.models import Profile
from people.oidc import PeopleOIDCBackend
from people.roles import roles_of
from people.services import person_deactivate
from tests.matrix import events_since as events_after
from tests.matrix import last_sequence
from tests.oidc_provider import OIDCProvider, new_key
from tests.second_factor_helpers import enrol
from tests.settings_helpers import django_setup_refused

BROWSER_ADDRESS = "192.0.2.41"
BACKENDS = [
    "people.oidc.PeopleOIDCBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]


@pytest.fixture(scope="module")
def provider() -> Iterator[OIDCProvider]:
    running = OIDCProvider().start()
    yield running
    running.stop()


@pytest.fixture
def sso(provider: OIDCProvider) -> Iterator[OIDCProvider]:
    provider.reset()
    with override_settings(AUTHENTICATION_BACKENDS=BACKENDS, **provider.settings()):
        yield provider


@pytest.fixture
def browser() -> Client:
    return Client(REMOTE_ADDR=BROWSER_ADDRESS)


def sso_sign_in(browser: Client, provider: OIDCProvider):
    """Start at our /oidc/authenticate/, let the provider answer, and come back to our callback."""
    start = browser.get("/oidc/authenticate/")
    assert start.status_code == 302
    assert start["Location"].startswith(f"{provider.issuer}/authorize?")
    answer = requests.get(start["Location"], allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    back = urlsplit(answer.headers["Location"])
    assert (back.scheme, back.netloc, back.path) == ("http", "testserver", "/oidc/callback/")
    return browser.get(f"{back.path}?{back.query}")


def assert_no_secrets(provider: OIDCProvider) -> None:
    trail = json.dumps(list(AuditEvent.objects.values()), default=str)
    seen = [value for value in provider.secrets_seen if value]
    assert seen, "the provider handed out codes and tokens"
    for value in seen:
        assert value not in trail
    assert provider.client_secret not in trail


def only_failure(before: int, *, reason: str, attempted: str = "") -> AuditEvent:
    events = events_after(before)
    assert [(e.action, e.outcome) for e in events] == [(actions.PERSON_SIGN_IN_FAILED, "failure")]
    event = events[0]
    assert event.details == {"method": "oidc", "attempted_username": attempted, "reason": reason}
    assert event.actor == "anonymous"
    assert event.source_address == BROWSER_ADDRESS
    return event


def test_it_shows_the_sso_link_only_when_enabled(db, provider):
    assert 'href="/oidc/authenticate/"' not in Client().get("/accounts/login/").content.decode()
    assert Client().get("/oidc/authenticate/").status_code == 404
    assert Client().get("/oidc/callback/?code=x&state=y").status_code == 404
    with override_settings(AUTHENTICATION_BACKENDS=BACKENDS, **provider.settings()):
        assert 'href="/oidc/authenticate/"' in Client().get("/accounts/login/").content.decode()


def test_it_signs_in_an_existing_active_person(cast, sso, browser):
    person = cast["investigator"]
    roles_before, email_before = roles_of(person), person.email
    sso.next.username = "investigator"
    sso.next.email = "changed-by-the-provider@idp.example"
    users_before = User.objects.count()
    before = last_sequence()

    response = sso_sign_in(browser, sso)

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert sso.token_requests == 1
    assert browser.session[SESSION_KEY] == str(person.pk)
    home = browser.get("/")
    assert home.status_code == 200
    assert home.wsgi_request.user == person
    # Signing in changes nothing about the person: no new user, same roles, same e-mail.
    person.refresh_from_db()
    assert User.objects.count() == users_before
    assert roles_of(User.objects.get(pk=person.pk)) == roles_before
    assert person.email == email_before

    events = events_after(before)
    assert [(e.action, e.outcome) for e in events] == [
        (actions.PERSON_SSO_SUBJECT_BOUND, "success"),
        (actions.PERSON_SIGNED_IN, "success"),
    ]
    bound, event = events
    assert (bound.actor, bound.details) == (
        "investigator",
        {"username": "investigator", "subject": "sub-investigator"},
    )
    assert bound.source_address == BROWSER_ADDRESS
    assert Profile.objects.get(user=person).sso_subject == "sub-investigator"
    assert event.actor == "investigator"
    assert event.details == {"method": "oidc"}
    assert event.object_id == str(person.pk)
    assert event.source_address == BROWSER_ADDRESS
    assert event.request_id == response["X-Request-ID"]
    assert_no_secrets(sso)


def test_it_records_the_sign_out_of_an_sso_session(cast, sso, browser):
    sso_sign_in(browser, sso)
    before = last_sequence()
    response = browser.post("/accounts/logout/")
    assert response.status_code == 302
    assert SESSION_KEY not in browser.session
    events = events_after(before)
    assert [(e.action, e.actor, e.details) for e in events] == [
        (actions.PERSON_SIGNED_OUT, "investigator", {"method": "oidc"})
    ]


def test_it_refuses_an_unknown_person_and_creates_nobody(cast, sso, browser):
    sso.next.username = "mallory"
    users_before = User.objects.count()
    before = last_sequence()

    response = sso_sign_in(browser, sso)

    assert response.status_code == 403
    assert "not allowed to use Hansken Governance" in response.content.decode()
    assert SESSION_KEY not in browser.session
    assert User.objects.count() == users_before
    assert not User.objects.filter(username="mallory").exists()
    event = only_failure(before, reason="unknown_person", attempted="mallory")
    assert event.object_id == ""
    assert event.request_id == response["X-Request-ID"]
    assert_no_secrets(sso)


def test_it_refuses_an_inactive_person(cast, sso, browser):
    engineer = cast["engineer"]
    person_deactivate(person=engineer, reason="left the institute", by=Actor.command("tests"))
    sso.next.username = "engineer"
    before = last_sequence()

    response = sso_sign_in(browser, sso)

    assert response.status_code == 403
    assert "not allowed to use Hansken Governance" in response.content.decode()
    assert SESSION_KEY not in browser.session
    event = only_failure(before, reason="inactive_person", attempted="engineer")
    assert event.object_type == "person"
    assert event.object_id == str(engineer.pk)
    engineer.refresh_from_db()
    assert engineer.is_active is False


def test_a_person_deactivated_after_sso_sign_in_loses_the_session(cast, sso, browser):
    assert sso_sign_in(browser, sso).status_code == 302
    assert browser.get("/").status_code == 200
    person_deactivate(person=cast["investigator"], reason="left", by=Actor.command("tests"))
    response = browser.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param({"signing_key": "other"}, id="signed with a key not in the JWKS, same kid"),
        pytest.param({"signing_key": "other", "kid": "unknown-kid"}, id="kid not in the JWKS"),
        pytest.param({"audience": "another-client"}, id="issued to another client"),
        pytest.param({"issuer": "http://127.0.0.1:1/elsewhere"}, id="from another issuer"),
        pytest.param({"expires_in": -120}, id="expired"),
    ],
)
def test_it_refuses_a_token_that_does_not_verify(cast, sso, browser, tamper):
    for name, value in tamper.items():
        setattr(sso.next, name, new_key() if value == "other" else value)
    before = last_sequence()

    response = sso_sign_in(browser, sso)

    assert response.status_code == 403
    assert "could not be verified" in response.content.decode()
    assert sso.token_requests == 1
    assert SESSION_KEY not in browser.session
    only_failure(before, reason="invalid_token")
    assert_no_secrets(sso)


@pytest.mark.parametrize(
    "forgery",
    [
        pytest.param("none", id="alg none, unsigned"),
        pytest.param("hs256_public_key", id="HS256 signed with the provider's public key"),
    ],
)
def test_it_refuses_and_audits_a_forged_id_token(cast, sso, browser, forgery):
    sso.next.forge = forgery
    before = last_sequence()

    response = sso_sign_in(browser, sso)

    assert response.status_code == 403
    assert "could not be verified" in response.content.decode()
    assert sso.token_requests == 1
    assert SESSION_KEY not in browser.session
    only_failure(before, reason="invalid_token")
    assert Profile.objects.filter(sso_subject__isnull=False).count() == 0
    assert_no_secrets(sso)


def test_a_bound_person_is_found_by_subject_not_by_a_changed_username_claim(cast, sso, browser):
    assert sso_sign_in(browser, sso).status_code == 302  # binds sub-investigator to investigator
    browser.post("/accounts/logout/")
    # The provider now calls the same account "administrator" (a renamed account, or a claim its
    # users may edit): the subject still decides who signs in.
    sso.next.username = "administrator"
    sso.next.subject = "sub-investigator"
    before = last_sequence()

    response = sso_sign_in(browser, sso)

    assert response.status_code == 302
    assert browser.session[SESSION_KEY] == str(cast["investigator"].pk)
    assert [(e.action, e.actor) for e in events_after(before)] == [(actions.PERSON_SIGNED_IN, "investigator")]
    assert Profile.objects.get(user=cast["administrator"]).sso_subject is None


def test_another_subject_claiming_a_bound_persons_username_is_refused(cast, sso, browser):
    assert sso_sign_in(browser, sso).status_code == 302
    browser.post("/accounts/logout/")
    sso.next.username = "investigator"
    sso.next.subject = "sub-someone-who-renamed-their-account"
    before = last_sequence()

    response = sso_sign_in(browser, sso)

    assert response.status_code == 403
    assert SESSION_KEY not in browser.session
    only_failure(before, reason="bound_to_another_subject", attempted="investigator")
    assert Profile.objects.get(user=cast["investigator"]).sso_subject == "sub-investigator"
    assert not Profile.objects.filter(sso_subject="sub-someone-who-renamed-their-account").exists()


def test_after_an_approved_move_the_new_subject_signs_the_person_in_and_the_old_one_does_not(
    cast, sso, browser
):
    """The way out of the refusal above, without editing the database: a four-eyes move of the
    binding (people.services.proposals.person_sso_subject_propose)."""
    from people.services import proposals
    from tests.test_four_eyes import browser as acting
    from tests.test_four_eyes import second_admin

    assert sso_sign_in(browser, sso).status_code == 302  # binds sub-investigator
    browser.post("/accounts/logout/")
    admin, other = cast["administrator"], second_admin()
    proposal = proposals.person_sso_subject_propose(
        person=cast["investigator"],
        subject="sub-replacement",
        reason="The provider replaced the account.",
        proposed_by=admin,
        by=acting(admin),
    )
    proposals.person_proposal_approve(proposal=proposal, approved_by=other, by=acting(other))

    sso.next.username = "investigator.new-account"
    sso.next.subject = "sub-replacement"
    before = last_sequence()
    assert sso_sign_in(browser, sso).status_code == 302
    assert browser.session[SESSION_KEY] == str(cast["investigator"].pk)
    assert [(e.action, e.actor) for e in events_after(before)] == [(actions.PERSON_SIGNED_IN, "investigator")]
    browser.post("/accounts/logout/")

    sso.next.username = "investigator"
    sso.next.subject = "sub-investigator"
    before = last_sequence()
    assert sso_sign_in(browser, sso).status_code == 403
    assert SESSION_KEY not in browser.session
    only_failure(before, reason="bound_to_another_subject", attempted="investigator")


def test_it_refuses_a_wrong_nonce(cast, sso, browser):
    sso.next.nonce = "a-nonce-from-another-sign-in"
    before = last_sequence()

    response = sso_sign_in(browser, sso)

    assert response.status_code == 403
    assert SESSION_KEY not in browser.session
    only_failure(before, reason="nonce_mismatch")
    assert_no_secrets(sso)


def test_it_refuses_userinfo_about_someone_else(cast, sso, browser):
    sso.next.userinfo_sub = "sub-administrator"
    before = last_sequence()
    response = sso_sign_in(browser, sso)
    assert response.status_code == 403
    assert SESSION_KEY not in browser.session
    only_failure(before, reason="subject_mismatch")


def test_it_refuses_a_callback_with_a_state_it_never_issued(cast, sso, browser):
    browser.get("/oidc/authenticate/")  # the session holds one real state
    before = last_sequence()
    response = browser.get("/oidc/callback/?code=forged&state=forged")
    assert response.status_code == 403
    assert sso.token_requests == 0
    only_failure(before, reason="unknown_state")


def test_it_records_an_error_answer_from_the_provider(cast, sso, browser):
    start = browser.get("/oidc/authenticate/")
    state = dict(p.split("=", 1) for p in urlsplit(start["Location"]).query.split("&"))["state"]
    before = last_sequence()
    response = browser.get(f"/oidc/callback/?error=access_denied&state={state}")
    assert response.status_code == 403
    only_failure(before, reason="provider_error")


def test_it_refuses_when_the_provider_is_unreachable(cast, sso, browser):
    with override_settings(OIDC_OP_TOKEN_ENDPOINT="http://127.0.0.1:9/token"):
        before = last_sequence()
        response = sso_sign_in(browser, sso)
    assert response.status_code == 403
    assert SESSION_KEY not in browser.session
    only_failure(before, reason="provider_error")


def test_a_password_form_with_code_and_state_in_the_url_never_reaches_the_provider(cast, sso, browser):
    before = last_sequence()
    response = browser.post(
        "/accounts/login/?code=x&state=y",
        {"username": "investigator", "password": "Correct-Horse-Battery-9"},
    )
    assert response.status_code == 302
    assert sso.token_requests == 0
    assert [(e.action, e.details) for e in events_after(before)] == [
        (actions.PERSON_SIGNED_IN, {"method": "password"})
    ]


def test_the_backend_reads_settings_when_it_is_built(provider):
    with override_settings(**provider.settings()):
        backend = PeopleOIDCBackend()
        assert backend.OIDC_RP_CLIENT_ID == "hansken-governance"
    with override_settings(**{**provider.settings(), "OIDC_RP_CLIENT_ID": "another"}):
        assert PeopleOIDCBackend().OIDC_RP_CLIENT_ID == "another"
    with (
        override_settings(**{**provider.settings(), "OIDC_OP_JWKS_ENDPOINT": None}),
        pytest.raises(ImproperlyConfigured),
    ):
        PeopleOIDCBackend()


def test_settings_refuse_to_start_with_rs256_and_no_jwks_endpoint():
    refused = django_setup_refused(
        {
            "OIDC_RP_CLIENT_ID": "hansken-governance",
            "OIDC_OP_AUTHORIZATION_ENDPOINT": "http://127.0.0.1:1/authorize",
            "OIDC_OP_TOKEN_ENDPOINT": "http://127.0.0.1:1/token",
            "OIDC_RP_SIGN_ALGO": "RS256",
        },
        unset=("OIDC_OP_JWKS_ENDPOINT",),
    )
    assert "OIDC_OP_JWKS_ENDPOINT is required with RS256" in refused


@pytest.mark.parametrize("persona", ["administrator", "privacy_officer", "security_manager"])
def test_single_sign_on_is_not_asked_for_a_second_factor(cast, sso, browser, persona):
    """The provider's own MFA is the second factor there (docs/sign-in.md): a role that needs one for
    password sign-in, even enrolled, is signed in by the provider's answer alone."""
    enrol(cast[persona])
    sso.next.username = persona
    before = last_sequence()
    response = sso_sign_in(browser, sso)
    assert (response.status_code, response["Location"]) == (302, "/")
    assert browser.session[SESSION_KEY] == str(cast[persona].pk)
    signed_in = [e for e in events_after(before) if e.action == actions.PERSON_SIGNED_IN]
    assert [e.details for e in signed_in] == [{"method": "oidc"}]
