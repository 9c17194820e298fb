"""The audit trail of sessions: every sign-in, failed sign-in and sign-out becomes one audit event.

Django announces these through its ``user_logged_in``, ``user_login_failed`` and ``user_logged_out``
signals, whichever way the person signed in (the password form, the admin's login, single sign-on),
so listening there catches every path without each view having to remember it.

What an event never holds: the password, the OIDC code, nonce, state or tokens, or the session key
(a bearer credential). Only the attempted username, the method and a short reason.

Transactions. Django's login view is not atomic, and the session row is normally written by
``SessionMiddleware`` after the view has returned, outside any transaction of ours. So the sign-in
receiver writes the audit event and then saves the session that ``login()`` has just filled, both in
one transaction: with the database session engine the signed-in session and its event commit
together or not at all. If the audit write fails, the exception reaches the view, the response is a
500, and ``SessionMiddleware`` does not save a session on a 5xx response: nobody is signed in
without an event. (With a cache session engine the session save cannot join the transaction; the
event is still written first.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import BACKEND_SESSION_KEY, get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.http import HttpRequest
from django.utils.module_loading import import_string

from audit import actions
from audit.actor import Actor
from audit.models import AuditEvent, Outcome
from audit.services import audit_record
from hansken_governance.request_context import client_address
from people.lockout import refused_while_locked
from people.roles import roles_of
from people.second_factor import USED_FACTOR_ATTR
from people.sessions import ended_reason

METHOD_PASSWORD = "password"  # noqa: S105 (a method name, not a password)  # nosec B105  # a method name
METHOD_OIDC = "oidc"
USERNAME_MAX = 150  # Django's username length; longer input is cut so a huge field cannot bloat the trail

_FAILURE_NOTE_ATTR = "_hg_sign_in_failure_note"
_FAILURE_RECORDED_ATTR = "_hg_sign_in_failure_recorded"


@dataclass(frozen=True)
class FailureNote:
    """Why a sign-in was refused, left on the request by the code that refused it, so the
    ``user_login_failed`` receiver (which only sees cleaned credentials) can record it."""

    method: str
    reason: str
    username: str = ""


def note_sign_in_failure(request: HttpRequest, *, method: str, reason: str, username: str = "") -> None:
    setattr(request, _FAILURE_NOTE_ATTR, FailureNote(method=method, reason=reason, username=username))


def sign_in_failure_note(request: HttpRequest) -> FailureNote | None:
    note = getattr(request, _FAILURE_NOTE_ATTR, None)
    return note if isinstance(note, FailureNote) else None


def sign_in_failure_recorded(request: HttpRequest) -> bool:
    return bool(getattr(request, _FAILURE_RECORDED_ATTR, False))


def _truncate(value: Any) -> str:
    return str(value or "")[:USERNAME_MAX]


def _request_id(request: HttpRequest | None) -> str:
    return str(getattr(request, "request_id", "") or "") if request is not None else ""


def _method_of_backend(backend_path: str | None) -> str:
    if not backend_path:
        return ""
    from mozilla_django_oidc.auth import OIDCAuthenticationBackend

    try:
        backend_class = import_string(backend_path)
    except ImportError:
        return backend_path.rsplit(".", 1)[-1]
    if isinstance(backend_class, type) and issubclass(backend_class, OIDCAuthenticationBackend):
        return METHOD_OIDC
    return METHOD_PASSWORD


def _person_actor(request: HttpRequest, user: Any) -> Actor:
    # Built from the user, not from request.user: Django's test client and some callers log in with
    # a bare request that has no ``user`` attribute.
    return Actor(
        username=user.get_username(),
        role=",".join(sorted(roles_of(user))),
        source_address=client_address(request),
        request_id=_request_id(request),
        channel="browser",
        user_id=user.pk,
    )


def record_sign_in_failure(
    *, request: HttpRequest | None, username: str, method: str, reason: str
) -> AuditEvent:
    """Write one ``session.sign_in_failed`` event. Used by the ``user_login_failed`` receiver and by
    the single sign-on callback for refusals that happen before Django's ``authenticate``."""
    attempted = _truncate(username)
    person_id = (
        get_user_model().objects.filter(username=attempted).values_list("pk", flat=True).first()
        if attempted
        else None
    )
    event = audit_record(
        action=actions.PERSON_SIGN_IN_FAILED,
        actor=Actor(
            # Nobody is proven to be acting: the attempted name goes in the details, not in ``actor``.
            username="anonymous",
            source_address=client_address(request) if request is not None else None,
            request_id=_request_id(request),
            channel="browser",
        ),
        outcome=Outcome.FAILURE,
        object_type="person" if person_id else "",
        object_id=person_id or "",
        details={"method": method, "attempted_username": attempted, "reason": reason},
    )
    if request is not None:
        setattr(request, _FAILURE_RECORDED_ATTR, True)
    return event


def _sign_in_details(request: HttpRequest, backend_path: str | None) -> dict[str, str]:
    details = {"method": _method_of_backend(backend_path)}
    # Left on the request by the second step of password sign-in (people.second_factor_views).
    factor = getattr(request, USED_FACTOR_ATTR, None)
    if isinstance(factor, str):
        details["second_factor"] = factor
    return details


def _on_logged_in(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    backend_path = getattr(user, "backend", None) or request.session.get(BACKEND_SESSION_KEY)
    with transaction.atomic():
        audit_record(
            action=actions.PERSON_SIGNED_IN,
            actor=_person_actor(request, user),
            object_type="person",
            object_id=user.pk,
            details=_sign_in_details(request, backend_path),
        )
        # See the module docstring: the session that carries the sign-in commits with its event.
        request.session.save()


def _on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    note = sign_in_failure_note(request) if request is not None else None
    if refused_while_locked(request):
        # Refused by the lockout (people.lockout) before any password was checked.
        username_field = get_user_model().USERNAME_FIELD
        method = METHOD_PASSWORD if "password" in credentials else METHOD_OIDC
        reason = "locked_out"
        username = (
            (credentials.get(username_field) or credentials.get("username") or "")
            if method == METHOD_PASSWORD
            else ""
        )
    elif note is not None:
        method, reason, username = note.method, note.reason, note.username
    elif "password" in credentials:
        username_field = get_user_model().USERNAME_FIELD
        method, reason = METHOD_PASSWORD, "invalid_credentials"
        username = credentials.get(username_field) or credentials.get("username") or ""
    elif "nonce" in credentials:
        method, reason, username = METHOD_OIDC, "refused", ""
    else:
        # Credentials of an unknown shape: say so, and copy none of them.
        method, reason, username = "unknown", "invalid_credentials", ""
    record_sign_in_failure(request=request, username=username, method=method, reason=reason)


def _on_logged_out(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if user is None:  # an anonymous visitor pressed "sign out": no session ended
        return
    details = {"method": _method_of_backend(request.session.get(BACKEND_SESSION_KEY))}
    reason = ended_reason(request)
    if reason is not None:  # ended by the idle or absolute limit, not by the person
        details["reason"] = reason
    audit_record(
        action=actions.PERSON_SIGNED_OUT,
        actor=_person_actor(request, user),
        object_type="person",
        object_id=user.pk,
        details=details,
    )


def connect() -> None:
    user_logged_in.connect(_on_logged_in, dispatch_uid="people-audit-signed-in")
    user_login_failed.connect(_on_login_failed, dispatch_uid="people-audit-sign-in-failed")
    user_logged_out.connect(_on_logged_out, dispatch_uid="people-audit-signed-out")
