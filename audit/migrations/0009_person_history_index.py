"""An index for reading a person's standing back from the trail by username (``audit_person_history``).

"Access at a moment" reads each listed person's screening changes, deactivations and reactivations
(``people.selectors.standing_at``), as the screening-lapsed rule reads screening changes. With only
the (action, sequence) index, PostgreSQL reads every change of that kind and looks into each one's
details: 20,000 screening changes in a 10,000,000-event trail made access-at 100-160 ms
(benchmarks/audit_review.py). A partial index on the username in the details of those three actions
finds the few rows at once. On PostgreSQL the table is locked while the index is built: run this
migration before the web starts (as docker-compose does), not under load. An index, not a change of
the table, so the append-only triggers stay as they are on SQLite too.
"""

import django.db.models.fields.json
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0008_details_lz4"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(
                django.db.models.fields.json.KeyTransform("username", "details"),
                condition=models.Q(
                    ("action__in", ("person.screening_changed", "person.deactivated", "person.reactivated"))
                ),
                name="audit_person_history",
            ),
        ),
    ]
