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
from collections.abc import Callable, Iterable, Mapping, Sequence

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


# What an id is made of, and what never occurs in a list of ids in their one spelling joined by
# newlines: an empty step or id, or a step with a leading zero (once the digits 1-9 are all
# written as 1).
_ID_CHARACTERS = b"0123456789-\n"
_NEVER_IN_IDS = (b"--", b"-\n", b"\n-", b"\n\n")
_ONES = bytes.maketrans(b"123456789", b"111111111")
_LEADING_ZEROS = (b"-00", b"-01", b"\n00", b"\n01")


def all_canonical_trace_ids(ids: Sequence[str]) -> bool:
    """Whether every one of these texts is a trace id in its one spelling (``is_canonical_trace_id``
    of each), found with a few passes over their joined text instead of a regular expression per
    id: 0.12 against 0.44 µs per id (the batch check and the export check ask it of every
    request). The ids joined by newlines are only digits, dashes and exactly one newline
    fewer than ids (so no id holds a newline), with no empty step or id and no step that starts
    with a zero followed by a digit. tests/test_privileged_rule.py pins it to the regular
    expression."""
    if not ids:
        return True
    try:
        text = "\n".join(ids).encode("ascii")
    except UnicodeEncodeError:
        return False
    if (
        not text
        or text.translate(None, _ID_CHARACTERS)
        or text.count(b"\n") != len(ids) - 1
        or text[:1] in (b"-", b"\n")
        or text[-1:] in (b"-", b"\n")
        or any(never in text for never in _NEVER_IN_IDS)
    ):
        return False
    ones = b"\n" + text.translate(_ONES)
    return not any(zeros in ones for zeros in _LEADING_ZEROS)


def ancestors_and_self(trace_id: str) -> list[str]:
    """``0-3-1`` → ``["0-3-1", "0-3", "0"]``."""
    steps = trace_id.split("-")
    return ["-".join(steps[:n]) for n in range(len(steps), 0, -1)]


# What ``Withheld.state_canonical`` says of a trace.
CLEAR = 0
WITHHELD = 1  # the trace or an ancestor is marked
CONTAINS_WITHHELD = 2  # not withheld itself, but a trace under it is marked


class _ImageMarks:
    """One image's withholding ids, in the forms ``Withheld`` looks them up in."""

    __slots__ = ("holders", "ordered", "shortest_top", "top_length_set", "top_lengths", "top_of", "tops")

    def __init__(self, ids: Iterable[str]) -> None:
        self.ordered = sorted(set(ids))
        self.top_of: list[str] = []
        top = ""
        for trace_id in self.ordered:
            # Sorted, an id's descendants follow it directly (``X-...`` sorts right after ``X``).
            if not top or not trace_id.startswith(top + "-"):
                top = trace_id
            self.top_of.append(top)
        self.tops = frozenset(self.top_of)
        lengths = sorted({len(top) for top in self.tops})
        self.top_lengths: tuple[int, ...] | None = tuple(lengths) if len(lengths) <= MAX_TOP_LENGTHS else None
        # The same lengths as a set, and the shortest: a step of a trace ending before it cannot end
        # a topmost id.
        self.top_length_set = frozenset(lengths)
        self.shortest_top = lengths[0] if lengths else 0
        # Every trace that contains a withholding id: its proper ancestors. Built from each id's
        # longest ancestor up, stopping at one already there (whose ancestors are there too).
        holders: set[str] | None = set()
        limit = MAX_HOLDERS_PER_ID * len(self.ordered) + MIN_HOLDERS
        for trace_id in self.ordered:
            cut = trace_id.rfind("-")
            while cut > 0 and holders is not None:
                ancestor = trace_id[:cut]
                if ancestor in holders:
                    break
                holders.add(ancestor)
                if len(holders) > limit:
                    holders = None  # an unusually deep tree: the bisection answers instead
                cut = trace_id.rfind("-", 0, cut)
        self.holders = holders

    def withholds(self, trace_id: str) -> bool:
        if self.top_lengths is not None:
            # The topmost ids are few lengths of text: a withholding ancestor is the trace's text
            # up to a step's end (a ``-``, or the end of the id) at one of those lengths. One set
            # lookup per such step; the steps are found by ``str.find``, from the shortest length.
            tops, lengths = self.tops, self.top_length_set
            at = trace_id.find("-", self.shortest_top)
            while at != -1:
                if at in lengths and trace_id[:at] in tops:
                    return True
                at = trace_id.find("-", at + 1)
            return trace_id in tops
        return self._withholds_by_bisection(trace_id)

    def _withholds_by_bisection(self, trace_id: str) -> bool:
        at = bisect.bisect_right(self.ordered, trace_id)
        if at == 0:
            return False
        top = self.top_of[at - 1]
        return trace_id == top or (trace_id.startswith(top) and trace_id[len(top)] == "-")

    def state(self, trace_id: str) -> int:
        """``Withheld.state_canonical`` for this image, in one call."""
        return self.states((trace_id,))[0]

    def states(self, trace_ids: Sequence[str]) -> list[int]:
        """``state`` of each trace, in one call: the export check asks it of a thousand traces at a
        time, and one loop with the lookups bound once costs less than a call per trace (0.76-0.78
        against 0.83 ms per 1,000 traces, ``export_check_cpu.py --stages``). The walk is
        ``withholds``'s."""
        if self.top_lengths is None:
            return [
                WITHHELD if self._withholds_by_bisection(trace_id) else self._contained(trace_id)
                for trace_id in trace_ids
            ]
        tops, lengths, shortest, holders = self.tops, self.top_length_set, self.shortest_top, self.holders
        codes: list[int] = []
        add = codes.append
        for trace_id in trace_ids:
            at = trace_id.find("-", shortest)
            while at != -1:
                if at in lengths and trace_id[:at] in tops:
                    break
                at = trace_id.find("-", at + 1)
            if at != -1 or trace_id in tops:
                add(WITHHELD)
            elif holders is not None:
                add(CONTAINS_WITHHELD if trace_id in holders else CLEAR)
            else:
                add(self._contained(trace_id))
        return codes

    def _contained(self, trace_id: str) -> int:
        return CONTAINS_WITHHELD if self.contains(trace_id) else CLEAR

    def contains(self, trace_id: str) -> bool:
        holders = self.holders
        if holders is not None:
            return trace_id in holders
        ordered = self.ordered
        at = bisect.bisect_right(ordered, trace_id)
        return at < len(ordered) and ordered[at].startswith(trace_id + "-")


