"""``make run``: prepare the database and run the ordinary processes, supervised.

Runs ``migrate``, ``collectstatic`` and ``seed_demo`` (which creates the demo data once), then starts
gunicorn (the web), a Celery worker and Celery beat as children, exactly the processes production
runs. Ctrl-C or SIGTERM stops all three; when any of them dies, the others are stopped too and the
exit status is non-zero, so a half-running system never looks healthy.

Embedded default: SQLite and the filesystem broker in the data folder (``HG_DATA_DIR``). With
``DATABASE_URL`` and ``REDIS_URL`` set, the same command runs on PostgreSQL with Redis.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess  # nosec B404  # starts its own children, fixed argv
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

# Long enough for a Celery worker's warm shutdown to finish a running sweep.
STOP_TIMEOUT_SECONDS = 30.0
POLL_SECONDS = 0.2
_PR_SET_PDEATHSIG = 1


@dataclass
class Child:
    name: str
    what: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None


def _die_with_parent(parent_pid: int) -> Callable[[], None] | None:
    """Runs in each child before exec: when ``run_all`` itself is killed (SIGKILL cannot be
    forwarded), the kernel sends the child SIGTERM, so no orphan keeps the port or the broker."""
    if not sys.platform.startswith("linux"):
        return None

    def preexec() -> None:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def _children(*, port: int, data_dir: Path) -> list[Child]:
    python = sys.executable
    return [
        Child(
            "web",
            f"gunicorn, 2 sync workers, http://127.0.0.1:{port}/",
            [
                python,
                "-m",
                "gunicorn",
                "hansken_governance.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                # Sync workers: measured to share keep-alive connections fairly (FIELD_NOTES.md).
                "--worker-class",
                "sync",
                "--workers",
                "2",
                "--no-control-socket",
                "--graceful-timeout",
                "10",
                "--access-logfile",
                "-",
            ],
        ),
        Child(
            "worker",
            "celery worker",
            [
                python,
                "-m",
                "celery",
                "-A",
                "hansken_governance",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                "2",
                # One worker on one machine: nobody to gossip or mingle with; skipping it also keeps
                # broadcast messages out of the filesystem broker's folder.
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
        ),
        Child(
            "beat",
            "celery beat",
            [
                python,
                "-m",
                "celery",
                "-A",
                "hansken_governance",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(data_dir / "celerybeat-schedule"),
            ],
        ),
    ]


def _prepare() -> tuple[Path, Path]:
    """Migrate, collect static files and load the demo data; returns (base dir, data dir)."""
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", interactive=False, verbosity=1)
    call_command("collectstatic", interactive=False, verbosity=0)
    call_command("seed_demo")
    if settings.CELERY_BROKER_URL.startswith("filesystem"):
        # kombu's filesystem transport does not create its folders.
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS[key]).mkdir(parents=True, exist_ok=True)
    # The children open their own connections; this process keeps none (and no SQLite lock).
    connections.close_all()
    return Path(settings.BASE_DIR), Path(settings.DATA_DIR)


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:  # nosec B310  # a fixed http URL on loopback
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _print_ready(port: int, children: list[Child], broker: str, database: str) -> None:
    from people.management.commands.seed_demo import credentials_path, read_demo_credentials

    url = f"http://127.0.0.1:{port}/"
    lines = [
        "",
        f"Hansken Governance is running: {url}",
        f"    sign in       {url}accounts/login/",
        f"    API docs      {url}api/docs/   (schema: {url}api/schema/)",
        f"    health        {url}healthz   {url}readyz",
        f"    database      {database}",
        f"    broker        {broker}",
    ]
    for child in children:
        assert child.process is not None
        lines.append(f"    {child.name:<13} pid {child.process.pid}  ({child.what})")
    credentials = read_demo_credentials()
    if credentials:
        width = max(len(username) for username, _, _ in credentials)
        role_width = max(len(role) for _, role, _ in credentials)
        lines.append(f"Demo people (from {credentials_path()}):")
        lines.extend(
            f"    {username.ljust(width)}  {role.ljust(role_width)}  password: {password}"
            for username, role, password in credentials
        )
        lines.append(
            "    (administrators, privacy officers and security managers set up an authenticator app"
            " at their first sign-in)"
        )
    lines.append("Press Ctrl-C to stop all three.")
    print("\n".join(lines), flush=True)


def _stop(children: list[Child]) -> None:
    """SIGTERM to each child (each stops its own workers gracefully), then SIGKILL to each child's
    whole process group for whatever is still there after the timeout."""
    running = [c.process for c in children if c.process is not None]
    for process in running:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    for process in running:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"run_all: pid {process.pid} did not stop in time; killing it.", file=sys.stderr)
    for process in running:
        # Each child leads its own process group: this also takes any worker it left behind.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def run(*, port: int) -> int:
    from django.conf import settings

    base_dir, data_dir = _prepare()
    stop_signal: list[int] = []

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop_signal.append(signum)

    # Installed before the children start, so a Ctrl-C during start-up still stops what started.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, request_stop)

    env = dict(os.environ, PYTHONUNBUFFERED="1")
    children = _children(port=port, data_dir=data_dir)
    preexec = _die_with_parent(os.getpid())
    for child in children:
        if stop_signal:
            break
        # Each child in its own process group: a Ctrl-C in the terminal reaches only this process,
        # which stops the children in order, instead of every process getting it at once.
        child.process = subprocess.Popen(  # noqa: S603  # nosec B603  # fixed argv, no shell
            child.argv, cwd=base_dir, env=env, process_group=0, preexec_fn=preexec
        )
    broker = "Redis" if settings.CELERY_BROKER_URL.startswith("redis") else f"filesystem, {data_dir}/broker"
    database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    announced = False
    failed: Child | None = None
    while not stop_signal:
        failed = next((c for c in children if c.process and c.process.poll() is not None), None)
        if failed:
            break
        if not announced and _healthy(port):
            _print_ready(port, children, broker, database)
            announced = True
        time.sleep(POLL_SECONDS)

    if failed is not None and failed.process is not None:
        print(
            f"run_all: {failed.name} ({failed.what}) exited with status {failed.process.returncode}; "
            "stopping the others.",
            file=sys.stderr,
            flush=True,
        )
    else:
        print(f"run_all: {signal.Signals(stop_signal[0]).name} received; stopping.", flush=True)
    _stop(children)
    if failed is not None:
        return 1
    # Gunicorn and Celery exit 0 on SIGTERM; anything else means a child did not stop cleanly.
    statuses = {c.name: c.process.returncode for c in children if c.process is not None}
    unclean = {name: status for name, status in statuses.items() if status != 0}
    if unclean:
        print(f"run_all: not every process stopped cleanly: {unclean}", file=sys.stderr, flush=True)
        return 1
    print("run_all: stopped.", flush=True)
    return 0


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hansken_governance.settings.local")
    from hansken_governance.env import env_int

    try:
        return run(port=env_int("HG_PORT", 8000))
    except KeyboardInterrupt:  # Ctrl-C while preparing, before any child started
        return 130


if __name__ == "__main__":
    sys.exit(main())
