"""Shared pieces of the benchmarks: a scratch PostgreSQL database, a real gunicorn on loopback, and
wrk as the load generator (C, so the client does not steal the server's CPU the way a Python client
would). Nothing here is imported by the application."""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_env(database: str, redis_url: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "hansken_governance.settings.local",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
            "HG_DATA_DIR": tempfile.mkdtemp(prefix="hg-bench-"),
            "LOG_LEVEL": "WARNING",
        }
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    else:
        env.pop("REDIS_URL", None)
    return env


def _psql(sql: str) -> None:
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c", sql], check=True)


def recreate_database(name: str) -> None:
    _psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _psql(f'CREATE DATABASE "{name}"')


# Scratch resources: each run has its own, so two runs at once (two engineers, or old and new code
# back to back in two worktrees) never drop or read each other's data, and each is removed when the
# run ends (normally, by an exception, Ctrl-C or SIGTERM).


def add_scratch_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db-suffix",
        default=str(os.getpid()),
        help="the scratch database is hg_bench_<name>_<suffix> (default: this process id)",
    )
    parser.add_argument(
        "--redis-db",
        type=int,
        default=None,
        help="use this database of the Redis on 127.0.0.1:6379 (it must be empty; it is emptied when "
        "done); default: a private redis-server of this run on a free port, stopped when done",
    )
    parser.add_argument("--keep-db", action="store_true", help="leave the scratch database behind")


@dataclass
class Scratch:
    database: str
    env: dict[str, str]


def scratch(name: str, args: argparse.Namespace, *, redis: bool = True) -> Scratch:
    """A fresh database ``hg_bench_<name>_<suffix>`` and (``redis``) a Redis of this run's own, with
    the environment of the application on them; all removed at exit."""
    suffix = str(args.db_suffix)
    if not re.fullmatch(r"[a-z0-9_]{1,30}", suffix):
        raise SystemExit("--db-suffix: lower-case letters, digits and '_' only, at most 30")
    database = f"hg_bench_{name}_{suffix}"
    _stop_on_sigterm()
    recreate_database(database)
    if not args.keep_db:
        atexit.register(_drop_database, database)
    redis_url = None
    if redis:
        redis_url = _redis_of_run(int(args.redis_db)) if args.redis_db is not None else _private_redis()
    env = bench_env(database, redis_url)
    atexit.register(shutil.rmtree, env["HG_DATA_DIR"], True)
    return Scratch(database, env)


def scratch_dir(prefix: str) -> Path:
    """A temporary folder removed at exit."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, folder, True)
    return folder


def _stop_on_sigterm() -> None:
    # SIGTERM becomes SystemExit, so ``finally`` blocks and ``atexit`` clean up as after Ctrl-C.
    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)


def _drop_database(name: str) -> None:
    with contextlib.suppress(subprocess.CalledProcessError):
        _psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _redis_cli(*args: str) -> str:
    return subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def _redis_of_run(number: int) -> str:
    """Database ``number`` of the machine's Redis, refused when another run (or anyone) uses it."""
    if _redis_cli("-n", str(number), "DBSIZE") != "0":
        raise SystemExit(f"Redis database {number} holds keys: another run may be using it; pick another.")
    atexit.register(_redis_cli, "-n", str(number), "FLUSHDB")  # this run's own database only
    return f"redis://127.0.0.1:6379/{number}"


def _private_redis() -> str:
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is needed (or give --redis-db N for the machine's Redis)")
    folder = tempfile.mkdtemp(prefix="hg-bench-redis-")
    port = free_port()
    # As CI's Redis: no snapshots, no append-only file.
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no", "--dir", folder]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, start_new_session=True)

    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(folder, ignore_errors=True)

    atexit.register(stop)
    deadline = time.monotonic() + 10
    while True:
        try:
            if _redis_cli("-p", str(port), "PING") == "PONG":
                return f"redis://127.0.0.1:{port}/0"
        except subprocess.CalledProcessError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            raise SystemExit("the private redis-server did not start")
        time.sleep(0.1)


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PYTHON, str(ROOT / "manage.py"), *args], env=env, check=True, cwd=ROOT)


@contextlib.contextmanager
def gunicorn(env: dict[str, str], workers: int) -> Iterator[str]:
    port = free_port()
    cmd = [
        PYTHON,
        "-m",
        "gunicorn",
        "hansken_governance.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--log-level",
        "warning",
        "--backlog",
        "2048",
    ]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.3)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@dataclass
class WrkResult:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: str
    requests: int = 0


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, seconds: int, connections: int, script: str | None = None, threads: int = 2) -> WrkResult:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return WrkResult(
        rps, p50, p99, int(non2xx.group(1)) if non2xx else 0, errors.group(0) if errors else "", requests
    )


