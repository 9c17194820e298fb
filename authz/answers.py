"""Remembered decisions: the answers ``decide_many`` worked out, given again while none can change.

A memory mechanism beside the rule (``authz.decisions``), kept in its own module so the rule stays
one readable function; the facts' owner (``authz.cache.FactCache``) forgets them on every change.
"""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from authz.decisions import Decision, Question

# About 1 KB each (the decision with its JSON, the key): at most ~100 MB per environment per worker,
# and the memory starts empty when it is full.
ANSWERS_LIMIT = 100_000


def answer_key(question: Question) -> str:
    """One string for a question: the username (printable, so without NUL), a NUL, the canonical
    project id (36 characters) and the action. A string key costs about half what a tuple costs to
    find in a large dictionary: fewer objects to touch. A question whose username holds a NUL is
    never remembered (see ``decide_many``), so every remembered key has exactly one NUL."""
    user, project_id, action = question
    return f"{user}\0{project_id}{action}"


class Answers:
    """Decisions ``decide_many`` has worked out for one environment, by ``answer_key``, given again
    while none of them can have changed: from the latest moment one of them was worked out
    (``since``) until the first moment one of them can change (``until``: a grant of one of the
    questions starts or ends, or a screening lapses). Outside that span all are forgotten at once.
    One span for all instead of one per answer keeps the per-check work to one dictionary lookup;
    the price is that after each such moment the unchanged answers are worked out again, on demand
    (a few microseconds each). Whoever owns the facts must also forget the answers whenever a fact
    changes (the fact cache does: the rule is stated in ``authz.cache.FactCache``).

    Threads (gunicorn runs sync workers, but nothing here assumes it): a reader calls ``begin`` before
    it reads any answer and ``still_hold`` after its last; if another thread forgot the answers in
    between (``generation``), or remembered one whose span does not hold the reader's moment, the
    reader must decide again without them. The span and the generation change under a lock."""

    __slots__ = ("_lock", "decisions", "generation", "since", "until")

    def __init__(self) -> None:
        self.decisions: dict[str, Decision] = {}
        self.since = -math.inf
        self.until = math.inf
        self.generation = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.decisions)

    def begin(self, timestamp: float) -> int:
        """Before reading answers for ``timestamp``: forget them all if their span does not hold it
        (one may have changed by now, or the clock was set back). The generation to give
        ``still_hold`` afterwards."""
        if not self.since <= timestamp < self.until:
            self.forget_all(timestamp)
        return self.generation

    def still_hold(self, timestamp: float, generation: int) -> bool:
        """After reading answers: whether every answer read since ``begin`` holds at ``timestamp``."""
        return self.generation == generation and self.since <= timestamp < self.until

    def forget_all(self, timestamp: float) -> None:
        with self._lock:
            self._forget_all(timestamp)

    def _forget_all(self, timestamp: float) -> None:
        self.decisions = {}
        self.since, self.until = timestamp, math.inf
        self.generation += 1

    def remember(self, key: str, decision: Decision, timestamp: float, until: float) -> None:
        with self._lock:
            if len(self.decisions) >= ANSWERS_LIMIT:
                self._forget_all(timestamp)
            self.decisions[key] = decision
            if timestamp > self.since:
                self.since = timestamp
            if until < self.until:
                self.until = until
