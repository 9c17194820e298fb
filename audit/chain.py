"""The hash chain over audit rows.

Each row's hash is SHA-256 over the previous row's hash and a canonical JSON encoding of every
field (sorted keys, no whitespace, times as UTC ISO 8601 with microseconds), so changing, removing,
inserting or reordering a row breaks the chain at that row.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import uuid
from typing import Any

GENESIS_HASH = "0" * 64

CHAINED_FIELDS = (
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
    "project_id",
    "image_id",
    "trace_uid",
    "object_type",
    "object_id",
    "grant_id",
    "basis",
    "request_id",
    "details",
)


_encode_text = json.encoder.encode_basestring  # what the encoder uses for text with ensure_ascii=False
_UTC = datetime.UTC
_DATETIME = datetime.datetime
_UUID = uuid.UUID
# One encoder for every row: json.dumps with options builds a new encoder on each call.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def canonical_json(value: Any) -> str:
    """A value as the canonical encoding writes it (nested keys sorted, no whitespace)."""
    return _ENCODER.encode(value)


def canonical_time(value: datetime.datetime) -> str:
    """A time as the chain encodes it: UTC ``YYYY-MM-DDTHH:MM:SS.ffffffZ``."""
    return str(_canonical_value(value))


def _canonical_value(value: Any) -> Any:
    """Times as UTC ``YYYY-MM-DDTHH:MM:SS.ffffffZ``, UUIDs as text, the rest as it is."""
    if isinstance(value, _DATETIME):
        if value.tzinfo is not _UTC:
            value = value.astimezone(_UTC)
        if value.year < 1000:  # isoformat pads the year, strftime does not: keep the original encoding
            return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return value.isoformat(timespec="microseconds")[:-6] + "Z"  # "+00:00" -> "Z"
    if isinstance(value, _UUID):
        return str(value)
    return value


# Fields added to the trail after its first rows were written. They are part of the encoding only
# when they hold a value, so rows written before they existed still verify; setting or clearing one
# later still changes the encoding, so it is still caught.
LATER_FIELDS = frozenset({"basis"})
_TYPED_FIELDS = ("event_id", "occurred_at", "recorded_at", "project_id", "image_id")
_FIRST_FIELDS = tuple(name for name in CHAINED_FIELDS if name not in LATER_FIELDS)


def canonical_bytes(fields: dict[str, Any]) -> bytes:
    """The canonical encoding: JSON of every chained field, keys sorted, no whitespace. This runs
    once per stored row (ingest) and once per verified row, so it avoids per-call set-up."""
    get = fields.get
    payload = {name: get(name) for name in _FIRST_FIELDS}
    # Only these columns hold times and UUIDs; every other value is encoded as it is.
    for name in _TYPED_FIELDS:
        value = payload[name]
        if value is not None:
            payload[name] = _canonical_value(value)
    for name in LATER_FIELDS:
        value = get(name)
        if value:
            payload[name] = _canonical_value(value)
    return _ENCODER.encode(payload).encode()


_SEQUENCE_SLOT = b'"sequence":null'


def canonical_parts(fields: dict[str, Any]) -> tuple[bytes, bytes]:
    """The canonical encoding split around the sequence number:
    ``canonical_bytes({**fields, "sequence": n}) == before + str(n).encode() + after`` for every n.

    Bulk writers encode their rows before they take the chain lock (the encoding is most of the
    cost) and splice the sequence in under it. The top-level ``sequence`` key is the last match:
    after it in sorted order come only ``source_address`` and ``trace_uid``, whose text is escaped
    and so cannot hold the pattern, while ``details`` (which may) comes before it."""
    encoded = canonical_bytes({**fields, "sequence": None})
    at = encoded.rindex(_SEQUENCE_SLOT) + len(_SEQUENCE_SLOT) - len(b"null")
    return encoded[:at], encoded[at + len(b"null") :]


class RowEncoder:
    """``canonical_parts`` for the many rows of one bulk write (Hansken's usage events, the decision
    API's denies), which share most of their fields, several times faster: the shared fields are
    encoded once, the sorted-key layout is a prepared template, and values that repeat within the
    request (people, cases, images) are encoded once each. Gives exactly the bytes of
    ``canonical_parts``; the tests compare the two on generated rows."""

    VARYING = (
        "action",
        "actor",
        "actor_role",
        "basis",
        "details",
        "event_id",
        "grant_id",
        "image_id",
        "occurred_at",
        "outcome",
        "project_id",
        "trace_uid",
    )

    def __init__(self, shared: dict[str, Any]) -> None:
        expected = set(CHAINED_FIELDS) - set(self.VARYING) - {"sequence"}
        if set(shared) != expected:
            raise ValueError(f"Shared fields must be exactly {sorted(expected)}.")
        # Two layouts: ``basis`` is a later field, left out of the encoding when it is empty.
        self._before, self._after = self._layout(shared, with_basis=True)
        self._before_without_basis, _ = self._layout(shared, with_basis=False)
        self._text: dict[str, str] = {}
        self._uuid: dict[Any, str] = {}
        # The last time encoded: the events of a decision request all share one.
        self._last_time: tuple[Any, str] = (None, "")

    @staticmethod
    def _layout(shared: dict[str, Any], with_basis: bool) -> tuple[str, str]:
        before: list[str] = []
        after: list[str] = []
        target = before
        for name in sorted(CHAINED_FIELDS):
            if name == "sequence":
                target.append('"sequence":')
                target = after
                continue
            if name in LATER_FIELDS and not with_basis:
                continue
            if name in shared:
                text = _ENCODER.encode(_canonical_value(shared[name])).replace("%", "%%")
                target.append(f'"{name}":{text}')
            else:
                target.append(f'"{name}":%s')
        return "{" + ",".join(before[:-1]) + "," + before[-1], "," + ",".join(after) + "}"

    def _str(self, value: str) -> str:
        encoded = self._text.get(value)
        if encoded is None:
            encoded = self._text[value] = _encode_text(value)
        return encoded

    def _id(self, value: Any) -> str:
        if value is None:
            return "null"
        encoded = self._uuid.get(value)
        if encoded is None:
            encoded = self._uuid[value] = f'"{value}"'
        return encoded

    def _time(self, value: Any) -> str:
        last, encoded = self._last_time
        if value is not last:
            encoded = f'"{_canonical_value(value)}"'
            self._last_time = (value, encoded)
        return encoded

    def parts(self, row: dict[str, Any]) -> tuple[bytes, bytes]:
        before, after = self.text_parts(row)
        return before.encode(), after.encode()

    def text_parts(self, row: dict[str, Any]) -> tuple[str, str]:
        """``parts`` as text (what PostgreSQL's append function receives, see ``audit.pg_append``)."""
        text, ident = self._str, self._id
        grant_id = row["grant_id"]
        who = (text(row["action"]), text(row["actor"]), text(row["actor_role"]))
        what = (
            _ENCODER.encode(row["details"]),
            f'"{row["event_id"]}"',
            "null" if grant_id is None else str(int(grant_id)),
            ident(row["image_id"]),
            self._time(row["occurred_at"]),
            text(row["outcome"]),
            ident(row["project_id"]),
        )
        basis = row["basis"]
        if basis:
            before = self._before % (*who, text(basis), *what)
        else:
            before = self._before_without_basis % (*who, *what)
        return before, self._after % text(row["trace_uid"])


def row_hash_parts(prev_hash: str, before: bytes, sequence: int, after: bytes) -> str:
    """``row_hash`` for a row encoded by ``canonical_parts``."""
    digest = hashlib.sha256(prev_hash.encode("ascii"))
    digest.update(before)
    digest.update(str(sequence).encode("ascii"))
    digest.update(after)
    return digest.hexdigest()


def row_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    digest = hashlib.sha256(prev_hash.encode("ascii"))
    digest.update(canonical_bytes(fields))
    return digest.hexdigest()
