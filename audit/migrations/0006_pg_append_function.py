"""PostgreSQL's function that appends a machine client's events to the chain in one statement (see
``audit.pg_append``). Nothing on SQLite."""

from django.db import migrations


def install(apps, schema_editor):
    from audit import pg_append

    pg_append.install(schema_editor.connection)


def remove(apps, schema_editor):
    from audit import pg_append

    pg_append.remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_action_sequence_index")]
    operations = [migrations.RunPython(install, remove)]
