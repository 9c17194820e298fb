"""The only writer of privileged marks. ``marks_record`` stores a request's marks, their versions
and their audit events in one transaction, and tells every worker's decision cache that the case's
marks changed (``authz.cache.invalidate``), so the very next decision honours them.

Speed (``benchmarks/privileged_traces.py``, at least 20,000 marks/s; ``docs/privileged-traces.md``,
"Speed"): one query reads the current marks of every trace in the request; on PostgreSQL one
statement then inserts the new marks, updates the changed ones and inserts every version (each
change's values sent once, as one array per column; constants as parameters); the audit trail
gets one event per ``CHANGES_PER_EVENT`` changes, listing each change, instead of one per mark.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.utils import timezone

from audit.actor import Actor
from audit.services import audit_record, audit_record_many
from authz import cache as authz_cache
from cases.models import Case, Dataset
from privilege import actions
from privilege.marks_input import MarkInput
from privilege.models import PrivilegedMark, PrivilegedMarkVersion

# Changes listed in one audit event: each event stays well under the SIEM's message limit
# (``SIEM_MAX_MESSAGE_BYTES``), and 10,000 changes make 40 events, not 10,000.
CHANGES_PER_EVENT = 250
_SQLITE_CHUNK = 5_000


@dataclass(frozen=True)
class MarksResult:
    accepted: int
    unchanged: int


class _State(NamedTuple):
    """A trace's mark: the stored one, or the one a change of this request made."""

    pk: int | None
    status: str
    marked_at: datetime.datetime
    marked_by: str
    reason: str
    version: int


class _Change(NamedTuple):
    key: tuple[int, str]  # (dataset pk, trace id)
    mark: MarkInput
    previous_status: str
    version: int
    pk: int | None  # the stored mark's, None for a trace marked for the first time


@transaction.atomic
def marks_record(*, case: Case, marks: list[MarkInput], by: Actor) -> MarksResult:
    """Store these marks of ``case`` (parsed by ``privilege.marks_input``: every image is a dataset
    of the case). A mark changes its trace's status unless it is older than the stored mark or
    says exactly what the stored mark says; marks are applied in the order given."""
    # One writer of a case's marks at a time: two requests marking the same new trace cannot both
    # insert it, and versions are numbered without gaps.
    list(Case.objects.select_for_update().filter(pk=case.pk).values_list("pk"))
    datasets = {
        str(image_id): pk for image_id, pk in Dataset.objects.filter(case=case).values_list("image_id", "pk")
    }
    keyed = [((datasets[mark.image_id], mark.trace_id), mark) for mark in marks]
    state: dict[tuple[int, str], _State] = _current({key for key, _ in keyed})
    changes: list[_Change] = []
    for key, mark in keyed:
        current = state.get(key)
        if current is None:
            changes.append(_Change(key, mark, "", 1, None))
            state[key] = _State(None, *mark[2:], 1)
            continue
        # mark[2:] is (status, marked_at, marked_by, reason), as current[1:5].
        if mark.marked_at < current.marked_at or mark[2:] == current[1:5]:
            continue
        changes.append(_Change(key, mark, current.status, current.version + 1, current.pk))
        state[key] = _State(current.pk, *mark[2:], current.version + 1)
    if not changes:
        return MarksResult(accepted=0, unchanged=len(marks))
    now = timezone.now()
    final = {change.key: state[change.key] for change in changes}
    if connection.vendor == "postgresql":
        _write_postgresql(case, changes, final, now, by)
    else:
        _write_versions(case, changes, _write_marks(case, final, now, by), now, by)
    _record_events(case, changes, len(marks), by)
    authz_cache.invalidate(cases=[case.project_id])
    return MarksResult(accepted=len(changes), unchanged=len(marks) - len(changes))


