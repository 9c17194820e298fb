"""The body of ``POST /api/v1/cases/{project_id}/privileged``: parsing and validation.

Written out by hand rather than with a DRF serializer, as the usage events are (``audit.usage``):
a request holds up to 10,000 marks, and a serializer's cost per field alone would miss the ingest
target (``benchmarks/privileged_traces.py``). One bad mark rejects the whole request; the first
problem of each bad mark is reported with its index (at most ``MAX_ERRORS`` of them).
"""

from __future__ import annotations

import datetime
import re
import uuid
from typing import Any, NamedTuple

from hansken_governance.bulk_input import BadItem, parse_bulk
from hansken_governance.reported_times import CLOCK_SKEW
from privilege.models import MAX_TRACE_ID
from privilege.rules import STATUSES, canonical_trace_id

MAX_MARKS = 10_000
MAX_TRACE_UID = 500
MAX_USERNAME = 150
MAX_REASON = 2_000
EARLIEST = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
MARK_FIELDS = frozenset({"trace_uid", "status", "marked_at", "marked_by", "reason"})
_STATUSES = frozenset(STATUSES)
_CONTROL = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
# A reason may run over lines; PostgreSQL text holds no NUL, UTF-8 no lone surrogate.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class MarkInput(NamedTuple):
    """One mark as read from a request (a tuple: 10,000 of them are made per request, and the
    service compares a mark's last four fields with the stored mark's in one step)."""

    image_id: str  # canonical UUID text
    trace_id: str  # canonical (``privilege.rules.canonical_trace_id``)
    status: str
    marked_at: datetime.datetime
    marked_by: str
    reason: str

    @property
    def trace_uid(self) -> str:
        return f"{self.image_id}:{self.trace_id}"


def parse_marks(body: Any, now: datetime.datetime, image_ids: frozenset[str]) -> list[MarkInput]:
    """The marks of a request body, or ``BulkProblem``. ``image_ids``: the images (canonical UUID
    text) of the case's datasets; a trace in any other image is refused."""
    latest = now + CLOCK_SKEW
    images: dict[str, str] = {}
    times: dict[str, datetime.datetime] = {}
    return parse_bulk(
        body,
        key="marks",
        noun="marks",
        limit=MAX_MARKS,
        parse_item=lambda item: _parse_mark(item, latest, image_ids, images, times),
    )


def split_trace_uid(trace_uid: Any, images: dict[str, str] | None = None) -> tuple[str, str]:
    """(canonical image id, canonical trace id) of ``{imageId}:{id}``, or ValueError saying what is
    wrong. ``images`` remembers the image parts already read (a request names few images)."""
    if not isinstance(trace_uid, str) or not trace_uid or len(trace_uid) > MAX_TRACE_UID:
        raise ValueError(f"Give the trace uid as text of at most {MAX_TRACE_UID} characters.")
    image_part, colon, trace_id = trace_uid.partition(":")
    if not colon:
        raise ValueError("A trace uid is {imageId}:{id}, e.g. '<uuid>:0-3-1'.")
    image_id = images.get(image_part) if images is not None else None
    if image_id is None:
        try:
            image_id = str(uuid.UUID(image_part))
        except ValueError:
            raise ValueError("A trace uid starts with its image's UUID.") from None
        if images is not None:
            images[image_part] = image_id
    trace_id = canonical_trace_id(trace_id)
    if len(trace_id) > MAX_TRACE_ID:
        raise ValueError("The trace id is too long.")
    return image_id, trace_id


def _parse_mark(
    item: Any,
    latest: datetime.datetime,
    image_ids: frozenset[str],
    images: dict[str, str],
    times: dict[str, datetime.datetime],
) -> MarkInput:
    if not isinstance(item, dict):
        raise BadItem(None, "Each mark must be a JSON object.")
    if not MARK_FIELDS.issuperset(item):
        raise BadItem(sorted(set(item) - MARK_FIELDS)[0], "This field is not known.")
    for name in ("trace_uid", "status", "marked_at"):
        if item.get(name) is None:
            raise BadItem(name, "This field is required.")
    try:
        image_id, trace_id = split_trace_uid(item["trace_uid"], images)
    except ValueError as exc:
        raise BadItem("trace_uid", str(exc)) from None
    if image_id not in image_ids:
        raise BadItem("trace_uid", "The trace's image is not a dataset of this case.")
    status = item["status"]
    if status not in _STATUSES:
        raise BadItem("status", f"Give one of: {', '.join(STATUSES)}.")
    # Marks sent together often share their time: each text read (and checked) once per request.
    marked_at = times.get(item["marked_at"]) if type(item["marked_at"]) is str else None
    if marked_at is None:
        marked_at = _time(item["marked_at"], latest)
        times[item["marked_at"]] = marked_at
    marked_by = item.get("marked_by")
    if marked_by is None:
        marked_by = ""
    elif not isinstance(marked_by, str) or not marked_by or len(marked_by) > MAX_USERNAME:
        raise BadItem("marked_by", f"Give a username (text of 1 to {MAX_USERNAME} characters).")
    elif _CONTROL.search(marked_by):
        raise BadItem("marked_by", "Control characters are not allowed here.")
    reason = item.get("reason")
    if reason is None:
        reason = ""
    elif not isinstance(reason, str) or len(reason) > MAX_REASON:
        raise BadItem("reason", f"Give the reason as text of at most {MAX_REASON:,} characters.")
    elif _UNSTORABLE.search(reason):
        raise BadItem("reason", "Text may not contain NUL or unpaired surrogate characters.")
    return MarkInput(image_id, trace_id, status, marked_at, marked_by, reason)


def _time(value: Any, latest: datetime.datetime) -> datetime.datetime:
    if not isinstance(value, str):
        raise BadItem(
            "marked_at", "Give the time as ISO 8601 text with an offset, e.g. 2026-01-31T12:00:00Z."
        )
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise BadItem("marked_at", "This is not an ISO 8601 time, e.g. 2026-01-31T12:00:00Z.") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise BadItem("marked_at", "Give the time with an offset, e.g. 2026-01-31T12:00:00Z.")
    try:
        if moment.tzinfo is not datetime.UTC:
            moment = moment.astimezone(datetime.UTC)
    except OverflowError:
        raise BadItem("marked_at", "This time lies outside the calendar.") from None
    if moment > latest:
        raise BadItem("marked_at", "The time lies in the future.")
    if moment < EARLIEST:
        raise BadItem("marked_at", f"The time lies before {EARLIEST:%Y}; the mark's clock is wrong.")
    return moment
