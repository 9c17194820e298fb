"""A key given twice in one JSON object is refused, wherever it is: JSON parsers disagree on which
one wins (Python's keeps the last, others the first; a streaming reader sees both), so such a file
does not say one thing. ``hashtotals.readers.jsonfile`` refuses it in its manifests the same way.

``unique_keys`` wraps the events of ``ijson.parse`` (any backend) and passes them on unchanged,
raising ``RepeatedKey`` at the second occurrence, naming where it is as a readable path:
``results.tests[3].name``. It holds one set of keys per object that is open at the time, so its
memory follows the nesting, not the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

# The words of hashtotals' manifests, so a form shows both in the reader's language from one entry
# in the catalogue.
TWICE = "The field %(field)s is given twice."

_STARTS = ("start_map", "start_array")
_ENDS = ("end_map", "end_array")


class RepeatedKey(ValueError):
    def __init__(self, path: str) -> None:
        super().__init__(TWICE % {"field": path})
        self.path = path


@dataclass
class _Level:
    keys: set[str] | None  # an object's keys so far; None for a list
    key: str = ""  # an object's current key
    index: int = -1  # a list's current item


def _path(levels: list[_Level], last: str) -> str:
    path = ""
    for level in levels[:-1]:
        if level.keys is None:
            path += f"[{level.index}]"
        else:
            path += f".{level.key}" if path else level.key
    return f"{path}.{last}" if path else last


def unique_keys(events: Iterable[tuple[str, str, Any]]) -> Iterator[tuple[str, str, Any]]:
    """``events`` (``ijson.parse``'s prefix, event, value) as they come; ``RepeatedKey`` at a key that
    its object holds already."""
    levels: list[_Level] = []
    for prefix, event, value in events:
        if levels and levels[-1].keys is None and event != "end_array":
            levels[-1].index += 1  # a new item of the list begins
        if event == "map_key":
            level = levels[-1]
            assert level.keys is not None
            if value in level.keys:
                raise RepeatedKey(_path(levels, value))
            level.keys.add(value)
            level.key = value
        elif event in _STARTS:
            levels.append(_Level(keys=set() if event == "start_map" else None))
        elif event in _ENDS:
            levels.pop()
        yield prefix, event, value
