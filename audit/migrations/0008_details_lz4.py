"""The trail's ``details`` compressed with LZ4 instead of PostgreSQL's default, pglz.

Large details (an export check names its 1,000 traces: some 18 KB) are compressed as the row is
stored, inside the append that holds the chain lock every writer of the trail waits for. pglz took
about 0.4 ms of the server's CPU per such row, LZ4 about 0.12 ms (measured, docs/privileged-traces.md,
"Speed of the export check"); LZ4's rows are larger (about 9 KB against 6 KB for that example).

Only new rows are written with LZ4; rows stored before stay as they are and read the same. The hash
chain covers the canonical text of a row, never its storage, so nothing it checks changes. Only on
PostgreSQL 14 and later built with LZ4 (Debian's and the official images are); elsewhere, and on
SQLite, nothing changes.
"""

from django.db import migrations


def _has_lz4(cursor) -> bool:
    cursor.execute("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
    row = cursor.fetchone()
    return bool(row and row[0])


def details_lz4(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if _has_lz4(cursor):
            cursor.execute("ALTER TABLE audit_auditevent ALTER COLUMN details SET COMPRESSION lz4")


def details_default(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if _has_lz4(cursor):
            cursor.execute("ALTER TABLE audit_auditevent ALTER COLUMN details SET COMPRESSION default")


class Migration(migrations.Migration):
    dependencies = [("audit", "0007_runtime_role_and_purge_function")]
    operations = [migrations.RunPython(details_lz4, details_default)]
