"""``Authorization: Bearer <token>`` for machine clients and for people's personal tokens.

A machine client authenticates as (AnonymousUser, ApiClient): it is not a person and holds no
person's rights; views ask for its scopes through ``api_clients.permissions``. A personal token
authenticates as (that person, PersonalToken).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from api_clients.models import ApiClient, PersonalToken
from api_clients.tokens import CLIENT_PREFIX, PERSONAL_PREFIX, token_digest
from hansken_governance.request_context import client_address

# last_used_at is a hint for administrators, not an audit record: writing it at most once a minute
# keeps a write off every request.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        parts = header.split()
        # A header of blanks alone splits into nothing: treat it as no header, not as a crash.
        if not parts or parts[0].lower() != self.keyword.lower():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("The Authorization header must be 'Bearer <token>'.")
        token = parts[1]
        now = timezone.now()
        if token.startswith(CLIENT_PREFIX):
            return self._client(request, token, now)
        if token.startswith(PERSONAL_PREFIX):
            return self._personal(token, now)
        raise exceptions.AuthenticationFailed("The token is not valid.")

    def _client(self, request: Request, token: str, now: datetime.datetime) -> tuple[Any, Any]:
        client = ApiClient.objects.filter(token_digest=token_digest(token)).first()
        if client is None or not client.is_usable(now):
            raise exceptions.AuthenticationFailed("The token is not valid, has expired or was revoked.")
        if not client.accepts_source(client_address(request._request)):
            raise exceptions.AuthenticationFailed("This client may not call from this address.")
        if client.last_used_at is None or now - client.last_used_at > LAST_USED_RESOLUTION:
            ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
        return AnonymousUser(), client

    def _personal(self, token: str, now: datetime.datetime) -> tuple[Any, Any]:
        personal = (
            PersonalToken.objects.select_related("user").filter(token_digest=token_digest(token)).first()
        )
        if personal is None or not personal.is_usable(now):
            raise exceptions.AuthenticationFailed("The token is not valid, has expired or was revoked.")
        if personal.last_used_at is None or now - personal.last_used_at > LAST_USED_RESOLUTION:
            PersonalToken.objects.filter(pk=personal.pk).update(last_used_at=now)
        return personal.user, personal

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
