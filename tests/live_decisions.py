"""Real peers for the cache-fault tests: a Redis of the test's own that it can stop and restart from
its append-only file (never the machine's Redis on 6379), and gunicorn with two sync workers on the
test's PostgreSQL database, asked from several connections at once so that every worker answers."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], what: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not listen within {START_TIMEOUT}s:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)


@dataclass
class OwnRedis:
    """``redis-server`` as this test's child: append-only, ``appendfsync always`` (so a stop never
    loses a write the test made), its files in ``directory``, which a restart reads back."""

    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        log = self.directory.parent / f"redis-{self.port}.log"
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--dir",
                    str(self.directory),
                    "--appendonly",
                    "yes",
                    "--appendfsync",
                    "always",
                    "--save",
                    "",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        _wait_for_port(self.port, self.process, "redis-server", log)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # a clean shutdown: the append-only file is whole
            self.process.wait(timeout=30)
        self.process = None

    def copy_files_to(self, target: Path) -> None:
        """A copy of the stopped Redis's files: an older append-only file to restart from later."""
        assert self.process is None, "copy the files of a stopped Redis only"
        shutil.copytree(self.directory, target)

    def restore_files_from(self, source: Path) -> None:
        assert self.process is None, "replace the files of a stopped Redis only"
        shutil.rmtree(self.directory)
        shutil.copytree(source, self.directory)


@dataclass
class Gunicorn:
    """``gunicorn hansken_governance.wsgi`` with two sync workers; its access log names the worker
    (process id) that answered each request."""

    env: dict[str, str]
    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def access_log(self) -> Path:
        return self.directory / "access.log"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        log = self.directory / "gunicorn.log"
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "gunicorn"),
                    "hansken_governance.wsgi",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--workers",
                    "2",
                    "--worker-class",
                    "sync",
                    "--access-logfile",
                    str(self.access_log),
                    "--access-logformat",
                    "%(p)s %(s)s %(U)s",
                ],
                cwd=REPO,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        _wait_for_port(self.port, self.process, "gunicorn", log)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def workers(self) -> set[str]:
        assert self.process is not None
        found = set()
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    text = (entry / "stat").read_text()
                    if int(text[text.rindex(")") + 2 :].split()[1]) == self.process.pid:
                        found.add(entry.name)
        return found

    def log_lines(self) -> int:
        return len(self.access_log.read_text().splitlines()) if self.access_log.exists() else 0

    def answered_by(self, since_line: int) -> list[str]:
        """The worker of each check answered after access-log line ``since_line``."""
        lines = self.access_log.read_text().splitlines()[since_line:]
        return [line.split()[0].strip("<>") for line in lines if line.endswith("/api/v1/authz/check")]


def ask(port: int, token: str, check: dict[str, Any]) -> dict[str, Any]:
    """One check on a connection of its own (the kernel hands new connections to idle workers)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/authz/check",
        data=json.dumps(check).encode(),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Connection": "close",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310 - http to loopback
            return {"status": response.status, **json.loads(response.read())}
    except urllib.error.HTTPError as error:
        return {"status": error.code, "body": error.read().decode(errors="replace")}


def ask_every_worker(
    web: Gunicorn, token: str, check: dict[str, Any], seconds: float = 30.0, threads: int = 8
) -> list[dict[str, Any]]:
    """Checks from ``threads`` connections at once, round after round, until every worker has answered
    at least one of them (or ``seconds`` ran out): every answer, in the order they came back. Bounded
    by time, not by a number of rounds: on a loaded machine a worker can still be starting while the
    others have answered a hundred checks."""
    workers = web.workers()
    start = web.log_lines()
    answers: list[dict[str, Any]] = []
    give_up = time.monotonic() + seconds
    with ThreadPoolExecutor(max_workers=threads) as pool:
        while True:
            answers.extend(pool.map(lambda _: ask(web.port, token, check), range(threads)))
            if set(web.answered_by(start)) >= workers or time.monotonic() > give_up:
                break
    return answers


@contextlib.contextmanager
def black_hole() -> Iterator[str]:
    """A Redis URL whose server accepts connections and never answers: every command times out."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield f"redis://127.0.0.1:{sock.getsockname()[1]}/0"


def child_env(database_url: str, redis_url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="hansken_governance.settings.test",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        HG_DATA_DIR=str(data_dir),
        PYTHONUNBUFFERED="1",
    )
    return env
