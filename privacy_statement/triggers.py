"""A published version never changes, enforced by the database as well as by the services.

PostgreSQL: a trigger refuses UPDATE and DELETE of a row whose status is ``published`` (a draft may
change, be published, or be discarded). SQLite: a trigger refuses UPDATE of such a row. SQLite gets
no DELETE trigger because Django's test runner empties tables with DELETE there (PostgreSQL's flush
uses TRUNCATE, which row triggers do not see); deleting stays refused by the services, and the
versions are protected by their acknowledgements' foreign keys.

As with the audit trail (``audit.triggers``), the table owner or a superuser can still disable the
triggers; they stop accidents, the admin, a shell and stray migrations. ``install`` is idempotent and
runs after every ``migrate``, because SQLite loses a table's triggers when a migration rebuilds it.
"""

from __future__ import annotations

from typing import Any

TABLE = "privacy_statement_statementversion"
REFUSAL = "a published privacy statement version never changes"

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION privacy_statement_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a published privacy statement version never changes: % of version % refused',
        TG_OP, OLD.number USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
"""


def install(connection: Any) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_PG_FUNCTION)
            cursor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_frozen ON {TABLE}")
            cursor.execute(
                f"CREATE TRIGGER {TABLE}_frozen BEFORE UPDATE OR DELETE ON {TABLE} FOR EACH ROW "
                "WHEN (OLD.status = 'published') EXECUTE FUNCTION privacy_statement_frozen()"
            )
        elif connection.vendor == "sqlite":
            cursor.execute(
                f"CREATE TRIGGER IF NOT EXISTS {TABLE}_frozen BEFORE UPDATE ON {TABLE} "
                f"WHEN OLD.status = 'published' BEGIN SELECT RAISE(ABORT, '{REFUSAL}: UPDATE refused'); END"
            )
        else:  # pragma: no cover - the project runs on these two only
            raise NotImplementedError(f"No triggers for {connection.vendor}.")


def remove(connection: Any) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_frozen ON {TABLE}")
            cursor.execute("DROP FUNCTION IF EXISTS privacy_statement_frozen()")
        else:
            cursor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_frozen")
