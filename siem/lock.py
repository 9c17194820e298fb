"""Only one forwarder at a time, without holding a database transaction while it sends.

PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``), held across the forwarder's
short per-chunk transactions and released when its connection ends, so a killed worker frees it.
SQLite (the embedded default, one machine): an exclusive ``flock`` on a file in the data folder,
which the kernel releases when the process dies. A transaction held open while sending would, on
SQLite, block every audit writer for as long as a slow SIEM takes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.db import connection

# An arbitrary constant naming this lock among PostgreSQL's advisory locks.
_ADVISORY_KEYS = {"siem-forward": 0x5145_4D01}


@contextlib.contextmanager
def exclusive(name: str) -> Iterator[bool]:
    """Yields True when this process holds the lock ``name``, False when another one does."""
    if connection.vendor == "postgresql":
        key = _ADVISORY_KEYS[name]
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            row = cursor.fetchone()
        acquired = bool(row and row[0])
        try:
            yield acquired
        finally:
            if acquired:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        return
    path = Path(settings.DATA_DIR) / f"{name}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o640)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
