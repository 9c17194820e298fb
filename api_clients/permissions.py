"""Who may call an endpoint: a machine client with a scope, or a person with a role.

Clients of the experiment environment may ask for decisions and report usage, and nothing else
(seed measure 5): every other endpoint answers them 403 whatever scopes they hold.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from api_clients.models import ApiClient
from hansken_governance.environments import EXPERIMENT_SCOPES, Environment
from people.roles import has_role


def calling_client(request: Request) -> ApiClient | None:
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, ApiClient) else None


def is_person(request: Request) -> bool:
    return calling_client(request) is None and bool(request.user and request.user.is_authenticated)


class IsPersonOrClient(BasePermission):
    """Default: an authenticated person, or a usable machine client."""

    message = "Authentication is required."

    def has_permission(self, request: Request, view: Any) -> bool:
        return calling_client(request) is not None or is_person(request)


def client_may(client: ApiClient, scope: str) -> bool:
    if client.environment == Environment.EXPERIMENT and scope not in EXPERIMENT_SCOPES:
        return False
    return client.has_scope(scope)


def scope_or_role(scope: str | None, *roles: str) -> type[BasePermission]:
    """A permission class: a client holding ``scope``, or a person holding one of ``roles``.

    ``scope=None`` admits no client at all; no roles admits no person by role (the view may still
    admit people by object, e.g. the case lead of that case).
    """

    class ScopeOrRole(BasePermission):
        message = "You may not do this."

        def has_permission(self, request: Request, view: Any) -> bool:
            client = calling_client(request)
            if client is not None:
                return scope is not None and client_may(client, scope)
            return is_person(request) and (not roles or has_role(request.user, *roles))

    ScopeOrRole.__name__ = f"ScopeOrRole_{scope}_{'_'.join(roles)}"
    return ScopeOrRole


class PeopleOnly(BasePermission):
    message = "Only people may do this, not machine clients."

    def has_permission(self, request: Request, view: Any) -> bool:
        return is_person(request)


def person_of(request: Request) -> User:
    """The signed-in person of a request that ``PeopleOnly`` admitted."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise NotAuthenticated("Only people may do this, not machine clients.")
    return user