def _current(keys: set[tuple[int, str]]) -> dict[tuple[int, str], _State]:
    """The stored marks of these (dataset pk, trace id) pairs."""
    fields = ("pk", "dataset_id", "trace_id", "status", "marked_at", "marked_by", "reason", "version")
    found: dict[tuple[int, str], _State] = {}
    if not keys:
        return found
    if connection.vendor == "postgresql":
        table = PrivilegedMark._meta.db_table
        ordered = sorted(keys)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT m.id, m.dataset_id, m.trace_id, m.status, m.marked_at, m.marked_by, m.reason, "  # noqa: S608  # nosec B608  # the model's table name
                f"m.version FROM {table} AS m JOIN unnest(%s::bigint[], %s::text[]) AS v(d, t) "
                "ON m.dataset_id = v.d AND m.trace_id = v.t",
                # One text parameter per array: psycopg adapts a list of 10,000 values in Python,
                # element by element; these ids are digits and dashes, which need no quoting.
                [
                    "{" + ",".join(str(d) for d, _ in ordered) + "}",
                    "{" + ",".join(t for _, t in ordered) + "}",
                ],
            )
            rows: Iterable[tuple[Any, ...]] = cursor.fetchall()
    else:
        by_dataset: dict[int, list[str]] = {}
        for dataset_pk, trace_id in keys:
            by_dataset.setdefault(dataset_pk, []).append(trace_id)
        rows = [
            row
            for dataset_pk, ids in by_dataset.items()
            for start in range(0, len(ids), _SQLITE_CHUNK)
            for row in PrivilegedMark.objects.filter(
                dataset_id=dataset_pk, trace_id__in=ids[start : start + _SQLITE_CHUNK]
            ).values_list(*fields)
        ]
    for pk, dataset_pk, trace_id, status, marked_at, marked_by, reason, version in rows:
        found[(dataset_pk, trace_id)] = _State(pk, status, marked_at, marked_by, reason, version)
    return found


_MARK_COLUMNS = (
    "id, case_id, dataset_id, trace_id, status, marked_at, marked_by, reason, version, recorded_at, "
    "client_name"
)
_VERSION_COLUMNS = (
    "mark_id, version, status, previous_status, marked_at, marked_by, reason, recorded_at, client_name, "
    "request_id, case_id"
)
# The changed marks' new values as one array per column (text literals, see ``_array``), joined to
# the marks by id: one statement, no temporary table (whose creation writes the catalogue).
_UPDATE_SQL = """
UPDATE {marks} AS m SET status = c.status, marked_at = c.marked_at, marked_by = c.marked_by,
    reason = c.reason, version = c.version, recorded_at = %s, client_name = %s
FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[], %s::text[], %s::text[], %s::int[])
    AS c(id, status, marked_at, marked_by, reason, version)
WHERE m.id = c.id
"""


