"""The WSGI handler: Django's own, with one short path for Hansken's decision API.

``/api/v1/authz/*`` is asked on every access Hansken makes, so it skips the middleware that serves
browsers (sessions, locale, messages, CSRF, clickjacking headers, django-auditlog's actor, static
files): those views read no session, set no cookie and render no page. What such a request still
gets: the ALLOWED_HOSTS check, HTTPS where the settings require it (X-Forwarded-Proto believed only
from a trusted proxy, as in the middleware), a request id, the URL resolver
with view middleware, and Django's conversion of an uncaught error into an error response. The
decision views answer their own errors, never with ``allowed`` on a failure.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.urls import set_urlconf

from hansken_governance.request_context import REQUEST_ID_HEADER, drop_untrusted_proxy_headers

FAST_PREFIX = "/api/v1/authz/"


def refused_by_transport(request: HttpRequest) -> HttpResponse | None:
    """What the skipped middleware would have refused: an unknown host (``get_host`` raises
    DisallowedHost: a 400) and plain HTTP where the settings require HTTPS."""
    request.get_host()
    drop_untrusted_proxy_headers(request)
    if settings.SECURE_SSL_REDIRECT and not request.is_secure():
        return JsonResponse(
            {"errors": [{"field": None, "message": "Use HTTPS for the decision API."}]}, status=403
        )
    return None


class GovernanceWSGIHandler(WSGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async)
        self._decision_chain = convert_exception_to_response(self._decision_response)

    def _decision_response(self, request: HttpRequest) -> Any:
        # _get_response is Django's resolver-and-view step (private; the stubs do not know it).
        return refused_by_transport(request) or self._get_response(request)  # type: ignore[attr-defined]

    def get_response(self, request: HttpRequest) -> HttpResponseBase:
        if not request.path_info.startswith(FAST_PREFIX):
            return super().get_response(request)
        set_urlconf(settings.ROOT_URLCONF)
        request_id = str(uuid.uuid4())
        request.request_id = request_id  # type: ignore[attr-defined]
        response: Any = self._decision_chain(request)
        response._resource_closers.append(request.close)
        response[REQUEST_ID_HEADER] = request_id
        return response
