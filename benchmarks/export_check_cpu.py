"""CPU time of one ``export-check`` of 1,000 traces, in-process: printed, not asserted.

The wall-clock benchmark (``benchmarks/privileged_traces.py``) needs a quiet machine. This one
measures what a request costs in CPU, which a busy machine disturbs far less: the WSGI application
gunicorn serves (``hansken_governance.wsgi``, with the decision path's short way) in this process,
as gunicorn calls it, against PostgreSQL and Redis,
on the benchmark's data shape (one case, a trace tree of 1,000,000 traces, 100,000 marks, 1,000
people with grants; export checks of 1,000 traces of which 2% are mailboxes). Per request:

- Python CPU (``time.process_time`` of this process around the WSGI call);
- the PostgreSQL backend's CPU (``/proc/<pid>/schedstat`` of the connection's server process);
- the garbage collector: collections and their time (``gc.callbacks``).

Medians (and the worst) over ``--rounds`` rounds of ``--requests`` requests. ``--profile`` prints
cProfile's top functions over one round instead; ``--stages`` the CPU of each stage of the view
(parsing, deciding, the marks, the trail), measured without a profiler, and the file of the view it
measured. Old code against new: run this file from each checkout in turn (as the working
directory), back to back; ``--stages`` shows which code was measured.

Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/hg_h3 REDIS_URL=redis://127.0.0.1:6379/3 \\
     .venv/bin/python benchmarks/export_check_cpu.py [--rounds 5] [--requests 40] [--profile]
The database is migrated and, the first time, filled (a few minutes); later runs reuse it
(``--rebuild`` empties it first). The Redis database named is emptied at the start.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import gc
import io
import json
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PATH = "/api/v1/authz/export-check"
# The checkout whose code is measured: the one this file is in.
ROOT = Path(__file__).resolve().parent.parent


def backend_cpu_ns(pid: int) -> int:
    """Nanoseconds the process has run on a CPU (first field of schedstat)."""
    with open(f"/proc/{pid}/schedstat") as handle:
        return int(handle.read().split()[0])


class GcClock:
    """Collections and the time they took, from ``gc.callbacks``."""

    def __init__(self) -> None:
        self.collections = [0, 0, 0]
        self.seconds = 0.0
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started
            self.collections[info["generation"]] += 1

    def reading(self) -> tuple[int, int, int, float]:
        return (*self.collections, self.seconds)  # type: ignore[return-value]


def wsgi_call(app: Any, method: str, path: str, body: bytes, token: str) -> tuple[int, bytes]:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    status: list[str] = []

    def start_response(line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        status.append(line)

    result = app(environ, start_response)
    try:
        content = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return int(status[0].split()[0]), content


def stage_cpu(app: Any, bodies: list[bytes], token: str, requests: int) -> None:
    """CPU time of each stage of the export view, per request: its module's functions wrapped with
    ``time.process_time`` (a profiler would inflate the stages that make many small calls)."""
    from authz.api.decision import export

    spent: dict[str, float] = {}

    def timed(name: str, function: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.process_time() - started

        return wrapper

    print(f"  stages of {export.__file__}")
    stages = ("parse_json_object", "parse_traces", "decide_all", "blocked_traces", "export_check_record")
    originals = {name: getattr(export, name) for name in stages}
    for name in stages:
        setattr(export, name, timed(name, originals[name]))
    try:
        started = time.process_time()
        for number in range(requests):
            wsgi_call(app, "POST", PATH, bodies[number % len(bodies)], token)
        whole = time.process_time() - started
    finally:
        for name in stages:
            setattr(export, name, originals[name])
    for name in stages:
        print(f"  {name:22} {spent.get(name, 0.0) * 1000 / requests:6.3f} ms")
    rest = whole - sum(spent.values())
    print(f"  {'the rest':22} {rest * 1000 / requests:6.3f} ms")
    print(f"  {'whole request':22} {whole * 1000 / requests:6.3f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--queries", action="store_true", help="print the SQL of one request")
    parser.add_argument(
        "--stages", action="store_true", help="CPU per request of each stage of the view (no profiler)"
    )
    parser.add_argument("--traces", type=int, default=1000, help="traces per export check")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--small", action="store_true", help="10,000 traces and 1,000 marks")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    for name in ("DATABASE_URL", "REDIS_URL"):
        if not os.environ.get(name):
            raise SystemExit(f"Set {name} (your own database and Redis database).")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hansken_governance.settings.local")
    os.environ.setdefault("HG_DATA_DIR", tempfile.mkdtemp(prefix="hg-export-cpu-"))
    os.environ.setdefault("LOG_LEVEL", "WARNING")

    import django

    django.setup()
    import redis
    from django.core.management import call_command
    from django.db import connection

    from benchmarks.privileged_traces import (
        MARKS_PER_REQUEST,
        PEOPLE,
        Tree,
        is_withheld,
        load,
        make_marks,
        withheld_of,
    )

    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    if args.rebuild:
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    call_command("migrate", verbosity=0)

    from api_clients.services import api_client_create
    from audit.actor import Actor
    from cases.models import Case

    tree = Tree(10, 10, 80) if args.small else Tree(100, 100, 82)
    marks = make_marks(
        tree, 1_000 if args.small else 100_000, random.Random(12), datetime.datetime.now(datetime.UTC)
    )
    marked, _ = withheld_of(marks)
    fresh = not Case.objects.filter(case_number="P-1").exists()
    if fresh:
        load(dict(os.environ), 1)
    case = Case.objects.get(case_number="P-1")
    project_id, image_id = str(case.project_id), str(case.datasets.get().image_id)
    _, token = api_client_create(
        name=f"cpu-{os.getpid()}-{time.time_ns()}",
        environment="production",
        scopes=["authz:check", "privilege:write", "export:check"],
        by=Actor(username="bench"),
    )
    # What gunicorn serves (hansken_governance.wsgi): the decision API's short path included.
    from hansken_governance.wsgi import application

    app = application
    if fresh:
        random.Random(7).shuffle(marks)
        for start in range(0, len(marks), MARKS_PER_REQUEST):
            body = json.dumps(
                {
                    "marks": [
                        {
                            "trace_uid": f"{image_id}:{m['trace_id']}",
                            "status": m["status"],
                            "marked_at": m["marked_at"],
                        }
                        for m in marks[start : start + MARKS_PER_REQUEST]
                    ]
                }
            ).encode()
            code, text = wsgi_call(app, "POST", f"/api/v1/cases/{project_id}/privileged", body, token)
            if code != 201:
                raise SystemExit(f"marks refused: {code} {text[:300]!r}")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    rng = random.Random(12)

    def clear_trace() -> str:
        while True:
            trace_id = tree.attachment(rng) if rng.random() < 0.1 else tree.mail(rng)
            if not is_withheld(trace_id, marked):
                return trace_id

    bodies = [
        json.dumps(
            {
                "user": f"p{rng.randrange(1, PEOPLE):04d}",
                "project_id": project_id,
                "trace_uids": [
                    f"{image_id}:{tree.mailbox(rng) if rng.random() < 0.02 else clear_trace()}"
                    for _ in range(args.traces)
                ],
            }
        ).encode()
        for _ in range(50)
    ]
    refused = 0
    for body in bodies:  # warm-up: the fact cache, the case's marks, prepared statements
        code, text = wsgi_call(app, "POST", PATH, body, token)
        if code != 200:
            raise SystemExit(f"export check failed: {code} {text[:300]!r}")
        refused += not json.loads(text)["allowed"]
    backend = connection.connection.info.backend_pid
    clock = GcClock()
    if args.queries:
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            wsgi_call(app, "POST", PATH, bodies[0], token)
        for query in captured.captured_queries:
            print(f"{query['time']} s: {query['sql'][:150]}")
        return

    if args.stages:
        stage_cpu(app, bodies, token, args.requests)
        return

    if args.profile:
        profile = cProfile.Profile(time.process_time)  # CPU time: waits for the database do not count
        profile.enable()
        for number in range(args.requests):
            wsgi_call(app, "POST", PATH, bodies[number % len(bodies)], token)
        profile.disable()
        stats = pstats.Stats(profile)
        stats.sort_stats("tottime").print_stats(30)
        stats.sort_stats("cumulative").print_stats(40)
        return

    python_ms: list[float] = []
    backend_ms: list[float] = []
    gc_ms: list[float] = []
    worst: list[float] = []
    wall_ms: list[float] = []
    full_collections = 0
    for _ in range(args.rounds):
        python: list[float] = []
        server: list[float] = []
        wall: list[float] = []
        gc_before = clock.reading()
        for number in range(args.requests):
            body = bodies[number % len(bodies)]
            if connection.connection is not None:
                backend = connection.connection.info.backend_pid
            cpu, db, started = time.process_time(), backend_cpu_ns(backend), time.perf_counter()
            code, _ = wsgi_call(app, "POST", PATH, body, token)
            wall.append((time.perf_counter() - started) * 1000)
            python.append((time.process_time() - cpu) * 1000)
            server.append((backend_cpu_ns(backend) - db) / 1e6)
            if code != 200:
                raise SystemExit(f"export check failed: {code}")
        gc_after = clock.reading()
        typical = statistics.median(python)
        slow = [(number, round(ms, 1)) for number, ms in enumerate(python) if ms > 2 * typical]
        if slow:
            print(f"  requests over twice the median (number in the round, ms): {slow}")
        python_ms.append(statistics.median(python))
        backend_ms.append(statistics.median(server))
        worst.append(max(python))
        wall_ms.append(statistics.median(wall))
        gc_ms.append((gc_after[3] - gc_before[3]) * 1000 / args.requests)
        full_collections += gc_after[2] - gc_before[2]
        print(
            f"round: Python {statistics.median(python):6.2f} ms (max {max(python):6.2f}), "
            f"PostgreSQL {statistics.median(server):6.2f} ms, wall {statistics.median(wall):6.2f} ms, "
            f"gc {gc_ms[-1]:5.2f} ms/request, "
            f"collections {[a - b for a, b in zip(gc_after[:3], gc_before[:3], strict=True)]}"
        )
    print(
        f"\nexport-check of {args.traces:,} traces ({refused} of {len(bodies)} refused), "
        f"{args.rounds} rounds of "
        f"{args.requests}; code of {ROOT}\n"
        f"  Python CPU per request, median of round medians: {statistics.median(python_ms):.2f} ms "
        f"(worst request {max(worst):.2f} ms)\n"
        f"  PostgreSQL backend CPU per request: {statistics.median(backend_ms):.2f} ms\n"
        f"  wall-clock per request, alone (CPU, the round trips, the commit's flush): "
        f"{statistics.median(wall_ms):.2f} ms\n"
        f"  garbage collector per request: {statistics.median(gc_ms):.2f} ms, "
        f"{full_collections} full collections"
    )


if __name__ == "__main__":
    main()
