"""A privileged mark takes effect on the very next decision on every worker, as a revoke does: two
warm gunicorn workers (each holding the case's marks in its cache) answer a check on a trace; a mark
is recorded; checks sent from several connections at once then reach both workers, and every one
denies with ``withheld_privileged``. PostgreSQL only (on SQLite there is no fact cache)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from audit.actor import Actor
from privilege.marks_input import MarkInput
from privilege.services import marks_record
from tests.authz_helpers import grant
from tests.live_decisions import Gunicorn, OwnRedis, ask_every_worker, child_env
from tests.personas import CASE_PROJECT_ID, IMAGE_ID, Cast

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]

CHECK = {
    "user": "investigator",
    "project_id": str(CASE_PROJECT_ID),
    "action": "read",
    "trace_uid": f"{IMAGE_ID}:0-3-1",
}


def _database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def web(cast: Cast, settings: Any, tmp_path: Path) -> Iterator[Gunicorn]:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: the fact cache (and so stale marks) exists only there")
    from authz.cache import fact_cache

    redis = OwnRedis(tmp_path / "redis")
    redis.start()
    settings.REDIS_URL = redis.url
    fact_cache.clear()
    server = Gunicorn(child_env(_database_url(), redis.url, tmp_path / "data"), tmp_path / "web")
    try:
        server.start()
        yield server
    finally:
        server.stop()
        redis.stop()
        fact_cache.clear()


def _mark(cast: Cast, status: str, hour: int) -> None:
    assert cast.case is not None
    marks_record(
        case=cast.case,
        marks=[
            MarkInput(
                str(IMAGE_ID),
                "0-3",
                status,
                datetime.datetime(2026, 11, 1, hour, tzinfo=datetime.UTC),
                "",
                "",
            )
        ],
        by=Actor(username="client:hansken_production", client_name="hansken_production", channel="api"),
    )


def test_a_mark_and_its_reversal_reach_every_worker_at_once(cast: Cast, web: Gunicorn):
    grant(cast, rights=["read"])
    token = cast.tokens["hansken_production"]
    start = web.log_lines()
    warm = ask_every_worker(web, token, CHECK)
    assert set(web.answered_by(start)) == web.workers(), "not every worker was reached"
    assert all(a["status"] == 200 and a["allowed"] for a in warm), warm

    _mark(cast, "confirmed", 10)
    start = web.log_lines()
    after = ask_every_worker(web, token, CHECK)
    assert set(web.answered_by(start)) == web.workers(), "not every worker was reached"
    assert [a.get("reason") for a in after] == ["withheld_privileged"] * len(after), after

    _mark(cast, "rejected", 11)
    start = web.log_lines()
    again = ask_every_worker(web, token, CHECK)
    assert set(web.answered_by(start)) == web.workers()
    assert all(a["status"] == 200 and a["allowed"] for a in again), again
