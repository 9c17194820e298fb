"""Tests reach the machine's Redis only through ``tests.redis_helpers``: the suite's own database
(``REDIS_URL``), checked to answer, failing under CI and skipping elsewhere when it does not."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.redis_helpers import FALLBACK_REDIS_URL, reachable_redis_url, suite_redis_url

NOWHERE = "redis://127.0.0.1:1/0"  # nothing listens there: connection refused
TESTS = Path(__file__).parent


def test_the_suites_redis_database_is_the_one_the_run_was_given(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6390/5")
    assert suite_redis_url() == "redis://127.0.0.1:6390/5"
    monkeypatch.delenv("REDIS_URL")
    assert suite_redis_url() == FALLBACK_REDIS_URL


def test_an_unreachable_redis_fails_the_test_under_ci(monkeypatch):
    monkeypatch.setenv("REDIS_URL", NOWHERE)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=re.escape(f"needs Redis at {NOWHERE}")):
        reachable_redis_url()


def test_an_unreachable_redis_skips_the_test_elsewhere(monkeypatch):
    monkeypatch.setenv("REDIS_URL", NOWHERE)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=re.escape(f"needs Redis at {NOWHERE}")):
        reachable_redis_url()


def test_no_test_names_a_redis_database_of_its_own():
    """A hard-coded database (db 15 on the machine's Redis) is shared by every parallel run and
    is never pinged; tests take ``reachable_redis_url()`` instead (their own Redis server on its
    own port, ``OwnRedis``, is another matter)."""
    fixed = re.compile(r"redis://[^\"'\s]*:6379/\d+")
    offenders = [
        f"{path.name}:{number}"
        for path in sorted(TESTS.glob("**/*.py"))
        # redis_helpers.py holds the fallback; test_production_shape.py only has `check` read a URL.
        if path.name not in {"redis_helpers.py", "test_production_shape.py"} and "peers" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if fixed.search(line)
    ]
    assert offenders == []
