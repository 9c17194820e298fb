"""Benchmark of usage-event ingest (issue: the tamper-evident audit trail), printed, not asserted.

On PostgreSQL, through a real gunicorn on loopback (sync workers) with the full middleware and DRF
stack, it prints:
  (a) events/s ingested through POST /api/v1/audit/events in requests of 5,000 events, with the
      hash chain, the grant that covered each event and the last-access updates;
  (b) events/s of a raw COPY of the very same rows (read back from the trail) into a scratch table
      with the same columns and indexes, also 5,000 rows per transaction;
  (c) the ratio (a) / (b).
The two measurements alternate in rounds over the same rows (medians printed), so load from other
users of a shared machine weighs on both alike. Targets: (a) >= 20,000 events/s and (a) >= 25% of
(b). It also prints how fast ``audit_verify`` checks the chain (which must cope with 10,000,000 rows
in bounded memory).

The events: 90% by a person holding a grant on the case, 5% by the case lead, 5% by someone without
a grant; a quarter name a trace; details are a small object, as Hansken sends. A request holds the
events of a few minutes of Hansken, so its events come from ``--active`` (person, case) pairs
(default 300, drawn afresh for each request from the 20,000 grants); ``--active 0`` draws every
event from all grants, the worst case for the grant lookup.

Run: .venv/bin/python benchmarks/audit_ingest.py [--requests 40] [--rounds 4] [--workers 2]
     [--clients 2] [--active 300]
Needs: PostgreSQL on 127.0.0.1:5432 (trust) and Redis on 127.0.0.1:6379.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._harness import PYTHON, ROOT, add_scratch_options, gunicorn, manage, scratch

PER_REQUEST = 5_000
PEOPLE = 2_000
CASES = 1_000
GRANTS = 20_000


def load(env: dict[str, str]) -> tuple[str, list[tuple[str, str, str]], list[tuple[str, str]]]:
    os.environ.update(env)
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import User
    from django.utils import timezone

    from api_clients.services import api_client_create
    from audit.actor import Actor
    from authz.models import Grant, GrantVersion
    from cases.models import Case, Dataset

    rng = random.Random(7)
    started = time.monotonic()
    unusable = make_password(None)
    User.objects.bulk_create([User(username=f"p{i:05d}", password=unusable) for i in range(PEOPLE)])
    # In username order, so users[i] is p{i:05d} (django-guardian adds its own AnonymousUser row first).
    users = list(
        User.objects.filter(username__startswith="p0").order_by("username").values_list("pk", flat=True)
    )
    Case.objects.bulk_create(
        [
            Case(
                project_id=uuid.UUID(int=rng.getrandbits(128), version=4),
                case_number=f"B-{i:05d}",
                title=f"Case {i}",
                case_lead_id=users[i % 100],
            )
            for i in range(CASES)
        ]
    )
    cases = list(Case.objects.order_by("pk").values_list("pk", "project_id", "case_lead__username"))
    Dataset.objects.bulk_create(
        [
            Dataset(
                case_id=pk,
                image_id=uuid.UUID(int=rng.getrandbits(128), version=4),
                description="image",
                delivered_by="bench",
                imported_at=timezone.now(),
            )
            for pk, _, _ in cases
        ]
    )
    images = dict(Dataset.objects.values_list("case_id", "image_id"))
    now = timezone.now()
    since = now - datetime.timedelta(days=30)
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < GRANTS:
        pairs.add((rng.randrange(100, PEOPLE), rng.randrange(CASES)))
    grants = [
        Grant(
            case_id=cases[c][0],
            grantee_id=users[u],
            rights=["read", "search"],
            environments=["production"],
            valid_from=since,
            valid_until=now + datetime.timedelta(days=180),
            reason="bench",
            granted_by_id=users[0],
            granted_at=since,
            changed_at=since,
        )
        for u, c in sorted(pairs)
    ]
    Grant.objects.bulk_create(grants, batch_size=5000)
    GrantVersion.objects.bulk_create(
        [
            GrantVersion(
                grant_id=g.pk,
                version=1,
                kind="created",
                rights=g.rights,
                environments=g.environments,
                valid_from=g.valid_from,
                valid_until=g.valid_until,
                changed_by_id=users[0],
                changed_by_label="p00000",
                reason="bench",
                recorded_at=since,
                case_id=g.case_id,
                grantee_id=g.grantee_id,
            )
            for g in grants
        ],
        batch_size=5000,
    )
    _, token = api_client_create(
        name="bench", environment="production", scopes=["audit:write"], by=Actor(username="bench")
    )
    granted = [(f"p{u:05d}", str(cases[c][1]), str(images[cases[c][0]])) for u, c in sorted(pairs)]
    leads = [(lead, str(project_id)) for _, project_id, lead in cases]
    print(
        f"loaded {PEOPLE:,} people, {CASES:,} cases, {GRANTS:,} grants in {time.monotonic() - started:.1f} s"
    )
    return token, granted, leads


def bodies(rng: random.Random, granted, leads, requests: int, active: int) -> list[bytes]:
    out = []
    base = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
    for r in range(requests):
        pool = [granted[rng.randrange(len(granted))] for _ in range(active)] if active else granted
        events = []
        for i in range(PER_REQUEST):
            roll = rng.random()
            if roll < 0.90:
                user, project, image = pool[rng.randrange(len(pool))]
            elif roll < 0.95:
                user, project = leads[rng.randrange(len(leads))]
                image = None
            else:
                user, project, image = (
                    f"p{rng.randrange(PEOPLE):05d}",
                    leads[rng.randrange(len(leads))][1],
                    None,
                )
            event = {
                "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "occurred_at": (base + datetime.timedelta(milliseconds=r * PER_REQUEST + i)).isoformat(),
                "user": user,
                "project_id": project,
                "action": rng.choice(["read", "search", "export", "read_added_data"]),
                "outcome": "success" if rng.random() < 0.98 else "failure",
                "details": {"query": "type:email AND from:*@example.org", "hits": rng.randrange(1000)},
            }
            if image and rng.random() < 0.25:
                event["trace_uid"] = f"{image}:0-{rng.randrange(50)}-{rng.randrange(9)}"
            events.append(event)
        out.append(json.dumps({"events": events}).encode())
    return out


def post_all(base: str, token: str, payloads: list[bytes], clients: int) -> float:
    """Send every payload, ``clients`` connections at a time; the wall time in seconds."""
    url = urlparse(base)
    queue = list(enumerate(payloads))
    lock = threading.Lock()
    failures: list[str] = []

    def worker() -> None:
        conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=120)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        while True:
            with lock:
                if not queue:
                    break
                _, body = queue.pop(0)
            conn.request("POST", "/api/v1/audit/events", body=body, headers=headers)
            response = conn.getresponse()
            text = response.read()
            if response.status != 201 or json.loads(text)["accepted"] != PER_REQUEST:
                failures.append(f"{response.status} {text[:200]!r}")
        conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    if failures:
        raise SystemExit(f"{len(failures)} requests failed, e.g. {failures[0]}")
    return elapsed


_COPY_TYPES = [
    "int8",  # sequence
    "uuid",  # event_id
    "timestamptz",  # occurred_at
    "timestamptz",  # recorded_at
    *["text"] * 7,  # actor, on_behalf_of, actor_role, client_name, environment, channel, source_address
    "text",  # action
    "text",  # outcome
    "uuid",  # project_id
    "uuid",  # image_id
    *["text"] * 3,  # trace_uid, object_type, object_id
    "int8",  # grant_id
    *["text"] * 5,  # basis, request_id, details, prev_hash, hash
]


def raw_copy(after_sequence: int) -> tuple[float, int, int]:
    """COPY the rows the API stored after ``after_sequence`` (as stored) into a scratch table with
    the same columns and indexes, 5,000 rows per transaction, from typed Python tuples, as the API
    does: the floor for the API's own writing. Returns (seconds, rows, last sequence)."""
    from django.db import connection

    from audit.append import COLUMNS

    columns = ", ".join(COLUMNS)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        raw.execute("CREATE TABLE IF NOT EXISTS bench_scratch (LIKE audit_auditevent INCLUDING ALL)")
        with raw.copy(
            f"COPY (SELECT {columns} FROM audit_auditevent WHERE sequence > {int(after_sequence)} "  # noqa: S608
            "AND action LIKE 'hansken.%' ORDER BY sequence) TO STDOUT"
        ) as copy:
            copy.set_types(_COPY_TYPES)
            rows = list(copy.rows())
    connection.close()
    started = time.monotonic()
    for start in range(0, len(rows), PER_REQUEST):
        with connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.connection.transaction(), raw.copy(f"COPY bench_scratch ({columns}) FROM STDIN") as copy:
                for row in rows[start : start + PER_REQUEST]:
                    copy.write_row(row)
    elapsed = time.monotonic() - started
    connection.close()
    return elapsed, len(rows), rows[-1][0] if rows else after_sequence


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=40, help="measured requests of 5,000 events")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--clients", type=int, default=2, help="concurrent client connections")
    parser.add_argument("--active", type=int, default=300, help="(person, case) pairs per request; 0: all")
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds of (a) and (b)")
    add_scratch_options(parser)
    args = parser.parse_args()

    env = scratch("audit_ingest", args).env
    manage(env, "migrate", "-v0")
    token, granted, leads = load(env)
    rng = random.Random(11)
    warmup = bodies(rng, granted, leads, 2, args.active)
    measured = bodies(rng, granted, leads, args.requests, args.active)
    print(
        f"built {len(measured)} request bodies of {PER_REQUEST:,} events, "
        f"{len(measured[0]) / 1e6:.2f} MB each"
    )

    # Rounds alternate the two measurements over the same rows, so load from elsewhere on a shared
    # machine weighs on both alike; the medians are printed.
    api_rates: list[float] = []
    copy_rates: list[float] = []
    per_round = max(1, len(measured) // args.rounds)
    with gunicorn(env, args.workers) as base:
        post_all(base, token, warmup, args.clients)
        _, _, last = raw_copy(0)  # warms the scratch table up and skips the warm-up rows
        for start in range(0, per_round * args.rounds, per_round):
            chunk = measured[start : start + per_round]
            elapsed = post_all(base, token, chunk, args.clients)
            api_rates.append(len(chunk) * PER_REQUEST / elapsed)
            copy_elapsed, copied, last = raw_copy(last)
            assert copied == len(chunk) * PER_REQUEST, copied
            copy_rates.append(copied / copy_elapsed)
    api_rate = statistics.median(api_rates)
    copy_rate = statistics.median(copy_rates)
    ratio = statistics.median(a / c for a, c in zip(api_rates, copy_rates, strict=True))
    events = per_round * args.rounds * PER_REQUEST

    started = time.monotonic()
    verify = subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), "audit_verify"], env=env, cwd=ROOT, capture_output=True, text=True
    )
    verify_elapsed = time.monotonic() - started
    verified = verify.stdout.strip() or verify.stderr.strip()

    print(
        f"\nPostgreSQL, gunicorn {args.workers} sync workers on loopback, {args.clients} client connections, "
        f"{os.cpu_count()} cores; {args.rounds} rounds, {events // PER_REQUEST} requests of "
        f"{PER_REQUEST:,} events, "
        f"{args.active or 'all'} active (person, case) pairs per request"
    )
    print(f"(a) through the API, with the chain:  {api_rate:>10,.0f} events/s   (target >= 20,000)")
    print(f"(b) raw COPY of the same rows:        {copy_rate:>10,.0f} events/s")
    print(f"(c) ratio (a) / (b):                  {ratio:>10.0%}          (target >= 25%)")
    print(f"    per round: (a) {', '.join(f'{r:,.0f}' for r in api_rates)}")
    print(f"               (b) {', '.join(f'{r:,.0f}' for r in copy_rates)}")
    rows = events + len(warmup) * PER_REQUEST  # every usage event stored
    print(
        f"audit_verify: {verified} in {verify_elapsed:.1f} s "
        f"({rows / verify_elapsed:,.0f} events/s incl. start-up)"
    )
    if verify.returncode != 0:
        raise SystemExit("The chain did not verify: the figures above are not valid.")


if __name__ == "__main__":
    main()
