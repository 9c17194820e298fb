"""A real database outage for a test: the server ends the test's own connection.

``dropped_connection`` asks PostgreSQL, from a second connection, to terminate the backend that
serves Django's default connection (``pg_terminate_backend``), as a database restart or a failover
does; Django does not know until it next uses the connection. Afterwards the dead connection is
closed, so Django opens a new one on next use (the test's teardown). PostgreSQL only: an embedded
SQLite file has no connection to drop, so tests that need one are skipped there, not passed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from django.db import connection


def require_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: an embedded SQLite file has no server connection to drop")


@contextmanager
def dropped_connection() -> Iterator[int]:
    require_postgresql()
    assert not connection.in_atomic_block, (
        "use a transactional test: the dropped transaction cannot roll back"
    )
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    s = connection.settings_dict
    with psycopg.connect(
        dbname=s["NAME"],
        user=s["USER"],
        password=s["PASSWORD"] or None,
        host=s["HOST"] or "127.0.0.1",
        port=s["PORT"] or 5432,
        autocommit=True,
    ) as other:
        assert other.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone() == (True,)
        deadline = time.monotonic() + 10
        while other.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
            assert time.monotonic() < deadline, "the backend did not end"
            time.sleep(0.05)
    try:
        yield pid
    finally:
        connection.close()
