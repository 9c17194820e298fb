"""CPU time per request of the decision API, in-process: what the wall-clock benchmarks
(``authz_decisions.py``, ``privileged_traces.py``) measure with wrk and gunicorn, reduced to the
part one engineer can compare on a shared machine. Printed, not asserted.

The real WSGI application (``hansken_governance.wsgi.application``: the decision path's short way,
the fact cache, the change feed and Redis, the denial writer) is called with WSGI environments as
gunicorn's sync worker builds them, one request after another, in this one process; the CPU time
(``time.process_time``) of each kind of request is measured in rounds, the kinds interleaved, and
the median of the rounds' means is printed. Kinds, with the benchmarks' request mixes:

  floor        GET /healthz (the bare view through the browser middleware: the wrk floor)
  check        POST authz/check, 95% granted pairs, 5% random (mostly denied, written to the trail)
  batch        POST authz/check-batch of 1,000 such checks
  batch_ok     the same with every check allowed (nothing written)
  tcheck       POST authz/check with a trace_uid (5% inside privileged data: denied, written)
  tbatch       POST authz/check-batch of 1,000 checks that all carry a trace_uid

Data: ``--scale`` times the benchmarks' sizes (default 0.2: 2,000 people, 2,000 cases, 20,000
grants; one case with 20,000 privileged marks posted through the API, 1,000 people with grants on
it). Beside this process's CPU time it prints the servers' (``/proc/<pid>/schedstat`` of the
PostgreSQL backends it talks to, and of its private redis-server): a denial's write to the trail
costs more CPU in PostgreSQL than in Python. Wall-clock time is not measured, and gunicorn's own
share (HTTP parsing, the socket per request) and the kernel's are outside.

Old code against new, back to back on the same data: load once and keep the database
(``--keep-db --db-suffix NAME``), then run this script from each tree with ``--reuse`` and the same
suffix and ``--redis-db N``:
  .venv/bin/python benchmarks/decision_cpu.py --keep-db --db-suffix cpu --redis-db 2 --load-only
  .venv/bin/python benchmarks/decision_cpu.py --reuse --db-suffix cpu --redis-db 2
``--profile KIND`` prints cProfile's top functions for one kind instead; ``--worker-seconds N`` the CPU
per request of one real gunicorn sync worker instead (wrk, one connection, N seconds per kind).
Needs PostgreSQL on 127.0.0.1:5432 (trust) and Redis (its own redis-server, or ``--redis-db N``).
"""

from __future__ import annotations

import argparse
import atexit
import cProfile
import datetime
import io
import json
import os
import pstats
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._harness import _drop_database, _private_redis, bench_env, recreate_database

KINDS = ("floor", "check", "batch", "batch_ok", "tcheck", "tbatch")
ACTIONS = ["read", "search", "export", "read_added_data", "write_added_data", "review_privileged"]
TRACED_CASE = "CPU-T"


