"""When a worker's fact cache starts over (``authz.cache.FactCache.sync``), in one process: each
way of losing sight of changes (Redis reconnected, a change log shorter than what was read, the
listening connection broken, no listener at all) makes the next decision read the database. Each test
first shows the cache in use: a write that bypasses invalidation is not seen until then. And a grant
write invalidates the cache exactly once (issue #18, item 5)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from audit.actor import Actor
from authz.cache import LOG_KEY, _redis, fact_cache
from authz.change_feed import CHANNEL, change_feed
from authz.models import Grant
from authz.services import case_sign_off, grant_change, grant_revoke
from tests.authz_helpers import check, grant
from tests.live_decisions import OwnRedis, free_port
from tests.personas import Cast
from tests.redis_helpers import reachable_redis_url

LEAD = Actor(username="case_lead", channel="test")


@pytest.fixture
def own_redis(settings: Any, tmp_path: Path) -> Iterator[OwnRedis]:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: without its change feed (SQLite) decisions use no fact cache")
    redis = OwnRedis(tmp_path / "redis")
    redis.start()
    settings.REDIS_URL = redis.url
    fact_cache.clear()
    try:
        yield redis
    finally:
        redis.stop()
        fact_cache.clear()


def _cached_allow_then_silent_revoke(cast: Cast) -> None:
    g = grant(cast)
    assert check(cast)["allowed"] is True
    Grant.objects.filter(pk=g.pk).update(revoked_at=timezone.now())  # no invalidation at all
    assert check(cast)["allowed"] is True  # the cache is in use: the facts from before


def test_a_worker_whose_redis_connection_was_made_anew_starts_over(cast: Cast, own_redis: OwnRedis):
    _cached_allow_then_silent_revoke(cast)
    own_redis.stop()
    own_redis.start()  # same files, same epoch, same log: only the connection tells
    assert check(cast)["reason"] == "grant_revoked"


def test_a_change_log_shorter_than_what_was_read_makes_the_worker_start_over(cast: Cast, own_redis: OwnRedis):
    _cached_allow_then_silent_revoke(cast)
    client = _redis()
    client.rpush(LOG_KEY, "p:nobody", "p:nobody-else", "c:nothing")  # as other workers' changes
    assert check(cast)["allowed"] is True  # read them: none names the investigator
    # As after a restart from an older file, on the same connection: the log lost its tail.
    client.delete(LOG_KEY)
    client.rpush(LOG_KEY, "p:nobody")
    assert check(cast)["reason"] == "grant_revoked"


def test_a_worker_whose_listener_broke_starts_over(cast: Cast, own_redis: OwnRedis):
    _cached_allow_then_silent_revoke(cast)
    generation = change_feed.generation
    pid = change_feed._conn.pgconn.backend_pid
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s, 10000)", [pid])  # waits until it has gone
        assert cursor.fetchone() == (True,)
    assert check(cast)["reason"] == "grant_revoked"
    assert change_feed.generation == generation + 1  # listening again


def test_without_a_listener_no_cached_fact_is_used(cast: Cast, own_redis: OwnRedis, monkeypatch):
    _cached_allow_then_silent_revoke(cast)
    change_feed.close()
    # The listener cannot connect now (the test's own connection is open already and stays).
    monkeypatch.setitem(connection.settings_dict, "PORT", str(free_port()))
    try:
        assert check(cast)["reason"] == "grant_revoked"
        assert check(cast)["reason"] == "grant_revoked"
        assert fact_cache.epoch is None  # dropped: used again only after a start over
    finally:
        monkeypatch.undo()
        change_feed._retry_at = 0.0


def test_on_sqlite_decisions_use_no_cache(cast: Cast, settings):
    if connection.vendor == "postgresql":
        pytest.skip("SQLite only")
    settings.REDIS_URL = reachable_redis_url()
    fact_cache.clear()
    assert fact_cache.sync() is False
    _g = grant(cast)
    assert check(cast)["allowed"] is True
    Grant.objects.filter(pk=_g.pk).update(revoked_at=timezone.now())  # no invalidation at all
    assert check(cast)["reason"] == "grant_revoked"  # straight from the database


@pytest.mark.django_db(transaction=True)
def test_a_grant_write_invalidates_the_decision_cache_once(cast: Cast, own_redis: OwnRedis):
    """Each grant write puts the grantee's key once in Redis's change log and sends one
    notification, whether one grant or several change (a sign-off)."""
    params = {
        k: v for k, v in connection.get_connection_params().items() if k not in ("cursor_factory", "context")
    }
    listener = psycopg.connect(autocommit=True, **params)
    listener.execute(f"LISTEN {CHANNEL}")
    client = _redis()

    def published() -> tuple[list[bytes], list[str]]:
        logged = client.lrange(LOG_KEY, 0, -1)
        client.delete(LOG_KEY)
        listener.execute("SELECT 1")  # a round trip: every notification committed so far is in
        notified = [n.payload for n in listener.notifies(timeout=0.2)]
        return logged, notified

    try:
        published()
        g = grant(cast)
        assert published() == ([b"p:investigator"], ['["p:investigator"]'])
        grant_change(grant=g, rights=["read"], reason="Less", changed_by=cast["case_lead"], by=LEAD)
        assert published() == ([b"p:investigator"], ['["p:investigator"]'])
        grant_revoke(grant=g, reason="Done", revoked_by=cast["case_lead"], by=LEAD)
        assert published() == ([b"p:investigator"], ['["p:investigator"]'])
        grant(cast)
        grant(cast, rights=["export"])
        published()
        case_sign_off(
            case=cast.case,
            person=cast["investigator"],
            reason="Left",
            signed_off_by=cast["case_lead"],
            by=LEAD,
        )
        assert published() == ([b"p:investigator"], ['["p:investigator"]'])
    finally:
        listener.close()
