"""Hansken's usage events, as posted to ``POST /api/v1/audit/events``: parsing and validation.

Validation is written out by hand rather than with a DRF serializer: a request holds up to 10,000
events and a serializer costs tens of microseconds per field, which alone would miss the ingest
target (``benchmarks/audit_ingest.py``). The rules are the contract's, plus what the database and
the hash chain need to store an event exactly as it will be read back (see ``_clean_json``).

The first problem of each bad event is reported with the event's index; one bad event rejects the
whole request.
"""

from __future__ import annotations

import datetime
import math
import re
import uuid
from dataclasses import dataclass
from typing import Any

from hansken_governance.bulk_input import BadItem, parse_bulk
from hansken_governance.reported_times import CLOCK_SKEW

MAX_EVENTS = 10_000
HANSKEN_ACTION_PREFIX = "hansken."
MAX_USERNAME = 150
MAX_ACTION = 100 - len(HANSKEN_ACTION_PREFIX)  # the stored code is prefixed, in a 100-character column
MAX_TRACE_UID = 500
MAX_DETAILS_DEPTH = 8
MAX_DETAILS_ITEMS = 1_000
# Clocks drift; an event a few minutes ahead of ours is Hansken's clock, not a lie.
# Hansken did not exist before this; an older time is a broken clock or a broken client.
EARLIEST = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
# Floats are stored in jsonb as decimals; from 1e15 up Python prints them with an exponent and
# PostgreSQL gives them back as integers, which would change the row's hash on reading.
MAX_FLOAT = 1e15

OUTCOMES = frozenset({"success", "failure"})
EVENT_FIELDS = frozenset(
    {"event_id", "occurred_at", "user", "project_id", "image_id", "trace_uid", "action", "outcome", "details"}
)
REQUIRED_FIELDS = ("event_id", "occurred_at", "user", "project_id", "action", "outcome")
# PostgreSQL text cannot hold NUL, UTF-8 cannot hold a lone surrogate (JSON's \ud800 escapes make one).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
_TRACE_ID = re.compile(r"[0-9]+(-[0-9]+)*\Z")  # ASCII: a str pattern's \d takes every script's digits


@dataclass(frozen=True, slots=True)
class UsageEvent:
    event_id: uuid.UUID
    occurred_at: datetime.datetime
    user: str
    project_id: uuid.UUID
    image_id: uuid.UUID | None
    trace_uid: str
    action: str  # as Hansken sent it; stored as ``hansken.<action>``
    outcome: str
    details: dict[str, Any]


def parse_usage_events(body: Any, now: datetime.datetime) -> list[UsageEvent]:
    """The events of a request body, or ``BulkProblem`` naming what is wrong."""
    latest = now + CLOCK_SKEW
    memo: dict[str, uuid.UUID] = {}
    valid: dict[str, set[str]] = {"user": set(), "action": set()}
    return parse_bulk(
        body,
        key="events",
        noun="events",
        limit=MAX_EVENTS,
        parse_item=lambda item: _parse_event(item, latest, memo, valid),
    )


def _uuid(item: dict[str, Any], name: str, memo: dict[str, uuid.UUID] | None = None) -> uuid.UUID:
    value = item[name]
    if not isinstance(value, str):
        raise BadItem(name, "Give a UUID as a JSON string.")
    if memo is not None and value in memo:
        return memo[value]
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        raise BadItem(name, "This is not a UUID.") from None
    if memo is not None:
        memo[value] = parsed  # a request names few projects and images, many times each
    return parsed


def _text(item: dict[str, Any], name: str, limit: int, valid: set[str] | None = None) -> str:
    value = item[name]
    if valid is not None and type(value) is str and value in valid:
        return value  # seen and accepted earlier in this request (people and actions repeat)
    if not isinstance(value, str) or not value.strip():
        raise BadItem(name, "Give a non-empty text.")
    if len(value) > limit:
        raise BadItem(name, f"At most {limit} characters.")
    if _CONTROL.search(value):
        raise BadItem(name, "Control characters are not allowed here.")
    if valid is not None:
        valid.add(value)
    return value


def _time(item: dict[str, Any], latest: datetime.datetime) -> datetime.datetime:
    value = item["occurred_at"]
    if not isinstance(value, str):
        raise BadItem(
            "occurred_at", "Give the time as ISO 8601 text with an offset, e.g. 2026-01-31T12:00:00Z."
        )
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise BadItem("occurred_at", "This is not an ISO 8601 time, e.g. 2026-01-31T12:00:00Z.") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise BadItem("occurred_at", "Give the time with an offset, e.g. 2026-01-31T12:00:00Z.")
    try:
        if moment.tzinfo is not datetime.UTC:
            moment = moment.astimezone(datetime.UTC)
    except OverflowError:  # e.g. year 1 with an eastern offset
        raise BadItem("occurred_at", "This time lies outside the calendar.") from None
    if moment > latest:
        raise BadItem("occurred_at", "The time lies in the future.")
    if moment < EARLIEST:
        raise BadItem("occurred_at", f"The time lies before {EARLIEST:%Y}; the event's clock is wrong.")
    return moment


