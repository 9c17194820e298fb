"""The fact cache's one Redis read per decision (``authz.cache._StateReader``): the epoch, the change
log's length and its unread part, written as pre-packed commands on a connection of the process's
own. Against a ``redis-server`` of the test's own: it gives what redis-py's own commands give, a
failed round leaves no reply behind for the next one, and a forked child never uses its parent's
socket."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from authz import cache
from authz.cache import EPOCH_KEY, LOG_KEY, _StateReader
from tests.live_decisions import OwnRedis


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[redis.Redis]:
    server = OwnRedis(tmp_path / "redis")
    server.start()
    client = redis.Redis.from_url(server.url, redis_connect_func=cache._counted_connect)
    try:
        yield client
    finally:
        client.close()
        server.stop()


def test_it_reads_what_the_commands_give(own_redis: redis.Redis):
    reader = _StateReader(own_redis)
    assert reader.read(0) == (None, 0, [])  # nothing there yet
    own_redis.set(EPOCH_KEY, "e1")
    own_redis.rpush(LOG_KEY, "p:anna", "c:1234", "p:bert")
    for offset in range(5):
        assert reader.read(offset) == (
            own_redis.get(EPOCH_KEY),
            own_redis.llen(LOG_KEY),
            own_redis.lrange(LOG_KEY, offset, -1),
        )
    assert reader.read(1) == (b"e1", 3, [b"c:1234", b"p:bert"])
    assert reader.read(3) == (b"e1", 3, [])


def test_a_failed_round_leaves_no_reply_for_the_next(own_redis: redis.Redis):
    reader = _StateReader(own_redis)
    own_redis.set(EPOCH_KEY, "e1")
    own_redis.set(LOG_KEY, "not a list")  # LLEN and LRANGE answer WRONGTYPE after GET's reply
    with pytest.raises(redis.ResponseError):
        reader.read(0)
    own_redis.delete(LOG_KEY)
    own_redis.rpush(LOG_KEY, "p:anna")
    # Read on a connection left mid-round, this would be LLEN's error and LRANGE's: the right answer
    # shows the connection was closed and made anew.
    assert reader.read(0) == (b"e1", 1, [b"p:anna"])


def test_a_reconnect_is_counted(own_redis: redis.Redis):
    """A connection made anew moves ``_redis_connects``, which makes the worker start over
    (``FactCache.sync``)."""
    reader = _StateReader(own_redis)
    reader.read(0)
    own_redis.client_kill_filter(_type="normal", skipme=True)  # drops the reader's connection
    before = cache._redis_connects
    with pytest.raises(redis.ConnectionError):
        reader.read(0)
    assert reader.read(0) == (None, 0, [])
    assert cache._redis_connects == before + 1


def test_a_forked_child_makes_its_own_connection(own_redis: redis.Redis):
    reader = _StateReader(own_redis)
    own_redis.set(EPOCH_KEY, "e1")
    assert reader.read(0) == (b"e1", 0, [])
    pid = os.fork()
    if pid == 0:  # the child: reads on a connection of its own, then leaves at once
        try:
            own_redis.rpush(LOG_KEY, "p:child")
            code = 0 if reader.read(0) == (b"e1", 1, [b"p:child"]) else 1
        except BaseException:
            code = 2
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    # The parent's connection was neither used nor shut down by the child.
    assert reader.read(0) == (b"e1", 1, [b"p:child"])
