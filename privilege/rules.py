"""The privileged-traces rule over trace ids, as pure functions (no I/O), used by the decision rule
(``authz.decisions``) and the export check.

MISSION.md ("Facts about Hansken"): a trace id is its path in the trace tree, steps joined by ``-``
(``0-3-1``); its ancestors are the ids without their last steps; it *contains* exactly the ids that
start with its own id followed by ``-``. A trace is **withheld** when it or any ancestor is marked
``suspected`` or ``confirmed``; it **contains privileged data** when any trace it contains is
marked so.

``Withheld`` holds one case's withholding marks per image, built to answer both questions with one
bisection each for a case with 100,000 marks (see its docstring).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping

WITHHOLDING = frozenset({"suspected", "confirmed"})
STATUSES = ("suspected", "confirmed", "rejected")

_TRACE_ID = re.compile(r"[0-9]+(?:-[0-9]+)*\Z")
# The ids already in their one spelling: the usual case, recognised by one match.
_CANONICAL = CANONICAL_TRACE_ID = re.compile(r"(?:0|[1-9][0-9]*)(?:-(?:0|[1-9][0-9]*))*\Z")
# A step with a leading zero ("03"): the same trace as "3", so it is written as "3".
_LEADING_ZERO = re.compile(r"(?:\A|-)0[0-9]")


def is_trace_id(text: str) -> bool:
    """Steps of ASCII digits joined by ``-``."""
    return _TRACE_ID.match(text) is not None


def is_canonical_trace_id(text: str) -> bool:
    """A trace id in its one spelling (what ``canonical_trace_id`` gives back unchanged)."""
    return _CANONICAL.match(text) is not None


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
    """The ids marked ``suspected`` or ``confirmed`` in one case, per image (canonical UUID text).

    Two sorted lists per image: every withholding id (for ``contains``), and the *topmost* ones,
    those without a withholding ancestor (for ``withholds``). Among the topmost ids, the last one not
    above a trace's id in text order is its withholding ancestor if it has one: an id between that
    ancestor and the trace would lie under the ancestor (it shares its text up to the ``-``), and no
    topmost id lies under another. So each question is one bisection (in C) instead of a walk up
    the ancestors in Python. Ids are compared as text, in their one spelling (``canonical_trace_id``):
    ``withholds`` and ``contains`` take any valid id; the ``*_canonical`` forms skip that step for a
    caller that has checked it (``is_canonical_trace_id``)."""

    __slots__ = ("_sorted", "_tops", "count")

    def __init__(self, marked: Mapping[str, Iterable[str]]) -> None:
        self._sorted: dict[str, list[str]] = {}
        self._tops: dict[str, list[str]] = {}
        for image_id, ids in marked.items():
            ordered = sorted(set(ids))
            if not ordered:
                continue
            tops: list[str] = []
            for trace_id in ordered:
                # Sorted, an id's descendants follow it directly (``X-...`` sorts right after ``X``).
                if not tops or not trace_id.startswith(tops[-1] + "-"):
                    tops.append(trace_id)
            self._sorted[image_id] = ordered
            self._tops[image_id] = tops
        self.count = sum(len(ids) for ids in self._sorted.values())

    def __bool__(self) -> bool:
        return self.count > 0

    def withholds(self, image_id: str, trace_id: str) -> bool:
        """The trace or one of its ancestors is marked."""
        if _CANONICAL.match(trace_id) is None:
            trace_id = canonical_trace_id(trace_id)
        return self.withholds_canonical(image_id, trace_id)

    def withholds_canonical(self, image_id: str, trace_id: str) -> bool:
        tops = self._tops.get(image_id)
        if tops is None:
            return False
        at = bisect.bisect_right(tops, trace_id)
        if at == 0:
            return False
        top = tops[at - 1]
        return trace_id == top or (trace_id.startswith(top) and trace_id[len(top)] == "-")

    def contains(self, image_id: str, trace_id: str) -> bool:
        """A trace under this one (not the trace itself) is marked."""
        if _CANONICAL.match(trace_id) is None:
            trace_id = canonical_trace_id(trace_id)
        return self.contains_canonical(image_id, trace_id)

    def contains_canonical(self, image_id: str, trace_id: str) -> bool:
        ordered = self._sorted.get(image_id)
        if ordered is None:
            return False
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
