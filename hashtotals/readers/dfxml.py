"""DFXML: fiwalk's (sleuthkit) and hashdeep's ``-d`` output, read as a stream through defusedxml's
SAX parser (entities and DTDs refused). SAX rather than ``iterparse``: it knows the line of every
element, so a refused element can be named.

What the tools write (learnt from them, see docs/hashtotals.md):
- fiwalk lists ``.`` and ``..`` of every directory, the directories themselves, virtual files such as
  ``$OrphanFiles`` and volume labels: only allocated regular files (``name_type`` ``r``) are files
  here; the rest is counted in ``not_files``. It writes no hash for an empty file, escapes a byte
  that is not printable ASCII, and the backslash itself, as ``\\xHH``, and lists each partition's
  files again (the same path may come twice: the comparison pairs duplicates by hash).
- hashdeep ``-d`` writes names raw, so a name that is not UTF-8 makes the document ill-formed XML. Such
  bytes are carried through the parser as private-use characters and given back exactly
  (``_ByteSafe``).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from typing import Any, BinaryIO
from xml.sax import SAXParseException  # nosec B406  # types only; parsing is defusedxml's
from xml.sax.handler import ContentHandler  # nosec B406  # types only; parsing is defusedxml's

from defusedxml import DefusedXmlException
from defusedxml.sax import make_parser

from hashtotals.readers.base import (
    DIGEST_SIZES,
    EMPTY_DIGESTS,
    Entry,
    Reader,
    ReadError,
    digest,
    gettext_noop,
    normalise,
)

CHUNK = 1 << 16
# A byte that is not UTF-8 travels as U+10FF00 + byte; a real character of that range is sent as its
# own bytes the same way, so that the way back is exact.
_BASE = 0x10FF00
_CARRIED = re.compile("[\udc80-\udcff\U0010ff00-\U0010ffff]")
_FIWALK_ESCAPE = re.compile(rb"\\x([0-9A-Fa-f]{2})")


def _carry(match: re.Match[str]) -> str:
    char = match.group(0)
    if "\udc80" <= char <= "\udcff":
        return chr(_BASE + ord(char) - 0xDC00)
    return "".join(chr(_BASE + b) for b in char.encode("utf-8"))


def _bytes_of(text: str) -> bytes:
    if not any(ord(c) >= _BASE for c in text):
        return text.encode("utf-8")
    out = bytearray()
    for char in text:
        code = ord(char)
        out += bytes([code - _BASE]) if code >= _BASE else char.encode("utf-8")
    return bytes(out)


class _Handler(ContentHandler):
    def __init__(self, reader: DfxmlReader) -> None:
        super().__init__()
        self.reader = reader
        self.stack: list[str] = []
        self.text: list[str] = []
        self.file: dict[str, Any] | None = None
        self.hash_type = ""
        self.ready: list[Entry] = []
        self.program = ""
        self.parser: Any = None

    def line(self) -> int | None:
        # The parser is its own locator (fed in chunks, it never hands one to the handler).
        return self.parser.getLineNumber() if self.parser is not None else None

    def startElement(self, name: str, attrs: Any) -> None:
        tag = name.rsplit(":", 1)[-1]
        if not self.stack and tag != "dfxml":
            raise ReadError(
                self.line(), gettext_noop("This is not DFXML: the document is <%(element)s>."), element=name
            )
        self.stack.append(tag)
        self.text = []
        if tag == "fileobject":
            if self.file is not None:
                raise ReadError(self.line(), gettext_noop("A <fileobject> inside another."))
            self.file = {"line": self.line(), "hashes": {}}
        elif tag == "hashdigest":
            self.hash_type = (attrs.get("type") or "").lower()

    def characters(self, content: str) -> None:
        self.text.append(content)

    def endElement(self, name: str) -> None:
        tag = self.stack.pop()
        text = "".join(self.text)
        self.text = []
        parent = self.stack[-1] if self.stack else ""
        if tag == "program" and parent == "creator":
            self.program = text.strip().lower()
            self.reader.tool = self.program
        elif tag == "fileobject":
            self._file_done()
        elif self.file is not None and parent == "fileobject":
            self._file_field(tag, text)
        elif tag == "hashdigest" and parent == "source":
            # An image-level hash, where a tool writes one.
            algorithm = self._algorithm()
            self.reader.image_hashes[algorithm] = digest(algorithm, text.strip(), self.line()).hex()

    def _algorithm(self) -> str:
        algorithm = self.hash_type.replace("-", "")
        if algorithm not in DIGEST_SIZES:
            raise ReadError(
                self.line(), gettext_noop("Unknown hash type %(type)s."), type=repr(self.hash_type)
            )
        return algorithm

    def _file_field(self, tag: str, text: str) -> None:
        assert self.file is not None
        if tag == "filename":
            self.file["filename"] = text
        elif tag == "filesize":
            if not text.strip().isdigit():
                raise ReadError(self.line(), gettext_noop("%(value)s is not a file size."), value=repr(text))
            self.file["size"] = int(text)
        elif tag in ("name_type", "alloc", "unalloc", "meta_type"):
            self.file[tag] = text.strip()
        elif tag == "hashdigest":
            algorithm = self._algorithm()
            self.file["hashes"][algorithm] = digest(algorithm, text.strip(), self.line())

    def _file_done(self) -> None:
        file, self.file = self.file, None
        assert file is not None
        line = file["line"]
        kind = self._not_a_file(file)
        if kind:
            self.reader.not_files[kind] += 1
            return
        if "filename" not in file:
            raise ReadError(line, gettext_noop("A <fileobject> without a <filename>."))
        raw = _bytes_of(file["filename"])
        if self.program == "fiwalk":
            raw = _FIWALK_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), raw)
        size = file.get("size")
        hashes: dict[str, bytes] = file["hashes"]
        if not hashes:
            if size != 0:
                raise ReadError(
                    line,
                    gettext_noop(
                        "The file %(name)s has no hash (fiwalk leaves out files over 2 GB unless run "
                        "with -G0, and every hash with -z)."
                    ),
                    name=repr(raw.decode("utf-8", "backslashreplace")),
                )
            hashes = dict(EMPTY_DIGESTS)
        self.ready.append(Entry(normalise(raw, line), size, hashes, line))

    @staticmethod
    def _not_a_file(file: dict[str, Any]) -> str:
        name = file.get("filename", "")
        base = name.rsplit("/", 1)[-1]
        if base in (".", ".."):
            return "dot_entry"
        name_type = file.get("name_type")
        if name_type is None:  # hashdeep -d: every fileobject is a file it hashed
            return ""
        if name_type == "d":
            return "directory"
        if name_type == "V" or file.get("meta_type") == "11":
            return "virtual"
        if name_type == "v":
            return "volume_label"
        if name_type != "r":
            return f"other_{name_type}"
        if file.get("alloc") == "0" or file.get("unalloc") == "1":
            return "unallocated"
        return ""


_DECLARED = re.compile(rb"<\?xml[^>]*encoding=[\"']([A-Za-z0-9._-]+)")


def _utf8_start(chunk: bytes) -> bytes:
    if chunk.startswith(codecs.BOM_UTF8):
        chunk = chunk[3:]
    declared = _DECLARED.match(chunk)
    if declared is not None and declared.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
        raise ReadError(1, gettext_noop("Only UTF-8 DFXML is read (the tools write UTF-8)."))
    return chunk


class DfxmlReader(Reader):
    format = "dfxml"

    def entries(self, stream: BinaryIO, only: set[int] | None = None) -> Iterator[Entry]:
        handler = _Handler(self)
        parser = make_parser()
        parser.setContentHandler(handler)
        handler.parser = parser
        decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
        first = True
        try:
            while True:
                chunk = stream.read(CHUNK)
                if first:
                    chunk = _utf8_start(chunk)
                first = False
                text = decoder.decode(chunk, final=not chunk)
                if _CARRIED.search(text):
                    text = _CARRIED.sub(_carry, text)
                parser.feed(text.encode("utf-8"))
                yield from handler.ready
                handler.ready.clear()
                if not chunk:
                    break
            parser.close()
        except SAXParseException as error:
            raise ReadError(
                error.getLineNumber(),
                gettext_noop("The XML is not well-formed: %(reason)s."),
                reason=error.getMessage(),
            ) from None
        except DefusedXmlException as error:
            raise ReadError(
                handler.line(),
                gettext_noop("Refused: the XML declares entities or a DTD (%(reason)s)."),
                reason=str(error),
            ) from None
        yield from handler.ready
