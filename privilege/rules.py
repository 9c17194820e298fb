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


def is_trace_id(text: str) -> bool:
    """Steps of ASCII digits joined by ``-``."""
    return _TRACE_ID.match(text) is not None


def is_canonical_trace_id(text: str) -> bool:
    """A trace id in its one spelling (what ``canonical_trace_id`` gives back unchanged)."""
    return _CANONICAL.match(text) is not None


def canonical_trace_id(trace_id: str) -> str:
    """The id in its one spelling (ASCII digits, no leading zeros in a step), or ValueError. Marks
    and checks compare ids as text, so ``0-03`` must not slip past a mark on ``0-3``."""
    if _CANONICAL.match(trace_id) is not None:
        return trace_id  # the usual case: one match
    if not _TRACE_ID.match(trace_id):
        raise ValueError("A trace id is steps of digits joined by '-', e.g. 0-3-1.")
    return "-".join(str(int(step)) for step in trace_id.split("-"))


def ancestors_and_self(trace_id: str) -> list[str]:
    """``0-3-1`` → ``["0-3-1", "0-3", "0"]``."""
    steps = trace_id.split("-")
    return ["-".join(steps[:n]) for n in range(len(steps), 0, -1)]


# What ``Withheld.state_canonical`` says of a trace.
CLEAR = 0
WITHHELD = 1  # the trace or an ancestor is marked
CONTAINS_WITHHELD = 2  # not withheld itself, but a trace under it is marked


class Withheld:
    """The ids marked ``suspected`` or ``confirmed`` in one case, per image (canonical UUID text).

    Per image two lists of the same length: every withholding id in text order, and beside each
    the *topmost* withholding id at or above it (itself, unless a withholding ancestor is marked).
    One bisection answers both questions about a trace ``X``, at the first id after ``X``:

    - *withheld?*: the id just before that point has as its topmost id ``X``'s withholding ancestor
      if ``X`` has one. Every id between that ancestor ``T`` and ``X`` in text order lies under
      ``T`` (it shares ``T``'s text up to the ``-``: a digit sorts after ``-``), so its topmost id
      is ``T``; and when ``X`` lies under no marked id, that topmost id is not above ``X``.
    - *contains withheld data?*: the id at that point starts with ``X-`` if any id does (between
      ``X`` and ``X-`` only ``X`` itself can sort).

    So each check is one bisection in C instead of a walk up the ancestors in Python. Ids are
    compared as text, in their one spelling (``canonical_trace_id``): ``withholds``, ``contains``
    and ``state`` take any valid id; the ``*_canonical`` forms skip that step for a caller that has
    checked it (``is_canonical_trace_id``)."""

    __slots__ = ("_images", "count")

    def __init__(self, marked: Mapping[str, Iterable[str]]) -> None:
        self._images: dict[str, tuple[list[str], list[str]]] = {}
        for image_id, ids in marked.items():
            ordered = sorted(set(ids))
            if not ordered:
                continue
            top_of: list[str] = []
            top = ""
            for trace_id in ordered:
                # Sorted, an id's descendants follow it directly (``X-...`` sorts right after ``X``).
                if not top or not trace_id.startswith(top + "-"):
                    top = trace_id
                top_of.append(top)
            self._images[image_id] = (ordered, top_of)
        self.count = sum(len(ordered) for ordered, _ in self._images.values())

    def __bool__(self) -> bool:
        return self.count > 0

    def withholds(self, image_id: str, trace_id: str) -> bool:
        """The trace or one of its ancestors is marked."""
        if _CANONICAL.match(trace_id) is None:
            trace_id = canonical_trace_id(trace_id)
        return self.withholds_canonical(image_id, trace_id)

    def withholds_canonical(self, image_id: str, trace_id: str) -> bool:
        found = self._images.get(image_id)
        if found is None:
            return False
        ordered, top_of = found
        at = bisect.bisect_right(ordered, trace_id)
        if at == 0:
            return False
        top = top_of[at - 1]
        return trace_id == top or (trace_id.startswith(top) and trace_id[len(top)] == "-")

    def contains(self, image_id: str, trace_id: str) -> bool:
        """A trace under this one (not the trace itself) is marked."""
        if _CANONICAL.match(trace_id) is None:
            trace_id = canonical_trace_id(trace_id)
        found = self._images.get(image_id)
        if found is None:
            return False
        ordered = found[0]
        at = bisect.bisect_right(ordered, trace_id)
        return at < len(ordered) and ordered[at].startswith(trace_id + "-")

    def state(self, image_id: str, trace_id: str) -> int:
        """``WITHHELD``, else ``CONTAINS_WITHHELD``, else ``CLEAR``."""
        if _CANONICAL.match(trace_id) is None:
            trace_id = canonical_trace_id(trace_id)
        return self.state_canonical(image_id, trace_id)

    def state_canonical(self, image_id: str, trace_id: str) -> int:
        found = self._images.get(image_id)
        if found is None:
            return CLEAR
        ordered, top_of = found
        at = bisect.bisect_right(ordered, trace_id)
        if at:
            top = top_of[at - 1]
            if trace_id == top or (trace_id.startswith(top) and trace_id[len(top)] == "-"):
                return WITHHELD
        if at < len(ordered) and ordered[at].startswith(trace_id + "-"):
            return CONTAINS_WITHHELD
        return CLEAR


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
