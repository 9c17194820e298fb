"""Bearer tokens: who gets in, who gets 401, and that a token is never stored."""

from __future__ import annotations

import datetime
import hashlib
import json
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from api_clients.models import ApiClient, PersonalToken
from api_clients.services import api_client_create, expire_tokens, personal_token_create
from audit.actor import Actor
from audit.models import AuditEvent
from people.services import person_deactivate
from tests.personas import CASE_PROJECT_ID, Cast

CASE_URL = f"/api/v1/cases/{CASE_PROJECT_ID}"
SETUP = Actor.command("tests")


def bearer(token: str, **extra: Any) -> APIClient:
    client = APIClient(**extra)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def assert_401(response: Any) -> None:
    assert response.status_code == 401, response.content
    assert response.headers["WWW-Authenticate"] == "Bearer"
    errors = response.json()["errors"]
    assert len(errors) == 1 and errors[0]["field"] is None and errors[0]["message"]


def test_it_lets_a_valid_client_and_a_valid_personal_token_in(cast: Cast):
    # The positive control for every 401 below: same request, good token.
    assert cast.api("hansken_production").get(CASE_URL).status_code == 200
    assert cast.api("case_lead").get(CASE_URL).status_code == 200


@pytest.mark.parametrize(
    "token",
    [
        "hgc_" + "A" * 43,  # a client token's shape, but no such client
        "hgp_" + "A" * 43,  # a personal token's shape, but no such token
        "not-one-of-ours",
        "hgc_",
    ],
)
def test_it_refuses_an_unknown_token(cast: Cast, token: str):
    assert_401(bearer(token).get(CASE_URL))


def test_it_refuses_a_token_that_differs_in_one_character(cast: Cast):
    token = cast.tokens["hansken_production"]
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert_401(bearer(altered).get(CASE_URL))


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",  # no token
        "Bearer  ",
        "Bearer one two",  # two tokens
        "Token {token}",  # another scheme: not ours, so unauthenticated
        "Basic dXNlcjpwYXNz",
        "{token}",  # the token without the scheme
        "   ",  # blanks only (this once crashed with a 500)
        "",
    ],
)
def test_it_refuses_a_malformed_header(cast: Cast, header: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header.format(token=cast.tokens["hansken_production"]))
    assert_401(client.get(CASE_URL))


def test_it_accepts_the_scheme_in_any_case(cast: Cast):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"bearer {cast.tokens['hansken_production']}")
    assert client.get(CASE_URL).status_code == 200


