"""Deputy periods get an end date and a version history (issue 11, item 5): the schema. The data
follow in 0005, the end date becomes required in 0006 (separate migrations, so that PostgreSQL never
alters a table in a transaction that still holds deferred checks of rows written in it)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0003_case_registered_in"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="DeputyVersion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("version", models.PositiveIntegerField()),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("appointed", "Appointed"),
                            ("changed", "Changed"),
                            ("ended", "Ended"),
                            ("migrated", "Recorded at the introduction of end dates"),
                        ],
                        max_length=10,
                    ),
                ),
                ("valid_from", models.DateTimeField()),
                ("valid_until", models.DateTimeField(blank=True, null=True)),
                ("ended", models.BooleanField(default=False)),
                ("changed_by_label", models.CharField(max_length=200)),
                ("reason", models.TextField(blank=True)),
                ("recorded_at", models.DateTimeField()),
                ("superseded_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "ordering": ["period_id", "version"],
            },
        ),
        migrations.AddField(
            model_name="deputyperiod",
            name="removed_reason",
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name="deputyperiod",
            name="valid_until",
            field=models.DateTimeField(null=True, verbose_name="valid until"),
        ),
        migrations.AddField(
            model_name="deputyperiod",
            name="version",
            field=models.PositiveIntegerField(default=1),
        ),
        migrations.AddIndex(
            model_name="deputyperiod",
            index=models.Index(fields=["deputy", "removed_at"], name="deputyperiod_deputy_open"),
        ),
        migrations.AddField(
            model_name="deputyversion",
            name="case",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="cases.case"
            ),
        ),
        migrations.AddField(
            model_name="deputyversion",
            name="deputy",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
            ),
        ),
        migrations.AddField(
            model_name="deputyversion",
            name="period",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="versions", to="cases.deputyperiod"
            ),
        ),
        migrations.AddIndex(
            model_name="deputyversion",
            index=models.Index(fields=["case", "recorded_at"], name="deputyversion_case_time"),
        ),
        migrations.AddIndex(
            model_name="deputyversion",
            index=models.Index(fields=["deputy", "recorded_at"], name="deputyversion_deputy_time"),
        ),
        migrations.AddConstraint(
            model_name="deputyversion",
            constraint=models.UniqueConstraint(fields=("period", "version"), name="deputy_version_unique"),
        ),
    ]
