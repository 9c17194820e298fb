"""Who may do what to the audit tables on PostgreSQL: only their owner may change or remove rows.

The production shape (``deploy/postgres/init-roles.sql``) has two roles: an owner, who runs
``migrate`` and so owns every table and function, and a runtime role (NOSUPERUSER), as which the
web, the worker and beat connect. The set-up grants the runtime role SELECT, INSERT, UPDATE and
DELETE on every table the owner creates (default privileges), as every other table of the
application needs. ``restrict`` then takes back, on the audit tables, every right a writer of an
append-only trail does not need, from every role but the owner, whatever its name:

- ``audit_auditevent`` and ``audit_chaincheckpoint``: SELECT and INSERT only (no UPDATE, DELETE,
  TRUNCATE, REFERENCES or TRIGGER);
- ``audit_chainhead``: SELECT, INSERT (the first row) and UPDATE (every writer moves the head; the
  trigger ``audit_chainhead_forward_only`` refuses a move backwards), no DELETE, TRUNCATE,
  REFERENCES or TRIGGER.

Ownership itself is what lets a role disable triggers (``ALTER TABLE``), so the runtime role must
never own these tables nor be a member of the owner. Rows leave only through the owner's function
``audit_purge_expired`` (``audit.pg_purge``). ``restrict`` runs in the migration and after every
``migrate`` (``post_migrate``), so a table created or re-created later is restricted too.
"""

from __future__ import annotations

from typing import Any

# What a role other than the owner may keep on each audit table, and on the privacy statement's
# evidence: its versions (a draft is changed and discarded, so UPDATE and DELETE stay; a published
# version is frozen by the trigger privacy_statement_frozen, which only the owner could switch off;
# TRUNCATE, which row triggers do not see, is taken back) and its acknowledgements (only added).
KEPT = {
    "audit_auditevent": {"SELECT", "INSERT"},
    "audit_chaincheckpoint": {"SELECT", "INSERT"},
    "audit_chainhead": {"SELECT", "INSERT", "UPDATE"},
    "privacy_statement_statementversion": {"SELECT", "INSERT", "UPDATE", "DELETE"},
    "privacy_statement_acknowledgement": {"SELECT", "INSERT"},
}
ALL_TABLE_RIGHTS = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")


def _grantees(cursor: Any, table: str) -> list[str]:
    """Every role (or PUBLIC) that holds a right on ``table`` and is not its owner."""
    cursor.execute(
        "SELECT DISTINCT CASE WHEN acl.grantee = 0 THEN 'PUBLIC' ELSE acl.grantee::regrole::text END "
        "FROM pg_class c, aclexplode(c.relacl) AS acl "
        "WHERE c.oid = to_regclass(%s) AND acl.grantee <> c.relowner",
        [table],
    )
    return [row[0] for row in cursor.fetchall()]


def restrict(connection: Any) -> None:
    """Revoke from every role but the owner the rights ``KEPT`` does not list."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table, kept in KEPT.items():
            revoked = ", ".join(right for right in ALL_TABLE_RIGHTS if right not in kept)
            for grantee in _grantees(cursor, table):
                # The table is a constant; regrole's text is the role's name already quoted where it
                # needs quotes, and PUBLIC is the keyword.
                cursor.execute(f"REVOKE {revoked} ON TABLE {table} FROM {grantee}")
