"""A manifest says whether it is a list of files (perhaps of none) or gives image hashes only.

Before, a manifest with no entries was taken as one that says nothing of files, so an imported
list of no files beside a delivered list came out "complete". Manifests already stored keep the
reading they were compared with: those with no entries are marked as not listing files (a stored
JSON manifest is not read again to see whether it had an empty "files").
"""

from typing import Any

from django.db import migrations, models


def mark_manifests_without_entries(apps: Any, schema_editor: Any) -> None:
    apps.get_model("hashtotals", "Manifest").objects.filter(entries=0).update(lists_files=False)


class Migration(migrations.Migration):
    dependencies = [
        ("hashtotals", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="manifest",
            name="lists_files",
            field=models.BooleanField(default=True, verbose_name="lists files"),
        ),
        migrations.RunPython(mark_manifests_without_entries, migrations.RunPython.noop),
    ]
