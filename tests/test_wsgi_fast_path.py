"""The decision API's short path through the WSGI handler (used by gunicorn; the test client has its
own handler, so these tests call the real one)."""

from __future__ import annotations

import io
import json
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from hansken_governance.wsgi_handler import GovernanceWSGIHandler
from tests.authz_helpers import grant
from tests.personas import CASE_PROJECT_ID, Cast


@contextmanager
def keep_test_transaction_open() -> Iterator[None]:
    # As Django's test client does: the handler must not close the test's database connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def call(
    path: str,
    token: str | None = None,
    body: dict | None = None,
    host: str = "localhost",
    environ: dict | None = None,
):
    data = json.dumps(body).encode() if body is not None else b""
    environ = {
        **(environ or {}),
        "REQUEST_METHOD": "POST" if body is not None else "GET",
        "PATH_INFO": path,
        "HTTP_HOST": host,
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(data)),
        "wsgi.input": io.BytesIO(data),
    }
    if token:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    setup_testing_defaults(environ)
    captured: dict = {}

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: object = None
    ) -> Callable[[bytes], object]:
        captured["status"] = int(status.split()[0])
        captured["headers"] = dict(headers)
        return lambda data: None

    with keep_test_transaction_open():
        response = GovernanceWSGIHandler()(environ, start_response)
        content = b"".join(response)
        response.close()
    return captured["status"], captured["headers"], content


@pytest.mark.django_db
def test_decisions_take_the_short_path_and_stay_correct(cast: Cast):
    grant(cast)
    check = {"user": "investigator", "project_id": str(CASE_PROJECT_ID), "action": "read"}
    status, headers, content = call("/api/v1/authz/check", cast.tokens["hansken_production"], check)
    assert status == 200
    assert json.loads(content)["reason"] == "grant"
    assert "X-Request-ID" in headers
    # The browser middleware did not run on it (it adds these headers to everything it serves)...
    assert "X-Frame-Options" not in headers
    # ...but it does for every other path.
    _, page_headers, _ = call("/healthz")
    assert page_headers["X-Frame-Options"] == "DENY"
    # Refusals still come: bad token, and a host outside ALLOWED_HOSTS.
    assert call("/api/v1/authz/check", "hgc_wrong", check)[0] == 401
    assert (
        call("/api/v1/authz/check", cast.tokens["hansken_production"], check, host="evil.example")[0] == 400
    )


@pytest.mark.django_db
def test_plain_http_is_refused_where_https_is_required(cast: Cast, settings):
    settings.SECURE_SSL_REDIRECT = True
    check = {"user": "investigator", "project_id": str(CASE_PROJECT_ID), "action": "read"}
    status, _, content = call("/api/v1/authz/check", cast.tokens["hansken_production"], check)
    assert status == 403
    assert "HTTPS" in json.loads(content)["errors"][0]["message"]


def test_a_decision_path_is_resolved_once_per_handler_and_follows_a_new_url_configuration(settings):
    from django.core.handlers.wsgi import WSGIRequest
    from django.http import HttpResponse
    from django.urls import Resolver404, path

    from authz.api.decision.views import CheckApi

    def environ_of(url: str) -> dict:
        environ = {"REQUEST_METHOD": "POST", "PATH_INFO": url, "wsgi.input": io.BytesIO(b"")}
        setup_testing_defaults(environ)
        return environ

    handler = GovernanceWSGIHandler()
    first = handler.resolve_request(WSGIRequest(environ_of("/api/v1/authz/check")))
    again = WSGIRequest(environ_of("/api/v1/authz/check"))
    assert handler.resolve_request(again) is first  # remembered, and set on the request
    assert again.resolver_match is first
    assert first.func.view_class is CheckApi  # type: ignore[attr-defined]
    # A path that does not resolve is refused as before, every time, and not remembered.
    for _ in range(2):
        with pytest.raises(Resolver404):
            handler.resolve_request(WSGIRequest(environ_of("/api/v1/authz/nothing")))
    assert set(handler._decision_routes) == {"/api/v1/authz/check"}

    # Another URL configuration (as tests set one): the route is found in it, not remembered from before.
    def elsewhere(request):
        return HttpResponse()

    urls = types.ModuleType("other_urls")
    urls.urlpatterns = [path("api/v1/authz/check", elsewhere)]  # type: ignore[attr-defined]
    settings.ROOT_URLCONF = urls
    assert handler.resolve_request(WSGIRequest(environ_of("/api/v1/authz/check"))).func is elsewhere
