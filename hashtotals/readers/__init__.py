"""Manifest readers, one module per family of formats, and format detection. ``scan`` reads a whole
manifest once to check it and to summarise it (entries, algorithms, image hashes)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from hashtotals.readers.base import (
    MAX_SIZE,
    STRENGTH,
    Entry,
    Reader,
    ReadError,
    display,
    gettext_noop,
    in_language,
)
from hashtotals.readers.dfxml import DfxmlReader
from hashtotals.readers.imaging import Dc3ddReader, EwfReader, FtkReader
from hashtotals.readers.jsonfile import JsonReader
from hashtotals.readers.lists import DeepReader, HashdeepReader, SumsReader

__all__ = [
    "FORMATS",
    "Entry",
    "ReadError",
    "Reader",
    "Summary",
    "detect",
    "display",
    "in_language",
    "reader_for",
    "scan",
]

# Every value the contract's ``format`` takes, with the reader that reads it.
FORMATS: dict[str, Callable[[], Reader]] = {
    "sha256sum": lambda: SumsReader("sha256"),
    "md5sum": lambda: SumsReader("md5"),
    "sha1sum": lambda: SumsReader("sha1"),
    "sha224sum": lambda: SumsReader("sha224"),
    "sha384sum": lambda: SumsReader("sha384"),
    "sha512sum": lambda: SumsReader("sha512"),
    "hashdeep": HashdeepReader,
    "md5deep": lambda: DeepReader("md5"),
    "sha1deep": lambda: DeepReader("sha1"),
    "sha256deep": lambda: DeepReader("sha256"),
    "dfxml": DfxmlReader,
    "ewf": EwfReader,
    "dc3dd": Dc3ddReader,
    "ftk": FtkReader,
    "json": JsonReader,
}

HEAD = 8192
_SUM_LINE = re.compile(rb"\\?[0-9A-Fa-f]{32,128} [ *].")
_TAG_LINE = re.compile(rb"\\?(MD5|SHA1|SHA224|SHA256|SHA384|SHA512|SHA2-\d+) \(.*\) = [0-9A-Fa-f]+")
_DEEP_SIZED = re.compile(rb" *\d+  [0-9A-Fa-f]{32,128}  .")


def detect(head: bytes) -> str | None:
    """The format of a file that starts with ``head``, or None. Only the plain forms the tools write
    are recognised; anything else must be named with ``format``."""
    text = head.lstrip(b"\xef\xbb\xbf")
    if text.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = (
            head[2:].decode("utf-16-le" if head.startswith(b"\xff\xfe") else "utf-16-be", "ignore").encode()
        )
    stripped = text.lstrip()
    first = stripped.split(b"\n", 1)[0].rstrip(b"\r")
    if first.startswith(b"%%%% HASHDEEP"):
        return "hashdeep"
    if stripped.startswith(b"<") and b"<dfxml" in text:
        return "dfxml"
    if stripped.startswith(b"{"):
        return "json"
    if re.match(rb"ewf(acquire|acquirestream|verify|info|export) ", first):
        return "ewf"
    if re.match(rb"dc3dd \S+ started at", first):
        return "dc3dd"
    if b"AccessData" in text[:512] and b"FTK" in text[:512]:
        return "ftk"
    if _TAG_LINE.match(first) or _SUM_LINE.match(first):
        return "sha256sum"  # the reader takes the algorithm from the first line
    if _DEEP_SIZED.match(first):
        return "md5deep"
    return None


def reader_for(fmt: str | None, head: bytes) -> Reader:
    if fmt is None or fmt == "":
        detected = detect(head)
        if detected is None:
            raise ReadError(None, gettext_noop("The format could not be recognised: name it with format."))
        reader = FORMATS[detected]()
        if isinstance(reader, (SumsReader, DeepReader)):
            reader.algorithm = None  # detected: the first line says which
        return reader
    if fmt not in FORMATS:
        raise ReadError(None, gettext_noop("Unknown format %(format)s."), format=fmt)
    return FORMATS[fmt]()


@dataclass
class Summary:
    format: str
    tool: str
    entries: int
    algorithms: list[str]  # every file entry has each of these
    image_hashes: dict[str, str]
    image_size: int | None
    not_files: dict[str, int] = field(default_factory=dict)
    lists_files: bool = True  # a list of files (perhaps of none), not an image's hashes only


def ordered(algorithms: set[str] | list[str]) -> list[str]:
    return [name for name in STRENGTH if name in algorithms]


def scan(reader: Reader, stream: BinaryIO) -> Summary:
    """Read every entry once: the whole manifest must be readable before anything is stored."""
    count = 0
    common: set[str] | None = None
    seen: Counter[frozenset[str]] = Counter()
    last: frozenset[str] | None = None
    for entry in reader.entries(stream):
        count += 1
        keys = entry.hashes.keys()
        if last is None or keys != last:
            last = frozenset(keys)
            seen[last] += 1
            common = set(last) if common is None else common & last
            if not common:
                raise ReadError(
                    entry.line,
                    gettext_noop("This entry shares no hash algorithm with the entries before it."),
                    where=reader.where(entry.line),
                )
    if count == 0 and not reader.image_hashes:
        raise ReadError(None, gettext_noop("The file lists no file and no image hash."))
    if reader.image_size is not None and reader.image_size > MAX_SIZE:
        raise ReadError(
            None,
            gettext_noop("The image's size, %(size)s bytes, is beyond any disk: the log is damaged."),
            size=reader.image_size,
        )
    return Summary(
        format=reader.format,
        tool=reader.tool,
        entries=count,
        algorithms=ordered(common or set()),
        image_hashes=reader.image_hashes,
        image_size=reader.image_size,
        not_files=dict(reader.not_files),
        lists_files=reader.lists_files,
    )
