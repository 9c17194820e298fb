"""Append-only, enforced by the database itself.

On PostgreSQL, triggers refuse UPDATE, DELETE and TRUNCATE of the audit trail
(``audit_auditevent``) and of the checkpoints (``audit_chaincheckpoint``), and DELETE and TRUNCATE
of the chain head (``audit_chainhead``, whose one row every writer updates). On SQLite, triggers
refuse UPDATE and DELETE of the trail and the checkpoints, and DELETE of the chain head (SQLite has
no TRUNCATE). On both, the chain head only moves forward: an UPDATE that lowers its sequence, or
changes its hash without raising the sequence, is refused. The ORM, the admin, a shell and a stray
migration all meet the same refusal.

**The purge door.** Rows leave only through the retention purge, which leaves a purge event naming
its anchor (``audit.verify``). The door opens DELETE only, never UPDATE, and only for one
transaction:

- PostgreSQL: ``hansken.audit_purge = 'on'`` for the transaction, *and* the session's current role
  is the table's owner. The runtime role is not the owner (``audit.pg_privileges``), so it cannot
  open the door; the retention purge runs inside the owner's ``SECURITY DEFINER`` function
  (``audit.pg_purge``), where the current role is the owner.
- SQLite: a row in the table ``audit_purge_door`` while the purge's transaction runs; the purge
  deletes it again before committing. SQLite has no roles: whoever can write the file can do
  anything, so there the door, like every trigger, stops accidents only.

TRUNCATE stays refused on PostgreSQL unless the table is already empty (then it removes nothing;
Django's test runner flushes every table between transactional tests, after ``tests`` emptied the
trail through the door as the owner).

These triggers stop accidents and the runtime role, not the table owner or a superuser, who can
disable them: that is what the hash chain and the checkpoints kept outside the database are for.

``install`` is idempotent. The migration calls it, and so does every ``migrate`` (``post_migrate``),
because on SQLite a later migration that rebuilds the table would silently drop its triggers.
"""

from __future__ import annotations

from typing import Any

APPEND_ONLY_TABLES = ("audit_auditevent", "audit_chaincheckpoint")
HEAD_TABLE = "audit_chainhead"
SQLITE_DOOR_TABLE = "audit_purge_door"
PURGE_SETTING = "hansken.audit_purge"
REFUSAL = "audit rows are append-only"

# Plain text, not an f-string: the setting's name and the message are spelled out where they are used.
_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    has_rows boolean;
BEGIN
    -- The retention purge's door (see audit.triggers): open only to the table's owner, i.e. inside
    -- the owner's SECURITY DEFINER purge function; the runtime role may set the flag to no avail.
    IF TG_OP = 'DELETE' AND current_setting('hansken.audit_purge', true) = 'on'
        AND pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'USAGE') THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.%I)', TG_TABLE_SCHEMA, TG_TABLE_NAME) INTO has_rows;
        IF NOT has_rows THEN
            RETURN NULL;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit rows are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
"""

# Called only when the trigger's WHEN clause (``HEAD_BACKWARDS``) holds, so a writer moving the head
# forward pays for a comparison, not for a PL/pgSQL call.
_PG_HEAD_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_head_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit rows are append-only: the chain head only moves forward (% to % refused)',
        OLD.sequence, NEW.sequence USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
"""
HEAD_BACKWARDS = (
    "NEW.id <> OLD.id OR NEW.sequence < OLD.sequence "
    "OR (NEW.sequence = OLD.sequence AND NEW.hash <> OLD.hash)"
)


def _pg_statements() -> list[str]:
    statements = [_PG_FUNCTION]
    for table in APPEND_ONLY_TABLES:
        statements += [
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION audit_append_only()",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()",
        ]
    statements += [
        _PG_HEAD_FUNCTION,
        f"DROP TRIGGER IF EXISTS {HEAD_TABLE}_forward_only ON {HEAD_TABLE}",
        f"CREATE TRIGGER {HEAD_TABLE}_forward_only BEFORE UPDATE ON {HEAD_TABLE} "
        f"FOR EACH ROW WHEN ({HEAD_BACKWARDS}) EXECUTE FUNCTION audit_head_forward_only()",
        f"DROP TRIGGER IF EXISTS {HEAD_TABLE}_no_delete ON {HEAD_TABLE}",
        f"CREATE TRIGGER {HEAD_TABLE}_no_delete BEFORE DELETE ON {HEAD_TABLE} "
        "FOR EACH ROW EXECUTE FUNCTION audit_append_only()",
        f"DROP TRIGGER IF EXISTS {HEAD_TABLE}_no_truncate ON {HEAD_TABLE}",
        f"CREATE TRIGGER {HEAD_TABLE}_no_truncate BEFORE TRUNCATE ON {HEAD_TABLE} "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()",
    ]
    return statements


