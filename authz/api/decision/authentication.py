"""The decision API's authentication: the machine client behind ``Authorization: Bearer <token>``,
found through the fact cache instead of a database query per request."""

from __future__ import annotations

import datetime

from django.http import HttpRequest

from api_clients.authentication import LAST_USED_RESOLUTION
from api_clients.models import ApiClient, PersonalToken
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
        raise problem(401, "The token is not valid, has expired or was revoked.")
    client: ApiClient | None = fact_cache.client(token_digest(token), use_cache)
    if client is None or not client.is_usable(now):
        raise problem(401, "The token is not valid, has expired or was revoked.")
    if not client.accepts_source(client_address(request)):
        raise problem(401, "This client may not call from this address.")
    if not client_may(client, SCOPE):
        raise problem(403, f"This client lacks the scope {SCOPE}.")
    if client.last_used_at is None or now - client.last_used_at > LAST_USED_RESOLUTION:
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
        client.last_used_at = now
    return client


def _is_usable_personal_token(token: str, now: datetime.datetime) -> bool:
    personal = PersonalToken.objects.select_related("user").filter(token_digest=token_digest(token)).first()
    return personal is not None and personal.is_usable(now)
