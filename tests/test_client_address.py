""" "From where" behind a reverse proxy (issue 11, item 7): ``X-Forwarded-For`` is read only when the
socket's peer is one of ``HG_TRUSTED_PROXIES``, and then its right-most entry that is not itself a
trusted proxy is the client. One rule (``request_context.client_address``) for the API clients'
allow-list (DRF and the decision fast path) and for the trail's ``source_address``."""

from __future__ import annotations

import json
import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, RequestFactory

from api_clients.services import api_client_create
from audit.actor import Actor
from audit.models import AuditEvent
from hansken_governance.env import env_networks
from hansken_governance.request_context import client_address
from tests.personas import CASE_PROJECT_ID, PASSWORD, Cast
from tests.test_authentication import assert_401, bearer
from tests.test_wsgi_fast_path import call

PROXY = "10.9.0.2"  # the reverse proxy, as the application's socket sees it
PROXIES = ("10.9.0.0/24", "2001:db8:9::/48")
CASE_URL = f"/api/v1/cases/{CASE_PROJECT_ID}"
SETUP = Actor.command("tests")


def address(peer: str, forwarded: str | None = None) -> str | None:
    request = RequestFactory().get("/", REMOTE_ADDR=peer)
    if forwarded is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_address(request)


@pytest.mark.parametrize(
    ("proxies", "peer", "forwarded", "expected"),
    [
        # No trusted proxies (the default): the header is never read.
        ((), PROXY, "192.0.2.7", PROXY),
        ((), "192.0.2.7", "10.1.2.3", "192.0.2.7"),
        # A peer that is not a trusted proxy: its header is the caller's own words, ignored.
        (PROXIES, "192.0.2.66", "10.1.2.3", "192.0.2.66"),
        # Through the trusted proxy: the address it appended.
        (PROXIES, PROXY, "192.0.2.7", "192.0.2.7"),
        # Whatever the client put in front is not believed: the right-most untrusted entry counts.
        (PROXIES, PROXY, "10.1.2.3, 192.0.2.7", "192.0.2.7"),
        (PROXIES, PROXY, "evil, 192.0.2.7", "192.0.2.7"),
        # Two trusted proxies in a row: skip the inner one.
        (PROXIES, PROXY, "192.0.2.7, 10.9.0.3", "192.0.2.7"),
        (PROXIES, PROXY, "203.0.113.5,192.0.2.7 ,10.9.0.3", "192.0.2.7"),
        # The proxy asking on its own behalf (no header, or an empty one).
        (PROXIES, PROXY, None, PROXY),
        (PROXIES, PROXY, "  ", PROXY),
        # Every hop a trusted proxy: the left-most one asked.
        (PROXIES, PROXY, "10.9.0.7, 10.9.0.3", "10.9.0.7"),
        # What a trusted proxy wrote is not an address: unknown, never guessed.
        (PROXIES, PROXY, "192.0.2.7, unknown", None),
        (PROXIES, PROXY, "", PROXY),
        # Ports and IPv6 as proxies write them.
        (PROXIES, PROXY, "192.0.2.7:51234", "192.0.2.7"),
        (PROXIES, PROXY, "[2001:db8::7]:443", "2001:db8::7"),
        (PROXIES, "2001:db8:9::1", "2001:db8::7", "2001:db8::7"),
        (PROXIES, "::ffff:10.9.0.2", "192.0.2.7", "192.0.2.7"),
        (PROXIES, PROXY, "::ffff:192.0.2.7", "192.0.2.7"),
    ],
)
def test_it_believes_forwarded_for_only_from_trusted_proxies(settings, proxies, peer, forwarded, expected):
    settings.HG_TRUSTED_PROXIES = proxies
    assert address(peer, forwarded) == expected


def test_the_setting_refuses_what_is_not_an_address_or_network(monkeypatch):
    monkeypatch.setenv("HG_TRUSTED_PROXIES", "10.9.0.0/24, 2001:db8::1")
    assert env_networks("HG_TRUSTED_PROXIES") == ("10.9.0.0/24", "2001:db8::1")
    monkeypatch.setenv("HG_TRUSTED_PROXIES", "")
    assert env_networks("HG_TRUSTED_PROXIES") == ()
    monkeypatch.setenv("HG_TRUSTED_PROXIES", "10.9.0.0/24,proxy.example.org")
    with pytest.raises(ImproperlyConfigured, match=r"proxy\.example\.org"):
        env_networks("HG_TRUSTED_PROXIES")


