"""django-auditlog's field diffs, routed into the one chained trail.

auditlog records a ``LogEntry`` in the same transaction as the model change. After that transaction
commits, the entry is copied into the chain as ``model.changed`` (``services.model_changes_record``),
with a fixed event id per entry, so a copy is stored once however often it is attempted; a periodic
sweep (``audit.tasks.copy_model_changes``) copies any entry whose copy after commit did not happen (a
crash between commit and copy). Nothing is lost: the entry itself committed with the change.

Why after the commit and not inside the change's transaction: our services already write their own
event for each change inside the transaction (``audit_record``); the diff is the supplement, and
above all the record of changes made outside the services (the admin, a shell).

What auditlog does not see: bulk writes (``QuerySet.update``, ``bulk_create``); our services audit
those explicitly. Token digests are never copied (excluded at registration, and filtered again when
copying). The client address is not taken from auditlog: it would trust X-Forwarded-For, so
``AUDITLOG_DISABLE_REMOTE_ADDR`` is set. The actor is the signed-in person when auditlog's
middleware knows one (browser sessions, the admin); otherwise the actor of the audit event that a
service wrote in the same transaction (a command, an API client, a task: ``audit.acting``); only a
change made outside the services (a shell) stays ``unattributed``.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.db import transaction

from audit import acting

log = logging.getLogger(__name__)

# Fields never copied into a diff: secrets, and hints that authentication rewrites on its own.
EXCLUDED = {
    "people.Profile": [],
    "api_clients.ApiClient": ["token_digest", "token_hint", "last_used_at"],
    "api_clients.PersonalToken": ["token_digest", "token_hint", "last_used_at"],
    "cases.Case": ["last_accessed_at"],
    "cases.Dataset": ["last_accessed_at"],
}


def register() -> None:
    from auditlog.registry import auditlog
    from auditlog.signals import post_log
    from django.apps import apps

    for label, exclude in EXCLUDED.items():
        model = apps.get_model(label)
        if not auditlog.contains(model):
            auditlog.register(model, exclude_fields=list(exclude))
    post_log.connect(_on_post_log, dispatch_uid="audit-model-changes")


def _on_post_log(sender: Any, log_entry: Any = None, log_created: bool = False, **kwargs: Any) -> None:
    if not log_created or log_entry is None:
        return
    acting.note_log_entry(log_entry)
    transaction.on_commit(partial(_copy, log_entry.pk), robust=True)


def _copy(log_entry_pk: int) -> None:
    from audit.services import model_changes_record

    model_changes_record(log_entry_ids=[log_entry_pk])
