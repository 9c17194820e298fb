"""Forwarding against a real receiver: Debian's rsyslog on loopback (``tests.siem_receiver``), with
TLS from a CA made in the test. Each test counts the unique event ids rsyslog wrote."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from audit.actor import Actor
from audit.models import AuditEvent, ChainCheckpoint
from audit.services import audit_record_many, checkpoint_write
from siem import lock
from siem.forwarder import forward
from siem.models import SiemCursor
from tests.siem_parse import parse_cef, parse_json, parse_syslog
from tests.siem_receiver import (
    Receiver,
    issue_server_certificate,
    make_authority,
    running,
)
from tests.test_siem_formats import HOSTILE

ROOT = Path(__file__).resolve().parent.parent
N = 1200


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pki")
    ca = make_authority(folder, "siem-test-ca")
    rogue = make_authority(folder, "rogue-ca")
    return {
        "ca": ca,
        "good": issue_server_certificate(ca, folder, "localhost"),
        "rogue": issue_server_certificate(rogue, folder, "localhost"),
        "other_host": issue_server_certificate(ca, folder, "siem.elsewhere.example"),
        "rogue_ca": rogue,
    }


def _configure(settings, receiver: Receiver, *, transport: str, body_format: str = "cef", ca=None) -> None:
    settings.SIEM_HOST = "localhost"
    settings.SIEM_PORT = receiver.port
    settings.SIEM_TRANSPORT = transport
    settings.SIEM_FORMAT = body_format
    settings.SIEM_CA_FILE = str(ca.cert_file) if ca else None
    settings.SIEM_TIMEOUT_SECONDS = 5


def _record(count: int, *, actor: str = "investigator", **fields) -> list[str]:
    events = [
        {
            "action": "hansken.read",
            "actor": Actor(username=actor, channel="api", environment="production"),
            "project_id": uuid.uuid4(),
            "details": {"n": index},
            **fields,
        }
        for index in range(count)
    ]
    return [str(row.event_id) for row in audit_record_many(events)]


def _all_ids() -> set[str]:
    return {str(event_id) for event_id in AuditEvent.objects.values_list("event_id", flat=True)}


def _cursor() -> int:
    return SiemCursor.objects.get(pk=1).last_sequence


def _last_sequence() -> int:
    return AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0


def test_it_delivers_n_of_n_events_over_tcp(db, settings, tmp_path):
    with running(Receiver(tmp_path / "rx")) as receiver:
        _configure(settings, receiver, transport="tcp")
        _record(N)
        expected = _all_ids()
        result = forward(chunk_size=500)
        assert result.error == ""
        assert result.events == len(expected) >= N
        received = receiver.wait_for(expected)
    assert received == expected
    assert _cursor() == _last_sequence()


def test_it_delivers_n_of_n_events_over_tls_with_ecs_json(db, settings, tmp_path, pki):
    receiver = Receiver(tmp_path / "rx", identity=pki["good"], authority=pki["ca"])
    with running(receiver):
        _configure(settings, receiver, transport="tls", body_format="json", ca=pki["ca"])
        _record(N)
        expected = _all_ids()
        result = forward(chunk_size=500)
        assert result.error == ""
        received = receiver.wait_for(expected)
        lines = receiver.lines()
    assert received == expected
    assert _cursor() == _last_sequence()
    # Every line rsyslog wrote is one whole record whose body is ECS JSON carrying the same id.
    for line in lines:
        message = parse_syslog(line)
        assert parse_json(message.body)["event"]["id"] == message.params["eventId"]


@pytest.mark.parametrize("certificate", ["rogue", "other_host"])
def test_it_refuses_a_receiver_it_cannot_verify_and_marks_nothing_delivered(
    db, settings, tmp_path, pki, certificate
):
    authority = pki["rogue_ca"] if certificate == "rogue" else pki["ca"]
    receiver = Receiver(tmp_path / "rx", identity=pki[certificate], authority=authority)
    with running(receiver):
        _configure(settings, receiver, transport="tls", ca=pki["ca"])
        _record(10)
        result = forward()
        time.sleep(0.5)
        assert receiver.event_ids() == {}
    assert result.events == 0
    assert "CERTIFICATE_VERIFY_FAILED" in result.error
    cursor = SiemCursor.objects.get(pk=1)
    assert cursor.last_sequence == 0
    assert "certificate" in cursor.last_error.lower()


def test_with_the_receiver_down_the_app_serves_and_the_backlog_shows_then_every_event_arrives(
    cast, settings, tmp_path, pki, client
):
    receiver = Receiver(tmp_path / "rx", identity=pki["good"], authority=pki["ca"])
    _configure(settings, receiver, transport="tls", ca=pki["ca"])
    # Nothing listens on the receiver's port yet.
    _record(300)
    down = forward()
    assert down.events == 0 and down.error
    # The application keeps serving: Hansken's usage events are still accepted.
    response = cast.api("hansken_production").post(
        "/api/v1/audit/events",
        {
            "events": [
                {
                    "event_id": str(uuid.uuid4()),
                    "occurred_at": "2026-01-05T10:00:00Z",
                    "user": "investigator",
                    "project_id": "11111111-1111-4111-8111-111111111111",
                    "action": "read",
                    "outcome": "success",
                }
            ]
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    _record(200)
    backlog_size = AuditEvent.objects.count()
    body = client.get("/readyz").json()
    assert body["checks"]["siem"]["backlog"] == backlog_size
    assert body["checks"]["siem"]["oldest_undelivered_age_seconds"] >= 0
    assert body["checks"]["siem"]["ok"] is True  # younger than SIEM_BACKLOG_MAX_AGE_MINUTES
    settings.SIEM_BACKLOG_MAX_AGE_MINUTES = 0
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["siem"]

    with running(receiver):
        back = forward(chunk_size=100)
        assert back.error == ""
        expected = _all_ids()
        received = receiver.wait_for(expected)
    assert received == expected
    body = client.get("/readyz").json()
    assert body["checks"]["siem"]["backlog"] == 0
    assert body["checks"]["siem"]["ok"] is True


def test_hostile_text_gives_exactly_one_record_at_the_receiver(db, settings, tmp_path):
    with running(Receiver(tmp_path / "rx")) as receiver:
        _configure(settings, receiver, transport="tcp", body_format="cef")
        [event_id] = _record(
            1, actor=HOSTILE, trace_uid=HOSTILE, details={"note": HOSTILE}, action="hansken." + HOSTILE
        )
        assert forward().error == ""
        receiver.wait_for({event_id})
        lines = [line for line in receiver.lines() if event_id in line]
    assert len(lines) == 1
    message = parse_syslog(lines[0])
    _, extension = parse_cef(message.body)
    assert extension["suser"] == HOSTILE
    assert extension["cs3"] == HOSTILE
    assert extension["externalId"] == event_id


def test_it_sends_chain_checkpoints_after_the_events_they_cover(db, settings, tmp_path):
    settings.AUDIT_CHECKPOINT_FILE = str(tmp_path / "checkpoints.log")
    with running(Receiver(tmp_path / "rx")) as receiver:
        _configure(settings, receiver, transport="tcp")
        _record(20)
        checkpoint = checkpoint_write()
        assert checkpoint is not None
        _record(5)
        assert forward().checkpoints == 1
        assert forward().checkpoints == 0  # sent once
        expected = _all_ids()
        receiver.wait_for(expected)
        lines = receiver.lines()
    checkpoints = [parse_syslog(line) for line in lines if ' action="audit.checkpoint"' in line]
    assert len(checkpoints) == 1
    assert checkpoints[0].params["sequence"] == str(checkpoint.sequence)
    assert checkpoints[0].params["hash"] == checkpoint.hash
    position = lines.index(next(line for line in lines if 'action="audit.checkpoint"' in line))
    before = {parse_syslog(line).params["eventId"] for line in lines[:position]}
    covered = {
        str(e)
        for e in AuditEvent.objects.filter(sequence__lte=checkpoint.sequence).values_list(
            "event_id", flat=True
        )
    }
    assert covered <= before
    assert ChainCheckpoint.objects.count() == 1
    assert SiemCursor.objects.get(pk=1).last_checkpoint_sequence == checkpoint.sequence


def test_only_one_forwarder_runs_at_a_time(db, settings, tmp_path):
    with running(Receiver(tmp_path / "rx")) as receiver:
        _configure(settings, receiver, transport="tcp")
        _record(5)
        held, release = threading.Event(), threading.Event()

        def hold() -> None:
            try:
                with lock.exclusive("siem-forward") as acquired:
                    assert acquired
                    held.set()
                    release.wait(10)
            finally:
                connection.close()

        thread = threading.Thread(target=hold)
        thread.start()
        try:
            assert held.wait(10)
            busy = forward()
        finally:
            release.set()
            thread.join()
        assert busy.ran is False and busy.events == 0
        assert forward().events == len(_all_ids())


def test_it_does_nothing_and_says_so_without_a_siem_host(db, settings, client):
    settings.SIEM_HOST = None
    _record(3)
    assert forward().enabled is False
    siem = client.get("/readyz").json()["checks"]["siem"]
    assert siem["forwarding"] == "off" and siem["ok"] is True


# A forwarder process killed in the middle of sending


def _env(data_dir: Path, receiver: Receiver, ca_file: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "hansken_governance.settings.test",
            "HG_DATA_DIR": str(data_dir),  # without DATABASE_URL: a file-backed SQLite database of its own
            "SIEM_HOST": "localhost",
            "SIEM_PORT": str(receiver.port),
            "SIEM_TRANSPORT": "tls",
            "SIEM_FORMAT": "cef",
            "SIEM_CA_FILE": str(ca_file),
            "LOG_LEVEL": "WARNING",
        }
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


@contextlib.contextmanager
def scratch_database(data_dir: Path) -> Iterator[tuple[str | None, Callable[[str], list[tuple[Any, ...]]]]]:
    """The database the forwarder processes share, of the suite's own kind: when the suite runs on
    PostgreSQL, a scratch PostgreSQL database on the same server (dropped afterwards); otherwise a
    SQLite file in ``data_dir``. Gives its URL (None: SQLite) and a function that runs a query on it."""
    suite_url = os.environ.get("DATABASE_URL", "")
    if not suite_url.startswith("postgres"):
        database = data_dir / "db.sqlite3"

        def sqlite_query(sql: str) -> list[tuple[Any, ...]]:
            with contextlib.closing(sqlite3.connect(database)) as db:
                return db.execute(sql).fetchall()

        yield None, sqlite_query
        return
    import psycopg

    name = f"hg_siem_kill_{os.getpid()}"
    server = suite_url.rsplit("/", 1)[0]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')

    def pg_query(sql: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(f"{server}/{name}") as db:
            return db.execute(sql).fetchall()

    try:
        yield f"{server}/{name}", pg_query
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


MAKE_EVENTS = """
import uuid
from audit.actor import Actor
from audit.services import audit_record_many
actor = Actor(username="investigator", channel="api")
for _ in range(12):
    audit_record_many(
        [{"action": "hansken.read", "actor": actor, "project_id": uuid.uuid4()} for _ in range(1000)]
    )
