"""A safety net for cache invalidation: any save or delete of a model that decisions depend on (and
any change of a person's roles, which the decision facts carry for the trail) publishes the change,
naming the person or case it touches where it can (see ``authz.cache``). This covers changes made in
the Django admin too. Services that write with ``QuerySet.update`` (which sends
no signal) call ``authz.cache.invalidate`` themselves.

Grants are not in the net: only ``authz.services`` writes them (the admin refuses direct writes), and
each of its writers invalidates exactly once, naming the grantee; a signal as well would publish
every grant write twice (and a sign-off once per grant)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, User
from django.db.models.signals import m2m_changed, post_delete, post_save

from api_clients.models import ApiClient, PersonalToken
from authz.cache import invalidate
from cases.models import Case, Dataset, DeputyPeriod
from people.models import Profile


def _username(user_id: int) -> str:
    return User.objects.filter(pk=user_id).values_list("username", flat=True).first() or ""


def _saved(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    update_fields = kwargs.get("update_fields")
    if sender is User:
        # A sign-in only stamps last_login; that changes no decision.
        if update_fields and set(update_fields) <= {"last_login"}:
            return
        invalidate(people=[instance.username])
    elif sender is Profile:
        invalidate(people=[_username(instance.user_id)])
    elif sender is DeputyPeriod:
        invalidate(people=[_username(instance.deputy_id)])
    elif sender is Dataset:
        invalidate(
            cases=[Case.objects.filter(pk=instance.case_id).values_list("project_id", flat=True).first()]
        )
    elif sender is Case and created:
        invalidate(cases=[instance.project_id], people=[_username(instance.case_lead_id)])
    else:
        # A changed case (its lead may have changed), an API client or a token: rare, so every
        # worker simply starts over.
        invalidate()


def _deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    invalidate()


def _roles_changed(sender: Any, instance: Any, action: str, reverse: bool, **kwargs: Any) -> None:
    """A person's roles (groups) changed: the decision facts carry them for the trail's
    ``actor_role`` of a denial."""
    if not action.startswith("post_"):
        return
    if not reverse:
        invalidate(people=[instance.username])
    else:
        # Changed from the group's side (group.user_set): rare, so every worker starts over.
        invalidate()


def _group_saved_or_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A group (a role) renamed or removed: rare, so every worker starts over. (A row written
    straight into the user-group table sends no signal at all, as Django sends none for the
    tables it makes itself; nothing here writes it so, and ``HG_AUTHZ_CACHE_MAX_AGE`` bounds it.)"""
    invalidate()


def connect() -> None:
    m2m_changed.connect(_roles_changed, sender=User.groups.through, dispatch_uid="authz-invalidate-roles")
    post_save.connect(_group_saved_or_deleted, sender=Group, dispatch_uid="authz-invalidate-group-save")
    post_delete.connect(_group_saved_or_deleted, sender=Group, dispatch_uid="authz-invalidate-group-delete")
    for model in (User, Profile, Case, Dataset, DeputyPeriod, ApiClient, PersonalToken):
        post_save.connect(_saved, sender=model, dispatch_uid=f"authz-invalidate-save-{model.__name__}")
        post_delete.connect(_deleted, sender=model, dispatch_uid=f"authz-invalidate-delete-{model.__name__}")
