"""Deputy periods get an end date and a version history (issue 11, item 5).

Every existing period gets versions that tell the truth about the time before this migration: from its
start until the migration (or its removal) it had no end date (``valid_until`` null in that version).
An open period then gets the end date it would have had when appointed with the longest allowed term,
``added_at + HG_GRANT_MAX_DAYS``; if that moment has passed, the deputyship ends at the migration and
the case lead names the deputy again. The guardian permission rows that used to mark deputies are
removed: the period is now the one place that says who is a deputy.
"""

from django.conf import settings
from django.db import migrations
from django.utils import timezone


def end_dates_and_history(apps, schema_editor):
    import datetime

    DeputyPeriod = apps.get_model("cases", "DeputyPeriod")
    DeputyVersion = apps.get_model("cases", "DeputyVersion")
    now = timezone.now()
    longest = datetime.timedelta(days=settings.HG_GRANT_MAX_DAYS)
    for period in DeputyPeriod.objects.order_by("pk"):
        common = {"period": period, "case_id": period.case_id, "deputy_id": period.deputy_id}
        before_end = period.removed_at or now
        DeputyVersion.objects.create(
            **common,
            version=1,
            kind="migrated",
            valid_from=period.added_at,
            valid_until=None,
            changed_by_label=period.added_by,
            reason="Appointed before deputy periods had an end date.",
            recorded_at=period.added_at,
            superseded_at=before_end,
        )
        if period.removed_at is not None:
            period.valid_until = period.removed_at
            DeputyVersion.objects.create(
                **common,
                version=2,
                kind="ended",
                valid_from=period.added_at,
                valid_until=period.removed_at,
                ended=True,
                changed_by_label=period.removed_by or "unknown",
                reason="Removed before deputy periods had an end date.",
                recorded_at=period.removed_at,
            )
        else:
            period.valid_until = max(period.added_at + longest, now)
            DeputyVersion.objects.create(
                **common,
                version=2,
                kind="migrated",
                valid_from=period.added_at,
                valid_until=period.valid_until,
                changed_by_label="migration:cases.0005",
                reason=f"End date set to at most {settings.HG_GRANT_MAX_DAYS} days after the appointment.",
                recorded_at=now,
            )
        period.version = 2
        period.save(update_fields=["valid_until", "version"])
    CaseUserObjectPermission = apps.get_model("cases", "CaseUserObjectPermission")
    CaseUserObjectPermission.objects.filter(permission__codename="manage_case_access").delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0004_deputy_end_dates")]

    operations = [migrations.RunPython(end_dates_and_history, migrations.RunPython.noop)]
