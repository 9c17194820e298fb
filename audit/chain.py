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
    "request_id",
    "details",
)


def _canonical_value(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def canonical_bytes(fields: dict[str, Any]) -> bytes:
    payload = {name: _canonical_value(fields.get(name)) for name in CHAINED_FIELDS}
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode()


def row_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    digest = hashlib.sha256(prev_hash.encode("ascii"))
    digest.update(canonical_bytes(fields))
    return digest.hexdigest()
