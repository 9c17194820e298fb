"""The decision API's authentication: the machine client behind ``Authorization: Bearer <token>``,
found through the fact cache instead of a database query per request, and accepted by the one token
rule (``api_clients.authentication.accept_client``)."""

from __future__ import annotations

import datetime

from django.http import HttpRequest

from api_clients.authentication import (
    REFUSAL_MESSAGE,
    TokenRefused,
    accept_client,
    accept_personal,
    personal_token,
)
from api_clients.models import ApiClient
from api_clients.permissions import client_may
from api_clients.tokens import CLIENT_PREFIX, token_digest
from authz.api.decision.problems import problem
from authz.cache import fact_cache
from hansken_governance.request_context import client_address

SCOPE = "authz:check"


def authenticate(request: HttpRequest, use_cache: bool, now: datetime.datetime) -> ApiClient:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise problem(401, "Send the client's token as 'Authorization: Bearer <token>'.")
    if not token.startswith(CLIENT_PREFIX):
        if _is_usable_personal_token(token, now):
            raise problem(403, "Decisions are asked by Hansken's machine clients, not with a personal token.")
        raise problem(401, REFUSAL_MESSAGE)
    found: ApiClient | None = fact_cache.client(token_digest(token), use_cache)
    try:
        client = accept_client(found, source_address=client_address(request), now=now)
    except TokenRefused as exc:
        raise problem(401, str(exc)) from exc
    if not client_may(client, SCOPE):
        raise problem(403, f"This client lacks the scope {SCOPE}.")
    return client


def _is_usable_personal_token(token: str, now: datetime.datetime) -> bool:
    try:
        accept_personal(personal_token(token), now=now, note_use=False)
    except TokenRefused:
        return False
    return True
