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
from django.urls import ResolverMatch, get_resolver, set_urlconf

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


# At most this many decision paths are remembered with their route (there are five).
DECISION_ROUTES_LIMIT = 64


class GovernanceWSGIHandler(WSGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async)
        self._decision_chain = convert_exception_to_response(self._decision_response)
        # The route of each decision path, found once per worker (the resolver's walk through the
        # URL patterns cost about 15 µs of a decision's CPU), for the resolver it was found by.
        self._decision_routes: dict[str, ResolverMatch] = {}
        self._decision_routes_resolver: Any = None

    def resolve_request(self, request: HttpRequest) -> ResolverMatch:
        """Django's, remembering the routes of the decision paths: they are fixed texts without
        parameters, so a path resolves the same way every time (until the URL configuration is
        replaced, as tests do: then the resolver is another object and the routes are forgotten).
        Only paths that resolved are remembered; the match is read, never changed, by the view."""
        path = request.path_info
        if not path.startswith(FAST_PREFIX) or hasattr(request, "urlconf"):
            return super().resolve_request(request)
        resolver = get_resolver()
        if resolver is not self._decision_routes_resolver:
            self._decision_routes, self._decision_routes_resolver = {}, resolver
        match = self._decision_routes.get(path)
        if match is None:
            match = resolver.resolve(path)  # Resolver404 for an unknown path, as before
            if len(self._decision_routes) < DECISION_ROUTES_LIMIT:
                self._decision_routes[path] = match
        request.resolver_match = match
        return match

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