def test_it_refuses_an_expired_client(cast: Cast):
    client = cast.clients["hansken_production"]
    ApiClient.objects.filter(pk=client.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    # Still marked active: expiry alone shuts it out, before any sweep runs.
    assert ApiClient.objects.get(pk=client.pk).is_active
    assert_401(cast.api("hansken_production").get(CASE_URL))


def test_it_refuses_a_client_deactivated_by_the_expiry_sweep(cast: Cast):
    client = cast.clients["hansken_production"]
    ApiClient.objects.filter(pk=client.pk).update(expires_at=timezone.now() - datetime.timedelta(days=1))
    assert expire_tokens() == 1
    assert not ApiClient.objects.get(pk=client.pk).is_active
    assert_401(cast.api("hansken_production").get(CASE_URL))


def test_it_refuses_a_deactivated_client(cast: Cast):
    ApiClient.objects.filter(pk=cast.clients["hansken_production"].pk).update(is_active=False)
    assert_401(cast.api("hansken_production").get(CASE_URL))


def test_it_refuses_a_revoked_personal_token(cast: Cast):
    PersonalToken.objects.filter(user=cast["case_lead"]).update(revoked_at=timezone.now())
    assert_401(cast.api("case_lead").get(CASE_URL))


def test_it_refuses_an_expired_personal_token(cast: Cast):
    PersonalToken.objects.filter(user=cast["case_lead"]).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert_401(cast.api("case_lead").get(CASE_URL))


def test_it_refuses_the_personal_token_of_an_inactive_person(cast: Cast):
    person_deactivate(person=cast["case_lead"], reason="left the institute", by=SETUP)
    # The token itself is untouched: the person's state alone shuts it out.
    token = PersonalToken.objects.get(user=cast["case_lead"])
    assert token.revoked_at is None and token.expires_at > timezone.now()
    assert_401(cast.api("case_lead").get(CASE_URL))


def test_it_refuses_a_client_calling_from_outside_its_allowed_sources(cast: Cast):
    _, token = api_client_create(
        name="ci-east",
        environment="production",
        scopes=["cases:write"],
        allowed_sources=["10.0.0.0/8"],
        by=SETUP,
    )
    assert_401(bearer(token).get(CASE_URL))  # the test client calls from 127.0.0.1
    # A forwarded-for header does not help: the socket's address is what counts.
    assert_401(bearer(token).get(CASE_URL, HTTP_X_FORWARDED_FOR="10.1.2.3"))
    assert bearer(token, REMOTE_ADDR="10.1.2.3").get(CASE_URL).status_code == 200
    assert_401(bearer(token, REMOTE_ADDR="11.1.2.3").get(CASE_URL))


def test_it_refuses_anonymous_callers(cast: Cast):
    assert_401(APIClient().get(CASE_URL))


def _all_stored_text() -> str:
    rows: list[Any] = [
        *ApiClient.objects.values(),
        *PersonalToken.objects.values(),
        *AuditEvent.objects.values(),
    ]
    return json.dumps(rows, default=str)


def test_it_stores_only_a_digest_of_each_token(cast: Cast):
    stored = _all_stored_text()
    assert cast.tokens  # every persona has one
    for persona, token in cast.tokens.items():
        secret = token[4:]  # past the hgc_/hgp_ prefix
        assert token not in stored, persona
        assert secret not in stored, persona
        # Not even a long piece of it: the hint is the prefix and four characters, no more.
        assert secret[4:20] not in stored, persona
    client = ApiClient.objects.get(name="hansken_production")
    assert client.token_digest == hashlib.sha256(cast.tokens["hansken_production"].encode()).hexdigest()
    assert client.token_hint == cast.tokens["hansken_production"][:8]
    personal = PersonalToken.objects.get(user=cast["case_lead"])
    assert personal.token_digest == hashlib.sha256(cast.tokens["case_lead"].encode()).hexdigest()


def test_it_sets_last_used_at_when_a_client_calls(cast: Cast):
    assert ApiClient.objects.get(name="hansken_production").last_used_at is None
    started = timezone.now()
    assert cast.api("hansken_production").get(CASE_URL).status_code == 200
    used = ApiClient.objects.get(name="hansken_production").last_used_at
    assert used is not None and started <= used <= timezone.now()


def test_it_sets_last_used_at_when_a_personal_token_is_used(cast: Cast):
    assert PersonalToken.objects.get(user=cast["case_lead"]).last_used_at is None
    started = timezone.now()
    assert cast.api("case_lead").get(CASE_URL).status_code == 200
    used = PersonalToken.objects.get(user=cast["case_lead"]).last_used_at
    assert used is not None and started <= used <= timezone.now()


def test_it_does_not_set_last_used_at_for_a_refused_call(cast: Cast):
    ApiClient.objects.filter(name="hansken_production").update(is_active=False)
    assert_401(cast.api("hansken_production").get(CASE_URL))
    assert ApiClient.objects.get(name="hansken_production").last_used_at is None


@pytest.mark.parametrize(
    "scopes",
    [
        ["cases:write"],
        ["authz:check", "cases:write"],
        ["hashtotals:write"],
        ["privilege:write"],
        ["export:check"],
        ["reports:write"],
    ],
)
def test_it_refuses_to_create_an_experiment_client_with_management_scopes(db: None, scopes: list[str]):
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as caught:
        api_client_create(name="experiment-2", environment="experiment", scopes=scopes, by=SETUP)
    assert "scopes" in caught.value.message_dict
    assert not ApiClient.objects.filter(name="experiment-2").exists()
    assert AuditEvent.objects.count() == events


def test_it_creates_an_experiment_client_with_experiment_scopes(db: None):
    client, token = api_client_create(
        name="experiment-2", environment="experiment", scopes=["audit:write", "authz:check"], by=SETUP
    )
    assert client.scopes == ["audit:write", "authz:check"]
    assert token.startswith("hgc_")


def test_it_refuses_a_personal_token_for_an_inactive_person(cast: Cast):
    person_deactivate(person=cast["investigator"], reason="left", by=SETUP)
    with pytest.raises(ValidationError):
        personal_token_create(person=cast["investigator"], by=SETUP)
    assert PersonalToken.objects.filter(user=cast["investigator"]).count() == 1


# One token rule for every door: the decision API finds its client in the fact cache rather than in
# the database, but accepts or refuses it by the same function as every other endpoint.


def _expire(client: ApiClient) -> None:
    ApiClient.objects.filter(pk=client.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))


