"""Real TOTP codes for the tests (``django_otp.oath.totp`` with the device's own key, as an
authenticator app computes them), and enrolment through the page, reading the key shown as text."""

from __future__ import annotations

import re
import time
from base64 import b32decode
from binascii import unhexlify
from typing import Any

from django.contrib.auth.models import User
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.actor import Actor
from people import second_factor
from people.services.second_factor import second_factor_enrol

STEP = 30
SECRET_SHOWN = re.compile(r'id="second-factor-secret">([A-Z2-7 ]+)</code>')
RECOVERY_CODE_SHOWN = re.compile(r"<li><code>([a-z2-7]+)</code></li>")


def key_from_page(html: str) -> str:
    """The hex key behind the base32 key the enrolment page shows as text."""
    match = SECRET_SHOWN.search(html)
    assert match, "the enrolment page shows the key as text"
    return b32decode(match.group(1).replace(" ", "")).hex()


def current_step() -> int:
    return int(time.time()) // STEP


def code_at(key: str, step: int) -> str:
    return f"{totp(unhexlify(key), step=STEP, drift=step - current_step()):06d}"


def code_now(key: str) -> str:
    return code_at(key, current_step())


def fresh_code(person: User) -> str:
    """A code the person's device has not seen: the current step's, or (when that one was used
    already) the next step's, which the device accepts a step early; waits only when both are used."""
    device = TOTPDevice.objects.get(user=person, confirmed=True)
    step = max(current_step(), device.last_t + 1)
    while step > current_step() + second_factor.TOTP_TOLERANCE:
        time.sleep(1)
    return code_at(device.key, step)


def enrol(person: User) -> str:
    """Enrols an authenticator app for the person through the service; returns its key."""
    key = second_factor.new_key()
    second_factor_enrol(person=person, key=key, code=code_now(key), by=Actor.command("tests"))
    return key


def enrol_through_page(browser: Client, path: str = "/accounts/login/enrol/") -> tuple[str, list[str], Any]:
    """On the enrolment page (during sign-in, or a person's own): reads the key shown as text,
    answers with the app's code; returns the key, the recovery codes shown, and the answer."""
    key = key_from_page(browser.get(path).content.decode())
    response = browser.post(path, {"code": code_now(key)})
    assert response.status_code == 200, response.status_code
    codes = RECOVERY_CODE_SHOWN.findall(response.content.decode())
    return key, codes, response
