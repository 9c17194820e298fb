"""The transactional half of decision-cache invalidation: PostgreSQL ``NOTIFY`` from the writer's own
transaction, and one ``LISTEN`` connection per worker, read without a round trip before each decision.

PostgreSQL delivers a notification when, and only when, the transaction that sent it commits, to
every session listening at that moment. So a change that commits reaches every worker whatever
happens to Redis or to the writer afterwards (a failed or timed-out publish, a writer killed between
its commit and its publish, Redis restarted from an older file); a change that rolls back reaches
none. Reading costs one non-blocking ``recv`` (``consume_input``), about a microsecond: the
notifications wait in the worker's socket until it looks. When the listening connection breaks (the
database restarted, the session was terminated), what was sent meanwhile is unknown, so the feed's
``generation`` changes when it listens again and the fact cache starts over (``authz.cache``).

Only PostgreSQL has this; on SQLite ``poll`` answers None and the decision path does not cache.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

import orjson
from django.db import connections, transaction

log = logging.getLogger(__name__)

CHANNEL = "hg_authz"
# The payload that means "every worker drops everything" (a key is "p:..." or "c:...", never this).
EVERYTHING = "*"
# PostgreSQL refuses payloads of 8,000 bytes or more; a longer list of keys becomes EVERYTHING.
PAYLOAD_LIMIT = 7900
# After a failed connect, decisions go to the database (no cache) and the next attempt waits this long,
# so a database that refuses the listener costs each decision nothing more than its own queries.
RETRY_AFTER = 1.0
NOTHING: tuple[str, ...] = ()


def notify(keys: tuple[str, ...]) -> None:
    """Inside the writer's transaction: the keys of the people and cases it changed (none: all).
    Delivered by PostgreSQL when that transaction commits; nothing on another database."""
    db = transaction.get_connection()
    if db.vendor != "postgresql":
        return
    payload = orjson.dumps(list(keys)).decode() if keys else EVERYTHING
    if len(payload.encode()) > PAYLOAD_LIMIT:
        payload = EVERYTHING
    with db.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, payload])


def _keys_of(payload: str) -> list[str] | None:
    """The keys a notification names; None for "everything" (or anything not understood)."""
    if payload == EVERYTHING:
        return None
    try:
        keys = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
        return None
    return keys


class ChangeFeed:
    """This process's listening connection. ``poll`` gives the keys notified since the last poll,
    ``(EVERYTHING,)`` when a notification names everything, or None when there is no feed now (not
    PostgreSQL, or the database cannot be reached): then decisions must not use cached facts.
    ``generation`` changes each time the feed starts listening anew."""

    def __init__(self) -> None:
        self.generation = 0
        self._conn: Any = None
        self._broken = False
        self._retry_at = 0.0
        self._lock = threading.Lock()
        # A connection inherited through fork() belongs to the parent: the child drops it unused.
        # (Closing it in the child would end the parent's session: libpq says goodbye on the socket.)
        self._inherited: list[Any] = []
        os.register_at_fork(after_in_child=self._after_fork)

    def _after_fork(self) -> None:
        if self._conn is not None:
            self._inherited.append(self._conn)
        self._conn = None
        self._lock = threading.Lock()

    def poll(self) -> tuple[str, ...] | None:
        with self._lock:
            conn = self._conn
            if conn is None:
                conn = self._listen()
                if conn is None:
                    return None
            pgconn = conn.pgconn
            notifications = []
            try:
                pgconn.consume_input()
                # Parsing what arrived may call the notice handler (which marks the feed broken).
                notification = pgconn.notifies()
                while notification is not None:
                    notifications.append(notification)
                    notification = pgconn.notifies()
            except Exception:
                self._broken = True
            if self._broken:
                # Whatever was sent since the break is unknown: listen anew (the generation moves on,
                # so the cache starts over), or, failing that, no cache for now.
                self._close()
                return None if self._listen() is None else NOTHING
            if not notifications:
                return NOTHING
            keys: list[str] = []
            for notification in notifications:
                named = _keys_of(notification.extra.decode(errors="replace"))
                if named is None:
                    return (EVERYTHING,)
                keys.extend(named)
            return tuple(keys)

    def _listen(self) -> Any:
        if time.monotonic() < self._retry_at:
            return None
        db = connections["default"]
        if db.vendor != "postgresql":
            return None
        import psycopg

        params = db.get_connection_params()
        for django_only in ("cursor_factory", "context", "prepare_threshold"):
            params.pop(django_only, None)
        params.setdefault("connect_timeout", 2)
        # A connection that silently died (no FIN: a partition) is noticed within about 25 s.
        params.setdefault("keepalives", 1)
        params.setdefault("keepalives_idle", 10)
        params.setdefault("keepalives_interval", 5)
        params.setdefault("keepalives_count", 3)
        params["application_name"] = "hansken-governance authz listener"
        try:
            conn = psycopg.connect(autocommit=True, **params)
            # Any message the server sends this idle session unasked (a FATAL on termination, a
            # shutdown) means it is going away: treat the feed as broken at once.
            conn.add_notice_handler(self._on_notice)
            conn.execute(f"LISTEN {CHANNEL}")
        except Exception:
            log.warning("Cannot listen for authorisation changes: no decision cache for now", exc_info=True)
            self._retry_at = time.monotonic() + RETRY_AFTER
            return None
        self._conn, self._broken = conn, False
        self.generation += 1
        return conn

    def _on_notice(self, diagnostic: Any) -> None:
        self._broken = True

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:
                log.debug("Closing the broken listener failed", exc_info=True)

    def close(self) -> None:
        """Stop listening (tests, before their database is dropped)."""
        with self._lock:
            self._close()


change_feed = ChangeFeed()