def _east_client() -> str:
    _, token = api_client_create(
        name="ci-east",
        environment="production",
        scopes=["cases:write", "authz:check"],
        allowed_sources=["192.0.2.0/24"],
        by=SETUP,
    )
    return token


def test_the_allow_list_sees_the_client_behind_a_trusted_proxy(cast: Cast, settings):
    token = _east_client()
    settings.HG_TRUSTED_PROXIES = PROXIES
    assert bearer(token, REMOTE_ADDR=PROXY).get(CASE_URL, HTTP_X_FORWARDED_FOR="192.0.2.7").status_code == 200
    # The proxy's own address is not the client's.
    assert_401(bearer(token, REMOTE_ADDR=PROXY).get(CASE_URL))
    # A caller outside the list cannot talk itself in by prefixing an allowed address.
    assert_401(bearer(token, REMOTE_ADDR=PROXY).get(CASE_URL, HTTP_X_FORWARDED_FOR="192.0.2.7, 198.51.100.9"))
    # Nor by calling directly with the header.
    assert_401(bearer(token, REMOTE_ADDR="198.51.100.9").get(CASE_URL, HTTP_X_FORWARDED_FOR="192.0.2.7"))


def test_without_trusted_proxies_the_header_is_never_believed(cast: Cast, settings):
    token = _east_client()
    settings.HG_TRUSTED_PROXIES = ()
    assert_401(bearer(token, REMOTE_ADDR=PROXY).get(CASE_URL, HTTP_X_FORWARDED_FOR="192.0.2.7"))
    assert bearer(token, REMOTE_ADDR="192.0.2.7").get(CASE_URL).status_code == 200


def test_the_trail_records_the_client_behind_the_proxy(cast: Cast, settings):
    settings.HG_TRUSTED_PROXIES = PROXIES
    event = {
        "event_id": str(uuid.uuid4()),
        "occurred_at": "2026-01-20T08:00:00Z",
        "user": "case_lead",
        "project_id": str(CASE_PROJECT_ID),
        "action": "read",
        "outcome": "success",
    }
    response = cast.api("hansken_production").post(
        "/api/v1/audit/events",
        {"events": [event]},
        format="json",
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="10.1.2.3, 192.0.2.7",
    )
    assert response.status_code == 201, response.content
    assert AuditEvent.objects.get(event_id=event["event_id"]).source_address == "192.0.2.7"
    # A browser's sign-in goes through the same rule (a person whose role needs no second factor:
    # the password alone signs in).
    signed_in = Client(REMOTE_ADDR=PROXY).post(
        "/accounts/login/",
        {"username": "investigator", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="192.0.2.8",
    )
    assert signed_in.status_code == 302
    last = AuditEvent.objects.order_by("-sequence").first()
    assert last is not None and (last.actor, last.source_address) == ("investigator", "192.0.2.8")


@pytest.mark.django_db
def test_the_decision_fast_path_uses_the_same_rule(cast: Cast, settings):
    token = _east_client()
    check = {"user": "investigator", "project_id": str(CASE_PROJECT_ID), "action": "read"}
    settings.HG_TRUSTED_PROXIES = PROXIES
    through_proxy = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "192.0.2.7"}
    status, _, content = call("/api/v1/authz/check", token, check, environ=through_proxy)
    assert status == 200, content
    # The denial is in the trail with the client's address, as its decision id.
    denial = AuditEvent.objects.get(event_id=json.loads(content)["decision_id"])
    assert denial.source_address == "192.0.2.7"
    spoofed = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "192.0.2.7, 198.51.100.9"}
    assert call("/api/v1/authz/check", token, check, environ=spoofed)[0] == 401
    assert call("/api/v1/authz/check", token, check, environ={"REMOTE_ADDR": PROXY})[0] == 401
    settings.HG_TRUSTED_PROXIES = ()
    assert call("/api/v1/authz/check", token, check, environ=through_proxy)[0] == 401
