"""On PostgreSQL, the four single-column foreign keys of marks and versions become two composite
ones (issue 12, marks ingest speed):

- a mark's (dataset, case) references the dataset's (id, case);
- a version's (mark, case) references the mark's (id, case).

Each foreign key is a check per inserted row at commit; the composite keys halve them (two per
mark instead of four), and they also make the database keep each denormalised ``case`` equal to
its dataset's or mark's, which the single keys did not. Everything the single keys enforced stays
enforced: the dataset exists (and through its own key, its case), the mark exists.

Django has no composite foreign keys, so its state keeps the single ones (SQLite keeps them as
they are). A later migration that has Django drop one of these single keys on PostgreSQL fails
loudly (it finds no such constraint) instead of silently leaving a key unchecked.
"""

from django.db import migrations, models

# (table, constraint, columns, referenced table, referenced columns)
COMPOSITE = (
    (
        "privilege_privilegedmark",
        "privileged_mark_dataset_of_case_fk",
        "dataset_id, case_id",
        "cases_dataset",
        "id, case_id",
    ),
    (
        "privilege_privilegedmarkversion",
        "privileged_version_mark_of_case_fk",
        "mark_id, case_id",
        "privilege_privilegedmark",
        "id, case_id",
    ),
)
# (table, column, referenced table): the single keys Django made in 0001.
SINGLE = (
    ("privilege_privilegedmark", "case_id", "cases_case"),
    ("privilege_privilegedmark", "dataset_id", "cases_dataset"),
    ("privilege_privilegedmarkversion", "case_id", "cases_case"),
    ("privilege_privilegedmarkversion", "mark_id", "privilege_privilegedmark"),
)


def _single_key_names(schema_editor, table: str, column: str) -> list[str]:
    with schema_editor.connection.cursor() as cursor:
        constraints = schema_editor.connection.introspection.get_constraints(cursor, table)
    return [
        name
        for name, info in constraints.items()
        if info["foreign_key"] is not None and info["columns"] == [column]
    ]


def to_composite(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column, _ in SINGLE:
        names = _single_key_names(schema_editor, table, column)
        if len(names) != 1:
            raise RuntimeError(f"Expected one foreign key on {table}.{column}, found {names}.")
        schema_editor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{names[0]}"')
    for table, name, columns, target, target_columns in COMPOSITE:
        schema_editor.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({columns}) "
            f"REFERENCES {target} ({target_columns}) DEFERRABLE INITIALLY DEFERRED"
        )


def to_single(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, name, _, _, _ in COMPOSITE:
        schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    for table, column, target in SINGLE:
        schema_editor.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {table}_{column}_fk FOREIGN KEY ({column}) "
            f"REFERENCES {target} (id) DEFERRABLE INITIALLY DEFERRED"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0007_dataset_id_case"),
        ("privilege", "0002_keys_served_by_composite_indexes"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="privilegedmark",
            constraint=models.UniqueConstraint(fields=("id", "case"), name="privileged_mark_id_case"),
        ),
        migrations.RunPython(to_composite, to_single),
    ]