def _sqlite_statements() -> list[str]:
    door_closed = f"WHEN NOT EXISTS (SELECT 1 FROM {SQLITE_DOOR_TABLE})"  # noqa: S608 (a constant)  # nosec B608  # a constant table name
    statements = [f"CREATE TABLE IF NOT EXISTS {SQLITE_DOOR_TABLE} (opened_at TEXT NOT NULL)"]
    for table in APPEND_ONLY_TABLES:
        statements += [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}: UPDATE on {table} refused'); END",
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} {door_closed} "
            f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}: DELETE on {table} refused'); END",
        ]
    statements += [
        f"CREATE TRIGGER IF NOT EXISTS {HEAD_TABLE}_no_delete BEFORE DELETE ON {HEAD_TABLE} {door_closed} "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}: DELETE on {HEAD_TABLE} refused'); END",
        f"CREATE TRIGGER IF NOT EXISTS {HEAD_TABLE}_forward_only BEFORE UPDATE ON {HEAD_TABLE} "
        f"WHEN {HEAD_BACKWARDS} "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}: the chain head only moves forward'); END",
    ]
    return statements


def install(connection: Any) -> None:
    """Create (or re-create) the triggers on ``connection``'s database."""
    if connection.vendor == "postgresql":
        statements = _pg_statements()
    elif connection.vendor == "sqlite":
        statements = _sqlite_statements()
    else:  # pragma: no cover - the project runs on these two only
        raise NotImplementedError(f"No append-only triggers for {connection.vendor}.")
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def remove(connection: Any) -> None:
    """Drop the triggers (reversing the migration)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in APPEND_ONLY_TABLES:
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
            cursor.execute(f"DROP TRIGGER IF EXISTS {HEAD_TABLE}_no_delete ON {HEAD_TABLE}")
            cursor.execute(f"DROP TRIGGER IF EXISTS {HEAD_TABLE}_no_truncate ON {HEAD_TABLE}")
            cursor.execute(f"DROP TRIGGER IF EXISTS {HEAD_TABLE}_forward_only ON {HEAD_TABLE}")
            cursor.execute("DROP FUNCTION IF EXISTS audit_append_only()")
            cursor.execute("DROP FUNCTION IF EXISTS audit_head_forward_only()")
        elif connection.vendor == "sqlite":
            for table in APPEND_ONLY_TABLES:
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
            cursor.execute(f"DROP TRIGGER IF EXISTS {HEAD_TABLE}_no_delete")
            cursor.execute(f"DROP TRIGGER IF EXISTS {HEAD_TABLE}_forward_only")
            cursor.execute(f"DROP TABLE IF EXISTS {SQLITE_DOOR_TABLE}")


def open_purge_door(connection: Any) -> None:
    """Let DELETE through for the rest of the current transaction (the retention purge's door).
    Must be called inside ``transaction.atomic``; ``close_purge_door`` before leaving it (on
    PostgreSQL the setting also ends with the transaction)."""
    if not connection.in_atomic_block:
        raise RuntimeError("The purge door opens only inside a transaction.")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT set_config(%s, 'on', true)", [PURGE_SETTING])
        else:
            cursor.execute(f"INSERT INTO {SQLITE_DOOR_TABLE} (opened_at) VALUES (datetime('now'))")  # noqa: S608  # nosec B608  # a constant table name


def close_purge_door(connection: Any) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT set_config(%s, 'off', true)", [PURGE_SETTING])
        else:
            cursor.execute(f"DELETE FROM {SQLITE_DOOR_TABLE}")  # noqa: S608  # nosec B608  # a constant table name