def _deactivate(client: ApiClient) -> None:
    ApiClient.objects.filter(pk=client.pk).update(is_active=False)


def _elsewhere(client: ApiClient) -> None:
    ApiClient.objects.filter(pk=client.pk).update(allowed_sources=["10.0.0.0/8"])


CLIENT_STATES: dict[str, Any] = {
    "usable": None,
    "expired": _expire,
    "deactivated": _deactivate,
    "elsewhere": _elsewhere,
}


@pytest.mark.parametrize("state", CLIENT_STATES)
def test_the_decision_api_and_the_other_endpoints_apply_one_client_token_rule(cast: Cast, state: str):
    from authz.cache import invalidate

    client, token = api_client_create(
        name="both-doors", environment="production", scopes=["cases:write", "authz:check"], by=SETUP
    )
    if CLIENT_STATES[state] is not None:
        CLIENT_STATES[state](client)
        invalidate()  # as a service's write would (a bare update sends no signal)
    check = {"user": "investigator", "project_id": str(CASE_PROJECT_ID), "action": "read"}
    other = bearer(token).get(CASE_URL)
    decision = bearer(token).post("/api/v1/authz/check", check, format="json")
    if state == "usable":
        assert (other.status_code, decision.status_code) == (200, 200)
        return
    assert_401(other)
    assert decision.status_code == 401, decision.content
    assert decision.json()["errors"][0]["message"] == other.json()["errors"][0]["message"]


@pytest.mark.parametrize("state", ["usable", "revoked", "inactive person"])
def test_the_decision_api_and_the_other_endpoints_apply_one_personal_token_rule(cast: Cast, state: str):
    if state == "revoked":
        PersonalToken.objects.filter(user=cast["case_lead"]).update(revoked_at=timezone.now())
    elif state == "inactive person":
        person_deactivate(person=cast["case_lead"], reason="left the institute", by=SETUP)
    token = cast.tokens["case_lead"]
    check = {"user": "investigator", "project_id": str(CASE_PROJECT_ID), "action": "read"}
    other = bearer(token).get(CASE_URL)
    decision = bearer(token).post("/api/v1/authz/check", check, format="json")
    if state == "usable":
        # Accepted as a person's token, and then refused by the decision API: people do not ask.
        assert (other.status_code, decision.status_code) == (200, 403)
        return
    assert_401(other)
    assert decision.status_code == 401, decision.content
    assert decision.json()["errors"][0]["message"] == other.json()["errors"][0]["message"]


def test_allowed_sources_are_networks_and_addresses_of_either_family_and_follow_a_change():
    # (The parsed networks are remembered by the list's content: a changed list is parsed anew.)
    client = ApiClient(name="hansken", allowed_sources=["10.1.2.0/24", "192.0.2.7", "2001:db8::/48"])
    assert client.accepts_source("10.1.2.200")
    assert client.accepts_source("192.0.2.7")
    assert client.accepts_source("2001:db8::5")
    assert not client.accepts_source("10.1.3.1")
    assert not client.accepts_source("192.0.2.8")
    assert not client.accepts_source("2001:db9::5")
    assert not client.accepts_source("not an address")
    assert not client.accepts_source(None)
    client.allowed_sources = ["10.1.3.0/24"]
    assert client.accepts_source("10.1.3.1")
    assert not client.accepts_source("10.1.2.200")
    client.allowed_sources = []
    assert client.accepts_source("203.0.113.9")  # empty allows any
