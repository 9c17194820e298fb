"""``Authorization: Bearer <token>`` for machine clients and for people's personal tokens.

A machine client authenticates as (AnonymousUser, ApiClient): it is not a person and holds no
person's rights; views ask for its scopes through ``api_clients.permissions``. A personal token
authenticates as (that person, PersonalToken).

``accept_client`` and ``accept_personal`` are the one rule for whether a token found is accepted
(active, not expired or revoked, from an allowed address); the decision API, which finds its client
in the fact cache instead of the database, calls the same functions.
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
REFUSAL_MESSAGE = "The token is not valid, has expired or was revoked."


class TokenRefused(Exception):
    """A token that was found but is not accepted; the message says why, in plain words."""


def accept_client(
    client: ApiClient | None, *, source_address: str | None, now: datetime.datetime
) -> ApiClient:
    """The machine client of a token (``None``: no client has it), if it may call now from this
    address; otherwise ``TokenRefused``. Notes the use (at most once a minute)."""
    if client is None or not client.is_usable(now):
        raise TokenRefused(REFUSAL_MESSAGE)
    if not client.accepts_source(source_address):
        raise TokenRefused("This client may not call from this address.")
    if client.last_used_at is None or now - client.last_used_at > LAST_USED_RESOLUTION:
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
        client.last_used_at = now
    return client


def personal_token(token: str) -> PersonalToken | None:
    return PersonalToken.objects.select_related("user").filter(token_digest=token_digest(token)).first()


def accept_personal(
    personal: PersonalToken | None, *, now: datetime.datetime, note_use: bool = True
) -> PersonalToken:
    """A person's token (``None``: nobody has it), if it is usable now; otherwise ``TokenRefused``.
    Notes the use (at most once a minute) unless told not to."""
    if personal is None or not personal.is_usable(now):
        raise TokenRefused(REFUSAL_MESSAGE)
    if note_use and (personal.last_used_at is None or now - personal.last_used_at > LAST_USED_RESOLUTION):
        PersonalToken.objects.filter(pk=personal.pk).update(last_used_at=now)
        personal.last_used_at = now
    return personal


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
        found = ApiClient.objects.filter(token_digest=token_digest(token)).first()
        try:
            client = accept_client(found, source_address=client_address(request._request), now=now)
        except TokenRefused as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from exc
        return AnonymousUser(), client

    def _personal(self, token: str, now: datetime.datetime) -> tuple[Any, Any]:
        try:
            personal = accept_personal(personal_token(token), now=now)
        except TokenRefused as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from exc
        return personal.user, personal

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
