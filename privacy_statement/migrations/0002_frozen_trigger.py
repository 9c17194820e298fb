"""Published versions never change, enforced by the database (``privacy_statement.triggers``)."""

from django.db import migrations


def install(apps, schema_editor):
    from privacy_statement import triggers

    triggers.install(schema_editor.connection)


def remove(apps, schema_editor):
    from privacy_statement import triggers

    triggers.remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("privacy_statement", "0001_initial")]
    operations = [migrations.RunPython(install, remove)]
