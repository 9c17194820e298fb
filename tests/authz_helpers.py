"""Helpers for authorisation tests: grant through the real service, ask through the real API."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from audit.actor import Actor
from authz.models import Grant
from authz.services import grant_create
from tests.personas import CASE_PROJECT_ID, Cast


def grant(
    cast: Cast,
    grantee: str = "investigator",
    rights: list[str] | None = None,
    environments: list[str] | None = None,
    days: int = 30,
    valid_from: datetime.datetime | None = None,
    by: str = "case_lead",
) -> Grant:
    created, _ = grant_create(
        case=cast.case,
        grantee=cast[grantee],
        rights=rights or ["read", "search"],
        environments=environments or ["production"],
        valid_from=valid_from,
        valid_until=(valid_from or timezone.now()) + datetime.timedelta(days=days),
        reason="Needed for the investigation",
        granted_by=cast[by],
        by=Actor(username=by, channel="test"),
    )
    return created


def check(
    cast: Cast,
    user: str = "investigator",
    action: str = "read",
    project_id: Any = CASE_PROJECT_ID,
    client: str = "hansken_production",
    **extra: Any,
) -> dict[str, Any]:
    response = cast.api(client).post(
        "/api/v1/authz/check",
        {"user": user, "project_id": str(project_id), "action": action, **extra},
        format="json",
    )
    assert response.status_code == 200, response.content
    return response.json()
