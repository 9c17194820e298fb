"""No stale allow after a cache or Redis fault (issue #11, item 1), with real peers: two warm gunicorn
workers on the test's PostgreSQL database and a Redis of the test's own. A grant is revoked while
the change cannot reach Redis (Redis stopped, the publish timing out, the writer killed between its
commit and its publish, Redis restarted from an older append-only file); then checks sent from
several connections at once reach both workers, and every one of them denies.

PostgreSQL only: the change reaches the workers through the database (``authz.change_feed``); on
SQLite there is no fact cache to go stale (facts come from the database on every decision)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from audit.actor import Actor
from authz.models import Grant
from authz.services import grant_revoke
from tests.authz_helpers import grant
from tests.live_decisions import REPO, Gunicorn, OwnRedis, ask_every_worker, black_hole, child_env
from tests.personas import CASE_PROJECT_ID, Cast

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]

CHECK = {"user": "investigator", "project_id": str(CASE_PROJECT_ID), "action": "read"}

# A writer that dies after its commit and before anything it does after the commit (the publish to
# Redis among it): the first on-commit callback kills the process. It waits between its revoke and
# its commit until the test says go, so that the workers can be asked in between.
KILLED_WRITER = """
import os, signal, sys
import django
django.setup()
from django.contrib.auth.models import User
from django.db import transaction
from audit.actor import Actor
from authz.models import Grant
from authz.services import grant_revoke

with transaction.atomic():
    transaction.on_commit(lambda: os.kill(os.getpid(), signal.SIGKILL))
    grant_revoke(
        grant=Grant.objects.get(pk=int(sys.argv[1])),
        reason="Left the investigation",
        revoked_by=User.objects.get(username="case_lead"),
        by=Actor(username="case_lead", channel="test"),
    )
    print("revoked, not committed", flush=True)
    sys.stdin.readline()
"""


@dataclass
class Live:
    cast: Cast
    redis: OwnRedis
    web: Gunicorn
    env: dict[str, str]
    tmp: Path

    @property
    def token(self) -> str:
        return self.cast.tokens["hansken_production"]


def _database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def live(cast: Cast, settings: Any, tmp_path: Path) -> Iterator[Live]:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: the fact cache (and so a stale fact) exists only there")
    from authz.cache import fact_cache

    redis = OwnRedis(tmp_path / "redis")
    redis.start()
    settings.REDIS_URL = redis.url  # this process writes, and publishes to the test's own Redis
    fact_cache.clear()
    env = child_env(_database_url(), redis.url, tmp_path / "data")
    web = Gunicorn(env, tmp_path / "web")
    try:
        web.start()
        yield Live(cast, redis, web, env, tmp_path)
    finally:
        web.stop()
        redis.stop()
        fact_cache.clear()


def _warm(live: Live) -> Grant:
    """A grant, and both workers holding it in their cache (each has answered ``allowed``). Shown to
    be the cache: another grant, revoked behind the services' back (no invalidation at all), is
    still allowed by every worker afterwards."""
    g = grant(live.cast)
    unseen = grant(live.cast, grantee="engineer")
    start = live.web.log_lines()
    answers = ask_every_worker(live.web, live.token, CHECK)
    answers += ask_every_worker(live.web, live.token, {**CHECK, "user": "engineer"})
    assert set(live.web.answered_by(start)) == live.web.workers(), "not every worker was reached"
    assert all(a["status"] == 200 and a["allowed"] for a in answers), answers
    Grant.objects.filter(pk=unseen.pk).update(revoked_at=timezone.now())
    start = live.web.log_lines()
    answers = ask_every_worker(live.web, live.token, {**CHECK, "user": "engineer"})
    assert set(live.web.answered_by(start)) == live.web.workers(), "not every worker was reached"
    assert all(a["status"] == 200 and a["allowed"] for a in answers), "a worker did not use its cache"
    return g


def _revoke(live: Live, g: Grant) -> None:
    grant_revoke(
        grant=g,
        reason="Left the investigation",
        revoked_by=live.cast["case_lead"],
        by=Actor(username="case_lead", channel="test"),
    )


def _every_worker_denies(live: Live) -> None:
    start = live.web.log_lines()
    answers = ask_every_worker(live.web, live.token, CHECK)
    assert set(live.web.answered_by(start)) == live.web.workers(), "not every worker was reached"
    assert [a.get("reason") for a in answers] == ["grant_revoked"] * len(answers), answers
    assert not any(a["allowed"] for a in answers)


def test_a_revoke_made_while_redis_is_down_is_honoured_by_every_worker_once_it_is_back(live: Live):
    g = _warm(live)
    live.redis.stop()
    _revoke(live, g)  # its publish to Redis fails: nothing listens
    live.redis.start()  # the same files: every key as before the outage
    _every_worker_denies(live)


def test_a_revoke_whose_publish_times_out_is_honoured_by_every_worker(live: Live, settings: Any):
    g = _warm(live)
    with black_hole() as unreachable:
        settings.REDIS_URL = unreachable  # this writer's publish times out; the workers' Redis is fine
        _revoke(live, g)
    settings.REDIS_URL = live.redis.url
    _every_worker_denies(live)


def test_a_revoke_whose_writer_dies_between_commit_and_publish_is_honoured_by_every_worker(live: Live):
    g = _warm(live)
    writer = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(g.pk)],
        cwd=REPO,
        env=live.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert writer.stdout is not None and writer.stdin is not None
        line = writer.stdout.readline()
        assert line == b"revoked, not committed\n", (line, writer.stderr.read() if writer.stderr else b"")
        # Not committed yet: the grant still holds, and every worker may look at the facts again now.
        answers = ask_every_worker(live.web, live.token, CHECK)
        assert all(a["allowed"] for a in answers), answers
        writer.stdin.write(b"go\n")
        writer.stdin.flush()
        assert writer.wait(timeout=60) == -9  # killed after the commit, before the publish
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait(timeout=10)
    assert Grant.objects.get(pk=g.pk).revoked_at is not None  # the commit did happen
    _every_worker_denies(live)


def test_a_revoke_lost_by_redis_restarting_from_an_older_file_is_honoured_by_every_worker(live: Live):
    g = _warm(live)
    live.redis.stop()
    live.redis.copy_files_to(live.tmp / "older")
    live.redis.start()
    _revoke(live, g)  # published to Redis, and the workers are not asked before...
    live.redis.stop()
    live.redis.restore_files_from(live.tmp / "older")  # ...Redis comes back without that publish
    live.redis.start()
    _every_worker_denies(live)
