"""Shared pieces of the benchmarks: a scratch PostgreSQL database, a real gunicorn on loopback, and
wrk as the load generator (C, so the client does not steal the server's CPU the way a Python client
would). Nothing here is imported by the application."""

from __future__ import annotations

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

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_env(database: str, redis_db: int = 9) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "hansken_governance.settings.local",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
            "REDIS_URL": f"redis://127.0.0.1:6379/{redis_db}",
            "HG_DATA_DIR": tempfile.mkdtemp(prefix="hg-bench-"),
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


def recreate_database(name: str) -> None:
    for sql in (f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'):
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c", sql], check=True)


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
    return WrkResult(rps, p50, p99, int(non2xx.group(1)) if non2xx else 0, errors.group(0) if errors else "")


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
