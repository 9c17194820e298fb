"""Where uploaded manifests are kept: ``settings.HASHTOTALS_DIR``, one file per upload, written while
its SHA-256 is computed (the upload is streamed in chunks, never held in memory whole)."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

CHUNK = 1 << 20


def root() -> Path:
    return Path(settings.HASHTOTALS_DIR)


def path_of(stored_name: str) -> Path:
    return root() / stored_name


def store(source: BinaryIO, *, folder: str) -> tuple[str, str, int]:
    """Copy ``source`` into the folder: (stored name, SHA-256 hex, size). The file is fsynced before
    it is named, so a stored manifest is never a partial one."""
    directory = root() / folder
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{folder}/{uuid.uuid4().hex}"
    partial = root() / f"{name}.partial"
    digest = hashlib.sha256()
    size = 0
    try:
        with open(partial, "xb") as out:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, root() / name)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return name, digest.hexdigest(), size


def discard(stored_name: str) -> None:
    path_of(stored_name).unlink(missing_ok=True)


def open_manifest(stored_name: str) -> BinaryIO:
    return open(path_of(stored_name), "rb", buffering=CHUNK)
