"""The second factor of password sign-in: what is asked of whom, the state between the password and
the code, and the TOTP arithmetic of enrolment. The writers are in ``people.services.second_factor``;
the pages in ``people.second_factor_views``.

- An authenticator app (TOTP, RFC 6238) is a confirmed ``otp_totp.TOTPDevice``; its recovery codes are
  the tokens of one ``otp_static.StaticDevice`` (django-otp). Each recovery code works once.
- Asked of a person who signs in with a password and either has enrolled or holds a role in
  ``SECOND_FACTOR_ROLES`` (who must enrol before the sign-in completes). Single sign-on never asks:
  the identity provider's own MFA is the second factor there (docs/sign-in.md).
- The password form does not call Django's ``login()`` for such a person: it keeps them *pending* in
  the session (who, through which backend, since when, where to go next); the code page calls
  ``login()`` when the code is right. So nobody is signed in, nor is a sign-in event written, before
  both factors are proven.
"""

from __future__ import annotations

import time
from base64 import b32encode
from binascii import unhexlify
from dataclasses import dataclass
from typing import Any

import segno
from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpRequest
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from people.roles import SECOND_FACTOR_ROLES, roles_of

PENDING_SESSION_KEY = "_hg_second_factor_pending"
ENROL_KEY_SESSION_KEY = "_hg_second_factor_new_key"
# What the sign-in event names as the second factor used (people.signals reads it from the request).
USED_FACTOR_ATTR = "_hg_second_factor_used"
FACTOR_AUTHENTICATOR = "authenticator"
FACTOR_RECOVERY_CODE = "recovery_code"

# TOTP as every authenticator app does it by default: SHA-1, 6 digits, 30-second steps; one step of
# clock difference either way is accepted.
TOTP_STEP = 30
TOTP_DIGITS = 6
TOTP_TOLERANCE = 1
KEY_BYTES = 20
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
RECOVERY_CODE_COUNT = 10


def required_for(user: Any) -> bool:
    """Whether the person's roles require a second factor for password sign-in."""
    return bool(roles_of(user) & SECOND_FACTOR_ROLES)


def authenticator_of(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def is_enrolled(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def has_second_factor(user: User) -> bool:
    """An authenticator app or recovery codes: what a reset removes."""
    return TOTPDevice.objects.filter(user=user).exists() or StaticDevice.objects.filter(user=user).exists()


def asked_of(user: User) -> bool:
    """Whether a password sign-in of this person goes through the second step (the code, or first
    the enrolment)."""
    return required_for(user) or is_enrolled(user)


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def recovery_device_of(user: User) -> StaticDevice | None:
    return StaticDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def normalise_code(code: str) -> str:
    """A code as typed: spaces and dashes (people copy ``123 456`` or ``abcd-efgh``) dropped."""
    return "".join(code.split()).replace("-", "").lower()


def looks_like_authenticator_code(code: str) -> bool:
    return len(code) == TOTP_DIGITS and code.isdigit()


def new_key() -> str:
    """A new TOTP secret, hex-encoded as ``TOTPDevice.key`` keeps it."""
    return random_hex(KEY_BYTES)


def key_as_text(key: str) -> str:
    """The secret as an authenticator app takes it when typed: base32, in groups of four."""
    text = b32encode(unhexlify(key.encode())).decode()
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def setup_url(user: User, key: str) -> str:
    """The ``otpauth://`` address the QR code carries (issuer ``OTP_TOTP_ISSUER``, the username)."""
    return str(TOTPDevice(user=user, key=key, step=TOTP_STEP, digits=TOTP_DIGITS).config_url)


def qr_svg(url: str, title: str) -> str:
    """The QR code as inline SVG: no image request, no script, and a title for screen readers."""
    return str(
        segno.make(url, error="m").svg_inline(scale=4, border=4, title=title, dark="#000", light="#fff")
    )


def matching_step(key: str, code: str, *, after_step: int = -1) -> int | None:
    """The time step whose TOTP code is ``code`` (now, or one step either side), later than
    ``after_step``; None when it matches none."""
    if not looks_like_authenticator_code(code):
        return None
    totp = TOTP(unhexlify(key.encode()), TOTP_STEP, 0, TOTP_DIGITS, 0)
    totp.time = time.time()
    if totp.verify(int(code), TOTP_TOLERANCE, after_step + 1):
        return int(totp.t())
    return None


@dataclass(frozen=True)
class Pending:
    """A person who gave the right password and still has to give the second factor."""

    user: User
    backend: str
    next_url: str


def pending_start(request: HttpRequest, user: User, *, next_url: str) -> None:
    # A new session key: whoever knew the cookie before the password was given learns nothing.
    request.session.cycle_key()
    request.session.pop(ENROL_KEY_SESSION_KEY, None)
    request.session[PENDING_SESSION_KEY] = {
        "user_id": user.pk,
        # authenticate() names the backend that checked the password; the password backend otherwise.
        "backend": getattr(user, "backend", "") or MODEL_BACKEND,
        "since": time.time(),
        "next": next_url,
    }


def pending_clear(request: HttpRequest) -> None:
    request.session.pop(PENDING_SESSION_KEY, None)
    request.session.pop(ENROL_KEY_SESSION_KEY, None)


def pending_of(request: HttpRequest) -> Pending | None:
    """The pending person of this session, or None: none, too old (``HG_SECOND_FACTOR_PENDING_SECONDS``
    since the password), or no longer active."""
    state = request.session.get(PENDING_SESSION_KEY)
    if not isinstance(state, dict):
        return None
    since = state.get("since")
    if not isinstance(since, int | float) or time.time() - since > settings.HG_SECOND_FACTOR_PENDING_SECONDS:
        pending_clear(request)
        return None
    user_id = state.get("user_id")
    user = User.objects.filter(pk=user_id, is_active=True).first() if isinstance(user_id, int) else None
    if user is None:
        pending_clear(request)
        return None
    return Pending(user=user, backend=str(state.get("backend") or ""), next_url=str(state.get("next") or "/"))
