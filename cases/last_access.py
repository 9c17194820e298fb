"""The one write of "last access only moves forward", for cases and datasets.

Not a service of its own: the services that learn of an access call it inside their transaction and
record the access in the trail themselves (``cases.services.dataset_report_last_access``: Hansken's
``lastAccessedDate``; ``audit.ingest``: Hansken's usage events, which are the record). The retention
sweep reads these times.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping
from typing import Any

from django.db import connection

from cases.models import Case, Dataset

# Rows per UPDATE statement on SQLite, which allows 32,766 parameters: three per row here.
_UPDATE_CHUNK = 5_000


def last_access_move_forward(
    *,
    cases: Mapping[int, datetime.datetime] | None = None,
    datasets: Mapping[tuple[uuid.UUID, int], datetime.datetime] | None = None,
) -> tuple[int, int]:
    """Move the last access of these cases (by primary key) and datasets (by image id and the case
    they must belong to) forward to the given moments; a stored time that is as late or later stays.
    Only a dataset of the named case moves: an image id that belongs to another case is not an
    access to that case's data. The number of cases and of datasets that moved."""
    moved_cases = _update_forward(
        Case._meta.db_table, "id", "id", {(pk, pk): t for pk, t in (cases or {}).items()}
    )
    moved_datasets = _update_forward(Dataset._meta.db_table, "image_id", "case_id", dict(datasets or {}))
    return moved_cases, moved_datasets


def _update_forward(table: str, key: str, owner: str, times: dict[tuple[Any, int], datetime.datetime]) -> int:
    """``UPDATE table SET last_accessed_at = v.moment FROM (VALUES (key, owner, moment) ...) v``
    where the stored time is older; the number of rows moved. On PostgreSQL the rows are locked
    first in key order, so two requests touching the same cases cannot deadlock."""
    if not times:
        return 0
    items = [(k, owner_id, moment) for (k, owner_id), moment in times.items()]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT 1 FROM {table} WHERE {key} = ANY(%s) ORDER BY {key} FOR UPDATE",  # noqa: S608  # nosec B608  # model table and column names
                [sorted({k for k, _, _ in items})],
            )
            # Three array parameters, not three per row: the statement stays short to send and parse.
            key_type = "uuid" if key == "image_id" else "bigint"
            cursor.execute(
                f"UPDATE {table} AS t SET last_accessed_at = v.moment "  # noqa: S608  # nosec B608  # model table and column names
                f"FROM unnest(%s::{key_type}[], %s::bigint[], %s::timestamptz[]) AS v(k, owner, moment) "
                f"WHERE t.{key} = v.k AND t.{owner} = v.owner "
                "AND (t.last_accessed_at IS NULL OR t.last_accessed_at < v.moment)",
                [[k for k, _, _ in items], [o for _, o, _ in items], [m for _, _, m in items]],
            )
            return int(cursor.rowcount)
        moved = 0
        for start in range(0, len(items), _UPDATE_CHUNK):
            chunk = items[start : start + _UPDATE_CHUNK]
            params: list[Any] = []
            # SQLite stores UUIDs as 32 hex digits, and times as UTC text that sorts as time.
            rows_sql = ", ".join(["(%s, %s, %s)"] * len(chunk))
            for k, owner_id, moment in chunk:
                params += [
                    k.hex if isinstance(k, uuid.UUID) else k,
                    owner_id,
                    connection.ops.adapt_datetimefield_value(moment),
                ]
            match = f"v.k = {table}.{key} AND v.owner = {table}.{owner}"
            cursor.execute(
                f"WITH v(k, owner, moment) AS (VALUES {rows_sql}) "  # noqa: S608  # nosec B608  # model names; values are parameters
                f"UPDATE {table} SET last_accessed_at = (SELECT v.moment FROM v WHERE {match}) "
                f"WHERE EXISTS (SELECT 1 FROM v WHERE {match} "
                f"AND ({table}.last_accessed_at IS NULL OR {table}.last_accessed_at < v.moment))",
                params,
            )
            # Python 3.11's sqlite3 gives no rowcount for a statement that starts with WITH.
            cursor.execute("SELECT changes()")
            moved += int(cursor.fetchone()[0])
        return moved
