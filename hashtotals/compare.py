"""The comparison of two manifests, in little memory: a million entries a side fit in well under
300 MB.

Only the delivered side is held, as ``{a 96-bit key of the path: the entry's hashes and line as
bytes}`` (plain dicts of strings took about 600 MB at a million entries); the imported side streams
past it.
Each path is matched once; what is left over is resolved at the end:

- matched: same path, same hashes (on every algorithm both manifests have);
- changed: same path, other hashes;
- missing: delivered, not imported; extra: imported, not delivered;
- moved: a missing and an extra entry with the same hashes (paired one to one).

A path listed more than once on a side (fiwalk lists each partition's files, so the same path may
come twice) is a multiset: its occurrences are paired by hash first, then what is left is changed,
missing or extra. Only the entries that differ are read again (a second pass over the delivered
file) to give their full details.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from zlib import crc32

from hashtotals.readers import Entry, display
from hashtotals.readers.base import DIGEST_SIZES

_LINE = struct.Struct(">I")

KINDS = ("changed", "missing", "extra", "moved")


def _key(path: bytes) -> int:
    """A path's key in the comparison: Python's SipHash of it (keyed at random in each process, so a
    crafted name cannot aim at another) and its CRC-32, 96 bits together, computed in C. The loops
    below spell it out inline (a function call per entry is a tenth of their time)."""
    return (hash(path) << 32) ^ crc32(path)


def entry_json(entry: Entry, algorithms: list[str]) -> dict[str, Any]:
    """An entry as the API and the stored differences give it: every hash it has, hex."""
    data: dict[str, Any] = {"path": display(entry.path), "size": entry.size, "line": entry.line}
    try:
        entry.path.decode("utf-8")
    except UnicodeDecodeError:
        data["path_hex"] = entry.path.hex()  # the name's exact bytes, where it is not UTF-8
    data["hashes"] = {name: entry.hashes[name].hex() for name in algorithms if name in entry.hashes}
    return data


@dataclass
class Difference:
    kind: str
    delivered: Entry | None
    imported: Entry | None

    @property
    def path(self) -> bytes:
        entry = self.delivered if self.delivered is not None else self.imported
        assert entry is not None
        return entry.path


@dataclass
class FileComparison:
    algorithms: list[str]
    matched: int = 0
    differences: list[Difference] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(("matched", *KINDS), 0)
        counts["matched"] = self.matched
        for difference in self.differences:
            counts[difference.kind] += 1
        return counts


def compare_files(
    delivered: Callable[[set[int] | None], Iterable[Entry]], imported: Iterable[Entry], algorithms: list[str]
) -> FileComparison:
    """``delivered(only)`` gives a fresh pass over the delivered entries: once in full, and again,
    when there are differences, for the entries on the lines in ``only`` (their full details)."""
    if not algorithms:
        raise ValueError("No algorithm to compare on.")
    names = tuple(algorithms)
    one = names[0] if len(names) == 1 else None
    width = sum(DIGEST_SIZES[name] for name in names)
    line_bytes = _LINE.pack

    # The delivered side: key -> digests + the entry's line (4 bytes), or a list of those when a
    # path comes more than once.
    table: dict[int, Any] = {}
    repeated: list[int] = []
    for entry in delivered(None):
        hashes = entry[2]
        value = (hashes[one] if one else b"".join([hashes[n] for n in names])) + line_bytes(entry[3])
        path = entry[0]
        key = (hash(path) << 32) ^ crc32(path)
        old = table.setdefault(key, value)
        if old is not value:
            if type(old) is bytes:
                table[key] = [old, value]
                repeated.append(key)
            else:
                old.append(value)

    # Paths listed more than once on the delivered side, and paths whose first pairing failed: all
    # their imported occurrences are collected and paired at the end.
    pending: dict[int, tuple[list[bytes], list[Entry]]] = {key: (table.pop(key), []) for key in repeated}
    matched = 0
    extras: list[Entry] = []
    pop = table.pop
    for entry in imported:
        hashes = entry[2]
        value = hashes[one] if one else b"".join([hashes[n] for n in names])
        path = entry[0]
        key = (hash(path) << 32) ^ crc32(path)
        if pending and key in pending:
            pending[key][1].append(entry)
            continue
        old = pop(key, None)
        if old is None:
            extras.append(entry)
        elif old.startswith(value):
            matched += 1
        else:
            pending[key] = ([old], [entry])

    def value_of(entry: Entry) -> bytes:
        return b"".join([entry.hashes[n] for n in names])

    changed: list[tuple[int, bytes, Entry]] = []  # (key, delivered value and line, imported entry)
    missing: list[tuple[int, bytes]] = list(table.items())
    del table
    for key, (values, entries) in pending.items():
        left: list[Entry] = []
        for entry in entries:
            value = value_of(entry)
            found_at = next((i for i, packed in enumerate(values) if packed[:width] == value), None)
            if found_at is None:
                left.append(entry)
            else:
                values.pop(found_at)
                matched += 1
        for packed, entry in zip(values, left, strict=False):
            changed.append((key, packed, entry))
        pairs = min(len(values), len(left))
        missing.extend((key, packed) for packed in values[pairs:])
        extras.extend(left[pairs:])

    # Moved: a missing and an extra entry with the same hashes, one to one, in file order.
    by_value: dict[bytes, list[int]] = {}
    for index, (_, packed) in enumerate(missing):
        by_value.setdefault(packed[:width], []).append(index)
    moved: list[tuple[int, Entry]] = []
    still_extra: list[Entry] = []
    for entry in extras:
        candidates = by_value.get(value_of(entry))
        if candidates:
            moved.append((candidates.pop(0), entry))
        else:
            still_extra.append(entry)
    moved_from = {index for index, _ in moved}

    # The delivered entries that differ, read again (only their lines) for their paths and sizes.
    wanted = {(key, packed[:width]) for key, packed, _ in changed} | {(k, p[:width]) for k, p in missing}
    lines = {_LINE.unpack(packed[width:])[0] for _, packed, _ in changed}
    lines |= {_LINE.unpack(packed[width:])[0] for _, packed in missing}
    found: dict[tuple[int, bytes], list[Entry]] = {}
    if wanted:
        for entry in delivered(lines):
            pair = (_key(entry.path), value_of(entry))
            if pair in wanted:
                found.setdefault(pair, []).append(entry)

    def take(key: int, packed: bytes) -> Entry:
        return found[(key, packed[:width])].pop(0)

    differences = [Difference("changed", take(k, v), e) for k, v, e in changed]
    detailed_missing = [take(k, v) for k, v in missing]
    differences += [
        Difference("missing", e, None) for i, e in enumerate(detailed_missing) if i not in moved_from
    ]
    differences += [Difference("moved", detailed_missing[i], e) for i, e in moved]
    differences += [Difference("extra", None, e) for e in still_extra]
    differences.sort(key=lambda d: (d.path, KINDS.index(d.kind)))
    return FileComparison(algorithms=list(algorithms), matched=matched, differences=differences)


def compare_images(
    delivered: dict[str, str],
    imported: dict[str, str],
    delivered_size: int | None = None,
    imported_size: int | None = None,
) -> dict[str, Any] | None:
    """The image-level hashes, where both sides give one on a common algorithm: matched when every
    common algorithm agrees. The strongest common algorithm is the one shown.

    The sizes each side states go with them, and ``sizes_agree`` (None unless both state one). The
    hashes decide whether the data is the same; a size that disagrees beside matching hashes means
    one tool misstates it (FTK's sector count, a log edited by hand), which the reader must be told,
    not a difference in the data."""
    from hashtotals.readers import ordered

    common = ordered(set(delivered) & set(imported))
    if not common:
        return None
    shown = common[-1]
    return {
        "algorithm": shown,
        "algorithms": common,
        "delivered": delivered[shown],
        "imported": imported[shown],
        "matched": all(delivered[name].lower() == imported[name].lower() for name in common),
        "delivered_size": delivered_size,
        "imported_size": imported_size,
        "sizes_agree": None
        if delivered_size is None or imported_size is None
        else delivered_size == imported_size,
    }
