"""A real Celery worker and a real beat on a real Redis broker (issue 16, item 10): beat, given a
short schedule (``tests.celery_short_beat``), sends the token sweep; the worker (the project's own
app, as production starts it) runs it; its effect is seen in the database: the expired client is
switched off and the trail says so.

PostgreSQL only: worker and beat are other processes, which share the test database only through a
server. The Redis is the test's own (``tests.live_decisions.OwnRedis``), so no other queue is touched.
"""

from __future__ import annotations

import datetime
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from api_clients.models import ApiClient
from api_clients.services import api_client_create
from audit.actor import Actor
from audit.models import AuditEvent
from tests.live_decisions import REPO, OwnRedis, child_env
from tests.personas import Cast

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]

SWEEP = "api_clients.tasks.expire_tokens"


def _database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", *argv], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[OwnRedis]:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: worker and beat share the test database through a server")
    own = OwnRedis(tmp_path / "redis")
    own.start()
    try:
        yield own
    finally:
        own.stop()


def test_beat_sends_a_scheduled_task_and_the_worker_runs_it_on_redis(
    cast: Cast, redis: OwnRedis, tmp_path: Path
):
    client, _ = api_client_create(
        name="ci-expired", environment="test", scopes=["reports:write"], by=Actor.command("tests")
    )
    ApiClient.objects.filter(pk=client.pk).update(expires_at=timezone.now() - datetime.timedelta(days=1))
    env = child_env(_database_url(), redis.url, tmp_path / "data")
    worker_log, beat_log = tmp_path / "worker.log", tmp_path / "beat.log"
    worker = _start(
        ["-A", "hansken_governance", "worker", "--pool", "solo", "--without-heartbeat", "-l", "info"],
        env,
        worker_log,
    )
    beat = _start(
        ["-A", "tests.celery_short_beat", "beat", "-s", str(tmp_path / "beat-schedule"), "-l", "info"],
        env,
        beat_log,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            client.refresh_from_db()
            if not client.is_active:
                break
            assert worker.poll() is None, worker_log.read_text()[-3000:]
            assert beat.poll() is None, beat_log.read_text()[-3000:]
            time.sleep(0.5)
    finally:
        _stop(beat)
        _stop(worker)
    logs = f"worker:\n{worker_log.read_text()[-3000:]}\nbeat:\n{beat_log.read_text()[-3000:]}"
    client.refresh_from_db()
    assert not client.is_active, logs
    assert AuditEvent.objects.filter(action="api_token.expired", object_id=str(client.pk)).count() == 1, logs
    # Sent by beat from the short schedule, through Redis, and run by the worker: each says so.
    assert f"Sending due task expire-api-tokens-now ({SWEEP})" in beat_log.read_text(), logs
    assert f"Task {SWEEP}[" in worker_log.read_text() and "succeeded" in worker_log.read_text(), logs
    assert "redis://" in worker_log.read_text(), logs  # the worker's banner names its transport
