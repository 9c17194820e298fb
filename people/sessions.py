"""How long a browser sign-in lasts, and ending every session of a person.

- **Absolute limit**: a sign-in lasts at most ``HG_SESSION_MAX_HOURS`` (default 10: a working day),
  however active the person is. The moment of sign-in is kept in the session when Django's
  ``user_logged_in`` is sent; ``SESSION_COOKIE_AGE`` is the same limit, so the cookie and the
  database row expire by then too.
- **Idle limit**: a session with no request for ``HG_SESSION_IDLE_MINUTES`` (default 30) ends. The
  last activity is written at most once a minute, so a page full of requests is not a database
  write each.
- **Deactivation** ends every session of the person at once (``sessions_end_for``, called by
  ``people.services.person_deactivate`` in its transaction): the database session engine lets us
  find them.

An ended session is signed out through Django's ``logout``, so the sign-out is in the trail
(``session.signed_out`` with the reason ``idle`` or ``max_age``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.contrib.sessions.models import Session
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

SIGNED_IN_AT = "_hg_signed_in_at"
LAST_SEEN_AT = "_hg_last_seen_at"
ENDED_REASON_ATTR = "_hg_session_ended_reason"
REASON_IDLE = "idle"
REASON_MAX_AGE = "max_age"
# How stale the stored last activity may become before it is written again (seconds).
LAST_SEEN_RESOLUTION = 60


def ended_reason(request: HttpRequest) -> str | None:
    """Why the session is being ended by this module (None: the person signed out)."""
    reason = getattr(request, ENDED_REASON_ATTR, None)
    return reason if isinstance(reason, str) else None


def _on_logged_in(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    now = time.time()
    request.session[SIGNED_IN_AT] = now
    request.session[LAST_SEEN_AT] = now


def connect() -> None:
    # Before people.signals' receiver, which saves the session with its audit event.
    user_logged_in.connect(_on_logged_in, dispatch_uid="people-session-limits")


class SessionLimitsMiddleware:
    """Signs out a session that is past its absolute or idle limit, and moves its last activity."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            reason = self._over_limit(request)
            if reason is not None:
                setattr(request, ENDED_REASON_ATTR, reason)
                logout(request)
                if request.path.startswith("/api/"):
                    return self.get_response(request)  # now anonymous: the API answers 401/403 itself
                return redirect_to_login(request.get_full_path())
        return self.get_response(request)

    @staticmethod
    def _over_limit(request: HttpRequest) -> str | None:
        now = time.time()
        session = request.session
        signed_in_at = session.get(SIGNED_IN_AT)
        last_seen_at = session.get(LAST_SEEN_AT)
        if not isinstance(signed_in_at, int | float) or not isinstance(last_seen_at, int | float):
            # A session made without Django's login (none in production): its limits start now.
            session[SIGNED_IN_AT] = session[LAST_SEEN_AT] = now
            return None
        if now - signed_in_at > settings.HG_SESSION_MAX_HOURS * 3600:
            return REASON_MAX_AGE
        if now - last_seen_at > settings.HG_SESSION_IDLE_MINUTES * 60:
            return REASON_IDLE
        if now - last_seen_at >= LAST_SEEN_RESOLUTION:
            session[LAST_SEEN_AT] = now
        return None


def sessions_end_for(user_id: int) -> int:
    """Delete every unexpired session of this person; returns how many. For the deactivating
    service, inside its transaction."""
    ended = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get(SESSION_KEY) == str(user_id):
            ended.append(session.session_key)
    if ended:
        Session.objects.filter(session_key__in=ended).delete()
    return len(ended)