def _write_postgresql(
    case: Case,
    changes: list[_Change],
    final: dict[tuple[int, str], _State],
    now: datetime.datetime,
    by: Actor,
) -> None:
    """New marks: ids drawn from the table's sequence in one query, rows by ``COPY``. Changed marks:
    one ``UPDATE ... FROM unnest(...)``. Versions: ``COPY``. Every value that all rows share (case,
    recorded at, client, request) is written once per request; a time once per distinct value."""
    marks_table = PrivilegedMark._meta.db_table
    new = [(key, item) for key, item in final.items() if item.pk is None]
    old = [item for item in final.values() if item.pk is not None]
    pks = {key: item.pk for key, item in final.items() if item.pk is not None}
    when = _CopyTimes()
    with connection.cursor() as cursor:
        if new:
            cursor.execute(
                # One row holding every id (10,000 rows of one id each cost more to send and read),
                # from the sequence named as a constant: ``pg_get_serial_sequence`` in this query
                # would be evaluated again for every id, a catalogue lookup each (30 ms per 10,000).
                "SELECT string_agg(nextval(%s::regclass)::text, ',') FROM generate_series(1, %s)",
                [_mark_id_sequence(cursor), len(new)],
            )
            fresh = cursor.fetchone()[0].split(",")
            tail = f"\t{now.isoformat()}\t{_escaped(by.client_name)}\n"
            head = f"\t{case.pk}\t"
            pks.update(zip((key for key, _ in new), fresh, strict=True))
            _copy(
                cursor,
                marks_table,
                _MARK_COLUMNS,
                # A trace id is digits and dashes, a status one of three words: nothing to escape.
                (
                    f"{pk}{head}{dataset_pk}\t{trace_id}\t{item.status}\t{when(item.marked_at)}\t"
                    f"{_escaped(item.marked_by)}\t{_escaped(item.reason)}\t{item.version}{tail}"
                    for pk, ((dataset_pk, trace_id), item) in zip(fresh, new, strict=True)
                ),
            )
        if old:
            cursor.execute(
                _UPDATE_SQL.format(marks=marks_table),
                [
                    now,
                    by.client_name,
                    _array([str(item.pk) for item in old]),
                    _array([item.status for item in old]),
                    _array([f'"{when(item.marked_at)}"' for item in old]),
                    _array([_quoted(item.marked_by) for item in old]),
                    _array([_quoted(item.reason) for item in old]),
                    _array([str(item.version) for item in old]),
                ],
            )
        tail = f"\t{now.isoformat()}\t{_escaped(by.client_name)}\t{_escaped(by.request_id)}\t{case.pk}\n"
        _copy(
            cursor,
            PrivilegedMarkVersion._meta.db_table,
            _VERSION_COLUMNS,
            (
                f"{pks[key]}\t{version}\t{mark.status}\t{previous}\t{when(mark.marked_at)}\t"
                f"{_escaped(mark.marked_by)}\t{_escaped(mark.reason)}{tail}"
                for key, mark, previous, version, _ in changes
            ),
        )


_SEQUENCE: dict[str, str] = {}


def _mark_id_sequence(cursor: Any) -> str:
    """The name of the sequence behind the marks' ids, looked up once per process."""
    name = _SEQUENCE.get("mark")
    if name is None:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [PrivilegedMark._meta.db_table])
        name = _SEQUENCE["mark"] = cursor.fetchone()[0]
    return name


def _array(elements: list[str]) -> str:
    """An array literal of elements already written as such: one text parameter, which the server
    reads in a millisecond, where psycopg would adapt a list of 10,000 values one by one."""
    return "{" + ",".join(elements) + "}"


