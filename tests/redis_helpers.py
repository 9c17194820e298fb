"""The one way a test reaches the machine's Redis.

The suite's own database is ``REDIS_URL`` (each engineer and CI give their own, so parallel runs
never share one); without it, db 15 on loopback. A test that needs Redis must not quietly test
something else when Redis is away: under CI (``CI=true``, where ``.ci/run`` starts Redis) that is a
failure, elsewhere a skip that says why. Tests that stop and start Redis run their own
(``tests.live_decisions.OwnRedis``), never this one.
"""

from __future__ import annotations

import os

import pytest

FALLBACK_REDIS_URL = "redis://127.0.0.1:6379/15"


def suite_redis_url() -> str:
    return os.environ.get("REDIS_URL") or FALLBACK_REDIS_URL


def require_redis(url: str) -> None:
    """Fail (CI) or skip (elsewhere) unless Redis at ``url`` answers a ping."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as error:
        message = f"this test needs Redis at {url}: {error}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def reachable_redis_url() -> str:
    """The suite's Redis, checked to answer (see ``require_redis``)."""
    url = suite_redis_url()
    require_redis(url)
    return url