def lua_post_script(path: Path, token: str, bodies: list[str]) -> None:
    """A wrk script that POSTs the given JSON bodies in turn."""

    def quote(text: str) -> str:
        return "[==[" + text + "]==]"

    lines = ["bodies = {"] + [f"  {quote(b)}," for b in bodies] + ["}"]
    lines += [
        "local i = 0",
        'local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer ' + token + '"}',
        "request = function()",
        "  i = i % #bodies + 1",
        '  return wrk.format("POST", nil, headers, bodies[i])',
        "end",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


# Where the machine's CPU went during a run, per kind of process: what requests/s and a queue's p99
# are made of (a request's own CPU in the web worker is only part of what each one costs).
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CPU_KINDS = ("gunicorn", "postgres", "redis", "wrk", "other", "unattributed")


def _process_ticks(server: bytes, database: bytes) -> dict[int, tuple[str, int]]:
    """Per running process: its kind and its user + system ticks so far. The web workers are those
    of the gunicorn bound to ``server``; PostgreSQL's processes are the backends of ``database`` and
    the server's own (the WAL writer, the checkpointer); every other gunicorn or backend is another
    run's, counted as ``other``."""
    ticks: dict[int, tuple[str, int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            cmdline = Path(entry.path, "cmdline").read_bytes()
        except OSError:  # gone meanwhile
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        if b"gunicorn" in cmdline:
            kind = "gunicorn" if server in cmdline else "other"
        elif comm.startswith(("postgres", "postmaster")):
            # A backend's title: "postgres: [<cluster>: ]<user> <database> <client>(<port>) <state>".
            backend = b"(" in cmdline or b"[local]" in cmdline
            kind = "postgres" if not backend or b" " + database + b" " in cmdline else "other"
        elif comm.startswith("redis-server"):
            kind = "redis"
        else:
            kind = "other"
        # utime and stime: fields 14 and 15 of stat, 12 and 13 after the name.
        fields = stat[stat.rindex(")") + 2 :].split()
        ticks[int(entry.name)] = (kind, int(fields[11]) + int(fields[12]))
    return ticks


def _machine_ticks() -> tuple[int, int]:
    """Busy and idle ticks of all CPUs so far (idle includes waiting for I/O)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values[:8]) - idle, idle


@dataclass
class CpuShares:
    """Milliseconds of CPU per kind of process over a run, and the machine's idle time."""

    ms: dict[str, float]
    idle_ms: float = 0.0

    @property
    def busy_ms(self) -> float:
        return sum(self.ms.values())

    @property
    def own_ms(self) -> float:
        """The run's own processes: what each of its requests costs the machine."""
        return sum(self.ms.get(kind, 0.0) for kind in ("gunicorn", "postgres", "redis", "wrk"))

    def per_request(self, requests: int) -> str:
        parts = [f"{kind} {self.ms[kind] / requests:.2f}" for kind in CPU_KINDS if self.ms.get(kind)]
        return (
            f"{' + '.join(parts)} = {self.busy_ms / requests:.2f} ms of CPU per request "
            f"(idle {self.idle_ms / requests:.2f})"
        )


@contextlib.contextmanager
def cpu_shares(base_url: str, database: str) -> Iterator[CpuShares]:
    """The machine's CPU used during the block, per kind of process: the gunicorn serving
    ``base_url``, PostgreSQL for ``database``, Redis, ``wrk`` (what this process's children that
    ended in the block used: the load generator, run by ``wrk()``), ``other`` (any other process,
    another run's gunicorn or backends included) and ``unattributed``, the rest of what the machine
    was busy with (interrupts, processes that came and went)."""
    server, name = urlparse(base_url).netloc.encode(), database.encode()
    shares = CpuShares({})
    before, (busy_before, idle_before) = _process_ticks(server, name), _machine_ticks()
    children_before = os.times()
    yield shares
    after, (busy_after, idle_after) = _process_ticks(server, name), _machine_ticks()
    children_after = os.times()
    tick_ms = 1000 / _CLOCK_TICKS
    for pid, (kind, ticks) in after.items():
        used = ticks - before.get(pid, (kind, 0))[1]
        shares.ms[kind] = shares.ms.get(kind, 0.0) + used * tick_ms
    shares.ms["wrk"] = 1000 * (
        children_after.children_user
        + children_after.children_system
        - children_before.children_user
        - children_before.children_system
    )
    busy_ms = (busy_after - busy_before) * tick_ms
    shares.ms["unattributed"] = max(0.0, busy_ms - shares.busy_ms)
    shares.idle_ms = (idle_after - idle_before) * tick_ms
