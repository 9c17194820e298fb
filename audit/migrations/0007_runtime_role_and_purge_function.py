"""The trail under a runtime role that cannot shorten it (PostgreSQL): the chain head only moves
forward (``audit.triggers``), roles other than the owner keep only SELECT and INSERT on the trail
(``audit.pg_privileges``), and rows leave only through the owner's purge function
(``audit.pg_purge``). On SQLite, the head's trigger only."""

from django.conf import settings
from django.db import migrations


def install(apps, schema_editor):
    from audit import pg_privileges, pg_purge, triggers

    connection = schema_editor.connection
    triggers.install(connection)
    pg_purge.install(connection, days=settings.HG_AUDIT_RETENTION_DAYS)
    pg_privileges.restrict(connection)


def remove(apps, schema_editor):
    from audit import pg_purge

    pg_purge.remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0006_pg_append_function")]
    operations = [migrations.RunPython(install, remove)]
