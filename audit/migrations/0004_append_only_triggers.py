"""Append-only enforced by the database (see ``audit.triggers`` for what is refused and the single
door left for the retention purge). Per vendor: PostgreSQL and SQLite get their own SQL."""

from django.db import migrations


def install(apps, schema_editor):
    from audit import triggers

    triggers.install(schema_editor.connection)


def remove(apps, schema_editor):
    from audit import triggers

    triggers.remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_basis_and_checkpoints")]
    operations = [migrations.RunPython(install, remove)]
