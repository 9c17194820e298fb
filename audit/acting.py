"""Who is behind a model change that django-auditlog recorded without an actor.

auditlog knows the signed-in person of a browser request (its middleware); it does not know a
management command, an API client, a scheduled task or a person using a personal token. Our
services do: each writes its own audit event, with its ``Actor``, in the transaction of the change.
So the actor of a transaction is the actor of the first event appended in it, and every auditlog
entry without an actor in that same transaction is stamped with it (``LogEntry.additional_data``
``{"acting": ..., "on_behalf_of": ...}``), whichever of the two was written first. The copy into the
chain (``audit.services.model_changes_record``) names that actor instead of "unattributed".

A change outside any transaction with an audit event (a shell, a raw save) stays unattributed: there
is nobody to name, and the trail says so.

"The transaction" is the outermost atomic block that is not a test case's own wrapper, compared by
identity, so nothing carries over from one transaction to the next.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from audit.actor import Actor


@dataclass
class _TransactionActing:
    atomic: Any  # the transaction's outermost Atomic, by identity
    username: str = ""
    on_behalf_of: str = ""
    pending: list[int] = field(default_factory=list)  # auditlog entries waiting for the actor


_state: ContextVar[_TransactionActing | None] = ContextVar("audit_acting", default=None)


def _transaction_block() -> Any | None:
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return None
    for block in connection.atomic_blocks:
        if not getattr(block, "_from_testcase", False):
            return block
    return None


def _current() -> _TransactionActing | None:
    block = _transaction_block()
    if block is None:
        return None
    state = _state.get()
    if state is None or state.atomic is not block:
        state = _TransactionActing(atomic=block)
        _state.set(state)
    return state


def _stamp(entry_ids: list[int], state: _TransactionActing) -> None:
    from auditlog.models import LogEntry

    for entry in LogEntry.objects.filter(pk__in=entry_ids, actor__isnull=True):
        data = dict(entry.additional_data or {})
        data.update(acting=state.username, on_behalf_of=state.on_behalf_of)
        # A queryset update: auditlog does not log its own entries, and no signal fires.
        LogEntry.objects.filter(pk=entry.pk).update(additional_data=data)


def note_actor(actor: Actor) -> None:
    """An audit event by ``actor`` is being appended (``audit.append``)."""
    state = _current()
    if state is None or state.username:
        return
    state.username = actor.username
    state.on_behalf_of = actor.on_behalf_of
    if state.pending:
        _stamp(state.pending, state)
        state.pending.clear()


def note_log_entry(log_entry: Any) -> None:
    """auditlog has just written ``log_entry`` (its ``post_log`` signal)."""
    if log_entry.actor_id is not None:
        return
    state = _current()
    if state is None:
        return
    if state.username:
        _stamp([log_entry.pk], state)
    else:
        state.pending.append(log_entry.pk)


def acting_of(log_entry: Any) -> Actor:
    """The actor to name for an auditlog entry in the chain."""
    if log_entry.actor is not None:
        return Actor(username=log_entry.actor.get_username(), channel="auditlog")
    data = log_entry.additional_data if isinstance(log_entry.additional_data, dict) else {}
    if data.get("acting"):
        return Actor(
            username=str(data["acting"]), on_behalf_of=str(data.get("on_behalf_of", "")), channel="auditlog"
        )
    return Actor(username="unattributed", channel="auditlog")