def _parse_event(
    item: Any, latest: datetime.datetime, memo: dict[str, uuid.UUID], valid: dict[str, set[str]]
) -> UsageEvent:
    if not isinstance(item, dict):
        raise BadItem(None, "Each event must be a JSON object.")
    if not EVENT_FIELDS.issuperset(item):
        raise BadItem(sorted(set(item) - EVENT_FIELDS)[0], "This field is not known.")
    for name in REQUIRED_FIELDS:
        if item.get(name) is None:
            raise BadItem(name, "This field is required.")
    event_id = _uuid(item, "event_id")
    occurred_at = _time(item, latest)
    user = _text(item, "user", MAX_USERNAME, valid["user"])
    project_id = _uuid(item, "project_id", memo)
    action = _text(item, "action", MAX_ACTION, valid["action"])
    outcome = item["outcome"]
    if outcome not in OUTCOMES:
        raise BadItem("outcome", "Give 'success' or 'failure'.")
    image_id = _uuid(item, "image_id", memo) if item.get("image_id") is not None else None
    trace_uid = ""
    if item.get("trace_uid") is not None:
        trace_uid = _text(item, "trace_uid", MAX_TRACE_UID)
        image_part, sep, trace_id = trace_uid.partition(":")
        if not sep or not _TRACE_ID.match(trace_id):
            raise BadItem(
                "trace_uid", "A trace uid is {imageId}:{id}, the id being steps joined by '-' (0-3-1)."
            )
        try:
            trace_image = memo.get(image_part) or uuid.UUID(image_part)
        except ValueError:
            raise BadItem("trace_uid", "A trace uid starts with its image's UUID.") from None
        if image_id is None:
            image_id = trace_image
        elif image_id != trace_image:
            raise BadItem("trace_uid", "The trace uid lies in another image than image_id.")
    details = item.get("details")
    if details is None:
        details = {}
    elif not isinstance(details, dict):
        raise BadItem("details", "Give details as a JSON object.")
    else:
        budget = [MAX_DETAILS_ITEMS]
        details = _clean_json(details, "details", 0, budget)
    return UsageEvent(event_id, occurred_at, user, project_id, image_id, trace_uid, action, outcome, details)


def _clean_json(value: Any, path: str, depth: int, budget: list[int]) -> Any:
    """A container (object or list) as it will read back from the database, or ``BadItem``: no NUL or
    lone surrogates (PostgreSQL refuses them), finite floats below ``MAX_FLOAT`` (jsonb would hand
    larger ones back as integers), ``-0.0`` as ``0.0`` (jsonb has no negative zero), bounded depth
    and size. Scalars are checked inline and paths are built only for an error: this runs for
    every event of a 10,000-event request."""
    if depth >= MAX_DETAILS_DEPTH:
        raise BadItem(path, f"Details nest at most {MAX_DETAILS_DEPTH} levels deep.")
    budget[0] -= len(value)
    if budget[0] < 0:
        raise BadItem("details", f"Details hold at most {MAX_DETAILS_ITEMS:,} values.")
    pairs = value.items() if isinstance(value, dict) else enumerate(value)
    cleaned: dict[str, Any] = {}
    items: list[Any] = []
    for key, item in pairs:
        if isinstance(key, str) and _UNSTORABLE.search(key):
            raise BadItem(path, "Keys may not contain NUL or unpaired surrogate characters.")
        kind = type(item)
        if kind is str:
            if _UNSTORABLE.search(item):
                raise BadItem(_child(path, key), "Text may not contain NUL or unpaired surrogate characters.")
        elif kind is float:
            if not math.isfinite(item) or abs(item) >= MAX_FLOAT:
                raise BadItem(
                    _child(path, key), "Numbers must be finite and below 1e15 (send large numbers as text)."
                )
            item += 0.0  # turns -0.0 into 0.0
        elif kind is dict or kind is list:
            item = _clean_json(item, _child(path, key), depth + 1, budget)
        elif not (kind is int or kind is bool or item is None):
            raise BadItem(_child(path, key), "Not a JSON value.")  # pragma: no cover - json gives no other
        if isinstance(key, str):
            cleaned[key] = item
        else:
            items.append(item)
    return cleaned if isinstance(value, dict) else items


def _child(path: str, key: str | int) -> str:
    return f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}"
