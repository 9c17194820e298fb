"""A grant's history: every state it ever had is a ``GrantVersion`` row, written by the services in
``authz.services`` within their transaction (who could act at a past moment is read from it), and
the grant as its audit events describe it."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth.models import User

from audit.actor import Actor
from authz.models import ChangeKind, Grant, GrantVersion


def write_version(
    grant: Grant, kind: str, now: datetime.datetime, by: Actor, person: User | None, reason: str
) -> GrantVersion:
    GrantVersion.objects.filter(grant=grant, superseded_at__isnull=True).update(superseded_at=now)
    return GrantVersion.objects.create(
        grant=grant,
        version=grant.version,
        kind=kind,
        rights=grant.rights,
        environments=grant.environments,
        valid_from=grant.valid_from,
        valid_until=grant.valid_until,
        revoked=grant.revoked_at is not None,
        changed_by=person,
        changed_by_label=by.username,
        reason=reason,
        recorded_at=now,
        case_id=grant.case_id,
        grantee_id=grant.grantee_id,
    )


def grant_details(grant: Grant, **extra: Any) -> dict[str, Any]:
    return {
        "grantee": grant.grantee.get_username(),
        "rights": grant.rights,
        "environments": grant.environments,
        "valid_from": grant.valid_from.isoformat(),
        "valid_until": grant.valid_until.isoformat(),
        "version": grant.version,
        **extra,
    }


def change_kind(grant: Grant, rights: list[str], envs: list[str], valid_until: datetime.datetime) -> str:
    """How a change moves the grant: wider, narrower, longer or shorter (the version's kind)."""
    wider = not set(rights) <= set(grant.rights) or not set(envs) <= set(grant.environments)
    narrower = not set(grant.rights) <= set(rights) or not set(grant.environments) <= set(envs)
    if not wider and not narrower:
        if valid_until > grant.valid_until:
            return ChangeKind.EXTENDED
        if valid_until < grant.valid_until:
            return ChangeKind.NARROWED
        return ChangeKind.CHANGED
    if narrower and not wider and valid_until <= grant.valid_until:
        return ChangeKind.NARROWED
    return ChangeKind.CHANGED
