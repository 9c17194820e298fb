"""A request id for every request, so an audit event can be tied to the request that caused it."""

import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation

REQUEST_ID_HEADER = "X-Request-ID"


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        supplied = request.headers.get(REQUEST_ID_HEADER, "")
        # A caller's id is kept only when it is a sane token; anything else is replaced, never logged raw.
        if not (0 < len(supplied) <= 64 and all(c.isalnum() or c in "-_." for c in supplied)):
            supplied = str(uuid.uuid4())
        request.request_id = supplied  # type: ignore[attr-defined]
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = supplied
        return response


class ApiInEnglishMiddleware:
    """The API speaks English: Hansken and operators' scripts read its messages, whatever language a
    browser session chose. (Placed after LocaleMiddleware, so it has the last word for /api/.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            translation.activate("en")
            request.LANGUAGE_CODE = "en"
        return self.get_response(request)


def client_address(request: HttpRequest) -> str | None:
    """The peer address as the socket saw it. X-Forwarded-For is not trusted (a proxy that must be
    trusted sets REMOTE_ADDR through gunicorn's forwarded-allow-ips instead)."""
    return request.META.get("REMOTE_ADDR") or None
