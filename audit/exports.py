"""CSV downloads of the review pages. Event lists stream, page by keyset page, so an export of
millions of rows never sits in memory and never uses OFFSET.

Cells that a spreadsheet would read as a formula get a leading ``'`` (CSV injection): the trail
holds text that came from outside (usernames, Hansken's details), and a reviewer opens the file
in a spreadsheet.
"""

from __future__ import annotations

import csv
import datetime
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from django.db.models import Q, QuerySet
from django.http import StreamingHttpResponse

from audit.models import AuditEvent
from authz.selectors import AccessAtMoment
from cases.models import Case

EXPORT_PAGE = 1000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

EVENT_COLUMNS = [
    "sequence",
    "event_id",
    "occurred_at",
    "recorded_at",
    "actor",
    "on_behalf_of",
    "actor_role",
    "client_name",
    "environment",
    "channel",
    "source_address",
    "action",
    "outcome",
    "case_number",
    "project_id",
    "image_id",
    "trace_uid",
    "object_type",
    "object_id",
    "grant_id",
    "basis",
    "request_id",
    "details",
    "hash",
]
ACCESS_COLUMNS = [
    "at",
    "case_number",
    "project_id",
    "user",
    "basis",
    "rights",
    "environments",
    "grant_id",
    "granted_by",
    "granted_at",
    "valid_from",
    "valid_until",
    "reason",
    "could_act",
    "blocked_by",
]


def safe_cell(value: Any) -> str:
    """One cell as text, neutralised when a spreadsheet would run it as a formula."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        text = value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
    elif isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    else:
        text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


class _Echo:
    """A file-like object whose ``write`` hands the line back, so csv.writer can feed a stream."""

    def write(self, value: str) -> str:
        return value


def csv_response(rows: Iterable[list[Any]], *, header: list[str], filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([safe_cell(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    safe_name = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
    response["Content-Disposition"] = f'attachment; filename="{safe_name}"'
    # Audit rows are personal data: no shared cache keeps a copy.
    response["Cache-Control"] = "no-store"
    return response


def case_numbers(project_ids: Iterable[Any]) -> dict[Any, str]:
    wanted = {pid for pid in project_ids if pid}
    if not wanted:
        return {}
    return dict(Case.objects.filter(project_id__in=wanted).values_list("project_id", "case_number"))


def _event_row(event: Mapping[str, Any], numbers: dict[Any, str]) -> list[Any]:
    return [
        numbers.get(event["project_id"], "") if column == "case_number" else event[column]
        for column in EVENT_COLUMNS
    ]


def newest_first(events: QuerySet[AuditEvent], *, up_to: int) -> Iterator[list[Any]]:
    """Every event of ``events`` up to sequence ``up_to`` (the head when the download began, so the
    file is one consistent cut of a growing trail), newest first, a keyset page at a time."""
    before = up_to + 1
    while True:
        page = list(events.filter(sequence__lt=before).order_by("-sequence").values()[:EXPORT_PAGE])
        if not page:
            return
        numbers = case_numbers(row["project_id"] for row in page)
        for event in page:
            yield _event_row(event, numbers)
        before = page[-1]["sequence"]


def in_time_order(events: QuerySet[AuditEvent], *, up_to: int) -> Iterator[list[Any]]:
    """The same, oldest first by the time things happened (a case's timeline)."""
    events = events.filter(sequence__lte=up_to)
    after: tuple[datetime.datetime, int] | None = None
    while True:
        page_query = events
        if after is not None:
            moment, sequence = after
            page_query = events.filter(
                Q(occurred_at__gt=moment) | Q(occurred_at=moment, sequence__gt=sequence)
            )
        page = list(page_query.order_by("occurred_at", "sequence").values()[:EXPORT_PAGE])
        if not page:
            return
        numbers = case_numbers(row["project_id"] for row in page)
        for event in page:
            yield _event_row(event, numbers)
        after = (page[-1]["occurred_at"], page[-1]["sequence"])


def access_rows(at: datetime.datetime, rows: Iterable[tuple[Case, AccessAtMoment]]) -> Iterator[list[Any]]:
    for case, access in rows:
        yield [
            at,
            case.case_number,
            case.project_id,
            access.user,
            access.basis,
            ",".join(access.rights),
            ",".join(access.environments),
            access.grant_id,
            access.granted_by,
            access.granted_at,
            access.valid_from,
            access.valid_until,
            access.reason,
            "true" if access.could_act else "false",
            access.blocked_by,
        ]
