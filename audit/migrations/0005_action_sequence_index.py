from django.db import migrations, models

# Django would carry out the AlterField on SQLite by remaking the table, which drops the append-only
# triggers with the old table. So the database side is spelled out: drop the indexes on action alone
# (PostgreSQL also has Django's LIKE index), then create the index on (action, sequence). On
# PostgreSQL the audit table is locked while the new index is built: run this migration before the
# web starts (as docker-compose does), not under load.
INDEX = "audit_auditevent_action_2131bb77"


def drop_action_indexes(apps, schema_editor):
    schema_editor.execute(f'DROP INDEX IF EXISTS "{INDEX}_like"')
    schema_editor.execute(f'DROP INDEX IF EXISTS "{INDEX}"')


def recreate_action_indexes(apps, schema_editor):
    schema_editor.execute(f'CREATE INDEX "{INDEX}" ON "audit_auditevent" ("action")')
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'CREATE INDEX "{INDEX}_like" ON "audit_auditevent" ("action" varchar_pattern_ops)'
        )


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0004_append_only_triggers"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="auditevent",
                    name="action",
                    field=models.CharField(max_length=100),
                ),
            ],
            database_operations=[
                migrations.RunPython(drop_action_indexes, recreate_action_indexes),
            ],
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["action", "sequence"], name="audit_action_seq"),
        ),
    ]
