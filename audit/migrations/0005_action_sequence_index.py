from django.db import migrations, models

# Django would carry out the AlterField on SQLite by remaking the table, which drops the append-only
# triggers with the old table. So the database side is spelled out: drop the indexes on action alone
# (PostgreSQL also has Django's LIKE index), then create the index on (action, sequence).
DROP_ACTION_INDEXES = [
    'DROP INDEX IF EXISTS "audit_auditevent_action_2131bb77_like"',
    'DROP INDEX IF EXISTS "audit_auditevent_action_2131bb77"',
]
RECREATE_ACTION_INDEX = 'CREATE INDEX "audit_auditevent_action_2131bb77" ON "audit_auditevent" ("action")'


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
                migrations.RunSQL(DROP_ACTION_INDEXES, reverse_sql=[RECREATE_ACTION_INDEX]),
            ],
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["action", "sequence"], name="audit_action_seq"),
        ),
    ]
