"""Reads of the privacy statement. Published versions are public; drafts are the privacy officer's."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count, Exists, FilteredRelation, OuterRef, Q, QuerySet
from django.utils import timezone

from people.roles import Role, has_role
from privacy_statement.models import Acknowledgement, StatementVersion, VersionStatus


def published_versions() -> QuerySet[StatementVersion]:
    """Every published version, newest first (those not yet in force included)."""
    return StatementVersion.objects.filter(status=VersionStatus.PUBLISHED).order_by("-number")


def version_in_force(now: datetime.datetime | None = None) -> StatementVersion | None:
    """The newest published version whose effective date has come."""
    return published_versions().filter(effective_from__lte=now or timezone.now()).first()


def versions_visible_to(user: Any) -> QuerySet[StatementVersion]:
    """Published versions for everyone (signed in or not); drafts too for the privacy officer."""
    if has_role(user, Role.PRIVACY_OFFICER):
        return StatementVersion.objects.all()
    return published_versions()


def versions_for_officer() -> QuerySet[StatementVersion]:
    """Drafts first, then published versions newest first, each with its number of acknowledgements."""
    return StatementVersion.objects.annotate(acknowledged=Count("acknowledgements")).order_by(
        "-status", "-number", "-pk"
    )


def notice_for(user: Any, now: datetime.datetime | None = None) -> StatementVersion | None:
    """The version in force when ``user`` has not acknowledged it yet, else None. One indexed query
    (the version in force and, in the same statement, whether this person acknowledged it); asked on
    every page a signed-in person opens."""
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "pk", None):
        return None
    acknowledged = Acknowledgement.objects.filter(version=OuterRef("pk"), person_id=user.pk)
    row = (
        published_versions()
        .filter(effective_from__lte=now or timezone.now())
        .annotate(acknowledged=Exists(acknowledged))
        .only("pk", "number", "title_nl", "title_en", "effective_from")
        .first()
    )
    if row is None or row.acknowledged:
        return None
    return row


def people() -> QuerySet[User]:
    """Every person: django-guardian's own ``AnonymousUser`` row is nobody."""
    from guardian.conf import settings as guardian_settings

    return User.objects.exclude(username=guardian_settings.ANONYMOUS_USER_NAME or "")


def acknowledgement_rows(version: StatementVersion) -> list[dict[str, Any]]:
    """Every active person, and anyone who acknowledged this version, with the acknowledgement if
    there is one; by username. One query."""
    rows: Any = (
        people()
        .annotate(
            ack=FilteredRelation(
                "privacy_acknowledgements", condition=Q(privacy_acknowledgements__version=version)
            )
        )
        .filter(Q(is_active=True) | Q(ack__isnull=False))
        .order_by("username")
        .values(
            "username",
            "first_name",
            "last_name",
            "is_active",
            "ack__acknowledged_at",
            "ack__channel",
            "ack__client_name",
        )
    )
    return list(rows)