# Above these the lookups fall back to bisection (bounded work, bounded memory): more distinct
# lengths of topmost ids than this, or more containers than this many per withholding id.
MAX_TOP_LENGTHS = 24
MAX_HOLDERS_PER_ID = 8
MIN_HOLDERS = 1_000


class Withheld:
    """The ids marked ``suspected`` or ``confirmed`` in one case, per image (canonical UUID text).

    Per image (``_ImageMarks``): the *topmost* withholding ids (those without a withholding
    ancestor) as a set, with the few lengths their texts have, and every trace that contains a
    withholding id (the ancestors of every withholding id) as a set. *Withheld?* is then a set
    lookup of the trace's text up to each of those lengths at which one of its steps ends;
    *contains withheld data?* is one set lookup. Set lookups cost a tenth of a bisection in the
    100,000 sorted ids (whose string comparisons each miss the processor's cache), and a walk up
    every ancestor would cost a slice and a lookup per step.

    The sorted ids with, beside each, its topmost withholding id remain for trees where the sets
    would not pay (many lengths, very deep ids): then one bisection answers. *Withheld?*: the id
    just before the trace's place in text order has as its topmost id the trace's withholding
    ancestor if it has one (every id between that ancestor ``T`` and the trace lies under ``T``: it
    shares ``T``'s text up to the ``-``, and a digit sorts after ``-``). *Contains?*: the id right
    after that place starts with ``X-`` if any id does (between ``X`` and ``X-`` only ``X`` sorts).

    Ids are compared as text, in their one spelling (``canonical_trace_id``): ``withholds``,
    ``contains`` and ``state`` take any valid id; the ``*_canonical`` forms skip that step for a
    caller that has checked it (``is_canonical_trace_id``). The property tests pin both ways to
    the plain rule (tests/test_privileged_rule.py)."""

    __slots__ = ("_images", "count")

    def __init__(self, marked: Mapping[str, Iterable[str]]) -> None:
        self._images: dict[str, _ImageMarks] = {}
        for image_id, ids in marked.items():
            marks = _ImageMarks(ids)
            if marks.ordered:
                self._images[image_id] = marks
        self.count = sum(len(marks.ordered) for marks in self._images.values())

    def __bool__(self) -> bool:
        return self.count > 0

    def withholds(self, image_id: str, trace_id: str) -> bool:
        """The trace or one of its ancestors is marked."""
        if _CANONICAL.match(trace_id) is None:
            trace_id = canonical_trace_id(trace_id)
        return self.withholds_canonical(image_id, trace_id)

    def withholds_canonical(self, image_id: str, trace_id: str) -> bool:
        marks = self._images.get(image_id)
        return marks is not None and marks.withholds(trace_id)

    def contains(self, image_id: str, trace_id: str) -> bool:
        """A trace under this one (not the trace itself) is marked."""
        if _CANONICAL.match(trace_id) is None:
            trace_id = canonical_trace_id(trace_id)
        marks = self._images.get(image_id)
        return marks is not None and marks.contains(trace_id)

    def state(self, image_id: str, trace_id: str) -> int:
        """``WITHHELD``, else ``CONTAINS_WITHHELD``, else ``CLEAR``."""
        if _CANONICAL.match(trace_id) is None:
            trace_id = canonical_trace_id(trace_id)
        return self.state_canonical(image_id, trace_id)

    def state_canonical(self, image_id: str, trace_id: str) -> int:
        marks = self._images.get(image_id)
        return CLEAR if marks is None else marks.state(trace_id)

    def withholds_of_image(self, image_id: str) -> Callable[[str], bool] | None:
        """``withholds_canonical`` of one image, as a function of the trace id: for a caller that
        asks about many traces of the image (a batch of checks). None when nothing in the image is
        withheld."""
        marks = self._images.get(image_id)
        return None if marks is None else marks.withholds

    def states_of_image(self, image_id: str) -> Callable[[Sequence[str]], list[int]] | None:
        """``state_canonical`` of many traces of one image, as a function of their ids, giving
        their states in order (the export check asks it of a thousand traces at a time). None
        when nothing in the image is withheld (every trace is ``CLEAR``)."""
        marks = self._images.get(image_id)
        return None if marks is None else marks.states


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
