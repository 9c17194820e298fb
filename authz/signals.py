"""A safety net for cache invalidation: any save or delete of a model that decisions depend on
replaces the cache generation, including changes made in the Django admin. Services that write with
``QuerySet.update`` (which sends no signal) call ``authz.cache.invalidate`` themselves."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db.models.signals import post_delete, post_save

from api_clients.models import ApiClient, PersonalToken
from authz.cache import invalidate
from authz.models import Grant
from cases.models import Case, CaseUserObjectPermission, Dataset
from people.models import Profile


def _changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    update_fields = kwargs.get("update_fields")
    # A sign-in only stamps last_login; that changes no decision.
    if sender is User and update_fields and set(update_fields) <= {"last_login"}:
        return
    invalidate()


def connect() -> None:
    for model in (User, Profile, Case, Dataset, Grant, CaseUserObjectPermission, ApiClient, PersonalToken):
        post_save.connect(_changed, sender=model, dispatch_uid=f"authz-invalidate-save-{model.__name__}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"authz-invalidate-delete-{model.__name__}")
