"""Django app configuration of the audit trail: routes django-auditlog's diffs into the chain and,
after every migrate, re-creates the append-only triggers and PostgreSQL's append function."""

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

PG_APPEND_MIGRATION = ("audit", "0006_pg_append_function")
RUNTIME_ROLE_MIGRATION = ("audit", "0007_runtime_role_and_purge_function")


def _rearm_triggers(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """Every ``migrate`` re-creates the append-only triggers: on SQLite, a migration that rebuilds
    the audit table would otherwise leave it without them (see ``audit.triggers``). It also
    re-creates PostgreSQL's append function, so that the database's copy matches ``audit.pg_append``,
    and the purge function with the retention period now set (``audit.pg_purge``), and takes back from
    roles other than the owner what they may not hold on the audit tables (``audit.pg_privileges``)."""
    from django.conf import settings
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    from audit import pg_append, pg_privileges, pg_purge, triggers

    connection = connections[using]
    if set(triggers.APPEND_ONLY_TABLES) <= set(connection.introspection.table_names()):
        triggers.install(connection)
        # Only while the migration that brings the function is applied: reversing it must stay reversed.
        applied = MigrationRecorder(connection).applied_migrations()
        if PG_APPEND_MIGRATION in applied:
            pg_append.install(connection)
        if RUNTIME_ROLE_MIGRATION in applied:
            pg_purge.install(connection, days=settings.HG_AUDIT_RETENTION_DAYS)
            pg_privileges.restrict(connection)


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit trail")

    def ready(self) -> None:
        from audit import model_changes

        model_changes.register()
        post_migrate.connect(_rearm_triggers, sender=self, dispatch_uid="audit-rearm-triggers")
