"""The in-process cache of decision facts, kept honest by one shared generation token in Redis.

Every change that can alter a decision (grants, people, screening, roles, cases, deputies, datasets,
API clients) replaces the generation token, before its transaction commits and again after. Each
decision first reads the token (one Redis GET); a worker whose cached facts belong to another token
throws them away. So a revoke, a deactivation or a lapsed deputyship is honoured by the very next
decision in every worker. Expiry and lapsed screening need no invalidation at all: the facts hold the
dates and every decision compares them with the clock.

Failure modes, all fail-closed:
- Redis unreachable (or not configured, as in the embedded default): no cache; facts come straight
  from the database for every decision.
- Database unreachable: loading raises, and the caller answers with an error, never ``allowed``.
- A change whose post-commit replacement of the token fails while Redis stays reachable for readers
  (a partition) could leave a worker with old facts; cached facts therefore also age out after
  ``HG_AUTHZ_CACHE_MAX_AGE`` seconds (default 30), which bounds that rare case.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.conf import settings
from django.db import transaction

from authz.decisions import CaseFacts, PersonFacts
from authz.facts import load_cases, load_people

log = logging.getLogger(__name__)

GENERATION_KEY = "hg:authz:generation"
MAX_ENTRIES = 200_000
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


def _replace_generation() -> None:
    client = _redis()
    if client is None:
        return
    try:
        client.set(GENERATION_KEY, uuid.uuid4().hex)
    except Exception:
        log.exception("Could not replace the authorisation cache generation in Redis")
    # This process's own cache is dropped whatever Redis said.
    fact_cache.clear()


def invalidate() -> None:
    """Call from any service (or signal) whose change can alter a decision, inside its transaction."""
    _replace_generation()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(_replace_generation)


def current_generation() -> str | None:
    """The shared token, or None when there is no usable Redis (then: no caching)."""
    client = _redis()
    if client is None:
        return None
    try:
        value = client.get(GENERATION_KEY)
        if value is None:
            # Redis restarted empty: start a fresh token, so no worker can match an old one.
            client.set(GENERATION_KEY, uuid.uuid4().hex, nx=True)
            value = client.get(GENERATION_KEY)
    except Exception:
        log.warning("Redis unreachable: authorisation facts come from the database", exc_info=True)
        return None
    return value.decode() if isinstance(value, bytes) else value


class FactCache:
    def __init__(self) -> None:
        self.generation: str | None = None
        self.loaded_at = 0.0
        self.people: dict[str, PersonFacts | None] = {}
        self.cases: dict[str, CaseFacts | None] = {}
        self.clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self.generation = None
            self.people = {}
            self.cases = {}
            self.clients = {}

    def sync(self) -> bool:
        """Bring the cache in line with the shared generation; False means: do not use the cache."""
        generation = current_generation()
        if generation is None:
            return False
        max_age = settings.HG_AUTHZ_CACHE_MAX_AGE
        now = time.monotonic()
        if generation != self.generation or now - self.loaded_at > max_age:
            with self._lock:
                self.people, self.cases, self.clients = {}, {}, {}
                self.generation = generation
                self.loaded_at = now
        return True

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
