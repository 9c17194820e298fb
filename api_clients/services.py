"""The only writers of API clients and personal tokens. A token is returned once, here, and never
stored: only its digest is."""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from api_clients.models import ApiClient, PersonalToken
from api_clients.scopes import Scope
from api_clients.tokens import CLIENT_PREFIX, PERSONAL_PREFIX, new_token, token_digest, token_hint
from audit import actions
from audit.actor import Actor
from audit.services import audit_record
from authz.cache import invalidate
from hansken_governance.environments import EXPERIMENT_SCOPES, Environment


def _default_expiry() -> datetime.datetime:
    return timezone.now() + datetime.timedelta(days=settings.HG_API_TOKEN_DEFAULT_DAYS)


@dataclass(frozen=True)
class ClientTerms:
    scopes: list[str]
    allowed_sources: list[str]
    expires_at: datetime.datetime


def api_client_clean_terms(
    *,
    name: str,
    environment: str,
    scopes: Iterable[str],
    expires_at: datetime.datetime | None = None,
    allowed_sources: Iterable[str] = (),
) -> ClientTerms:
    """Every check ``api_client_create`` makes, without writing: forms (the admin) call it to show
    the refusal on the field it concerns. Raises ValidationError keyed by field name."""
    if environment not in Environment.values:
        raise ValidationError({"environment": f"Unknown environment {environment}."})
    clean_scopes = sorted(set(scopes))
    unknown = [s for s in clean_scopes if s not in Scope.values]
    if unknown:
        raise ValidationError({"scopes": f"Unknown scope(s): {', '.join(unknown)}."})
    if not clean_scopes:
        raise ValidationError({"scopes": "Give at least one scope."})
    if environment == Environment.EXPERIMENT and not set(clean_scopes) <= EXPERIMENT_SCOPES:
        refused = sorted(set(clean_scopes) - EXPERIMENT_SCOPES)
        raise ValidationError(
            {
                "scopes": "An experiment-environment client may only ask for decisions and report usage "
                f"({', '.join(sorted(EXPERIMENT_SCOPES))}); refused: {', '.join(refused)}."
            }
        )
    sources = []
    for source in allowed_sources:
        try:
            sources.append(str(ipaddress.ip_network(source, strict=False)))
        except ValueError as exc:
            raise ValidationError({"allowed_sources": f"{source} is not an address or network."}) from exc
    if ApiClient.objects.filter(name=name).exists():
        raise ValidationError({"name": f"An API client named {name} already exists."})
    expiry = expires_at or _default_expiry()
    if expiry <= timezone.now():
        raise ValidationError({"expires_at": "The expiry lies in the past."})
    return ClientTerms(scopes=clean_scopes, allowed_sources=sources, expires_at=expiry)


@transaction.atomic
def api_client_create(
    *,
    name: str,
    environment: str,
    scopes: Iterable[str],
    by: Actor,
    expires_at: datetime.datetime | None = None,
    allowed_sources: Iterable[str] = (),
) -> tuple[ApiClient, str]:
    terms = api_client_clean_terms(
        name=name,
        environment=environment,
        scopes=scopes,
        expires_at=expires_at,
        allowed_sources=allowed_sources,
    )
    clean_scopes, sources, expiry = terms.scopes, terms.allowed_sources, terms.expires_at
    token = new_token(CLIENT_PREFIX)
    client = ApiClient.objects.create(
        name=name,
        environment=environment,
        scopes=clean_scopes,
        token_digest=token_digest(token),
        token_hint=token_hint(token),
        expires_at=expiry,
        allowed_sources=sources,
        created_by=by.username,
    )
    audit_record(
        action=actions.API_CLIENT_CREATED,
        actor=by,
        object_type="api_client",
        object_id=client.pk,
        details={
            "name": name,
            "environment": environment,
            "scopes": clean_scopes,
            "expires_at": expiry.isoformat(),
            "allowed_sources": sources,
            "token_hint": client.token_hint,
        },
    )
    return client, token


@transaction.atomic
def personal_token_create(
    *, person: User, by: Actor, name: str = "script", expires_at: datetime.datetime | None = None
) -> tuple[PersonalToken, str]:
    if not person.is_active:
        raise ValidationError({"person": f"{person.get_username()} is not active."})
    expiry = expires_at or _default_expiry()
    token = new_token(PERSONAL_PREFIX)
    personal = PersonalToken.objects.create(
        user=person,
        name=name,
        token_digest=token_digest(token),
        token_hint=token_hint(token),
        expires_at=expiry,
    )
    audit_record(
        action=actions.PERSONAL_TOKEN_CREATED,
        actor=by,
        object_type="personal_token",
        object_id=personal.pk,
        details={"person": person.get_username(), "name": name, "expires_at": expiry.isoformat()},
    )
    return personal, token


def expire_tokens(*, now: datetime.datetime | None = None) -> int:
    """Deactivate every client whose token has expired, each with its own audit event. Idempotent:
    an expired client is audited once, when it is deactivated."""
    now = now or timezone.now()
    count = 0
    for client_id in ApiClient.objects.filter(is_active=True, expires_at__lte=now).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            updated = ApiClient.objects.filter(pk=client_id, is_active=True).update(is_active=False)
            if updated:
                client = ApiClient.objects.get(pk=client_id)
                audit_record(
                    action=actions.API_TOKEN_EXPIRED,
                    actor=Actor.system("expire_tokens"),
                    object_type="api_client",
                    object_id=client.pk,
                    details={"name": client.name, "expired_at": client.expires_at.isoformat()},
                )
                count += 1
    return count


@transaction.atomic
def api_client_deactivate(*, client: ApiClient, by: Actor, reason: str = "") -> bool:
    """Switch a client off: its token fails from the very next request (authentication reads the
    active flag on every request). Returns False, writing nothing, if it was already inactive."""
    updated = ApiClient.objects.filter(pk=client.pk, is_active=True).update(is_active=False)
    if not updated:
        return False
    client.is_active = False
    invalidate()
    audit_record(
        action=actions.API_CLIENT_DEACTIVATED,
        actor=by,
        object_type="api_client",
        object_id=client.pk,
        details={"name": client.name, "environment": client.environment, "reason": reason},
    )
    return True


@transaction.atomic
def personal_token_revoke(*, token: PersonalToken, by: Actor, reason: str = "") -> bool:
    """Revoke a person's token at once. Returns False, writing nothing, if it was already revoked."""
    now = timezone.now()
    updated = PersonalToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
    if not updated:
        return False
    token.revoked_at = now
    invalidate()
    audit_record(
        action=actions.PERSONAL_TOKEN_REVOKED,
        actor=by,
        object_type="personal_token",
        object_id=token.pk,
        details={
            "person": token.user.get_username(),
            "name": token.name,
            "token_hint": token.token_hint,
            "reason": reason,
        },
    )
    return True
