"""Side-by-side difference of two texts, line by line, for the comparison page."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from itertools import zip_longest


@dataclass(frozen=True)
class Row:
    kind: str  # "equal", "changed", "removed", "added"
    left_number: int | None
    left: str
    right_number: int | None
    right: str


def side_by_side(before: str, after: str) -> list[Row]:
    """One row per line pair: unchanged lines side by side, a replaced block line against line, and
    removed or added lines against an empty cell."""
    left, right = before.splitlines(), after.splitlines()
    rows: list[Row] = []
    matcher = difflib.SequenceMatcher(a=left, b=right, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows += [
                Row("equal", i + 1, left[i], j + 1, right[j])
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            ]
            continue
        for i, j in zip_longest(range(i1, i2), range(j1, j2)):
            if i is not None and j is not None:
                rows.append(Row("changed", i + 1, left[i], j + 1, right[j]))
            elif i is not None:
                rows.append(Row("removed", i + 1, left[i], None, ""))
            else:
                assert j is not None
                rows.append(Row("added", None, "", j + 1, right[j]))
    return rows
