"""What every manifest reader gives: entries (a path as bytes, a size, digests by algorithm, the line
they start on) and the image-level hashes, and the one error a reader raises (``ReadError``, naming the
line). Also the line splitting that the text formats share: byte-order marks, CRLF and UTF-16."""

from __future__ import annotations

import codecs
import io
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO, NamedTuple

from django.utils.translation import gettext

# Digest length in bytes of every algorithm a supported tool writes. The order is the strength order
# used when one algorithm has to be named (the last is the strongest).
DIGEST_SIZES: dict[str, int] = {
    "md5": 16,
    "sha1": 20,
    "tiger": 24,
    "sha224": 28,
    "sha256": 32,
    "sha384": 48,
    "whirlpool": 64,
    "sha512": 64,
}
STRENGTH = list(DIGEST_SIZES)
BY_HEX_LENGTH = {2 * size: name for name, size in DIGEST_SIZES.items() if name not in ("whirlpool", "tiger")}

# The digests of no bytes at all: an empty file has these, whether or not the tool wrote them
# (fiwalk writes no hash for an empty file).
EMPTY_DIGESTS: dict[str, bytes] = {
    "md5": bytes.fromhex("d41d8cd98f00b204e9800998ecf8427e"),
    "sha1": bytes.fromhex("da39a3ee5e6b4b0d3255bfef95601890afd80709"),
    "sha224": bytes.fromhex("d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f"),
    "sha256": bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    "sha384": bytes.fromhex(
        "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b"
    ),
    "sha512": bytes.fromhex(
        "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
        "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
    ),
}


def gettext_noop(message: str) -> str:
    """Marks a refusal's English words for ``makemessages``, as Django's ``gettext_noop`` does, but
    without asking the settings: the readers also run in a plain Python process, outside Django
    (``benchmarks/hashtotals.py`` reads and compares manifests that way)."""
    return message


# The prefix of a refusal that names its line (JSON's name their entry instead: ``files[3]``).
LINE = gettext_noop("Line %(line)s")


class ReadError(Exception):
    """A manifest that cannot be read completely. ``line`` is 1-based (for JSON: the entry's index
    in ``files``; for XML: the line of the element), or None when it concerns the whole file.

    ``message`` is English with ``%(name)s`` placeholders, marked with ``gettext_noop`` where it is
    raised (so the Dutch catalogue has it), and ``params`` fill them: ``str()`` is the English text
    the API answers, ``in_language`` the same refusal in the reader's language for a page."""

    def __init__(self, line: int | None, message: str, *, where: str = "", **params: Any) -> None:
        self.line = line
        self.message = message
        self.params = params
        self.where = where
        super().__init__(message)

    @property
    def template(self) -> str:
        """The whole refusal in English with its placeholders, the line (or entry) in front."""
        prefix = "%(where)s" if self.where else LINE if self.line is not None else ""
        return f"{prefix}: {self.message}" if prefix else self.message

    @property
    def details(self) -> dict[str, Any]:
        """What fills ``template``'s placeholders."""
        return {**self.params, "line": self.line, "where": self.where}

    def __str__(self) -> str:
        return self.template % self.details


def in_language(template: str, details: Mapping[str, Any]) -> str:
    """A refusal (a ``ReadError``'s ``template`` and ``details``) in the active language: the prefix
    and the message are translated apart, as they were marked; words not in the catalogue stay
    English."""
    for prefix in (LINE, "%(where)s"):
        if template.startswith(f"{prefix}: "):
            message = template[len(prefix) + 2 :]
            return f"{gettext(prefix) % details}: {gettext(message) % details}"
    return gettext(template) % details


class Entry(NamedTuple):
    path: bytes
    size: int | None
    hashes: dict[str, bytes]
    line: int


class Reader:
    """One format. ``entries`` yields the files in the order written; image-level facts are filled
    in while it runs (so they are complete once it is exhausted)."""

    format = ""
    # Whether the format is a list of files. A list may hold none (an empty file system, or a JSON
    # manifest whose "files" is []): that is a list of nothing, to be compared, not a manifest
    # that says nothing of files (an imaging log, a JSON manifest without "files").
    lists_files = True

    def __init__(self) -> None:
        self.image_hashes: dict[str, str] = {}
        self.image_size: int | None = None
        # Elements of the file that are not files (directories, ".", "..", volume labels, virtual
        # files), counted by kind, so that what was left out is said, not silent.
        self.not_files: Counter[str] = Counter()
        self.tool = ""
        # The algorithms a comparison needs, when the manifest was checked whole at its upload: a
        # reader may then leave the others out (and unchecked). None: every one, every one checked;
        # that is the upload's check, which also refuses a cut-off last line (``blocks``).
        self.wanted: frozenset[str] | None = None

    def where(self, line: int) -> str:
        """How a refusal names an entry's place, when not by its line ("Line 4"): JSON's say
        ``files[3]``."""
        return ""

    def entries(self, stream: BinaryIO, only: set[int] | None = None) -> Iterator[Entry]:
        """Every entry; with ``only``, a reader may give just the entries that start on those lines
        (a hint to save work: callers still pick the entries they want)."""
        raise NotImplementedError


