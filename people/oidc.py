"""Single sign-on through OpenID Connect (mozilla-django-oidc), fail closed.

Design choice: people are provisioned by HR / identity sync through ``people.services.person_create``,
which also sets their roles and screening. Single sign-on therefore only *signs in* people who
already exist here and are active.

Who a person is, is the provider's subject (``sub``, stable and never reassigned), not a claim the
provider lets people or its administrators change. At a person's first single sign-on the
``OIDC_USERNAME_CLAIM`` claim (default ``preferred_username``) is matched exactly to
``User.username``, and the ID token's ``sub`` is then bound to that person
(``person_bind_sso_subject``, audited). From then on the subject alone finds the person: a changed
username claim signs the same person in, and another subject claiming a bound person's username is
refused (``bound_to_another_subject``). Single sign-on never creates a person
(``OIDC_CREATE_USER = False``, and ``create_user`` refuses even if that setting were changed), never
changes a person's roles, e-mail or name, and never reactivates anyone. A person who is unknown or
inactive is refused with a plain "not allowed" page (HTTP 403), and the refusal is audited.

On top of what mozilla-django-oidc checks (signature against the provider's JWKS, algorithm, nonce,
expiry) the ID token's audience must be our client id, its issuer must be ``OIDC_OP_ISSUER`` when
that is set, and the userinfo ``sub`` must equal the ID token's ``sub``. Any error talking to the
provider or verifying its answer is a refusal, never a 500 and never a sign-in.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any, NoReturn

import jwt
import requests
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.template import engines
from django.utils.translation import gettext as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from audit.actor import Actor
from hansken_governance.request_context import client_address
from people.models import Profile
from people.services import person_bind_sso_subject
from people.signals import (
    METHOD_OIDC,
    note_sign_in_failure,
    record_sign_in_failure,
    sign_in_failure_note,
    sign_in_failure_recorded,
)

logger = logging.getLogger(__name__)

# Reasons a person is refused. The first two are about the person, the rest about the exchange.
REASON_UNKNOWN_PERSON = "unknown_person"
REASON_INACTIVE_PERSON = "inactive_person"
REASON_NO_USERNAME = "no_username_claim"
REASON_SUBJECT_MISMATCH = "subject_mismatch"
REASON_NO_SUBJECT = "no_subject"
REASON_OTHER_SUBJECT = "bound_to_another_subject"
REASON_NONCE = "nonce_mismatch"
REASON_INVALID_TOKEN = "invalid_token"  # noqa: S105 (a reason code)  # nosec B105  # a reason code
REASON_PROVIDER = "provider_error"
REASON_STATE = "unknown_state"
REASON_INCOMPLETE = "incomplete_callback"
PERSON_REASONS = frozenset({REASON_UNKNOWN_PERSON, REASON_INACTIVE_PERSON, REASON_OTHER_SUBJECT})


class SignInRefused(Exception):
    def __init__(self, reason: str, username: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.username = username


def username_claim() -> str:
    return str(getattr(settings, "OIDC_USERNAME_CLAIM", "preferred_username") or "preferred_username")


class PeopleOIDCBackend(OIDCAuthenticationBackend):
    """Signs in existing, active people only; see the module docstring for why.

    mozilla-django-oidc reads its settings in ``__init__``; Django builds a fresh backend for every
    ``authenticate`` call, so settings are read at call time.
    """

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> User | None:
        # Only the OIDC callback passes a nonce (it may be None when nonces are turned off); a password
        # form posted to a URL that happens to carry ?code=&state= must never reach the provider.
        if request is None or "nonce" not in kwargs or "password" in kwargs:
            return None
        try:
            user: User | None = super().authenticate(request, **kwargs)
        except SignInRefused as refusal:
            self._refuse(request, refusal.reason, refusal.username)
        except (SuspiciousOperation, jwt.PyJWTError) as exc:
            logger.warning("Single sign-on refused: %s", exc)
            self._refuse(request, REASON_INVALID_TOKEN)
        except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
            # The provider is down or answered nonsense (ValueError covers a body that is not JSON).
            logger.warning("Single sign-on failed talking to the provider: %s", exc)
            self._refuse(request, REASON_PROVIDER)
        if user is None:
            self._refuse(request, REASON_INCOMPLETE)
        return user

    def _refuse(self, request: HttpRequest, reason: str, username: str = "") -> NoReturn:
        note_sign_in_failure(request, method=METHOD_OIDC, reason=reason, username=username)
        # PermissionDenied stops Django trying the other backends and makes it send
        # user_login_failed, which writes the audit event (people.signals).
        raise PermissionDenied(reason)

    # --- verifying the provider's answer -------------------------------------------------------

    def _verify_jws(self, payload: Any, key: Any) -> dict[str, Any]:
        try:
            alg = jwt.get_unverified_header(payload).get("alg")
        except jwt.PyJWTError as exc:
            raise SignInRefused(REASON_INVALID_TOKEN) from exc
        if alg != self.OIDC_RP_SIGN_ALGO:
            raise SignInRefused(REASON_INVALID_TOKEN)
        issuer = getattr(settings, "OIDC_OP_ISSUER", None)
        required = ["exp", "aud"] + (["iss"] if issuer else [])
        try:
            # mozilla-django-oidc skips the audience check; a token issued to another client of the
            # same provider must not sign anyone in here.
            claims: dict[str, Any] = jwt.decode(
                payload,
                key,
                algorithms=[alg],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=issuer or None,
                options={"require": required},
            )
        except jwt.PyJWTError as exc:
            logger.warning("Single sign-on token rejected: %s", exc)
            raise SignInRefused(REASON_INVALID_TOKEN) from exc
        return claims

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        """Verifies a token from the provider. Re-implemented rather than extended: the parent also
        accepts unsigned tokens when OIDC_ALLOW_UNSECURED_JWT is set, and compares the nonce even
        when the caller (the userinfo check) has none to compare."""
        if not token or not isinstance(token, str):
            raise SignInRefused(REASON_INVALID_TOKEN)
        try:
            if self.OIDC_RP_SIGN_ALGO.startswith(("RS", "ES")):
                key = self.OIDC_RP_IDP_SIGN_KEY or self.retrieve_matching_jwk(token)
            else:
                key = self.OIDC_RP_CLIENT_SECRET
        except (SuspiciousOperation, KeyError, jwt.PyJWTError) as exc:
            # No key in the provider's JWKS matches the token's kid and alg.
            logger.warning("Single sign-on token rejected: %s", exc)
            raise SignInRefused(REASON_INVALID_TOKEN) from exc
        payload = self._verify_jws(token, key)
        if "nonce" in kwargs and self.get_settings("OIDC_USE_NONCE", True):
            expected, found = kwargs["nonce"], payload.get("nonce")
            if not (
                isinstance(expected, str)
                and expected
                and isinstance(found, str)
                and hmac.compare_digest(found.encode(), expected.encode())
            ):
                raise SignInRefused(REASON_NONCE)
        return payload

    def get_userinfo(self, access_token: str, id_token: str, payload: dict[str, Any]) -> dict[str, Any]:
        if not self.OIDC_OP_USER_ENDPOINT:
            # No userinfo endpoint configured: the verified ID token's claims are all we have.
            return dict(payload)
        userinfo: dict[str, Any] = super().get_userinfo(access_token, id_token, payload)
        if not isinstance(userinfo, dict):
            raise SignInRefused(REASON_PROVIDER)
        if payload.get("sub") is not None and userinfo.get("sub") != payload.get("sub"):
            # OpenID Connect Core 5.3.2: userinfo about someone else must not be used.
            raise SignInRefused(REASON_SUBJECT_MISMATCH)
        # The verified ID token's claims win over the userinfo answer where both have one.
        return {**userinfo, **payload}

    # --- matching a person ------------------------------------------------------------------------

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        value = claims.get(username_claim())
        return isinstance(value, str) and bool(value.strip())

    def filter_users_by_claims(self, claims: dict[str, Any]) -> Any:
        value = claims.get(username_claim())
        if not isinstance(value, str) or not value:
            return self.UserModel.objects.none()
        return self.UserModel.objects.filter(username=value)

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> User:
        claims = self.get_userinfo(access_token, id_token, payload)
        subject = payload.get("sub")  # from the verified ID token
        if not isinstance(subject, str) or not subject or len(subject) > 255:
            raise SignInRefused(REASON_NO_SUBJECT)
        bound = self.UserModel.objects.filter(profile__sso_subject=subject).first()
        if bound is not None:
            # The subject decides; the username claim may have changed at the provider.
            if not self.user_can_authenticate(bound):
                raise SignInRefused(REASON_INACTIVE_PERSON, bound.get_username())
            return bound
        if not self.verify_claims(claims):
            raise SignInRefused(REASON_NO_USERNAME)
        username = str(claims[username_claim()])
        person = self.filter_users_by_claims(claims).first()
        if person is None:
            # Never created here: people come from HR / identity sync (person_create).
            raise SignInRefused(REASON_UNKNOWN_PERSON, username)
        if not self.user_can_authenticate(person):
            raise SignInRefused(REASON_INACTIVE_PERSON, username)
        if Profile.objects.filter(user=person, sso_subject__isnull=False).exists():
            # Another subject is bound to this person: a provider account renamed to a bound
            # person's username must not take that person over.
            raise SignInRefused(REASON_OTHER_SUBJECT, username)
        request = getattr(self, "request", None)
        by = Actor(
            username=person.get_username(),
            source_address=client_address(request) if request is not None else None,
            request_id=str(getattr(request, "request_id", "") or ""),
            channel="browser",
            user_id=person.pk,
        )
        person_bind_sso_subject(person=person, subject=subject, by=by)
        # No update_user: the provider's claims never change a person's roles, name or e-mail here.
        return person

    def create_user(self, claims: dict[str, Any]) -> User:
        raise SignInRefused(REASON_UNKNOWN_PERSON, str(claims.get(username_claim(), "")))

    def get_user(self, user_id: Any) -> User | None:
        # The parent returns inactive users too, which would keep a deactivated person's session alive.
        try:
            user = self.UserModel.objects.get(pk=user_id)
        except self.UserModel.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


_REFUSED_PAGE = """{% extends "base.html" %}
{% block title %}{{ title }} · {{ site }}{% endblock %}
{% block content %}
<h1>{{ title }}</h1>
<p class="error" role="alert">{{ message }}</p>
<p><a href="{% url 'login' %}">{{ back }}</a></p>
{% endblock %}"""


def refused_page(request: HttpRequest, reason: str) -> HttpResponse:
    if reason in PERSON_REASONS:
        message = _(
            "Your single sign-on account is not allowed to use Hansken Governance. Ask the "
            "administrator to register or reactivate you."
        )
    else:
        message = _(
            "Single sign-on could not be completed: the answer of the identity provider could not be "
            "verified. Try again; if this keeps happening, contact the administrator."
        )
    context = {
        "title": _("Sign-in not allowed"),
        "site": _("Hansken Governance"),
        "message": message,
        "back": _("Back to sign in"),
    }
    html = engines["django"].from_string(_REFUSED_PAGE).render(context, request)
    return HttpResponse(html, status=403)


class PeopleOIDCAuthenticationRequestView(OIDCAuthenticationRequestView):
    """Starts single sign-on; absent (404) when single sign-on is not configured."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if not getattr(settings, "OIDC_ENABLED", False):
            raise Http404
        response: HttpResponse = super().get(request)
        return response


class PeopleOIDCCallbackView(OIDCAuthenticationCallbackView):
    """The provider's redirect back to us. Every refusal is a 403 page and an audit event."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if not getattr(settings, "OIDC_ENABLED", False):
            raise Http404
        try:
            response: HttpResponse = super().get(request)
        except SuspiciousOperation:
            # A state we never issued (replayed, forged, or from another browser's session).
            return self._refused(REASON_STATE)
        return response

    def login_failure(self) -> HttpResponse:
        if self.request.GET.get("error"):
            reason = REASON_PROVIDER
        elif "oidc_states" not in self.request.session:
            reason = REASON_STATE
        else:
            reason = REASON_INCOMPLETE
        note = sign_in_failure_note(self.request)
        return self._refused(note.reason if note is not None else reason)

    def _refused(self, reason: str) -> HttpResponse:
        # Refusals inside authenticate() were recorded by the user_login_failed receiver; the others
        # (provider error, unknown state) are recorded here, so every refusal leaves one event.
        if not sign_in_failure_recorded(self.request):
            record_sign_in_failure(request=self.request, username="", method=METHOD_OIDC, reason=reason)
        return refused_page(self.request, reason)
