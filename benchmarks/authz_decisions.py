"""Benchmark of the decision API (issue: case authorisations), printed, not asserted.

On PostgreSQL and Redis, behind a real gunicorn with sync workers, with 10,000 people, 10,000 cases
and 100,000 grants, 32 concurrent connections (wrk), it prints requests/s and p50/p99 for
  (a) a bare Django view returning constant JSON (/healthz: the floor, through the same middleware),
  (b) POST /api/v1/authz/check,
  (c) POST /api/v1/authz/check-batch with 1,000 checks (and decisions/s), and (c') the same with
      every check allowed (so that nothing is written to the audit trail),
with the share of the floor that (b) reaches. Targets: (b) >= 60% of (a) with p99 < 20 ms;
(c) >= 300,000 decisions/s.

The request mix: 95% of checks ask for a person and case that have a grant, for an action the grant
covers (Hansken asks because a person is working on the case); 5% ask for a random person and case
(almost always "no_grant"). Denies are written to the audit trail, as in production.

Run: .venv/bin/python benchmarks/authz_decisions.py [--seconds 10] [--workers 4]
Small scale (proves it runs; figures mean nothing): add --small (1,200 people, 500 cases, 2,000 grants,
its own database and the Redis database given by --redis-db).
Needs: PostgreSQL on 127.0.0.1:5432 (trust), Redis on 127.0.0.1:6379, wrk (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._harness import (
    add_scratch_options,
    gunicorn,
    lua_post_script,
    manage,
    scratch,
    scratch_dir,
    wrk,
)

PEOPLE = 10_000
CASES = 10_000
GRANTS = 100_000
ACTIONS = ["read", "search", "export", "read_added_data", "write_added_data", "review_privileged"]


def load(
    env: dict[str, str], people: int = PEOPLE, cases_wanted: int = CASES, grants_wanted: int = GRANTS
) -> tuple[str, list[tuple[str, str, str]], list[tuple[str, str]]]:
    os.environ.update(env)
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group, User
    from django.utils import timezone

    from api_clients.services import api_client_create
    from audit.actor import Actor
    from authz.models import Grant
    from cases.models import Case
    from people.models import Profile

    rng = random.Random(7)
    started = time.monotonic()
    unusable = make_password(None)
    User.objects.bulk_create(
        [User(username=f"p{i:05d}", password=unusable) for i in range(people)], batch_size=5000
    )
    # In username order, so users[i] is p{i:05d} (django-guardian adds its own AnonymousUser row first).
    users = list(
        User.objects.filter(username__startswith="p0").order_by("username").values_list("pk", flat=True)
    )
    screened = timezone.localdate() + datetime.timedelta(days=365)
    Profile.objects.bulk_create(
        [Profile(user_id=pk, screening_valid_until=screened) for pk in users], batch_size=5000
    )
    leads = Group.objects.get(name="case_lead")
    leads.user_set.add(*users[:1000])
    Case.objects.bulk_create(
        [
            Case(
                project_id=uuid.UUID(int=rng.getrandbits(128), version=4),
                case_number=f"B-{i:05d}",
                title=f"Case {i}",
                case_lead_id=users[i % 1000],
            )
            for i in range(cases_wanted)
        ],
        batch_size=5000,
    )
    cases = list(Case.objects.order_by("pk").values_list("pk", "project_id"))
    now = timezone.now()
    granted: list[tuple[str, str, str]] = []
    seen: set[tuple[int, int]] = set()
    grants: list[Grant] = []
    while len(grants) < grants_wanted:
        user_index = rng.randrange(1000, people)
        case_pk, project_id = cases[rng.randrange(cases_wanted)]
        if (user_index, case_pk) in seen:
            continue
        seen.add((user_index, case_pk))
        rights = sorted(rng.sample(ACTIONS, rng.randint(1, 3)))
        grants.append(
            Grant(
                case_id=case_pk,
                grantee_id=users[user_index],
                rights=rights,
                environments=["production"],
                valid_from=now - datetime.timedelta(days=1),
                valid_until=now + datetime.timedelta(days=180),
                reason="bench",
                granted_by_id=users[0],
                granted_at=now,
                changed_at=now,
            )
        )
        granted.append((f"p{user_index:05d}", str(project_id), rng.choice(rights)))
    Grant.objects.bulk_create(grants, batch_size=5000)
    _, token = api_client_create(
        name="bench", environment="production", scopes=["authz:check"], by=Actor(username="bench")
    )
    random_pairs = [
        (f"p{rng.randrange(people):05d}", str(cases[rng.randrange(cases_wanted)][1])) for _ in range(2000)
    ]
    print(
        f"loaded {people:,} people, {cases_wanted:,} cases, {grants_wanted:,} grants "
        f"in {time.monotonic() - started:.1f} s"
    )
    return token, granted, random_pairs


def mixed_checks(
    rng: random.Random, granted, random_pairs, n: int, granted_share: float = 0.95
) -> list[dict[str, str]]:
    checks = []
    for _ in range(n):
        if rng.random() < granted_share:
            user, project, action = granted[rng.randrange(len(granted))]
        else:
            user, project = random_pairs[rng.randrange(len(random_pairs))]
            action = rng.choice(ACTIONS)
        checks.append({"user": user, "project_id": project, "action": action})
    return checks


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--small", action="store_true", help="a small data set: proves the script runs")
    add_scratch_options(parser)
    args = parser.parse_args()

    sizes = (1200, 500, 2000) if args.small else (PEOPLE, CASES, GRANTS)
    warm_up = 1 if args.small else 5
    env = scratch("authz_small" if args.small else "authz", args).env
    manage(env, "migrate", "-v0")
    token, granted, random_pairs = load(env, *sizes)
    rng = random.Random(11)
    work = scratch_dir("hg-bench-wrk-")
    single = [json.dumps(c) for c in mixed_checks(rng, granted, random_pairs, 20_000)]

    def batch_bodies(granted_share: float) -> list[str]:
        return [
            json.dumps(
                {
                    "checks": [
                        {"correlation_id": str(i), **c}
                        for i, c in enumerate(mixed_checks(rng, granted, random_pairs, 1000, granted_share))
                    ]
                }
            )
            for _ in range(50)
        ]

    lua_post_script(work / "check.lua", token, single)
    lua_post_script(work / "batch.lua", token, batch_bodies(0.95))
    # The same without the 5% of random pairs: every check allowed, so nothing is written.
    lua_post_script(work / "batch_allowed.lua", token, batch_bodies(1.0))

    with gunicorn(env, args.workers) as base:
        # Warm-up: fills each worker's fact cache and the connection pools.
        wrk(f"{base}/api/v1/authz/check", warm_up, args.connections, str(work / "check.lua"))
        wrk(f"{base}/api/v1/authz/check-batch", warm_up, args.connections, str(work / "batch.lua"))
        floor = wrk(f"{base}/healthz", args.seconds, args.connections)
        check = wrk(f"{base}/api/v1/authz/check", args.seconds, args.connections, str(work / "check.lua"))
        batch = wrk(
            f"{base}/api/v1/authz/check-batch", args.seconds, args.connections, str(work / "batch.lua")
        )
        wrk(f"{base}/api/v1/authz/check-batch", warm_up, args.connections, str(work / "batch_allowed.lua"))
        batch_allowed = wrk(
            f"{base}/api/v1/authz/check-batch",
            args.seconds,
            args.connections,
            str(work / "batch_allowed.lua"),
        )

    print(
        f"\nPostgreSQL + Redis, gunicorn {args.workers} sync workers, wrk {args.connections} connections, "
        f"{args.seconds} s each; {os.cpu_count()} cores"
    )
    print(f"{'endpoint':<34}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}")
    for name, r in [
        ("(a) bare view /healthz (floor)", floor),
        ("(b) authz/check", check),
        ("(c) authz/check-batch x1000", batch),
        ("(c') the same, every check allowed", batch_allowed),
    ]:
        print(
            f"{name:<34}{r.requests_per_s:>10,.0f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}{r.non_2xx:>9}  {r.errors}"
        )
    share = check.requests_per_s / floor.requests_per_s
    decisions = batch.requests_per_s * 1000
    print(
        f"\ncheck reaches {share:.0%} of the floor (target >= 60%), "
        f"p99 {check.p99_ms:.1f} ms (target < 20 ms)"
    )
    print(
        f"check-batch: {decisions:,.0f} decisions/s with 5% denied, each denial written to the audit "
        f"trail (target >= 300,000); {batch_allowed.requests_per_s * 1000:,.0f} decisions/s when every "
        "check is allowed"
    )
    if check.non_2xx or batch.non_2xx or floor.non_2xx or batch_allowed.non_2xx:
        raise SystemExit("Some responses were not 2xx: the figures above are not valid.")


if __name__ == "__main__":
    main()
