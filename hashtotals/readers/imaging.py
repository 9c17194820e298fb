"""Readers of imaging tools' logs, which give the hash of a whole image (the media), not of files:
``ewfacquire``/``ewfverify``/``ewfinfo`` (libewf's ewf-tools), ``dc3dd``'s log and FTK Imager's
``.txt`` log.

An EWF image's hash is of the media it holds, not of the ``.E01`` file: a ``sha256sum`` of the
``.E01`` is a file entry and never compared with it. A tool that says it failed is refused, even
when its hash lines agree: ``ewfverify`` says FAILURE with matching hashes when a chunk's checksum
is wrong, and then the hash proves nothing.

FTK Imager cannot run here: its reader follows the layout AccessData publishes in its manuals and
that its logs show (``[Computed Hashes]`` with ``MD5 checksum:`` lines, ``Image Verification
Results:`` with ``... : verified``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from hashtotals.readers.base import DIGEST_SIZES, Entry, Reader, ReadError, digest, gettext_noop, lines

_BYTES = re.compile(r"\((\d+) bytes\)")


def _text(stream: BinaryIO) -> Iterator[tuple[int, str]]:
    for number, line in lines(stream):
        yield number, line.decode("utf-8", "replace")


class _ImageReader(Reader):
    lists_files = False  # an imaging log gives the image's hashes only

    def _hash(self, algorithm: str, value: str, number: int) -> None:
        algorithm = algorithm.lower().replace("-", "")
        if algorithm not in DIGEST_SIZES:
            raise ReadError(number, gettext_noop("Unknown hash %(algorithm)s."), algorithm=algorithm)
        hexdigits = digest(algorithm, value.strip(), number).hex()
        known = self.image_hashes.get(algorithm)
        if known is not None and known != hexdigits:
            raise ReadError(
                number,
                gettext_noop("Two different %(algorithm)s hashes of the image: %(first)s and %(second)s."),
                algorithm=algorithm,
                first=known,
                second=hexdigits,
            )
        self.image_hashes[algorithm] = hexdigits

    def _require_hashes(self) -> None:
        if not self.image_hashes:
            raise ReadError(
                None,
                gettext_noop("The %(tool)s output holds no hash of the image."),
                tool=self.tool or self.format,
            )


_EWF_FIRST = re.compile(r"(ewfacquire|ewfacquirestream|ewfverify|ewfinfo|ewfexport) \S+")
_EWF_CALCULATED = re.compile(r"(MD5|SHA1|SHA256) hash calculated over data:\s*(\S+)")
_EWF_STORED = re.compile(r"(MD5|SHA1|SHA256) hash stored in file:\s*(\S+)")
_EWF_INFO_DIGEST = re.compile(r"\s+(MD5|SHA1|SHA256):\s+(\S+)")
_EWF_ADDITIONAL = re.compile(r"(MD5|SHA1|SHA256):\s+(\S+)")
_EWF_STATUS = re.compile(r"(ewf\w+): (SUCCESS|FAILURE)")


class EwfReader(_ImageReader):
    format = "ewf"

    def entries(self, stream: BinaryIO, only: set[int] | None = None) -> Iterator[Entry]:
        stored: dict[str, tuple[str, int]] = {}
        section = ""
        status_seen = False
        for number, line in _text(stream):
            if number == 1 or (not self.tool and line.strip()):
                first = _EWF_FIRST.fullmatch(line.strip())
                if first is None:
                    raise ReadError(
                        number, gettext_noop("This is not the output of ewfacquire, ewfverify or ewfinfo.")
                    )
                self.tool = first.group(1)
                continue
            if not line.startswith("\t") and line.strip():
                section = line.strip()
            if "hash calculated over data" in line:
                match = _EWF_CALCULATED.fullmatch(line.strip())
                if match is None:
                    raise ReadError(number, gettext_noop("A hash line that cannot be read."))
                self._hash(match.group(1), match.group(2), number)
            elif "hash stored in file" in line:
                match = _EWF_STORED.fullmatch(line.strip())
                if match is None:
                    raise ReadError(number, gettext_noop("A hash line that cannot be read."))
                if match.group(2) != "N/A":
                    stored[match.group(1).lower()] = (match.group(2), number)
            elif section == "Digest hash information" and line.startswith("\t"):
                match = _EWF_INFO_DIGEST.fullmatch(line)
                if match is None:
                    raise ReadError(number, gettext_noop("A hash line that cannot be read."))
                stored[match.group(1).lower()] = (match.group(2), number)
            elif section == "Additional hash values:" and line.strip() and line != section:
                match = _EWF_ADDITIONAL.fullmatch(line.strip())
                if match is None:
                    raise ReadError(number, gettext_noop("A hash line that cannot be read."))
                stored[match.group(1).lower()] = (match.group(2), number)
            elif "Media size:" in line or line.startswith("Read:"):
                size = _BYTES.search(line)
                if size is not None:
                    self.image_size = int(size.group(1))
            elif _EWF_STATUS.fullmatch(line.strip()):
                status = _EWF_STATUS.fullmatch(line.strip())
                assert status is not None
                if status.group(2) != "SUCCESS":
                    raise ReadError(
                        number,
                        gettext_noop(
                            "%(tool)s reports FAILURE: the image did not verify, so its hashes prove "
                            "nothing (even where the hash lines agree)."
                        ),
                        tool=status.group(1),
                    )
                status_seen = True
        if self.tool in ("ewfacquire", "ewfacquirestream", "ewfverify", "ewfexport") and not status_seen:
            raise ReadError(
                None,
                gettext_noop("The %(tool)s output has no SUCCESS line: the run did not finish."),
                tool=self.tool,
            )
        for algorithm, (value, number) in stored.items():
            # ewfinfo gives only what is stored; ewfverify also what it calculated, which must agree.
            self._hash(algorithm, value, number)
        self._require_hashes()
        return
        yield  # a generator: image logs list no files


_DC3DD_START = re.compile(r"dc3dd \S+ started at .*")
_DC3DD_HASH = re.compile(r"(\[(\w+)\] )?([0-9A-Fa-f]+) \((md5|sha1|sha256|sha512)\)")
_DC3DD_PIECE = re.compile(r"(\[\w+\] )?[0-9A-Fa-f]+, sectors \d+ - \d+.*")
_DC3DD_COPIED = re.compile(r"(\d+) bytes \( .* \) (copied|hashed) \( (\d+)% \).*")


class Dc3ddReader(_ImageReader):
    format = "dc3dd"

    def entries(self, stream: BinaryIO, only: set[int] | None = None) -> Iterator[Entry]:
        self.tool = "dc3dd"
        runs = 0
        section = ""
        completed = False
        for number, line in _text(stream):
            text = line.strip()
            if _DC3DD_START.fullmatch(text):
                runs += 1
                if runs > 1:
                    raise ReadError(
                        number, gettext_noop("The log holds more than one dc3dd run: upload one run's log.")
                    )
                continue
            if runs == 0:
                if text:
                    raise ReadError(
                        number,
                        gettext_noop("This is not a dc3dd log (it starts with 'dc3dd ... started at')."),
                    )
                continue
            if text.startswith(("input results for", "output results for")):
                section = text.split()[0]
            elif text.startswith("dc3dd aborted"):
                raise ReadError(
                    number, gettext_noop("dc3dd was aborted: the log's hashes are of part of the data.")
                )
            elif text.startswith("dc3dd completed"):
                completed = True
            elif _DC3DD_PIECE.fullmatch(text) and text.startswith("[") and not text.startswith("[ok]"):
                raise ReadError(
                    number, gettext_noop("dc3dd found a piece of the output that does not match its input.")
                )
            elif _DC3DD_PIECE.fullmatch(text):
                continue  # a piece's hash (hofs with ofsz): the whole image's is on a line of its own
            elif (hashed := _DC3DD_HASH.fullmatch(text)) is not None:
                verdict = hashed.group(2)
                if verdict is not None and verdict != "ok":
                    raise ReadError(
                        number,
                        gettext_noop("dc3dd reports the output's hash as [%(verdict)s]."),
                        verdict=verdict,
                    )
                if section == "input" or verdict == "ok":
                    self._hash(hashed.group(4), hashed.group(3), number)
            elif (copied := _DC3DD_COPIED.fullmatch(text)) is not None and copied.group(2) == "copied":
                self.image_size = int(copied.group(1))
        if runs == 0:
            raise ReadError(None, gettext_noop("This is not a dc3dd log."))
        if not completed:
            raise ReadError(
                None, gettext_noop("The dc3dd log has no 'dc3dd completed' line: the run did not finish.")
            )
        self._require_hashes()
        return
        yield


_FTK_HASH = re.compile(r"(MD5|SHA1|SHA-1|SHA256|SHA-256) checksum:\s*([0-9A-Fa-f]+)\s*(?::\s*(.*))?")
_FTK_NUMBER = re.compile(r"([\d,.]+)")


class FtkReader(_ImageReader):
    format = "ftk"

    def entries(self, stream: BinaryIO, only: set[int] | None = None) -> Iterator[Entry]:
        self.tool = "FTK Imager"
        section = ""
        computed: dict[str, tuple[str, int]] = {}
        verified: dict[str, tuple[str, int]] = {}
        sectors = sector_size = None
        for number, line in _text(stream):
            text = line.strip()
            if text.startswith("[") and text.endswith("]"):
                section = text
                continue
            if text.endswith(":") and "checksum" not in text and not line.startswith(" "):
                section = text
            if "checksum" in text.lower():
                match = _FTK_HASH.fullmatch(text)
                if match is None:
                    raise ReadError(number, gettext_noop("A checksum line that cannot be read."))
                algorithm = match.group(1).lower().replace("-", "")
                if section == "Image Verification Results:":
                    outcome = (match.group(3) or "").strip().lower()
                    if outcome != "verified":
                        if outcome:
                            raise ReadError(
                                number,
                                gettext_noop("FTK Imager did not verify the image (%(outcome)s)."),
                                outcome=outcome,
                            )
                        raise ReadError(
                            number, gettext_noop("FTK Imager did not verify the image (no outcome).")
                        )
                    verified[algorithm] = (match.group(2), number)
                else:
                    computed[algorithm] = (match.group(2), number)
            elif text.lower().startswith("verify result") and "fail" in text.lower():
                raise ReadError(number, gettext_noop("FTK Imager reports that verification failed."))
            elif text.startswith("Sector Count:") or text.startswith("Sector count:"):
                sectors = _number(text, number)
            elif text.startswith("Bytes per Sector:") or text.startswith("Bytes per sector:"):
                sector_size = _number(text, number)
        for algorithm, (value, number) in [*computed.items(), *verified.items()]:
            self._hash(algorithm, value, number)
        if sectors is not None and sector_size is not None:
            self.image_size = sectors * sector_size
        self._require_hashes()
        return
        yield


def _number(text: str, line: int) -> int:
    match = _FTK_NUMBER.search(text.split(":", 1)[1])
    if match is None:
        raise ReadError(line, gettext_noop("A number that cannot be read."))
    return int(match.group(1).replace(",", "").replace(".", ""))
