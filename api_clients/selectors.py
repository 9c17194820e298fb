"""Reads about API clients and personal tokens for the administrator's work list. Each a single query."""

from __future__ import annotations

import datetime

from django.db.models import QuerySet

from api_clients.models import ApiClient, PersonalToken

# An administrator renews a machine client's token well before Hansken starts being refused.
TOKEN_ENDING_WITHIN = datetime.timedelta(days=30)


def api_clients_ending_soon(now: datetime.datetime) -> QuerySet[ApiClient]:
    """Active API clients whose token ends within 30 days (or has ended), the soonest first."""
    return ApiClient.objects.filter(is_active=True, expires_at__lte=now + TOKEN_ENDING_WITHIN).order_by(
        "expires_at", "name"
    )


def personal_tokens_ending_soon(now: datetime.datetime) -> QuerySet[PersonalToken]:
    """Personal tokens not revoked that end within 30 days and have not ended yet, the soonest first."""
    return (
        PersonalToken.objects.filter(
            revoked_at__isnull=True, expires_at__gt=now, expires_at__lte=now + TOKEN_ENDING_WITHIN
        )
        .select_related("user")
        .order_by("expires_at", "pk")
    )
