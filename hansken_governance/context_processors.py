"""Navigation by role: each person sees the pages their roles use."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from people.roles import Role, roles_of

# (url name, label, roles that see it; empty = everyone signed in)
NAVIGATION: list[tuple[str, Promise, frozenset[str]]] = [
    ("home", _("Start"), frozenset()),
    ("case-list", _("Cases"), frozenset()),
    ("my-cases", _("My cases"), frozenset({Role.CASE_LEAD})),
    ("my-access", _("My access"), frozenset({Role.INVESTIGATOR, Role.ENGINEER})),
    (
        "api-docs",
        _("API documentation"),
        frozenset({Role.OPERATOR, Role.ADMINISTRATOR, Role.PRIVACY_OFFICER}),
    ),
    ("retention-notices", _("Retention notices"), frozenset({Role.CASE_LEAD})),
    ("retention-removals", _("Removals"), frozenset({Role.OPERATOR})),
    ("retention-dashboard", _("Retention"), frozenset({Role.PRIVACY_OFFICER})),
    ("monitoring", _("Monitoring"), frozenset({Role.PRIVACY_OFFICER, Role.SECURITY_MANAGER})),
    # Case leads review the trail of their own cases (the review scope narrows what they see); the
    # audit pages link to each other (search, timeline, access at a moment).
    (
        "audit-search",
        _("Audit trail"),
        frozenset({Role.PRIVACY_OFFICER, Role.SECURITY_MANAGER, Role.CASE_LEAD}),
    ),
    (
        "hashtotals-list",
        _("Hashtotals"),
        frozenset({Role.OPERATOR, Role.CASE_LEAD, Role.PRIVACY_OFFICER, Role.SECURITY_MANAGER}),
    ),
    # Test reports of each release are for every signed-in person (seed measure 12).
    ("release-list", _("Test reports"), frozenset()),
    ("privacy-manage", _("Privacy statement"), frozenset({Role.PRIVACY_OFFICER})),
    ("admin:index", _("Administration"), frozenset({Role.ADMINISTRATOR})),
    ("person-proposals", _("Proposed changes"), frozenset({Role.ADMINISTRATOR})),
]


def _current(path: str, url: str) -> str | None:
    """The aria-current value: "page" on the page itself, "true" inside its section (a case's page
    belongs to Cases); the start page "/" is nobody's section."""
    if path == url:
        return "page"
    if url != "/" and path.startswith(url):
        return "true"
    return None


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"navigation": [], "person_roles": []}
    roles = roles_of(user)
    items = []
    for name, label, allowed in NAVIGATION:
        if allowed and not roles & allowed:
            continue
        url = reverse(name)
        items.append({"url": url, "label": label, "current": _current(request.path, url)})
    role_labels = [label for value, label in Role.choices if value in roles]
    return {"navigation": items, "person_roles": role_labels}
