"""The privileged-traces rule over trace ids, as pure functions (no I/O), used by the decision rule
(``authz.decisions``) and the export check.

MISSION.md ("Facts about Hansken"): a trace id is its path in the trace tree, steps joined by ``-``
(``0-3-1``); its ancestors are the ids without their last steps; it *contains* exactly the ids that
start with its own id followed by ``-``. A trace is **withheld** when it or any ancestor is marked
``suspected`` or ``confirmed``; it **contains privileged data** when any trace it contains is
marked so.

``Withheld`` holds one case's withholding marks per image, built to answer both questions fast
for a case with 100,000 marks: a set per image, walked up the ancestors (at most one set lookup per
step of the id), and the same ids sorted, where every id under ``X`` lies in one run starting at
the first id not below ``X-`` (one bisection).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping

WITHHOLDING = frozenset({"suspected", "confirmed"})
STATUSES = ("suspected", "confirmed", "rejected")

_TRACE_ID = re.compile(r"[0-9]+(?:-[0-9]+)*\Z")
# The ids already in their one spelling: the usual case, recognised by one match.
_CANONICAL = re.compile(r"(?:0|[1-9][0-9]*)(?:-(?:0|[1-9][0-9]*))*\Z")
# A step with a leading zero ("03"): the same trace as "3", so it is written as "3".
_LEADING_ZERO = re.compile(r"(?:\A|-)0[0-9]")


def is_trace_id(text: str) -> bool:
    """Steps of ASCII digits joined by ``-``."""
    return _TRACE_ID.match(text) is not None


def canonical_trace_id(trace_id: str) -> str:
    """The id in its one spelling (ASCII digits, no leading zeros in a step), or ValueError. Marks
    and checks compare ids as text, so ``0-03`` must not slip past a mark on ``0-3``."""
    if not _TRACE_ID.match(trace_id):
        raise ValueError("A trace id is steps of digits joined by '-', e.g. 0-3-1.")
    if _LEADING_ZERO.search(trace_id):
        return "-".join(str(int(step)) for step in trace_id.split("-"))
    return trace_id


def ancestors_and_self(trace_id: str) -> list[str]:
    """``0-3-1`` → ``["0-3-1", "0-3", "0"]``."""
    steps = trace_id.split("-")
    return ["-".join(steps[:n]) for n in range(len(steps), 0, -1)]


class Withheld:
    """The ids marked ``suspected`` or ``confirmed`` in one case, per image (canonical UUID text)."""

    __slots__ = ("_marked", "_sorted", "count")

    def __init__(self, marked: Mapping[str, Iterable[str]]) -> None:
        self._marked: dict[str, frozenset[str]] = {}
        self._sorted: dict[str, list[str]] = {}
        for image_id, ids in marked.items():
            as_set = frozenset(ids)
            if as_set:
                self._marked[image_id] = as_set
                self._sorted[image_id] = sorted(as_set)
        self.count = sum(len(ids) for ids in self._marked.values())

    def __bool__(self) -> bool:
        return self.count > 0

    def withholds(self, image_id: str, trace_id: str) -> bool:
        """The trace or one of its ancestors is marked."""
        marked = self._marked.get(image_id)
        if marked is None:
            return False
        if _CANONICAL.match(trace_id) is None:
            trace_id = canonical_trace_id(trace_id)
        while True:
            if trace_id in marked:
                return True
            trace_id, dash, _ = trace_id.rpartition("-")
            if not dash:
                return False

    def contains(self, image_id: str, trace_id: str) -> bool:
        """A trace under this one (not the trace itself) is marked."""
        ordered = self._sorted.get(image_id)
        if ordered is None:
            return False
        if _CANONICAL.match(trace_id) is None:
            trace_id = canonical_trace_id(trace_id)
        prefix = trace_id + "-"
        at = bisect.bisect_left(ordered, prefix)
        return at < len(ordered) and ordered[at].startswith(prefix)


NOTHING_WITHHELD = Withheld({})


# The plain rule, written as the contract says it, against which the fast one is tested.


def withheld_by_reference(marks: Mapping[tuple[str, str], str], image_id: str, trace_id: str) -> bool:
    """``marks``: (image, id) → status. Walks every mark."""
    return any(
        status in WITHHOLDING
        and image == image_id
        and (marked == trace_id or trace_id.startswith(marked + "-"))
        for (image, marked), status in marks.items()
    )


def contains_by_reference(marks: Mapping[tuple[str, str], str], image_id: str, trace_id: str) -> bool:
    return any(
        status in WITHHOLDING and image == image_id and marked.startswith(trace_id + "-")
        for (image, marked), status in marks.items()
    )
