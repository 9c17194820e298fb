"""Lockout of sign-in after repeated failures, through django-axes (configured in settings: per
username and per source address, cool-off ``HG_SIGN_IN_COOLOFF_MINUTES``, the source being our own
``client_address``).

What we add to axes:
- the moment a username or a source becomes locked out is an audit event (``session.locked_out``),
  written once per lockout; every attempt refused during the lockout is a ``session.sign_in_failed``
  event with the reason ``locked_out`` (``people.signals``), never checked against the password;
- the lockout page, in the reader's language, with HTTP 429.
"""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from audit import actions
from audit.actor import Actor
from audit.models import Outcome
from audit.services import audit_record
from hansken_governance.request_context import client_address

_REFUSED_WHILE_LOCKED_ATTR = "_hg_refused_while_locked"
USERNAME_MAX = 150


def refused_while_locked(request: HttpRequest | None) -> bool:
    """Whether this request's sign-in was refused because a lockout was already in force."""
    return bool(getattr(request, _REFUSED_WHILE_LOCKED_ATTR, False))


def attempted_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str | None:
    """The username axes counts (``AXES_USERNAME_CALLABLE``): as axes reads it, cut to Django's
    150 characters, as the trail does; axes stores it in 255, and a longer name from a caller that
    skips the form's length check would otherwise end the sign-in in a database error."""
    if credentials:
        value = credentials.get("username")
    else:
        value = getattr(request, "data", request.POST).get("username")
    return str(value)[:USERNAME_MAX] if value is not None else None


def mark_refused_while_locked(request: HttpRequest) -> None:
    """For a refusal found outside the backend (a second-factor code given during a lockout)."""
    setattr(request, _REFUSED_WHILE_LOCKED_ATTR, True)


class LockoutBackend(AxesStandaloneBackend):
    """Axes' backend (first in ``AUTHENTICATION_BACKENDS``), remembering on the request that it
    refused a sign-in because of a lockout already in force, so the trail can tell that refusal
    from the failure that started the lockout."""

    def authenticate(self, request: HttpRequest | None, *args: Any, **kwargs: Any) -> None:
        if request is None:
            # Not a sign-in over HTTP (every sign-in view passes its request): a check of a
            # password from code, e.g. Django's test client ``login``. Nothing to count or lock.
            return None
        try:
            super().authenticate(request, *args, **kwargs)
        except AxesBackendPermissionDenied:
            setattr(request, _REFUSED_WHILE_LOCKED_ATTR, True)
            raise


def _on_locked_out(
    sender: Any, request: HttpRequest | None, username: Any, ip_address: Any, **kwargs: Any
) -> None:
    if request is None or refused_while_locked(request):
        return  # a refusal during a lockout: people.signals records it as a failed sign-in
    attempted = str(username or "")[:USERNAME_MAX]
    person_id = (
        get_user_model().objects.filter(username=attempted).values_list("pk", flat=True).first()
        if attempted
        else None
    )
    audit_record(
        action=actions.PERSON_LOCKED_OUT,
        actor=Actor(
            username="anonymous",
            source_address=client_address(request),
            request_id=str(getattr(request, "request_id", "") or ""),
            channel="browser",
        ),
        outcome=Outcome.FAILURE,
        object_type="person" if person_id else "",
        object_id=person_id or "",
        details={
            "attempted_username": attempted,
            "failures": getattr(request, "axes_failures_since_start", None),
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "cooloff_minutes": settings.HG_SIGN_IN_COOLOFF_MINUTES,
        },
    )


def connect() -> None:
    user_locked_out.connect(_on_locked_out, dispatch_uid="people-audit-locked-out")


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """The page for a locked-out sign-in (axes' ``AXES_LOCKOUT_CALLABLE``): 429, no form."""
    return render(
        request,
        "people/locked_out.html",
        {"cooloff_minutes": settings.HG_SIGN_IN_COOLOFF_MINUTES},
        status=429,
    )
