"""Decision ids: time-ordered UUIDs (version 7), made cheaply for a whole request at once."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

# The third group of a decision id: the version (7) and a check's place in its batch (at most
# 1,000 < 16**3).
_ID_PLACES = [f"-7{n:03x}-" for n in range(16**3)]
ID_PLACES_JSON = [place.encode() for place in _ID_PLACES]


class DecisionIds(Sequence[str]):
    """The decision ids of one request: ``count`` distinct time-ordered UUIDs (version 7, RFC
    9562), made cheaply: the first 48 bits are the time in milliseconds, the 12 bits after the
    version are the check's place in the request, and the last 62 bits are random, once per
    request. Within a request they are distinct by construction; two requests in the same
    millisecond share an id with probability 2**-62. Time order matters because a denial's id is its
    audit event id, which the trail keeps in a unique index: ids that grow are added at the end of
    that index instead of on a random page of it. Only the ids of denials are ever made as strings;
    the batch answer writes the others from the parts (``batch_body``)."""

    __slots__ = ("_count", "prefix", "suffix")

    def __init__(self, count: int) -> None:
        if count > len(_ID_PLACES):
            raise ValueError(f"At most {len(_ID_PLACES)} decision ids per request.")
        self._count = count
        millis = time.time_ns() // 1_000_000
        random_bits = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
        stamp = f"{millis & 0xFFFF_FFFF_FFFF:012x}"
        self.prefix = f"{stamp[:8]}-{stamp[8:]}"
        self.suffix = f"{0x8000 | (random_bits >> 48):04x}-{random_bits & 0xFFFF_FFFF_FFFF:012x}"

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._count))]
        if not -self._count <= index < self._count:
            raise IndexError("decision id index out of range")
        return self.prefix + _ID_PLACES[index % self._count] + self.suffix
