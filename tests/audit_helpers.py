"""Test support for the append-only audit trail.

Django's test runner empties every table after a transactional test (``flush``: TRUNCATE on
PostgreSQL, DELETE on SQLite), which the append-only triggers refuse. ``empty_audit_trail`` first
empties the trail through the purge door (``audit.triggers``); the flush then finds the audit
tables empty, which the triggers allow.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction

from audit import triggers
from tests.personas import CASE_PROJECT_ID, Cast

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


def create_runtime_role() -> str:
    """PostgreSQL: a role like production's runtime role, inside the test's transaction (so it and
    its rights vanish with the rollback): granted every right on every table and sequence, as the
    set-up's default privileges grant the runtime role, and then restricted on the audit tables as
    ``migrate`` restricts every role but the owner (``audit.pg_privileges``)."""
    from audit import pg_privileges

    assert connection.in_atomic_block, "the role must vanish with the test's transaction"
    name = f"hg_test_runtime_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {name} NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOLOGIN")
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {name}")
        cursor.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {name}")
        cursor.execute(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {name}")
    pg_privileges.restrict(connection)
    return name


@contextmanager
def as_role(name: str) -> Iterator[None]:
    """Run the block as ``name`` (``SET ROLE``: its rights, none of the superuser's), in a savepoint:
    an error inside rolls the savepoint back, and with it the role switch."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"SET ROLE {name}")
        yield
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


ACCESS_AT = "/api/v1/audit/access-at"


def iso(moment: datetime.datetime) -> str:
    """A moment as the API takes it: UTC with "Z"."""
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def access_at_rows(cast: Cast, moment: datetime.datetime) -> dict[str, dict[str, Any]]:
    """The privacy officer's answer to "who could act on the cast's case at this moment", by user."""
    response = cast.api("privacy_officer").get(
        ACCESS_AT, {"project_id": str(CASE_PROJECT_ID), "at": iso(moment)}
    )
    assert response.status_code == 200, response.content
    return {row["user"]: row for row in response.json()["access"]}
