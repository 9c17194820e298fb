"""The in-process cache of decision facts, kept exact by PostgreSQL and, fast, by Redis.

Each worker holds the facts of people (with all their grants and deputyships), cases (with their
datasets) and API clients. A change reaches every worker in two ways, both before the next decision:

- **the change feed** (``authz.change_feed``): the writer's transaction sends ``NOTIFY`` with the keys
  it changed (``p:<username>``, ``c:<project id>``); PostgreSQL delivers it when, and only when, that
  transaction commits, to the listening connection each worker reads (without a round trip) before
  every decision. Nothing that happens to Redis or to the writer after the commit can lose it.
- **Redis**: an **epoch** (a random token: when it changes, or Redis lost it, a worker drops
  everything) and a **change log** (a list of the same keys), appended by the writer right after its
  commit and read by every decision in one pipelined round trip. The writer's answer leaves only after
  that append, so once a revoke has been answered, no worker decides from the facts before it; the
  feed alone leaves the short time PostgreSQL takes to pass a notification on (see docs/).

A worker **starts over** (drops every fact and answer, and with ``HG_AUTHZ_PRELOAD`` loads all facts
in one go) whenever it cannot know what it missed: a new epoch; its Redis connection was made anew
(Redis restarted or the socket failed: redis-py reconnects silently, so a connect hook counts it); the
change log is shorter than what it has read (Redis restarted from an older append-only file); its
listening connection was made anew; a notification names everything; or its facts are older than
``HG_AUTHZ_CACHE_MAX_AGE``. Expiry and lapsed screening need no invalidation: the facts hold the dates
and every decision compares them with the clock.

Failure modes, all fail-closed:
- Redis unreachable, or no change feed (SQLite, as in the embedded default; the database refusing the
  listener): no cache; facts come straight from the database for every decision, and the cached ones
  are dropped, so the cache is used again only after a start over.
- Database unreachable: loading raises, and the caller answers with an error, never ``allowed``.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.conf import settings
from django.db import transaction

from authz.answers import Answers
from authz.change_feed import EVERYTHING, change_feed, notify
from authz.decisions import CaseFacts, PersonFacts
from authz.facts import load_cases, load_people
from privilege.rules import Withheld

log = logging.getLogger(__name__)

EPOCH_KEY = "hg:authz:epoch"
LOG_KEY = "hg:authz:changes"
# The log is cut (and the epoch replaced, so every worker starts over) when it grows past this.
LOG_LIMIT = 100_000
MAX_ENTRIES = 500_000
# Cases whose privileged marks a worker keeps (100,000 marks take some 15 MB).
MAX_WITHHELD_CASES = 200
K = TypeVar("K")
V = TypeVar("V")

_redis_lock = threading.Lock()
_redis_clients: dict[str, Any] = {}
# Connections made to Redis by this process (see ``_counted_connect``).
_redis_connects = 0


def _counted_connect(connection: Any) -> None:
    """redis-py calls this on every new connection, also when it silently reconnects after a failure
    or a Redis restart. A worker whose count moved cannot know what it missed meanwhile (a publish
    that failed, a log restored from an older file), so it starts over."""
    global _redis_connects
    connection.on_connect()
    _redis_connects += 1


def _redis() -> Any:
    url = getattr(settings, "REDIS_URL", None)
    if not url:
        return None
    client = _redis_clients.get(url)
    if client is None:
        with _redis_lock:
            import redis

            # Short timeouts: a hung Redis must not hang decisions; they fall back to the database.
            client = _redis_clients.setdefault(
                url,
                redis.Redis.from_url(
                    url,
                    socket_connect_timeout=0.5,
                    socket_timeout=0.5,
                    redis_connect_func=_counted_connect,
                ),
            )
    return client


def _command(*parts: bytes) -> bytes:
    """One Redis command in the protocol's own form (RESP: an array of bulk strings)."""
    return b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%b\r\n" % (len(part), part) for part in parts)


