"""Reads about people for the start page's work lists: screenings that end soon, and people who hold
no valid screening (so every decision for them denies). Each a single query."""

from __future__ import annotations

import datetime

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet
from guardian.conf import settings as guardian_settings

# The reviewers see a screening coming to its end this long before it does.
SCREENING_ENDING_WITHIN = datetime.timedelta(days=30)


def screenings_ending_soon(today: datetime.date) -> QuerySet[User]:
    """Active people whose screening is valid today and ends within 30 days, the soonest first."""
    return (
        User.objects.filter(
            is_active=True,
            profile__screening_valid_until__gte=today,
            profile__screening_valid_until__lte=today + SCREENING_ENDING_WITHIN,
        )
        .select_related("profile")
        .order_by("profile__screening_valid_until", "username")
    )


def people_without_valid_screening(today: datetime.date) -> QuerySet[User]:
    """Active people with no screening on record or one that has ended: nobody gets access without
    one, so the administrator renews it or deactivates the person."""
    # django-guardian's stand-in for signed-out visitors is a row in the user table, not a person.
    return (
        User.objects.filter(is_active=True)
        .exclude(username=guardian_settings.ANONYMOUS_USER_NAME)
        .filter(
            Q(profile__isnull=True)
            | Q(profile__screening_valid_until__isnull=True)
            | Q(profile__screening_valid_until__lt=today)
        )
        .select_related("profile")
        .order_by("username")
    )