"""


def test_a_forwarder_killed_mid_send_loses_nothing(tmp_path, pki):
    """On the suite's own kind of database (a scratch one: the processes commit for real)."""
    data_dir = tmp_path / "data"
    receiver = Receiver(tmp_path / "rx", identity=pki["good"], authority=pki["ca"])
    with scratch_database(data_dir) as (database_url, query):
        env = _env(data_dir, receiver, pki["ca"].cert_file, database_url)
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "-v", "0"], env=env, cwd=ROOT, check=True)
        subprocess.run([*manage, "shell", "-c", MAKE_EVENTS], env=env, cwd=ROOT, check=True)
        expected = {str(uuid.UUID(str(row[0]))) for row in query("SELECT event_id FROM audit_auditevent")}
        total = query("SELECT MAX(sequence) FROM audit_auditevent")[0][0]
        assert len(expected) == 12000

        with running(receiver):
            worker = subprocess.Popen(
                [*manage, "siem_forward", "--chunk-size", "100"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL
            )
            deadline = time.monotonic() + 60
            # Killed once a quarter has arrived: chunks of 100 are confirmed one connection at a time.
            while len(receiver.event_ids()) < 3000 and time.monotonic() < deadline:
                time.sleep(0.02)
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait()
            rows = query("SELECT last_sequence FROM siem_siemcursor WHERE id = 1")
            killed_at = rows[0][0] if rows else 0
            # Killed in the middle: some chunks were confirmed, not all.
            assert 0 < killed_at < total

            finish = subprocess.run(
                [*manage, "siem_forward"], env=env, cwd=ROOT, capture_output=True, text=True, check=False
            )
            assert finish.returncode == 0, finish.stderr
            received = receiver.wait_for(expected)
            counts = receiver.event_ids()
        assert received >= expected  # every id present
        duplicates = {event_id for event_id, count in counts.items() if count > 1}
        # At-least-once: only what was in flight when the worker died can arrive twice.
        assert len(duplicates) <= 100
        assert query("SELECT last_sequence FROM siem_siemcursor")[0][0] == total
