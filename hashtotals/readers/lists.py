"""Readers of one-line-per-file hash lists: coreutils' ``md5sum``/``sha1sum``/``sha256sum``/...
(plain, binary ``*`` and ``--tag`` forms), ``hashdeep`` and ``md5deep``/``sha1deep``/``sha256deep``.

How each tool writes a name (learnt from the tools, see docs/hashtotals.md):
- coreutils escapes a name holding a backslash, line feed or carriage return: the line then starts
  with a backslash, and ``\\\\``, ``\\n``, ``\\r`` stand for those bytes. Any other name is written raw.
- hashdeep and md5deep escape nothing: the name is the rest of the line, commas and all, and a name
  holding a line feed goes on over the next line. Such a next line (one that cannot start an entry)
  is taken as the rest of the name; a line that looks like a broken entry is refused.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterator
from typing import BinaryIO

from hashtotals.readers.base import (
    BY_HEX_LENGTH,
    DIGEST_SIZES,
    Entry,
    LineRefused,
    Reader,
    ReadError,
    blocks,
    digest,
    gettext_noop,
    lines,
    normalise,
)

# The first line of a hashdeep file (a parameter of the refusals, so no "%" is in their words).
_HEADER = "%%%% HASHDEEP-1.0"

# "SHA256 (name) = hex", also cksum's "SHA2-256 (name) = hex".
_TAGS = {
    b"MD5": "md5",
    b"SHA1": "sha1",
    b"SHA224": "sha224",
    b"SHA256": "sha256",
    b"SHA384": "sha384",
    b"SHA512": "sha512",
    b"SHA2-224": "sha224",
    b"SHA2-256": "sha256",
    b"SHA2-384": "sha384",
    b"SHA2-512": "sha512",
}
_TAGGED = re.compile(rb"(\\?)([A-Z0-9-]+) \((.*)\) = ([0-9A-Fa-f]+)", re.DOTALL)
_ESCAPE = re.compile(rb"\\(.)", re.DOTALL)
_UNESCAPED = {b"\\": b"\\", b"n": b"\n", b"r": b"\r"}
_DEEP_START = re.compile(rb"\s*\d+,|[0-9A-Fa-f]{32,}\s|\s*\d+\s+[0-9A-Fa-f]{32,}\s")
# What the tools write to their error output about a file they could not read ("hashdeep: x: No such
# file or directory"). Sent into the list by "2>&1", such a line would be taken as the rest of the
# name before (names are not escaped), so it is refused instead.
_TOOL_MESSAGE = re.compile(
    rb"(?:(?:hash|md5|sha1|sha256|tiger|whirlpool)deep|(?:md5|sha1|sha224|sha256|sha384|sha512)sum)(?:64)?: "
    rb"|.*: (?:No such file or directory|Permission denied|Is a directory|Input/output error"
    rb"|Operation not permitted|Too many levels of symbolic links|Invalid argument|Stale file handle"
    rb"|No such device or address)\s*\Z"
)


def _unescape(name: bytes, line: int) -> bytes:
    def one(match: re.Match[bytes]) -> bytes:
        try:
            return _UNESCAPED[match.group(1)]
        except KeyError:
            raise ReadError(
                line,
                gettext_noop("Unknown escape %(escape)s in the name."),
                escape="\\" + match.group(1).decode("latin-1"),
            ) from None

    return _ESCAPE.sub(one, name)


class SumsReader(Reader):
    """coreutils: ``hex  name`` (text mode), ``hex *name`` (binary mode) or ``ALG (name) = hex``."""

    def __init__(self, algorithm: str | None = None) -> None:
        super().__init__()
        self.algorithm = algorithm  # as the caller named it (format sha256sum), or found on line 1
        self.format = f"{algorithm}sum" if algorithm else "sha256sum"
        self.tool = "coreutils"

    def _set(self, algorithm: str, number: int) -> str:
        if self.algorithm is None:
            self.algorithm = algorithm
            self.format = f"{algorithm}sum"
        elif algorithm != self.algorithm:
            raise ReadError(
                number,
                gettext_noop("This line holds a %(algorithm)s hash; the list is one of %(list_algorithm)s."),
                algorithm=algorithm,
                list_algorithm=self.algorithm,
            )
        return algorithm

    def entries(self, stream: BinaryIO, only: set[int] | None = None) -> Iterator[Entry]:
        # The common line ("hex  ./name", no escape) is taken apart in a few C calls; anything else
        # goes the careful way (``_line``), which also names what is wrong.
        unhex = binascii.unhexlify
        new = tuple.__new__
        algorithm = self.algorithm
        length = 2 * DIGEST_SIZES[algorithm] if algorithm else 0
        tail: int | None = None  # the first of the empty lines at the end
        number = 0
        try:
            for block in blocks(stream, whole_lines=self.wanted is None):
                for line in block:
                    number += 1
                    if only is not None and number not in only:
                        continue
                    separator = line[length : length + 2]
                    if (
                        length
                        and tail is None
                        and (separator == b"  " or separator == b" *")
                        and line[:1] != b"\\"
                    ):
                        try:
                            value = unhex(line[:length])
                        except binascii.Error:
                            value = digest(algorithm or "", line[:length], number)  # raises, naming the line
                        # "./name" (find ., hashdeep -l) is the name: one slice, not two.
                        name = (
                            line[length + 4 :] if line.startswith(b"./", length + 2) else line[length + 2 :]
                        )
                        if name[:1] in b"./":  # more to take off, or an empty name (refused)
                            name = normalise(name, number)
                        yield new(Entry, (name, None, {algorithm: value}, number))
                        continue
                    if not line.strip():
                        tail = tail or number
                        continue
                    if tail is not None:
                        raise ReadError(tail, gettext_noop("The line is empty."))
                    entry = self._line(line, number)
                    algorithm = self.algorithm
                    length = 2 * DIGEST_SIZES[algorithm] if algorithm else 0
                    yield entry
        except LineRefused as refused:
            raise ReadError(number + 1, refused.message) from None

    def _line(self, line: bytes, number: int) -> Entry:
        escaped = line[:1] == b"\\"
        body = line[1:] if escaped else line
        space = body.find(b" ")
        separator = body[space + 1 : space + 2]
        if self.algorithm and space == 2 * DIGEST_SIZES[self.algorithm] and separator in (b" ", b"*"):
            algorithm = self.algorithm
            hexdigits, name = body[:space], body[space + 2 :]
        elif (tagged := _TAGGED.fullmatch(line)) is not None:
            tag = _TAGS.get(tagged.group(2))
            if tag is None:
                raise ReadError(
                    number,
                    gettext_noop("Unknown hash name %(name)s."),
                    name=tagged.group(2).decode("latin-1"),
                )
            algorithm = self._set(tag, number)
            escaped, name, hexdigits = bool(tagged.group(1)), tagged.group(3), tagged.group(4)
        elif space > 0 and separator in (b" ", b"*") and space in BY_HEX_LENGTH:
            algorithm = self._set(BY_HEX_LENGTH[space], number)
            hexdigits, name = body[:space], body[space + 2 :]
        else:
            raise ReadError(
                number,
                gettext_noop(
                    "This is not a line of a hash list (hash, two spaces, name). If the list is "
                    "md5deep's or sha256deep's and a name holds a line break, name the format."
                ),
            )
        if escaped:
            name = _unescape(name, number)
        return Entry(normalise(name, number), None, {algorithm: digest(algorithm, hexdigits, number)}, number)


class HashdeepReader(Reader):
    """``%%%% HASHDEEP-1.0``, ``%%%% size,md5,sha256,filename``, ``## `` comments, then
    ``size,hex,hex,name``."""

    format = "hashdeep"

    def __init__(self) -> None:
        super().__init__()
        self.tool = "hashdeep"

    def entries(self, stream: BinaryIO, only: set[int] | None = None) -> Iterator[Entry]:
        unhex = binascii.unhexlify
        new = tuple.__new__
        columns: list[str] = []
        checks: list[tuple[int, int, str]] = []
        cut = width = 0  # split at the first cut commas: size, the hashes, and the name (commas and all)
        pending: Entry | None = None
        seen_header = False
        number = 0
        try:
            for block in blocks(stream, whole_lines=self.wanted is None):
                for line in block:
                    number += 1
                    if only is not None and number not in only and not line.startswith(b"%%%%"):
                        # A line not asked for: the rest of a wanted entry's name, or the end of it.
                        if pending is not None:
                            if _continues(line):
                                pending = pending._replace(path=pending.path + b"\n" + line)
                            else:
                                yield _done(pending)
                                pending = None
                        continue
                    parts = line.split(b",", cut)
                    if len(parts) == width and parts[0].isdigit():
                        hashes = {}
                        for index, hex_length, algorithm in checks:
                            text = parts[index]
                            if len(text) != hex_length:
                                break
                            try:
                                hashes[algorithm] = unhex(text)
                            except binascii.Error:
                                digest(algorithm, text, number)  # raises, naming the line and the hash
                        else:
                            if pending is not None:
                                path = pending[0]
                                yield pending if path[:1] not in b"./" else _done(pending)
                            name = parts[cut]
                            if name[:2] == b"./":
                                name = name[2:]
                            pending = new(Entry, (name, int(parts[0]), hashes, number))
                            continue
                    if line.startswith(b"%%%%"):
                        header = line[4:].strip().decode("latin-1")
                        if header.startswith("HASHDEEP-"):
                            seen_header = True
                            continue
                        fields = header.split(",")
                        if fields[:1] != ["size"] or fields[-1:] != ["filename"] or len(fields) < 3:
                            raise ReadError(
                                number, gettext_noop("The column line must be size,<hashes>,filename.")
                            )
                        for column in fields[1:-1]:
                            if column not in DIGEST_SIZES:
                                raise ReadError(
                                    number, gettext_noop("Unknown hash column %(column)s."), column=column
                                )
                        if not seen_header:
                            raise ReadError(
                                number,
                                gettext_noop("A hashdeep file starts with %(header)s."),
                                header=_HEADER,
                            )
                        columns = fields[1:-1]
                        # The columns to read: all of them, or only those the caller wants (a
                        # comparison of a manifest whose every column was checked at its upload).
                        checks = [
                            (index, 2 * DIGEST_SIZES[column], column)
                            for index, column in enumerate(columns, 1)
                            if self.wanted is None or column in self.wanted
                        ]
                        cut = len(columns) + 1
                        width = cut + 1
                        continue
                    if line.startswith(b"##"):
                        continue
                    if not cut:
                        raise ReadError(
                            number,
                            gettext_noop("A hashdeep file starts with %(header)s and its column line."),
                            header=_HEADER,
                        )
                    _refuse_tool_message(line, number)
                    if pending is not None and _continues(line):
                        # The name of the entry before holds a line feed (hashdeep does not escape it).
                        pending = pending._replace(path=pending.path + b"\n" + line)
                        continue
                    if len(parts) == width and parts[0].isdigit():
                        for alg, field in zip(columns, parts[1:cut], strict=True):
                            digest(alg, field, number)  # raises, naming the line and the hash
                    raise ReadError(
                        number,
                        gettext_noop("This is not a line of hashdeep's list (%(fields)s fields)."),
                        fields=cut + 1,
                    )
        except LineRefused as refused:
            raise ReadError(number + 1, refused.message) from None
        if pending is not None:
            yield _done(pending)
        if not cut:
            raise ReadError(
                None,
                gettext_noop("This is not a hashdeep file: it has no %(marker)s column line."),
                marker="%%%%",
            )


def _continues(line: bytes) -> bool:
    """Whether a line that is not an entry can be the rest of a name (one that cannot start an entry
    or be hashdeep's own header or comment)."""
    return not line.startswith((b"%%%%", b"##")) and not _DEEP_START.match(line)


def _refuse_tool_message(line: bytes, number: int) -> None:
    if _TOOL_MESSAGE.match(line):
        raise ReadError(
            number,
            gettext_noop(
                "This is a message of the hash tool, not an entry: its error output was mixed into the "
                "list. Upload the list alone, and ask the supplier about the files it could not read."
            ),
        )


def _done(entry: Entry) -> Entry:
    """An entry whose name can no longer go on over a next line."""
    path = entry.path
    if path[:1] in b"./":  # also an empty name, which normalise refuses
        return entry._replace(path=normalise(path, entry.line))
    return entry


class DeepReader(Reader):
    """md5deep, sha1deep, sha256deep: ``hex  name``, with ``-z`` ``size  hex  name``, with ``-k``
    ``hex *name``. Nothing is escaped (a name with a line feed goes on over the next line)."""

    def __init__(self, algorithm: str | None = None) -> None:
        super().__init__()
        self.algorithm = algorithm
        self.format = f"{algorithm}deep" if algorithm else "md5deep"
        self.tool = "md5deep"

    def entries(self, stream: BinaryIO, only: set[int] | None = None) -> Iterator[Entry]:
        pending: Entry | None = None
        for number, line in lines(stream, whole_lines=self.wanted is None):
            body = line.lstrip(b" ")
            size: int | None = None
            head, sep, rest = body.partition(b"  ")
            if sep and head.isdigit() and len(head) < 32:  # -z: the size first
                size = int(head)
                head, sep, rest = rest.partition(b"  ")
            if not sep:
                head, sep, rest = body.partition(b" *")
            algorithm = BY_HEX_LENGTH.get(len(head)) if sep else None
            if algorithm is not None and (self.algorithm in (None, algorithm)):
                if self.algorithm is None:
                    self.algorithm = algorithm
                    self.format = f"{algorithm}deep"
                if pending is not None:
                    yield _done(pending)
                pending = Entry(rest, size, {algorithm: digest(algorithm, head, number)}, number)
                continue
            if algorithm is not None:
                raise ReadError(
                    number,
                    gettext_noop(
                        "This line holds a %(algorithm)s hash; the list is one of %(list_algorithm)s."
                    ),
                    algorithm=algorithm,
                    list_algorithm=self.algorithm,
                )
            _refuse_tool_message(line, number)
            if pending is not None and line and not _DEEP_START.match(line):
                pending = pending._replace(path=pending.path + b"\n" + line)
                continue
            if not line.strip():
                raise ReadError(number, gettext_noop("The line is empty."))
            raise ReadError(
                number, gettext_noop("This is not a line of an md5deep list (hash, two spaces, name).")
            )
        if pending is not None:
            yield _done(pending)
