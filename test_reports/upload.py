"""Reading an upload once: the SHA-256 and size are computed while the reader consumes it, and an
upload larger than ``settings.TEST_REPORT_MAX_BYTES`` is stopped as it streams in
(``CappedUploadHandler``), before it is read or stored anywhere. A form field given twice (two
``kind`` values, two ``file`` parts) is refused by the API's ``StrictSerializer`` and by the page's
form (``hansken_governance.api_base.repeated_fields``): only one would be used, and which one is the
parser's choice, not the sender's."""

from __future__ import annotations

import hashlib
import io
from typing import Any, BinaryIO

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile

CHUNK = 1 << 20


def max_bytes() -> int:
    return int(settings.TEST_REPORT_MAX_BYTES)


class TooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"The file is larger than {limit} bytes, the most a test report may be.")
        self.limit = limit


class HashingReader(io.RawIOBase):
    """``source`` read through, counting and hashing every byte; refuses to pass the size cap."""

    def __init__(self, source: BinaryIO, limit: int) -> None:
        self._source = source
        self._limit = limit
        self.digest = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._source.read(len(buffer))
        if not data:
            return 0
        self.size += len(data)
        if self.size > self._limit:
            raise TooLarge(self._limit)
        self.digest.update(data)
        buffer[: len(data)] = data
        return len(data)


class CappedUploadHandler(FileUploadHandler):
    """First of a request's upload handlers: counts a file's bytes as they arrive and skips the file
    (its partial copy is closed by Django) once it passes the cap. The view then answers 413."""

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > max_bytes():
            self.request.test_report_too_large = True  # type: ignore[union-attr]
            raise SkipFile()
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def install_cap(request: Any) -> None:
    """Put the cap in front of Django's own handlers (before the body is read)."""
    django_request = getattr(request, "_request", request)
    django_request.test_report_too_large = False
    django_request.upload_handlers.insert(0, CappedUploadHandler(django_request))


def too_large(request: Any) -> bool:
    django_request = getattr(request, "_request", request)
    return bool(getattr(django_request, "test_report_too_large", False))


# Room for the multipart envelope and the other fields beside the file.
ENVELOPE = 64 * 1024


def declared_too_large(request: Any) -> bool:
    """The request says in advance that its body is past the cap: refused before it is read."""
    django_request = getattr(request, "_request", request)
    try:
        declared = int(django_request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return declared > max_bytes() + ENVELOPE
