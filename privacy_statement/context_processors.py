"""The notice on every page for a signed-in person who has not acknowledged the statement in force.

One indexed query per page for a signed-in person (``selectors.notice_for``), none for anyone else;
the decision API renders no template, so it never comes here."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from privacy_statement.selectors import notice_for


def privacy_notice(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"privacy_notice": None}
    return {"privacy_notice": notice_for(user)}