class _StateReader:
    """What ``FactCache.sync`` reads from Redis before every decision (the epoch, the change log's
    length and the part of the log not yet read), as three commands written at once on a connection
    of this process's own and their three replies read back: no MULTI, as the pipeline it replaces.

    The decision path asks this on every request; through redis-py's pipeline object (built, packed,
    a pooled connection taken and given back, each reply parsed through the retry wrapper) it cost
    about 45 µs of CPU per request, written here from pre-packed commands about 10 µs
    (docs/privileged-traces.md, "Speed", session 7). The connection is made by redis-py with the
    client's own settings (address, password, database, TLS, time-outs and ``_counted_connect``), so
    a reconnect counts as every other one and makes the worker start over. Any error closes the
    connection before it is raised: no reply of one round can be read as another's."""

    def __init__(self, client: Any) -> None:
        self._pool = client.connection_pool
        self._connection: Any = None
        self._lock = threading.Lock()

    def read(self, offset: int) -> tuple[Any, int, list[Any]]:
        """The epoch (None when Redis has none), the log's length and its entries from ``offset``."""
        with self._lock:
            connection = self._connection
            if connection is None or connection.pid != os.getpid():
                # Made anew after a fork: the parent's socket stays the parent's.
                connection = self._connection = self._pool.make_connection()
            try:
                connection.send_packed_command((_READ_STATE + _lrange_log_from(offset),), check_health=False)
                return connection.read_response(), connection.read_response(), connection.read_response()
            except BaseException:
                connection.disconnect()
                raise


_READ_STATE = _command(b"GET", EPOCH_KEY.encode()) + _command(b"LLEN", LOG_KEY.encode())


def _lrange_log_from(offset: int) -> bytes:
    return _command(b"LRANGE", LOG_KEY.encode(), b"%d" % offset, b"-1")


# By the client (``_redis``: one per URL, kept for the life of the process).
_state_readers: dict[int, tuple[Any, _StateReader]] = {}


def _state_reader(client: Any) -> _StateReader:
    entry = _state_readers.get(id(client))
    if entry is None or entry[0] is not client:
        with _redis_lock:
            entry = _state_readers[id(client)] = (client, _StateReader(client))
    return entry[1]


def person_key(username: str) -> str:
    return f"p:{username}"


def case_key(project_id: Any) -> str:
    return f"c:{project_id}"


def _publish(keys: tuple[str, ...]) -> None:
    """After the commit: this process's own cache, then Redis's change log (the fast path)."""
    fact_cache.forget(keys)
    client = _redis()
    if client is None:
        return
    try:
        if keys:
            length = client.rpush(LOG_KEY, *keys)
            if length > LOG_LIMIT:
                client.pipeline().delete(LOG_KEY).set(EPOCH_KEY, uuid.uuid4().hex).execute()
        else:
            client.set(EPOCH_KEY, uuid.uuid4().hex)
    except Exception:
        # The change feed carries it all the same (it was sent in the committed transaction).
        log.exception("Could not publish an authorisation change to Redis")


def invalidate(*, people: Iterable[str] = (), cases: Iterable[Any] = ()) -> None:
    """Call from any service whose change can alter a decision, inside its transaction, once per
    change. Name the people (usernames) and cases (project ids) it touches; with neither, every
    worker drops everything (for rare, broad changes).

    The keys go out in the transaction (``NOTIFY``: delivered at commit, or never) and to Redis once
    it has committed. Outside a transaction the change has committed already: both go out at once."""
    keys = tuple([person_key(u) for u in people] + [case_key(p) for p in cases])
    fact_cache.forget(keys)  # this process at once (a reload before the commit is dropped again after)
    notify(keys)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _publish(keys))
    else:
        _publish(keys)


def _keep_out_of_collections() -> None:
    """A case's marks stay until a mark of the case arrives: hundreds of thousands of entries in a
    few lists and sets (100,000 marks). Loaded after the facts were frozen (``_start_over``), they
    would be walked by every full collection of the garbage collector from then on (4-6 ms of CPU
    each, measured) and by the first collection of the younger generation that finds them (about
    9 ms, in the middle of some request). Frozen as the preloaded facts are, the collector never
    looks at them again; they hold no reference cycles, so reference counting frees them when they
    are replaced. The collection first keeps the freeze to live objects (a few ms, once per load of
    a case's marks, which itself takes some 200 ms for 100,000 marks)."""
    gc.collect()
    gc.freeze()


