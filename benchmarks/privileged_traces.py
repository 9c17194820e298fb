"""Benchmark of privileged traces (issue 12), printed, not asserted.

One case whose trace tree has 1,000,000 traces (100 folders, each with 100 mailboxes of 100
e-mails, some with attachments) and 100,000 privileged marks at several depths (mailboxes, e-mails
and attachments; 60% confirmed, 25% suspected, 15% rejected), 1,000 people with read and export
grants on it (50 of them also holding review_privileged), on PostgreSQL and Redis behind a real
gunicorn with sync workers and wrk with 32 connections. It prints, beside the floor (a bare JSON
view, /healthz, through the same middleware):

  (m) marks ingest: the 100,000 marks posted through the API in requests of 10,000, as Hansken
      posts them (this also loads them): marks/s. Target >= 20,000/s.
  (b) POST /api/v1/authz/check with a trace_uid: req/s, its share of the floor and p99.
      Target >= 60% of the floor, p99 < 20 ms.
  (c) POST /api/v1/authz/check-batch, 1,000 checks that all carry a trace_uid: decisions/s.
      Target >= 250,000/s.
  (e) POST /api/v1/authz/export-check of 1,000 traces, containers included: p99.
      Target < 50 ms. Measured twice: with the 32 connections of the other runs, where a
      request mostly waits behind the other 31 (32 requests of 1,000 traces queue on 2 cores, so
      p99 there is a throughput figure), and (e') with as many connections as workers, where it
      is the time one export check takes with the machine busy.

For (c) and (e) it also prints where the machine's CPU went per request (the web workers,
PostgreSQL, Redis, wrk, the rest: ``/proc``), and for (e) the mean wait that this much CPU per
request makes at 32 connections on this many cores (Little's law): the bound that no cut of the
request's own code below it can beat. Other work on the machine counts in these shares (another
gunicorn and its database's backends count as ``other``), but any other work makes the requests
slower: run it on a quiet machine.

The checks ask about a random person and trace; 5% of them ask about a trace inside privileged
data (denied, and written to the audit trail as every denial is), the rest about traces outside
it, as the decision benchmark's 5% of denials. Every export check has 1,000 traces of which 2%
are mailboxes (containers; most hold a privileged e-mail, so most export checks are refused) and
is written to the audit trail.

Run: .venv/bin/python benchmarks/privileged_traces.py [--seconds 10] [--workers 4]
It makes its own database (hg_bench_privilege_<pid>, or --db-suffix) and its own redis-server (or
--redis-db N, an empty database of the machine's Redis), and removes both when done.
Small (to see that it works, figures meaningless): --small (10,000 traces, 1,000 marks, 2 s runs).
Only the marks ingest: --only marks (no wrk); --ingest-runs N posts the marks N times, each time into
a case of its own (the tables grow as they would), and prints each run's figure.
Needs: PostgreSQL on 127.0.0.1:5432 (trust), Redis on 127.0.0.1:6379, wrk (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._harness import (
    add_scratch_options,
    cpu_shares,
    gunicorn,
    lua_post_script,
    manage,
    scratch,
    scratch_dir,
    wrk,
)

PEOPLE = 1_000
REVIEWERS = 50
MARKS_PER_REQUEST = 10_000


class Tree:
    """The trace ids of the case's image: 0-f-m-e (folder, mailbox, e-mail), and for one e-mail in
    ten 0-f-m-e-a (attachments)."""

    def __init__(self, folders: int, mailboxes: int, mails: int) -> None:
        self.folders, self.mailboxes, self.mails = folders, mailboxes, mails

    @property
    def size(self) -> int:
        mails = self.folders * self.mailboxes * self.mails
        return 1 + self.folders + self.folders * self.mailboxes + mails + mails // 10 * 2

    def mailbox(self, rng: random.Random) -> str:
        return f"0-{rng.randrange(self.folders)}-{rng.randrange(self.mailboxes)}"

    def mail(self, rng: random.Random) -> str:
        return f"{self.mailbox(rng)}-{rng.randrange(self.mails)}"

    def attachment(self, rng: random.Random) -> str:
        mail = f"{self.mailbox(rng)}-{rng.randrange(self.mails // 10) * 10}"
        return f"{mail}-{rng.randrange(2)}"


def make_marks(tree: Tree, count: int, rng: random.Random, now: datetime.datetime) -> list[dict[str, str]]:
    """Distinct traces: 2% mailboxes, 78% e-mails, 20% attachments."""
    chosen: set[str] = set()
    while len(chosen) < count:
        roll = rng.random()
        chosen.add(
            tree.mailbox(rng) if roll < 0.02 else tree.mail(rng) if roll < 0.80 else tree.attachment(rng)
        )
    marks = []
    for trace_id in sorted(chosen):
        roll = rng.random()
        status = "confirmed" if roll < 0.60 else "suspected" if roll < 0.85 else "rejected"
        marks.append({"trace_id": trace_id, "status": status, "marked_at": now.isoformat()})
    return marks


def withheld_of(marks: list[dict[str, str]]) -> tuple[set[str], set[str]]:
    marked = {m["trace_id"] for m in marks if m["status"] != "rejected"}
    return marked, {m["trace_id"] for m in marks}


def is_withheld(trace_id: str, marked: set[str]) -> bool:
    steps = trace_id.split("-")
    return any("-".join(steps[:n]) in marked for n in range(1, len(steps) + 1))


def load(env: dict[str, str], ingest_runs: int) -> dict[str, Any]:
    os.environ.update(env)
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import User
    from django.utils import timezone

    from api_clients.services import api_client_create
    from audit.actor import Actor
    from authz.models import Grant
    from cases.models import Case, Dataset
    from people.models import Profile

    unusable = make_password(None)
    User.objects.bulk_create([User(username=f"p{i:04d}", password=unusable) for i in range(PEOPLE)])
    users = list(
        User.objects.filter(username__startswith="p").order_by("username").values_list("pk", flat=True)
    )
    screened = timezone.localdate() + datetime.timedelta(days=365)
    Profile.objects.bulk_create([Profile(user_id=pk, screening_valid_until=screened) for pk in users])
    # The first case is the one the checks ask about; the others only take further ingest runs.
    cases = []
    for number in range(1, ingest_runs + 1):
        project_id, image_id = uuid.uuid4(), uuid.uuid4()
        case = Case.objects.create(
            project_id=project_id, case_number=f"P-{number}", title="Mailboxes", case_lead_id=users[0]
        )
        Dataset.objects.create(
            case=case,
            image_id=image_id,
            description="Mail server",
            delivered_by="bench",
            imported_at=timezone.now(),
        )
        cases.append((str(project_id), str(image_id)))
    case = Case.objects.get(case_number="P-1")
    now = timezone.now()
    Grant.objects.bulk_create(
        [
            Grant(
                case=case,
                grantee_id=pk,
                rights=["read", "export", "review_privileged"] if i < REVIEWERS else ["read", "export"],
                environments=["production"],
                valid_from=now - datetime.timedelta(days=1),
                valid_until=now + datetime.timedelta(days=180),
                reason="bench",
                granted_by_id=users[0],
                granted_at=now,
                changed_at=now,
            )
            for i, pk in enumerate(users[1:], start=1)
        ]
    )
    scopes = ["authz:check", "privilege:write", "export:check"]
    _, token = api_client_create(
        name="bench", environment="production", scopes=scopes, by=Actor(username="bench")
    )
    from django.db import connection

    connection.close()
    return {"token": token, "cases": cases}


def post_marks(base: str, token: str, project_id: str, bodies: list[bytes]) -> float:
    url = urlparse(base)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=300)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    started = time.monotonic()
    for body in bodies:
        conn.request("POST", f"/api/v1/cases/{project_id}/privileged", body=body, headers=headers)
        response = conn.getresponse()
        text = response.read()
        if response.status != 201:
            raise SystemExit(f"marks refused: {response.status} {text[:300]!r}")
    elapsed = time.monotonic() - started
    conn.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--small", action="store_true", help="10,000 traces and 1,000 marks, 2 s runs")
    parser.add_argument(
        "--only", choices=["marks"], default=None, help="marks: measure (m), the marks ingest, alone"
    )
    parser.add_argument(
        "--ingest-runs",
        type=int,
        default=1,
        help="post the marks N times, each into a case of its own",
    )
    add_scratch_options(parser)
    args = parser.parse_args()
    tree = Tree(10, 10, 80) if args.small else Tree(100, 100, 82)
    mark_count = 1_000 if args.small else 100_000
    seconds = 2 if args.small else args.seconds

    bench = scratch("privilege", args)
    env = bench.env
    manage(env, "migrate", "-v0")
    facts = load(env, args.ingest_runs)
    token, cases = str(facts["token"]), facts["cases"]
    project_id, image_id = cases[0]
    rng = random.Random(12)
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
    marks = make_marks(tree, mark_count, rng, now)
    marked, _ = withheld_of(marks)
    rng.shuffle(marks)

    def bodies_of(image: str) -> list[bytes]:
        return [
            json.dumps(
                {
                    "marks": [
                        {
                            "trace_uid": f"{image}:{m['trace_id']}",
                            "status": m["status"],
                            "marked_at": m["marked_at"],
                        }
                        for m in marks[start : start + MARKS_PER_REQUEST]
                    ]
                }
            ).encode()
            for start in range(0, len(marks), MARKS_PER_REQUEST)
        ]

    if args.only == "marks":
        with gunicorn(env, args.workers) as base:
            rates = [
                len(marks) / post_marks(base, token, project, bodies_of(image)) for project, image in cases
            ]
        print(
            f"\n{len(marks):,} marks in requests of {MARKS_PER_REQUEST:,}, {len(cases)} run(s), each into a "
            f"case of its own; PostgreSQL, gunicorn {args.workers} sync workers; {os.cpu_count()} cores"
        )
        print(
            f"(m) marks ingest: {', '.join(f'{rate:,.0f}' for rate in rates)} marks/s; "
            f"median {statistics.median(rates):,.0f} (target >= 20,000)"
        )
        return
    bodies = bodies_of(image_id)

    def trace(withheld_share: float) -> str:
        want_withheld = rng.random() < withheld_share
        while True:
            trace_id = tree.attachment(rng) if rng.random() < 0.1 else tree.mail(rng)
            if is_withheld(trace_id, marked) == want_withheld:
                return trace_id

    def check_item() -> dict[str, str]:
        return {
            "user": f"p{rng.randrange(REVIEWERS, PEOPLE):04d}",
            "project_id": project_id,
            "action": "read",
            "trace_uid": f"{image_id}:{trace(0.05)}",
        }

    work = scratch_dir("hg-bench-wrk-")
    lua_post_script(work / "check.lua", token, [json.dumps(check_item()) for _ in range(20_000)])
    lua_post_script(
        work / "batch.lua",
        token,
        [
            json.dumps({"checks": [{"correlation_id": str(i), **check_item()} for i in range(1000)]})
            for _ in range(50)
        ],
    )
    lua_post_script(
        work / "export.lua",
        token,
        [
            json.dumps(
                {
                    "user": f"p{rng.randrange(1, PEOPLE):04d}",
                    "project_id": project_id,
                    "trace_uids": [
                        f"{image_id}:{tree.mailbox(rng) if rng.random() < 0.02 else trace(0.0)}"
                        for _ in range(1000)
                    ],
                }
            )
            for _ in range(50)
        ],
    )

    with gunicorn(env, args.workers) as base:
        ingest_seconds = post_marks(base, token, project_id, bodies)
        # Warm-up: fills each worker's fact cache and its copy of the case's marks.
        wrk(f"{base}/api/v1/authz/check", 3, args.connections, str(work / "check.lua"))
        wrk(f"{base}/api/v1/authz/check-batch", 3, args.connections, str(work / "batch.lua"))
        wrk(f"{base}/api/v1/authz/export-check", 3, args.connections, str(work / "export.lua"))
        floor = wrk(f"{base}/healthz", seconds, args.connections)
        check = wrk(f"{base}/api/v1/authz/check", seconds, args.connections, str(work / "check.lua"))
        with cpu_shares(base, bench.database) as batch_cpu:
            batch = wrk(
                f"{base}/api/v1/authz/check-batch", seconds, args.connections, str(work / "batch.lua")
            )
        with cpu_shares(base, bench.database) as export_cpu:
            export = wrk(
                f"{base}/api/v1/authz/export-check", seconds, args.connections, str(work / "export.lua")
            )
        export_one_each = wrk(
            f"{base}/api/v1/authz/export-check", seconds, args.workers, str(work / "export.lua"), threads=1
        )

    print(
        f"\n{tree.size:,} traces, {len(marks):,} marks ({len(marked):,} withholding); PostgreSQL + Redis, "
        f"gunicorn {args.workers} sync workers, wrk {args.connections} connections, {seconds} s each; "
        f"{os.cpu_count()} cores"
    )
    print(f"{'endpoint':<40}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}")
    for name, r in [
        ("(a) bare view /healthz (floor)", floor),
        ("(b) authz/check with trace_uid", check),
        ("(c) authz/check-batch x1000 traces", batch),
        ("(e) authz/export-check x1000 traces", export),
        (f"(e') the same, {args.workers} connections", export_one_each),
    ]:
        print(
            f"{name:<40}{r.requests_per_s:>10,.0f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}{r.non_2xx:>9}  {r.errors}"
        )
    print(f"\n(m) marks ingest: {len(marks) / ingest_seconds:,.0f} marks/s (target >= 20,000)")
    print(
        f"(b) check with a trace reaches {check.requests_per_s / floor.requests_per_s:.0%} of the floor "
        f"(target >= 60%), p99 {check.p99_ms:.1f} ms (target < 20 ms)"
    )
    print(f"(c) check-batch: {batch.requests_per_s * 1000:,.0f} decisions/s (target >= 250,000)")
    print(f"    (c) where the machine's CPU went: {batch_cpu.per_request(batch.requests)}")
    print(
        f"(e) export-check of 1,000 traces: p99 {export.p99_ms:.1f} ms with {args.connections} connections, "
        f"{export_one_each.p99_ms:.1f} ms with {args.workers} (one per worker) (target < 50 ms)"
    )
    print(f"    (e) where the machine's CPU went: {export_cpu.per_request(export.requests)}")
    # With every connection sending again as soon as it is answered, the cores are never idle and a
    # request waits for the ones in front of it: on average connections x CPU per request / cores
    # (Little's law), whatever the code does with its share.
    cpu_per_export = export_cpu.own_ms / export.requests
    cores = os.cpu_count() or 1
    print(
        f"    (e) {args.connections} connections x {cpu_per_export:.2f} ms / {cores} cores = "
        f"{args.connections * cpu_per_export / cores:.0f} ms: the mean wait that this run's own CPU per "
        f"request gives at {args.connections} connections"
    )
    if floor.non_2xx or check.non_2xx or batch.non_2xx or export.non_2xx or export_one_each.non_2xx:
        raise SystemExit("Some responses were not 2xx: the figures above are not valid.")


if __name__ == "__main__":
    main()