def digest(algorithm: str, text: bytes | str, line: int | None) -> bytes:
    """A hexadecimal digest (either case) as bytes, checked for its algorithm's length."""
    try:
        value = bytes.fromhex(text.decode("ascii") if isinstance(text, bytes) else text)
    except (ValueError, UnicodeDecodeError):
        raise ReadError(
            line,
            gettext_noop("%(value)s is not a hexadecimal %(algorithm)s hash."),
            value=_show(text),
            algorithm=algorithm,
        ) from None
    # (fromhex skips spaces between byte pairs, so the length check also refuses those.)
    if len(value) != DIGEST_SIZES[algorithm] or len(text) != 2 * DIGEST_SIZES[algorithm]:
        raise ReadError(
            line,
            gettext_noop("%(value)s is not a %(algorithm)s hash (%(digits)s hex digits)."),
            value=_show(text),
            algorithm=algorithm,
            digits=2 * DIGEST_SIZES[algorithm],
        )
    return value


# The largest size in bytes taken, of a file or an image: what a file system's 64-bit offsets and
# the database's big integers hold. A larger one is a damaged or made-up manifest.
MAX_SIZE = 2**63 - 1


def normalise(path: bytes, line: int) -> bytes:
    """The same file named the same way by every tool: "./a" (hashdeep -l, find .) and "a" (fiwalk)
    are one path. Nothing else is changed: a backslash is a byte of a Unix name, and leading or
    trailing spaces are real."""
    while path.startswith(b"./"):
        path = path[2:]
    path = path.lstrip(b"/")
    if not path:
        raise ReadError(line, gettext_noop("The entry has no file name."))
    if b"\x00" in path:
        raise ReadError(line, NUL_BYTE)
    return path


def display(path: bytes) -> str:
    """A path for people: UTF-8, with any byte that is not as \\xHH."""
    return path.decode("utf-8", "backslashreplace")


def _show(text: bytes | str) -> str:
    shown = text.decode("utf-8", "backslashreplace") if isinstance(text, bytes) else text
    return repr(shown[:80])


CHUNK = 1 << 20

# No file name holds a NUL byte (no file system allows one), nor does any hash or tool's log line.
NUL_BYTE = gettext_noop("A NUL byte, which no file name, hash or log line holds: the file is damaged.")
CUT_OFF = gettext_noop(
    "The file ends in the middle of this line, without a line feed: it looks cut off. The tools end "
    "every line with one; upload their whole output."
)


class LineRefused(Exception):
    """Raised by ``blocks`` once every line before the refused one has been given: the reader, which
    counts the lines, names it (``ReadError(number + 1, refused.message)``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def blocks(stream: BinaryIO, *, whole_lines: bool = False) -> Iterator[list[bytes]]:
    """The file's lines without their line ends, a megabyte's worth at a time (split in C: the hash
    lists run to a million lines). A UTF-8 byte-order mark is dropped; a UTF-16 file (Windows tools)
    is read as UTF-16 and given as UTF-8. Whether lines end in CRLF is decided by the first line, for
    the whole file: a Unix name may end in a carriage return.

    A line holding a NUL byte is refused (``LineRefused``), and with ``whole_lines`` so is a last line
    with no line feed: every tool ends its last line with one, so a file without is a cut-off copy,
    whose last name would be taken short (or a stray line taken as the rest of the name before)."""
    chunk = stream.read(CHUNK)
    if chunk.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = (chunk + stream.read()).decode("utf-16")
        stream = io.BytesIO(text.encode("utf-8", "surrogatepass"))
        chunk = stream.read(CHUNK)
    elif chunk.startswith(codecs.BOM_UTF8):
        chunk = chunk[len(codecs.BOM_UTF8) :]
    first_end = chunk.find(b"\n")
    crlf = first_end > 0 and chunk[first_end - 1 : first_end] == b"\r"
    tail = b""
    while chunk:
        buffer = tail + chunk if tail else chunk
        parts = buffer.split(b"\n")
        tail = parts.pop()
        if crlf:
            parts = [part[:-1] if part[-1:] == b"\r" else part for part in parts]
        if b"\x00" in buffer:  # one scan in C per megabyte; a NUL in the tail is found with the next
            refused = next((at for at, part in enumerate(parts) if b"\x00" in part), None)
            if refused is not None:
                yield parts[:refused]
                raise LineRefused(NUL_BYTE)
        yield parts
        chunk = stream.read(CHUNK)
    if tail:
        if b"\x00" in tail:
            raise LineRefused(NUL_BYTE)
        if whole_lines:
            raise LineRefused(CUT_OFF)
        yield [tail[:-1] if crlf and tail[-1:] == b"\r" else tail]


def lines(stream: BinaryIO, *, whole_lines: bool = False) -> Iterator[tuple[int, bytes]]:
    """Numbered lines without their line ends (``blocks``, one by one); a refused line is named."""
    number = 0
    try:
        for block in blocks(stream, whole_lines=whole_lines):
            for line in block:
                number += 1
                yield number, line
    except LineRefused as refused:
        raise ReadError(number + 1, refused.message) from None
