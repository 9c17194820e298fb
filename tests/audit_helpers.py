"""Test support for the append-only audit trail.

Django's test runner empties every table after a transactional test (``flush``: TRUNCATE on
PostgreSQL, DELETE on SQLite), which the append-only triggers refuse. ``empty_audit_trail`` first
empties the trail through the purge door (``audit.triggers``); the flush then finds the audit
tables empty, which the triggers allow.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction

from audit import triggers

AUDIT_TABLES = ("audit_auditevent", "audit_chaincheckpoint", "audit_chainhead")


def empty_audit_trail() -> None:
    with transaction.atomic():
        triggers.open_purge_door(connection)
        with connection.cursor() as cursor:
            for table in AUDIT_TABLES:
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608 (constant names)
        triggers.close_purge_door(connection)


@contextmanager
def triggers_off() -> Iterator[None]:
    """Tamper as the table owner can: the append-only triggers off (on PostgreSQL ``ALTER TABLE ...
    DISABLE TRIGGER USER``, on SQLite dropped), and back on afterwards. Inside a test's transaction
    both are rolled back with it anyway."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in AUDIT_TABLES:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        else:
            triggers.remove(connection)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                for table in AUDIT_TABLES:
                    cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
            else:
                triggers.install(connection)
