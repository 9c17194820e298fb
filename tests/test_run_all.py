"""``make run`` for real: ``python -m tools.run_all`` as a subprocess on the embedded
default (SQLite, filesystem broker) in a fresh data folder, then the demo data it loads.

The process tests share one running instance (module fixture) and run in file order; the last one
stops it with a terminal's Ctrl-C. Each also works on its own, since the fixture starts it.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import io
import os
import re
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from rest_framework.test import APIClient

from api_clients.models import ApiClient
from audit.models import AuditEvent
from cases.models import Case, Dataset
from cases.selectors import is_case_manager
from people.management.commands.seed_demo import CASES, DEMO_CLIENT_NAME, PEOPLE, demo_uuid
from people.roles import SECOND_FACTOR_ROLES, roles_of
from privacy_statement.models import StatementVersion
from tests.second_factor_helpers import code_now, key_from_page

REPO = Path(__file__).resolve().parent.parent
START_TIMEOUT = 180.0  # migrate, collectstatic and the demo story on a loaded two-core machine
STOP_TIMEOUT = 45.0
DEMO_LINE = re.compile(r"^\s+(\S+)\s+(\S+)\s+password: (\S+)$", re.MULTILINE)
EXPIRE_TOKENS = "api_clients.tasks.expire_tokens"
PID_LINE = re.compile(r"^\s+(web|worker|beat)\s+pid (\d+)", re.MULTILINE)


@dataclass
class Running:
    process: subprocess.Popen[bytes]
    log: Path
    data_dir: Path
    port: int
    env: dict[str, str]
    pids: dict[str, int] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a live process; None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name sits in parentheses and may contain spaces: split after the last ")".
    state, ppid = text[text.rindex(")") + 2 :].split()[:2]
    return state, int(ppid)


def _alive(pid: int) -> bool:
    found = _proc_stat(pid)
    return found is not None and found[0] != "Z"


def _cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def _descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            found = _proc_stat(int(entry.name))
            if found:
                parents[int(entry.name)] = found[1]
    result: set[int] = set()
    frontier = {pid}
    while frontier:
        children = {child for child, parent in parents.items() if parent in frontier}
        frontier = children - result
        result |= children
    return result


def _healthz(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return response.status == 200 and b'"ok"' in response.read()
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    data_dir = tmp_path_factory.mktemp("run_all_data")
    log = data_dir.parent / "run_all.log"
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="hansken_governance.settings.local",
        HG_DATA_DIR=str(data_dir),
        HG_PORT=str(port),
        PYTHONUNBUFFERED="1",
    )
    with log.open("wb") as out:
        # Its own process group, as a shell gives a foreground job: Ctrl-C goes to the group.
        process = subprocess.Popen(
            [sys.executable, "-m", "tools.run_all"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            process_group=0,
        )
    handle = Running(process=process, log=log, data_dir=data_dir, port=port, env=env)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not ("Press Ctrl-C" in handle.output() and _healthz(port)):
            if process.poll() is not None:
                pytest.fail(f"run_all exited with {process.returncode}:\n{handle.output()[-4000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"run_all not ready within {START_TIMEOUT}s:\n{handle.output()[-4000:]}")
            time.sleep(0.5)
        text = handle.output()
        handle.pids = {name: int(pid) for name, pid in PID_LINE.findall(text)}
        handle.passwords = {username: password for username, _, password in DEMO_LINE.findall(text)}
        yield handle
    finally:
        if process.poll() is None:  # a test failed before the stop test: leave nothing behind
            for pid in [process.pid, *_descendants(process.pid)]:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)
            process.wait(timeout=10)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _sign_in(url: str, username: str, password: str) -> tuple[int, str, urllib.request.OpenerDirector]:
    """Signs in through the login form, CSRF token and all; returns (status, location, browser)."""
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    with browser.open(f"{url}/accounts/login/", timeout=10) as page:
        html = page.read().decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "the login form has no CSRF token"
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": match.group(1), "username": username, "password": password, "next": ""}
    ).encode()
    try:
        with browser.open(f"{url}/accounts/login/", data=form, timeout=10) as response:
            return response.status, "", browser
    except urllib.error.HTTPError as redirect:  # the 302 arrives as an error without a redirect handler
        return redirect.code, redirect.headers.get("Location", ""), browser


def _enrol_second_factor(url: str, browser: urllib.request.OpenerDirector) -> str:
    """After the password of a person whose roles require a second factor: the enrolment page, read
    as a person reads it (the key shown as text), answered with the app's code; returns the page of
    recovery codes that completes the sign-in."""
    with browser.open(f"{url}/accounts/login/enrol/", timeout=10) as page:
        html = page.read().decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "the enrolment form has no CSRF token"
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": match.group(1), "code": code_now(key_from_page(html))}
    ).encode()
    with browser.open(f"{url}/accounts/login/enrol/", data=form, timeout=10) as response:
        assert response.status == 200
        return response.read().decode()


@pytest.mark.processes
def test_it_starts_gunicorn_celery_worker_and_beat_as_its_children(running: Running):
    assert set(running.pids) == {"web", "worker", "beat"}, running.output()[-3000:]
    expected = {
        "web": ["gunicorn", "hansken_governance.wsgi", f"127.0.0.1:{running.port}"],
        "worker": ["celery", "-A hansken_governance", " worker"],
        "beat": ["celery", "-A hansken_governance", " beat", str(running.data_dir / "celerybeat-schedule")],
    }
    for name, pid in running.pids.items():
        assert _alive(pid), f"{name} (pid {pid}) is not running"
        found = _proc_stat(pid)
        assert found is not None
        assert found[1] == running.process.pid  # its own child, not someone else's
        command = _cmdline(pid)
        for part in expected[name]:
            assert part in command, f"{name}: {part!r} not in {command!r}"
    gunicorn_workers = [p for p in _descendants(running.pids["web"]) if "gunicorn" in _cmdline(p)]
    assert len(gunicorn_workers) == 2
    assert "Demo data created" in running.output()


@pytest.mark.processes
def test_it_answers_on_the_printed_address(running: Running):
    assert f"Hansken Governance is running: {running.url}/" in running.output()
    with urllib.request.urlopen(f"http://127.0.0.1:{running.port}/readyz", timeout=10) as response:
        body = response.read().decode()
    assert '"database": {"ok": true, "vendor": "sqlite"}' in body
    assert '"broker": {"ok": true, "kind": "filesystem"}' in body


@pytest.mark.processes
def test_the_worker_runs_a_task_sent_through_the_filesystem_broker(running: Running):
    database = running.data_dir / "db.sqlite3"

    def client_state() -> tuple[int, int]:
        with sqlite3.connect(database, timeout=10) as db:
            (active,) = db.execute(
                "SELECT is_active FROM api_clients_apiclient WHERE name = ?", [DEMO_CLIENT_NAME]
            ).fetchone()
            (audited,) = db.execute(
                "SELECT COUNT(*) FROM audit_auditevent WHERE action = 'api_token.expired'"
            ).fetchone()
        return active, audited

    assert client_state() == (1, 0)
    # Time passes: the demo client's token has expired (as if a year went by).
    with sqlite3.connect(database, timeout=10) as db:
        db.execute(
            "UPDATE api_clients_apiclient SET expires_at = '2000-01-01 00:00:00' WHERE name = ?",
            [DEMO_CLIENT_NAME],
        )
    # The task beat sends every 15 minutes, sent now by hand with the same settings and broker.
    sent = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "hansken_governance", "call", EXPIRE_TOKENS],
        cwd=REPO,
        env=running.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert sent.returncode == 0, sent.stderr
    deadline = time.monotonic() + 30
    while client_state() != (0, 1) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert client_state() == (0, 1), running.output()[-3000:]
    assert f"Task {EXPIRE_TOKENS}" in running.output()  # the worker's own log line


@pytest.mark.processes
def test_every_demo_person_can_sign_in_with_the_printed_password(running: Running):
    assert set(running.passwords) == {person.username for person in PEOPLE}
    status, _, _ = _sign_in(running.url, "lead.devries", "not-the-password")
    assert status == 200  # the form again, with an error
    required = {person.username for person in PEOPLE if person.role in SECOND_FACTOR_ROLES}
    assert required == {"admin.bos", "privacy.meijer", "security.mulder"}
    for username, password in running.passwords.items():
        status, location, browser = _sign_in(running.url, username, password)
        if username in required:
            # The password alone does not sign them in: they enrol a second factor first.
            assert (status, location) == (302, "/accounts/login/enrol/"), username
            assert 'id="recovery-codes-continue" href="/"' in _enrol_second_factor(running.url, browser)
        else:
            assert (status, location) == (302, "/"), username
        with browser.open(f"{running.url}/", timeout=10) as home:
            assert username in home.read().decode()


@pytest.mark.processes
def test_the_demo_story_leaves_a_whole_chain(running: Running):
    """seed_demo tells weeks of history in the past through the services; the chain still verifies."""
    verified = subprocess.run(
        [sys.executable, "manage.py", "audit_verify"],
        cwd=REPO,
        env=running.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert re.match(r"OK \d+ events", verified.stdout.strip().splitlines()[-1])
    assert "days ago: the chain anchored" in running.output()


@pytest.mark.processes
def test_ctrl_c_stops_every_process_and_exits_cleanly(running: Running):
    family = _descendants(running.process.pid)
    assert set(running.pids.values()) <= family
    assert len(family) >= 5  # gunicorn + 2 workers, celery worker (+ its pool), beat
    os.killpg(running.process.pid, signal.SIGINT)  # what a terminal does on Ctrl-C
    assert running.process.wait(timeout=STOP_TIMEOUT) == 0, running.output()[-3000:]
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in family) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in family if _alive(pid)]
    assert "run_all: stopped." in running.output()
    assert not _healthz(running.port)


# The demo data itself, loaded in the test database.


def _seed(tmp_path: Path, settings) -> str:
    settings.DATA_DIR = tmp_path
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_creates_the_cast_through_the_audited_services(db, tmp_path, settings):
    output = _seed(tmp_path, settings)

    printed = {username: (role, password) for username, role, password in DEMO_LINE.findall(output)}
    assert set(printed) == {person.username for person in PEOPLE}
    for person in PEOPLE:
        user = User.objects.get(username=person.username)
        role, password = printed[person.username]
        assert role == person.role
        assert roles_of(user) == {person.role}
        assert user.check_password(password)
        assert user.profile.is_screened_on()
    assert sorted(Case.objects.values_list("case_number", flat=True)) == [c.case_number for c in CASES]
    assert Dataset.objects.count() == sum(len(c.datasets) for c in CASES) == 7
    heron = Case.objects.get(project_id=demo_uuid("heron"))
    assert heron.case_lead.username == "lead.devries"
    assert is_case_manager(User.objects.get(username="deputy.jansen"), heron)

    events = AuditEvent.objects.filter(actor="command:seed_demo")
    by_action = {a: events.filter(action=a).count() for a in events.values_list("action", flat=True)}
    assert {k: v for k, v in by_action.items() if not k.startswith("model.")} == {
        "person.created": 9,  # the eight demo people, and former.dekker in the story
        "case.created": 4,
        "case.deputy_added": 1,
        "dataset.registered": 7,
        "api_client.created": 2,  # Hansken's, and the CI client in the story
        "privacy_statement.draft_created": 1,
        "privacy_statement.published": 1,
        "release.created": 1,
        "test_report.uploaded": 3,
    }
    # The privacy statement is in force, in both languages, with the live values filled in.
    statement = APIClient().get("/api/v1/privacy-statement", {"lang": "en"}).json()
    assert statement["version"] == "1" and statement["title"] == "Hansken Governance privacy statement"
    assert f"{settings.HG_AUDIT_RETENTION_DAYS} days" in statement["body_markdown"]
    assert "{{" not in statement["body_markdown"]
    dutch = APIClient().get("/api/v1/privacy-statement", {"lang": "nl"}).json()
    assert (
        dutch["title"] == "Privacyverklaring Hansken Governance"
        and "## Wie er geregistreerd staat" in dutch["body_markdown"]
    )

    # The token is printed once, alone on the last line, and it works.
    token = output.strip().splitlines()[-1]
    client = ApiClient.objects.get(name=DEMO_CLIENT_NAME)
    assert client.environment == "production"
    assert client.token_digest not in output
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get(f"/api/v1/cases/{heron.project_id}").status_code == 200

    credentials = tmp_path / "demo-users.txt"
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    assert token not in credentials.read_text()


def _counts() -> tuple[int, ...]:
    models = (User, Case, Dataset, ApiClient, AuditEvent, StatementVersion)
    return tuple(model.objects.count() for model in models)


def test_seed_demo_a_second_time_creates_nothing(db, tmp_path, settings):
    _seed(tmp_path, settings)
    counts = _counts()
    saved = (tmp_path / "demo-users.txt").read_text()

    output = _seed(tmp_path, settings)

    assert output.startswith("Demo data exists")
    assert "nothing created" in output
    assert "password" not in output
    assert _counts() == counts
    assert (tmp_path / "demo-users.txt").read_text() == saved
