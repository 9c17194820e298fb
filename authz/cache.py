"""The in-process cache of decision facts, kept exact by a change log in Redis.

Each worker holds the facts of people (with all their grants and deputyships), cases (with their
datasets) and API clients. Two things in Redis keep every worker honest:

- the **epoch**, a random token: when it changes (or Redis lost it), a worker drops everything;
- the **change log**, a list of entity keys (``p:<username>``, ``c:<project id>``): a change to one
  person or case appends its key, and each worker drops just those entries.

Every decision reads both in one round trip (a pipeline) before it looks at any fact, so a revoke, a
deactivation or a narrowed grant is honoured by the very next decision in every worker, while a
change to one person does not make every worker reload everyone. Writers append before their
transaction commits and again after it (``invalidate``), so a worker that reloads in between sees the
second entry. Expiry and lapsed screening need no invalidation: the facts hold the dates and every
decision compares them with the clock.

A worker with a fresh epoch loads all facts in one go (a handful of queries over the whole tables)
when ``HG_AUTHZ_PRELOAD`` is on, so it never pays a cold query per person later.

Failure modes, all fail-closed:
- Redis unreachable (or not configured, as in the embedded default): no cache; facts come straight
  from the database for every decision.
- Database unreachable: loading raises, and the caller answers with an error, never ``allowed``.
- A writer that cannot reach Redis while readers can (a partition): workers drop all facts at least
  every ``HG_AUTHZ_CACHE_MAX_AGE`` seconds, which bounds that rare case.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.conf import settings
from django.db import transaction

from authz.decisions import Answers, CaseFacts, PersonFacts
from authz.facts import load_cases, load_people

log = logging.getLogger(__name__)

EPOCH_KEY = "hg:authz:epoch"
LOG_KEY = "hg:authz:changes"
# The log is cut (and the epoch replaced, so every worker starts over) when it grows past this.
LOG_LIMIT = 100_000
MAX_ENTRIES = 500_000
K = TypeVar("K")
V = TypeVar("V")

_redis_lock = threading.Lock()
_redis_clients: dict[str, Any] = {}


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
                url, redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
            )
    return client


def person_key(username: str) -> str:
    return f"p:{username}"


def case_key(project_id: Any) -> str:
    return f"c:{project_id}"


def _publish(keys: tuple[str, ...]) -> None:
    # This process's own cache first, whatever Redis says.
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
        log.exception("Could not publish an authorisation change to Redis")


def invalidate(*, people: Iterable[str] = (), cases: Iterable[Any] = ()) -> None:
    """Call from any service (or signal) whose change can alter a decision, inside its transaction.
    Name the people (usernames) and cases (project ids) it touches; with neither, every worker drops
    everything (for rare, broad changes)."""
    keys = tuple([person_key(u) for u in people] + [case_key(p) for p in cases])
    _publish(keys)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _publish(keys))


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
      fact again) when the epoch in Redis is new (a broad change, a cut log, or Redis that lost it)
      or its facts are older than ``HG_AUTHZ_CACHE_MAX_AGE``; a change to one person or case drops
      just that entry and every answer.
    - Without the cache (no Redis), answers are remembered within one request only.
    """

    def __init__(self) -> None:
        self.epoch: str | None = None
        self.offset = 0
        self.loaded_at = 0.0
        self.people: dict[str, PersonFacts | None] = {}
        self.cases: dict[str, CaseFacts | None] = {}
        self.clients: dict[str, Any] = {}
        # Decisions already worked out, by environment (see ``decide_many``): emptied whenever any
        # person or case is dropped or reloaded, so an answer never outlives the facts behind it.
        self.answers: dict[str, Answers] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self.epoch = None
            self.offset = 0
            self.people, self.cases, self.clients, self.answers = {}, {}, {}, {}

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
            # Facts first, answers last (the rule in the class docstring).
            self.answers = {}

    def sync(self) -> bool:
        """Bring the cache in line with Redis; False means: do not use the cache for this request."""
        client = _redis()
        if client is None:
            return False
        try:
            # One round trip, no MULTI: the epoch and the part of the log this worker has not seen.
            epoch, changes = (
                client.pipeline(transaction=False).get(EPOCH_KEY).lrange(LOG_KEY, self.offset, -1).execute()
            )
            if epoch is None:
                # Redis restarted empty: start a fresh epoch, so no worker can match an old one.
                client.set(EPOCH_KEY, uuid.uuid4().hex, nx=True)
                epoch = client.get(EPOCH_KEY)
            epoch = epoch.decode() if isinstance(epoch, bytes) else epoch
            too_old = time.monotonic() - self.loaded_at > settings.HG_AUTHZ_CACHE_MAX_AGE
            # The log is only ever cut together with a new epoch, so on a new epoch its length now is
            # where this worker's reading starts. (A change published between the two reads is
            # published again after its commit, so it cannot be missed.)
            start_at = client.llen(LOG_KEY) if epoch != self.epoch or too_old else None
        except Exception:
            log.warning("Redis unreachable: authorisation facts come from the database", exc_info=True)
            return False
        if start_at is not None:
            self._start_over(epoch, start_at)
        elif changes:
            self.forget(tuple(c.decode() if isinstance(c, bytes) else c for c in changes))
            self.offset += len(changes)
        return True

    def _start_over(self, epoch: str, offset: int) -> None:
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
            self.epoch, self.offset = epoch, offset
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

    def people_and_cases(
        self, usernames: Iterable[str], project_ids: Iterable[str], use: bool
    ) -> tuple[dict[str, PersonFacts | None], dict[str, CaseFacts | None]]:
        people = self._get_many(self.people, usernames, load_people, use)
        cases = self._get_many(self.cases, project_ids, load_cases, use)
        return people, cases


fact_cache = FactCache()
