"""Reads about people: for the start page's work lists, screenings that end soon and people who hold
no valid screening (so every decision for them denies), each a single query; for the review, a
person's standing (active, screened until) as it was at a moment, from the trail."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet
from guardian.conf import settings as guardian_settings

from audit import actions as audit_actions
from audit.history import Change, value_at
from audit.models import AuditEvent

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


@dataclass(frozen=True, slots=True)
class StandingAt:
    """What the decision rule asks of a person before any grant, as it was at a moment."""

    active: bool
    screened_until: datetime.date | None


def screening_history(usernames: Iterable[str]) -> dict[str, list[Change]]:
    """Per person, every screening change in the trail, in order: (when, valid until before, after),
    the dates as ISO text or None."""
    history: dict[str, list[Change]] = defaultdict(list)
    changes = (
        AuditEvent.objects.filter(
            action=audit_actions.PERSON_SCREENING_CHANGED, details__username__in=sorted(set(usernames))
        )
        .order_by("sequence")
        .values_list("occurred_at", "details")
    )
    for moment, details in changes:
        history[details.get("username", "")].append((moment, details.get("before"), details.get("after")))
    return history


def screened_until_at(
    changes: list[Change], at: datetime.datetime, current: datetime.date | None
) -> datetime.date | None:
    """The screening's end date as it stood at ``at`` (``current``: today's value)."""
    value = value_at(changes, at, current.isoformat() if current else None)
    return datetime.date.fromisoformat(value) if value else None


def _activity_history(usernames: list[str]) -> dict[str, list[Change]]:
    """Per person, each deactivation and reactivation in the trail, as a change of "active"."""
    history: dict[str, list[Change]] = defaultdict(list)
    changes = (
        AuditEvent.objects.filter(
            action__in=(audit_actions.PERSON_DEACTIVATED, audit_actions.PERSON_REACTIVATED),
            details__username__in=usernames,
        )
        .order_by("sequence")
        .values_list("occurred_at", "action", "details")
    )
    for moment, action, details in changes:
        reactivated = action == audit_actions.PERSON_REACTIVATED
        history[details.get("username", "")].append((moment, not reactivated, reactivated))
    return history


def standing_at(usernames: Iterable[str], at: datetime.datetime) -> dict[str, StandingAt]:
    """Each person's standing at ``at``, by username: three queries, whatever the number of people.
    A person the trail has no change for stands as today."""
    names = sorted(set(usernames))
    current = {
        username: (active, screened_until)
        for username, active, screened_until in User.objects.filter(username__in=names).values_list(
            "username", "is_active", "profile__screening_valid_until"
        )
    }
    screenings = screening_history(names)
    activity = _activity_history(names)
    standing = {}
    for username, (active, screened_until) in current.items():
        standing[username] = StandingAt(
            active=bool(value_at(activity.get(username, []), at, active)),
            screened_until=screened_until_at(screenings.get(username, []), at, screened_until),
        )
    return standing
