"""Single sign-on in Chromium against a real OpenID Connect provider that no one here wrote: panva's
``oidc-provider`` from npm (``tests/peers/oidc/``, installed by ``npm ci`` from the Makefile),
started on loopback on a free port. Beside ``tests/test_oidc.py``, whose home-made provider can be
made to misbehave, this shows that our side speaks the protocol as a real provider does: its own
sign-in and consent pages, code exchange, RS256 ID token checked against its JWKS, userinfo."""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from audit import actions
from audit.models import AuditEvent
from people.models import Profile
from tests.personas import Cast

pytestmark = pytest.mark.browser

PEER_DIR = Path(__file__).resolve().parent.parent / "peers" / "oidc"
CLIENT_ID = "hansken-governance"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def real_provider(live_server) -> Iterator[dict]:
    node = shutil.which("node")
    assert node, "node is needed for the single sign-on peer (Debian/NodeSource nodejs)"
    assert (PEER_DIR / "node_modules" / "oidc-provider").is_dir(), (
        "run make install (npm ci in tests/peers/oidc)"
    )
    port = _free_port()
    secret = secrets.token_urlsafe(24)
    process = subprocess.Popen(
        [node, "server.mjs", str(port), CLIENT_ID, secret, f"{live_server.url}/oidc/callback/"],
        cwd=PEER_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # "READY <issuer>" once it listens
        assert line.startswith("READY "), f"the provider did not start: {line!r}"
        issuer = line.split()[1]
        yield {
            "OIDC_ENABLED": True,
            "OIDC_RP_CLIENT_ID": CLIENT_ID,
            "OIDC_RP_CLIENT_SECRET": secret,
            "OIDC_OP_AUTHORIZATION_ENDPOINT": f"{issuer}/auth",
            "OIDC_OP_TOKEN_ENDPOINT": f"{issuer}/token",
            "OIDC_OP_USER_ENDPOINT": f"{issuer}/me",
            "OIDC_OP_JWKS_ENDPOINT": f"{issuer}/jwks",
            "OIDC_OP_ISSUER": issuer,
            "OIDC_RP_SIGN_ALGO": "RS256",
            "OIDC_RP_SCOPES": "openid email profile",
            "OIDC_TIMEOUT": 10,
        }
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def sso_on(settings, real_provider: dict) -> None:
    for name, value in real_provider.items():
        setattr(settings, name, value)
    settings.AUTHENTICATION_BACKENDS = [
        "people.lockout.LockoutBackend",
        "people.oidc.PeopleOIDCBackend",
        "django.contrib.auth.backends.ModelBackend",
        "guardian.backends.ObjectPermissionBackend",
    ]


def sign_in_at_the_provider(page: Page, base_url: str, login: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_role("link", name="Inloggen met single sign-on").click()
    # The provider's own pages (oidc-provider's development sign-in and consent).
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("anything")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()


def test_a_person_signs_in_through_a_real_provider_and_is_bound_by_sub(
    page: Page, live_server, live_cast: Cast, sso_on: None
):
    sign_in_at_the_provider(page, live_server.url, "case_lead")

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welkom, case_lead")
    person = live_cast["case_lead"]
    assert Profile.objects.get(user=person).sso_subject == "case_lead"
    signed_in = AuditEvent.objects.filter(action=actions.PERSON_SIGNED_IN).order_by("-sequence").first()
    assert signed_in is not None
    assert (signed_in.actor, signed_in.details) == ("case_lead", {"method": "oidc"})
    assert AuditEvent.objects.filter(action=actions.PERSON_SSO_SUBJECT_BOUND, actor="case_lead").count() == 1


def test_an_account_unknown_here_is_refused_by_a_real_provider_too(
    page: Page, live_server, live_cast: Cast, sso_on: None
):
    sign_in_at_the_provider(page, live_server.url, "mallory")

    expect(page.get_by_role("heading", level=1)).to_have_text("Inloggen niet toegestaan")
    expect(page.get_by_role("button", name="Uitloggen")).to_have_count(0)
    refused = AuditEvent.objects.filter(action=actions.PERSON_SIGN_IN_FAILED).order_by("-sequence").first()
    assert refused is not None
    assert refused.details == {"method": "oidc", "attempted_username": "mallory", "reason": "unknown_person"}