def _load(scale: float, redis_url: str | None) -> None:
    """The two data shapes, in one database: the plain decision benchmark's people, cases and
    grants (usernames ``u...``) and the privileged-traces case (``t...``, marks posted through the
    WSGI application)."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group, User
    from django.utils import timezone

    from authz.models import Grant
    from benchmarks.privileged_traces import make_marks
    from cases.models import Case, Dataset
    from people.models import Profile

    rng = random.Random(7)
    people, case_count, grant_count = int(10_000 * scale), int(10_000 * scale), int(100_000 * scale)
    unusable = make_password(None)
    started = time.monotonic()
    User.objects.bulk_create([User(username=f"u{i:05d}", password=unusable) for i in range(people)], 5000)
    User.objects.bulk_create([User(username=f"t{i:04d}", password=unusable) for i in range(1000)], 5000)
    ids = dict(User.objects.values_list("username", "pk"))
    screened = timezone.localdate() + datetime.timedelta(days=365)
    Profile.objects.bulk_create(
        [Profile(user_id=pk, screening_valid_until=screened) for name, pk in ids.items() if name[0] in "ut"],
        5000,
    )
    Group.objects.get(name="case_lead").user_set.add(*[ids[f"u{i:05d}"] for i in range(people // 10)])
    Case.objects.bulk_create(
        [
            Case(
                project_id=uuid.UUID(int=rng.getrandbits(128), version=4),
                case_number=f"CPU-{i:05d}",
                title=f"Case {i}",
                case_lead_id=ids[f"u{i % (people // 10):05d}"],
            )
            for i in range(case_count)
        ],
        5000,
    )
    cases = list(Case.objects.filter(case_number__startswith="CPU-0").values_list("pk", flat=True))
    now = timezone.now()
    seen: set[tuple[int, int]] = set()
    grants: list[Grant] = []
    while len(grants) < grant_count:
        user, case = rng.randrange(people // 10, people), cases[rng.randrange(case_count)]
        if (user, case) in seen:
            continue
        seen.add((user, case))
        grants.append(_grant(case, ids[f"u{user:05d}"], sorted(rng.sample(ACTIONS, rng.randint(1, 3))), now))
    # The traced case: one image, 1,000 people (50 of them reviewers), marks posted through the API.
    traced = Case.objects.create(
        project_id=uuid.uuid4(), case_number=TRACED_CASE, title="Mailboxes", case_lead_id=ids["t0000"]
    )
    image_id = uuid.uuid4()
    Dataset.objects.create(
        case=traced, image_id=image_id, description="Mail", delivered_by="bench", imported_at=now
    )
    for i in range(1, 1000):
        rights = ["read", "export", "review_privileged"] if i < 50 else ["read", "export"]
        grants.append(_grant(traced.pk, ids[f"t{i:04d}"], rights, now))
    Grant.objects.bulk_create(grants, 5000)
    tree = _tree(scale)
    marks = make_marks(tree, int(100_000 * scale), random.Random(12), now - datetime.timedelta(hours=1))
    app, token = _app_and_token()
    for start in range(0, len(marks), 10_000):
        body = {
            "marks": [
                {
                    "trace_uid": f"{image_id}:{m['trace_id']}",
                    "status": m["status"],
                    "marked_at": m["marked_at"],
                }
                for m in marks[start : start + 10_000]
            ]
        }
        status, text = _call(app, "POST", f"/api/v1/cases/{traced.project_id}/privileged", token, body)
        if status != 201:
            raise SystemExit(f"marks refused: {status} {text[:300]!r}")
    print(
        f"loaded in {time.monotonic() - started:.1f} s: {people:,} people, {case_count:,} cases, "
        f"{grant_count:,} grants; traced case with {len(marks):,} marks"
    )


def _tree(scale: float) -> Any:
    from benchmarks.privileged_traces import Tree

    return Tree(max(1, round(100 * scale)), 100, 82)


def _grant(case_id: int, user_id: int, rights: list[str], now: datetime.datetime) -> Any:
    from authz.models import Grant

    return Grant(
        case_id=case_id,
        grantee_id=user_id,
        rights=rights,
        environments=["production"],
        valid_from=now - datetime.timedelta(days=1),
        valid_until=now + datetime.timedelta(days=180),
        reason="bench",
        granted_by_id=user_id,
        granted_at=now,
        changed_at=now,
    )


def _app_and_token() -> tuple[Any, str]:
    from api_clients.services import api_client_create
    from audit.actor import Actor
    from hansken_governance.wsgi import application

    _, token = api_client_create(
        name=f"cpu-bench-{os.getpid()}-{time.time_ns()}",
        environment="production",
        scopes=["authz:check", "privilege:write", "export:check"],
        by=Actor(username="bench"),
    )
    return application, token


def _environ(method: str, path: str, token: str | None, body: bytes) -> dict[str, Any]:
    environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "40000",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if body:
        environ["CONTENT_TYPE"] = "application/json"
        environ["CONTENT_LENGTH"] = str(len(body))
    if token:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return environ


def _call(app: Any, method: str, path: str, token: str | None, body: Any = None) -> tuple[int, bytes]:
    data = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else b"")
    status: list[str] = []
    result = app(_environ(method, path, token, data), lambda s, h, e=None: status.append(s))
    try:
        text = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return int(status[0].split()[0]), text


def _requests(scale: float) -> dict[str, tuple[str, str, list[bytes]]]:
    """Each kind's method, path and bodies, made as the wall-clock benchmarks make them."""
    from authz.models import Grant
    from benchmarks.privileged_traces import is_withheld
    from cases.models import Case, Dataset
    from privilege.models import PrivilegedMark

    rng = random.Random(11)
    granted = [
        (user, str(project), rng.choice(rights))
        for user, project, rights in Grant.objects.filter(case__case_number__startswith="CPU-0")
        .order_by("pk")
        .values_list("grantee__username", "case__project_id", "rights")
    ]
    plain_cases = [
        str(p)
        for p in Case.objects.filter(case_number__startswith="CPU-0").values_list("project_id", flat=True)
    ]
    people = int(10_000 * scale)
    randoms = [(f"u{rng.randrange(people):05d}", rng.choice(plain_cases)) for _ in range(2000)]

    def plain(share: float) -> dict[str, str]:
        if rng.random() < share:
            user, project, action = granted[rng.randrange(len(granted))]
        else:
            (user, project), action = randoms[rng.randrange(len(randoms))], rng.choice(ACTIONS)
        return {"user": user, "project_id": project, "action": action}

    traced = Case.objects.get(case_number=TRACED_CASE)
    image_id = str(Dataset.objects.get(case=traced).image_id)
    marked = set(
        PrivilegedMark.objects.filter(case=traced, status__in=["suspected", "confirmed"]).values_list(
            "trace_id", flat=True
        )
    )
    tree = _tree(scale)

    def traced_check() -> dict[str, str]:
        want = rng.random() < 0.05
        while True:
            trace_id = tree.attachment(rng) if rng.random() < 0.1 else tree.mail(rng)
            if is_withheld(trace_id, marked) == want:
                break
        return {
            "user": f"t{rng.randrange(50, 1000):04d}",
            "project_id": str(traced.project_id),
            "action": "read",
            "trace_uid": f"{image_id}:{trace_id}",
        }

    def batch(make: Callable[[], dict[str, str]]) -> bytes:
        return json.dumps({"checks": [{"correlation_id": str(i), **make()} for i in range(1000)]}).encode()

    check, batch_path = "/api/v1/authz/check", "/api/v1/authz/check-batch"
    return {
        "floor": ("GET", "/healthz", [b""]),
        "check": ("POST", check, [json.dumps(plain(0.95)).encode() for _ in range(5000)]),
        "batch": ("POST", batch_path, [batch(lambda: plain(0.95)) for _ in range(20)]),
        "batch_ok": ("POST", batch_path, [batch(lambda: plain(1.0)) for _ in range(20)]),
        "tcheck": ("POST", check, [json.dumps(traced_check()).encode() for _ in range(5000)]),
        "tbatch": ("POST", batch_path, [batch(traced_check) for _ in range(20)]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=0.2)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--singles", type=int, default=1000, help="check requests per kind and round")
    parser.add_argument("--batches", type=int, default=10, help="batch requests per kind and round")
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated, of: " + ", ".join(KINDS))
    parser.add_argument("--profile", choices=KINDS, default=None, help="cProfile one kind instead")
    parser.add_argument("--db-suffix", default=str(os.getpid()))
    parser.add_argument("--redis-db", type=int, default=None, help="a database of the Redis on 6379")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="measure on a database loaded before")
    parser.add_argument("--load-only", action="store_true")
    parser.add_argument(
        "--worker-seconds",
        type=int,
        default=0,
        help="instead: CPU per request of one gunicorn sync worker, wrk with one connection, N s per kind",
    )
    args = parser.parse_args()
    kinds = [k for k in args.kinds.split(",") if k]

    database = f"hg_bench_cpu_{args.db_suffix}"
    # A Redis database given, or a redis-server of this run's own (stopped at exit).
    redis_url = f"redis://127.0.0.1:6379/{args.redis_db}" if args.redis_db is not None else _private_redis()
    env = bench_env(database, redis_url)
    # One PostgreSQL connection for the whole run, so its backend's CPU time adds up (see _ServerCpu).
    env["DATABASE_CONN_MAX_AGE"] = "3600"
    os.environ.update(env)
    if not args.reuse:
        recreate_database(database)
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"],
            env=env,
            check=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
    if not args.keep_db:
        atexit.register(_drop_database, database)

    import django

    django.setup()
    if not args.reuse:
        _load(args.scale, redis_url)
    if args.load_only:
        return
    requests = _requests(args.scale)
    app, token = _app_and_token()
    if args.worker_seconds:
        _worker_cpu(env, token, requests, kinds, args.worker_seconds, args.rounds)
        return
    counts = {k: args.batches if "batch" in k else args.singles for k in KINDS}
    position = dict.fromkeys(KINDS, 0)

    servers = _ServerCpu(redis_url if args.redis_db is None else None)

    def run(kind: str, count: int) -> tuple[float, float]:
        """This process's CPU per request, and the servers' (PostgreSQL, own Redis)."""
        method, path, bodies = requests[kind]
        started, server_started = time.process_time(), servers.cpu()
        for _ in range(count):
            body = bodies[position[kind] % len(bodies)]
            position[kind] += 1
            status, text = _call(app, method, path, token, body)
            if status != 200:
                raise SystemExit(f"{kind}: {status} {text[:300]!r}")
        return (time.process_time() - started) / count, (servers.cpu() - server_started) / count

    # Warm-up: the caches, the marks, the connections, and every batch body once (a batch's answers
    # are remembered after its first time, as in wrk's runs, whose warm-up sends every body).
    for kind in kinds:
        run(kind, max(len(requests[kind][2]) if "batch" in kind else 0, counts[kind] // 5, 2))
    if args.profile:
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        run(args.profile, counts[args.profile] * 3)  # (the servers' share is not profiled)
        profiler.disable()
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(35)
        stats.sort_stats("cumulative").print_stats(45)
        return
    rounds: dict[str, list[tuple[float, float]]] = {kind: [] for kind in kinds}
    for _ in range(args.rounds):
        for kind in kinds:
            rounds[kind].append(run(kind, counts[kind]))
    print(
        f"CPU per request in µs, median of {args.rounds} rounds (min-max), scale {args.scale}; servers: "
        f"PostgreSQL backends{'' if args.redis_db is not None else ' and the private Redis'}"
    )
    print(f"{'kind':<10}{'application':>24}{'servers':>22}{'together':>10}")
    for kind in kinds:
        app_cpu = [value[0] * 1e6 for value in rounds[kind]]
        server_cpu = [value[1] * 1e6 for value in rounds[kind]]
        together = statistics.median(a + b for a, b in zip(app_cpu, server_cpu, strict=True))
        extra = f"  ({1e9 / together:,.0f} decisions per CPU-second)" if "batch" in kind else ""
        print(
            f"{kind:<10}{statistics.median(app_cpu):>10,.0f} ({min(app_cpu):,.0f}-{max(app_cpu):,.0f})"
            f"{statistics.median(server_cpu):>10,.0f} ({min(server_cpu):,.0f}-{max(server_cpu):,.0f})"
            f"{together:>10,.0f}{extra}"
        )


def _worker_cpu(
    env: dict[str, str],
    token: str,
    requests: dict[str, tuple[str, str, list[bytes]]],
    kinds: list[str],
    seconds: int,
    rounds: int,
) -> None:
    """The CPU time (user and system, ``/proc/<pid>/stat``) of one gunicorn sync worker per request,
    with wrk sending one request at a time: what the in-process figures leave out (gunicorn's HTTP
    parsing, a connection per request, the kernel) and what a busy machine's cold caches add."""
    from benchmarks._harness import free_port, lua_post_script, scratch_dir

    work = scratch_dir("hg-cpu-wrk-")
    for kind in kinds:
        method, _, bodies = requests[kind]
        if method == "POST":
            lua_post_script(work / f"{kind}.lua", token, [body.decode() for body in bodies])
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "hansken_governance.wsgi", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", "1", "--worker-class", "sync", "--log-level", "warning"]
    root = Path(__file__).resolve().parent.parent
    server = subprocess.Popen(command, env=env, cwd=root, start_new_session=True)
    try:
        worker = _worker_of(server)
        tick = os.sysconf("SC_CLK_TCK")

        def worker_cpu() -> tuple[float, float]:
            with open(f"/proc/{worker}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            return int(fields[11]) / tick, int(fields[12]) / tick

        def wrk(kind: str, duration: int) -> int:
            script = ["-s", str(work / f"{kind}.lua")] if requests[kind][0] == "POST" else []
            url = f"http://127.0.0.1:{port}{requests[kind][1]}"
            command = ["wrk", "-t1", "-c1", f"-d{duration}s", *script, url]
            out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            return int(out.split(" requests in ")[0].split()[-1])

        for kind in kinds:  # warm-up: the worker's caches and every body once
            wrk(kind, 2)
        figures: dict[str, list[tuple[float, float]]] = {kind: [] for kind in kinds}
        for _ in range(rounds):
            for kind in kinds:
                (user, system), count = worker_cpu(), wrk(kind, seconds)
                user_after, system_after = worker_cpu()
                figures[kind].append(
                    ((user_after - user) / count * 1e6, (system_after - system) / count * 1e6)
                )
        print(
            f"One gunicorn sync worker, wrk one connection, {seconds} s per kind and round, {rounds} rounds:"
        )
        print(f"{'kind':<10}{'user µs':>10}{'system µs':>11}{'together (min-max)':>26}")
        for kind in kinds:
            together = [user + system for user, system in figures[kind]]
            print(
                f"{kind:<10}{statistics.median(u for u, _ in figures[kind]):>10,.0f}"
                f"{statistics.median(s for _, s in figures[kind]):>11,.0f}"
                f"{statistics.median(together):>10,.0f} ({min(together):,.0f}-{max(together):,.0f})"
            )
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=20)


def _worker_of(server: subprocess.Popen[bytes]) -> int:
    """gunicorn's one worker, once it answers."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        if children:
            time.sleep(3)  # the application loaded
            return int(children[0])
        time.sleep(0.2)
    raise SystemExit("gunicorn started no worker")


class _ServerCpu:
    """CPU time (``/proc/<pid>/schedstat``) of the PostgreSQL backends this process talks to (its
    Django connection and the change feed's listener, looked up each time: a connection may be made
    anew) and of its private redis-server (not the machine's shared one: others use it too)."""

    def __init__(self, private_redis_url: str | None) -> None:
        self._redis_pid: int | None = None
        if private_redis_url:
            import redis

            self._redis_pid = int(redis.Redis.from_url(private_redis_url).info("server")["process_id"])

    def cpu(self) -> float:
        from django.db import connection

        from authz.change_feed import change_feed

        connection.ensure_connection()
        pids = [connection.connection.info.backend_pid]
        if change_feed._conn is not None:
            pids.append(change_feed._conn.pgconn.backend_pid)
        if self._redis_pid is not None:
            pids.append(self._redis_pid)
        total = 0
        for pid in pids:
            with open(f"/proc/{pid}/schedstat", encoding="ascii") as stats:
                total += int(stats.read().split()[0])
        return total / 1e9


if __name__ == "__main__":
    main()