class FactCache:
    """A worker's decision facts and the answers remembered from them. The one rule that keeps the
    two consistent, stated here only (the readers and writers refer to it):

    - An answer never outlives the facts it was worked out from. Whoever drops facts (``forget``,
      ``clear``, ``_start_over``, ``_get_many`` when full) drops the facts first and the answers
      (``self.answers``) last.
    - Answers are fetched before facts: a reader (``authz.api.decision.deciding``) takes its
      environment's ``Answers`` before it reads any fact. An answer worked out from facts dropped
      meanwhile can then only land in an ``Answers`` that has been thrown away.
    - Within a request, another thread may forget or add answers: ``Answers.begin`` and
      ``Answers.still_hold`` detect it, and the request is decided again without remembered answers.
    - A worker starts over (drops every fact and answer and, with ``HG_AUTHZ_PRELOAD``, loads every
      fact again) whenever it cannot know what it missed (the list in the module docstring: a new
      epoch, Redis reconnected, a shorter log, a new listener, a broad change, the maximum age); a
      change to one person or case drops just that entry and every answer.
    - Without the cache (no Redis, or no change feed: SQLite), answers are remembered within one
      request only.
    """

    def __init__(self) -> None:
        self.epoch: str | None = None
        self.offset = 0
        # What this cache was loaded under: the Redis connections and the feed's generation then.
        self.redis_connects = -1
        self.feed_generation = -1
        self.loaded_at = 0.0
        self.people: dict[str, PersonFacts | None] = {}
        self.cases: dict[str, CaseFacts | None] = {}
        self.clients: dict[str, Any] = {}
        # Each case's privileged marks (``privilege.rules.Withheld``), loaded on the first check of a
        # trace in that case and dropped with the case's other facts (``c:<project id>``).
        self.withheld: dict[str, Withheld] = {}
        # Decisions already worked out, by environment (see ``decide_many``): emptied whenever any
        # person or case is dropped or reloaded, so an answer never outlives the facts behind it.
        self.answers: dict[str, Answers] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self.epoch = None
            self.offset = 0
            self.people, self.cases, self.clients, self.answers = {}, {}, {}, {}
            self.withheld = {}

    def answers_for(self, environment: str) -> Answers:
        answers = self.answers.get(environment)
        if answers is None:
            answers = self.answers[environment] = Answers()
        return answers

    def forget(self, keys: tuple[str, ...]) -> None:
        if not keys:
            self.clear()
            return
        with self._lock:
            for key in keys:
                kind, _, name = key.partition(":")
                if kind == "p":
                    self.people.pop(name, None)
                elif kind == "c":
                    self.cases.pop(name, None)
                    self.withheld.pop(name, None)
            # Facts first, answers last (the rule in the class docstring).
            self.answers = {}

    def sync(self) -> bool:
        """Bring the cache in line with the change feed and Redis; False means: do not use the cache
        for this request (and it is dropped, so that it is used again only after a start over)."""
        client = _redis()
        feed = change_feed.poll() if client is not None else None
        if feed is None or client is None:
            self._lost_sight()
            return False
        try:
            # One round trip, no MULTI: the epoch, the log's length and the part of the log this
            # worker has not read.
            epoch, length, changes = _state_reader(client).read(self.offset)
            if epoch is None:
                # Redis restarted empty: start a fresh epoch, so no worker can match an old one.
                client.set(EPOCH_KEY, uuid.uuid4().hex, nx=True)
                epoch = client.get(EPOCH_KEY)
        except Exception:
            log.warning("Redis unreachable: authorisation facts come from the database", exc_info=True)
            self._lost_sight()
            return False
        epoch = epoch.decode() if isinstance(epoch, bytes) else epoch
        connects, generation = _redis_connects, change_feed.generation
        if (
            epoch != self.epoch
            or connects != self.redis_connects
            or generation != self.feed_generation
            or length < self.offset
            or EVERYTHING in feed
            or time.monotonic() - self.loaded_at > settings.HG_AUTHZ_CACHE_MAX_AGE
        ):
            # The log is only ever cut together with a new epoch, and only grows otherwise: every
            # entry below ``length`` was written before the facts are loaded, so reading goes on
            # from there. Notifications already read came from commits before the load.
            self._start_over(epoch, length, connects, generation)
            return True
        if changes:
            self.forget(tuple(c.decode() if isinstance(c, bytes) else c for c in changes))
            self.offset += len(changes)
        if feed:
            self.forget(feed)
        return True

    def _lost_sight(self) -> None:
        if self.epoch is not None:
            self.clear()

    def _start_over(
        self, epoch: str, offset: int, redis_connects: int = -1, feed_generation: int = -1
    ) -> None:
        """Drop everything and (with the preload) load all facts. ``redis_connects`` and
        ``feed_generation`` are what the facts were loaded under (-1: unknown, so the next ``sync``
        starts over again)."""
        people: dict[str, PersonFacts | None] = {}
        cases: dict[str, CaseFacts | None] = {}
        if settings.HG_AUTHZ_PRELOAD:
            # Garbage of earlier requests is collected before the load, so that the freeze below
            # keeps live objects only (cheap: the facts of an earlier load are frozen already).
            gc.collect()
            people = dict(load_people(None))
            cases = dict(load_cases(None))
        with self._lock:
            self.people, self.cases, self.clients, self.answers = people, cases, {}, {}
            self.withheld = {}
            self.epoch, self.offset = epoch, offset
            self.redis_connects, self.feed_generation = redis_connects, feed_generation
            self.loaded_at = time.monotonic()
        if people or cases:
            # The preloaded facts are millions of long-lived objects. Left to the garbage collector,
            # every full collection walks all of them (about half a second for 100,000 grants,
            # during which this worker answers nothing); frozen, it never looks at them again. They
            # hold no reference cycles, so when they are replaced, reference counting frees them.
            # (gc.freeze freezes every tracked object; hence the collection before the load.)
            gc.freeze()

    def _get_many(
        self, store: dict[K, V | None], keys: Iterable[K], loader: Callable[[set[K]], dict[K, V]], use: bool
    ) -> dict[K, V | None]:
        wanted = set(keys)
        if not use:
            loaded = loader(wanted)
            return {key: loaded.get(key) for key in wanted}
        missing = {key for key in wanted if key not in store}
        if missing:
            loaded = loader(missing)
            if len(store) + len(missing) > MAX_ENTRIES:
                store.clear()
                self.answers = {}
            for key in missing:
                store[key] = loaded.get(key)  # None is cached too: "no such person" is a fact
        return {key: store[key] for key in wanted}

    def client(self, digest: str, use: bool) -> Any:
        """The API client with this token digest (a model instance), or None."""
        from api_clients.models import ApiClient

        def load(digests: set[str]) -> dict[str, Any]:
            return {
                client.token_digest: client for client in ApiClient.objects.filter(token_digest__in=digests)
            }

        return self._get_many(self.clients, [digest], load, use)[digest]

    def withheld_for(self, project_ids: Iterable[str], use: bool) -> Callable[[str], Withheld]:
        """The privileged marks of a case by project id, for ``decide_many``: from the cache, or
        loaded now (one query for all of ``project_ids`` not yet there). Without the cache they are
        loaded for this request only. A database error propagates (the caller answers 503)."""
        from privilege.selectors import withheld_of_cases

        store = self.withheld if use else {}
        # Taken before a full store is cleared below: a case held until now is answered from here.
        found = {project_id: store[project_id] for project_id in project_ids if project_id in store}
        missing = {project_id for project_id in project_ids if project_id not in found}
        if missing:
            loaded = withheld_of_cases(missing)
            found.update(loaded)
            if use and len(store) + len(loaded) > MAX_WITHHELD_CASES:
                store.clear()
            store.update(loaded)
            if use:
                _keep_out_of_collections()
        return found.__getitem__

    def roles_of(self, usernames: Iterable[str], use: bool) -> dict[str, str]:
        """Each person's roles as the trail writes them (``PersonFacts.roles``; "" for an unknown
        person): from the facts in the cache, and for people not there one query for their roles
        alone (the people of a request's denials, or of an export check)."""
        from people.roles import role_texts

        people = self.people if use else {}
        found: dict[str, str] = {}
        missing: set[str] = set()
        for username in usernames:
            if username in people:
                person = people[username]
                found[username] = person.roles if person is not None else ""
            else:
                missing.add(username)
        if missing:
            loaded = role_texts(missing)
            found.update((username, loaded.get(username, "")) for username in missing)
        return found

    def people_and_cases(
        self, usernames: Iterable[str], project_ids: Iterable[str], use: bool
    ) -> tuple[dict[str, PersonFacts | None], dict[str, CaseFacts | None]]:
        people = self._get_many(self.people, usernames, load_people, use)
        cases = self._get_many(self.cases, project_ids, load_cases, use)
        return people, cases


fact_cache = FactCache()
