"""Navigation by role: each person sees the pages their roles use."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from people.roles import Role, roles_of

# (url name, label, roles that see it; empty = everyone signed in)
NAVIGATION: list[tuple[str, Any, frozenset[str]]] = [
    ("home", _("Start"), frozenset()),
    ("case-list", _("Cases"), frozenset()),
    (
        "api-docs",
        _("API documentation"),
        frozenset({Role.OPERATOR, Role.ADMINISTRATOR, Role.PRIVACY_OFFICER}),
    ),
    ("admin:index", _("Administration"), frozenset({Role.ADMINISTRATOR})),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"navigation": [], "person_roles": []}
    roles = roles_of(user)
    items = [
        {"url": reverse(name), "label": label, "active": request.path == reverse(name)}
        for name, label, allowed in NAVIGATION
        if not allowed or roles & allowed
    ]
    role_labels = [Role(role).label for role in sorted(roles)]
    return {"navigation": items, "person_roles": role_labels}
