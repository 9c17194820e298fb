"""The checkpoint file: one JSON line per checkpoint, appended and never rewritten, outside the
database (``AUDIT_CHECKPOINT_FILE``, default ``HG_DATA_DIR/audit-checkpoints.log``).

The table ``ChainCheckpoint`` can be cut together with the trail by whoever owns the database; the
file is a second witness that such a cut does not reach (the SIEM issue sends checkpoints off the
machine as well). A new database with an old file fails verification, on purpose: move the file
away when a database is deliberately replaced.
"""

from __future__ import annotations

import datetime
import json
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings


@dataclass(frozen=True)
class FileCheckpoint:
    sequence: int
    hash: str
    created_at: str
    line: int


class DamagedCheckpointFile(Exception):
    pass


def path() -> Path:
    configured = getattr(settings, "AUDIT_CHECKPOINT_FILE", None)
    return Path(configured) if configured else Path(settings.DATA_DIR) / "audit-checkpoints.log"


def append(*, sequence: int, digest: str, created_at: datetime.datetime) -> None:
    target = path()
    target.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(
        {"sequence": sequence, "hash": digest, "created_at": created_at.astimezone(datetime.UTC).isoformat()},
        sort_keys=True,
    )
    # O_APPEND: each line lands at the end even with two writers; fsync: a checkpoint that was
    # reported written survives a crash.
    fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def read() -> list[FileCheckpoint] | None:
    """Every checkpoint in the file, or None when there is no file."""
    target = path()
    if not target.exists():
        return None
    found: list[FileCheckpoint] = []
    with target.open(encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                data = json.loads(text)
                found.append(
                    FileCheckpoint(int(data["sequence"]), str(data["hash"]), str(data["created_at"]), number)
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise DamagedCheckpointFile(f"line {number} of {target} is damaged") from exc
    return found