def _quoted(text: str) -> str:
    """``text`` as an element of an array literal: in double quotes, backslash and quote escaped."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# PostgreSQL's COPY text format: these four characters are escaped in a value.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def _escaped(text: str) -> str:
    return text.translate(_COPY_ESCAPES) if text else text


class _CopyTimes(dict[datetime.datetime, str]):
    """A time as COPY's text, each distinct time written out once (a request's marks share few)."""

    def __call__(self, moment: datetime.datetime) -> str:
        text = self.get(moment)
        if text is None:
            text = self[moment] = moment.isoformat()
        return text


# Rows per block written to COPY (about 100 kB): the server stores one block while the next is made.
_COPY_BLOCK = 1_000


def _copy(cursor: Any, table: str, columns: str, lines: Iterable[str]) -> None:
    """``COPY ... FROM STDIN`` in the text format, its rows made by the caller (each a line of
    tab-separated values, text through ``_escaped``, never NULL) and written in blocks of
    ``_COPY_BLOCK`` rows: several times faster than psycopg's ``write_row``, which adapts every
    value in Python, and, unlike one block of all rows, the server stores a block while Python makes
    the next one (two cores busy instead of one)."""
    with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        block: list[str] = []
        for line in lines:
            block.append(line)
            if len(block) == _COPY_BLOCK:
                copy.write("".join(block).encode())
                block.clear()
        if block:
            copy.write("".join(block).encode())


def _write_marks(
    case: Case, final: dict[tuple[int, str], _State], now: datetime.datetime, by: Actor
) -> dict[tuple[int, str], int]:
    """SQLite: insert the new marks and update the changed ones; the pk of every mark written."""
    new = [(key, item) for key, item in final.items() if item.pk is None]
    old = [(key, item) for key, item in final.items() if item.pk is not None]
    pks = {key: item.pk for key, item in old if item.pk is not None}
    objects = [
        PrivilegedMark(
            case=case,
            dataset_id=dataset_pk,
            trace_id=trace_id,
            status=item.status,
            marked_at=item.marked_at,
            marked_by=item.marked_by,
            reason=item.reason,
            version=item.version,
            recorded_at=now,
            client_name=by.client_name,
        )
        for (dataset_pk, trace_id), item in new
    ]
    for obj in PrivilegedMark.objects.bulk_create(objects, batch_size=500):
        pks[(obj.dataset_id, obj.trace_id)] = obj.pk
    updates = [
        PrivilegedMark(
            pk=item.pk,
            status=item.status,
            marked_at=item.marked_at,
            marked_by=item.marked_by,
            reason=item.reason,
            version=item.version,
            recorded_at=now,
            client_name=by.client_name,
        )
        for _, item in old
    ]
    PrivilegedMark.objects.bulk_update(
        updates,
        ["status", "marked_at", "marked_by", "reason", "version", "recorded_at", "client_name"],
        batch_size=500,
    )
    return pks


def _write_versions(
    case: Case, changes: list[_Change], pks: dict[tuple[int, str], int], now: datetime.datetime, by: Actor
) -> None:
    """SQLite: one version per change."""
    PrivilegedMarkVersion.objects.bulk_create(
        [
            PrivilegedMarkVersion(
                mark_id=pks[change.key],
                version=change.version,
                status=change.mark.status,
                previous_status=change.previous_status,
                marked_at=change.mark.marked_at,
                marked_by=change.mark.marked_by,
                reason=change.mark.reason,
                recorded_at=now,
                client_name=by.client_name,
                request_id=by.request_id,
                case_id=case.pk,
            )
            for change in changes
        ],
        batch_size=500,
    )


def _record_events(case: Case, changes: list[_Change], received: int, by: Actor) -> None:
    """The changes into the trail, ``CHANGES_PER_EVENT`` per event, each change with its trace,
    its new and previous status, and who marked it when and why."""
    parts = list(_chunks(changes, CHANGES_PER_EVENT))
    events: list[dict[str, Any]] = []
    # A request's marks share few times: each written out once.
    iso = {
        moment: moment.isoformat().replace("+00:00", "Z") for moment in {c.mark.marked_at for c in changes}
    }
    for number, part in enumerate(parts, start=1):
        only = part[0].mark if len(part) == 1 else None
        details: dict[str, Any] = {
            "received": received,
            "accepted": len(changes),
            "changes": [
                {
                    "trace_uid": f"{mark.image_id}:{mark.trace_id}",
                    "status": mark.status,
                    "previous_status": previous or None,
                    "marked_at": iso[mark.marked_at],
                    "marked_by": mark.marked_by or None,
                    "reason": mark.reason,
                    "version": version,
                }
                for _, mark, previous, version, _ in part
            ],
        }
        if len(parts) > 1:
            details["part"], details["parts"] = number, len(parts)
        events.append(
            {
                "action": actions.MARKS_RECORDED,
                "actor": by,
                "project_id": case.project_id,
                "image_id": only.image_id if only is not None else None,
                "trace_uid": only.trace_uid if only is not None else "",
                "object_type": "privileged_marks",
                "details": details,
            }
        )
    if len(events) == 1:
        audit_record(**events[0])
    else:
        # One chain lock and one COPY for all parts. (The audit-seam test injects its failures
        # into both writers: through this name, and through row_hash beneath both.)
        audit_record_many(events)


def _chunks(items: list[_Change], size: int) -> Iterator[list[_Change]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
