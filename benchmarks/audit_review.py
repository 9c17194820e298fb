"""Benchmark of the review queries (issue: audit trail), printed, not asserted.

On PostgreSQL, with 10,000,000 audit events and 100,000 grants (each with its version history row),
it prints the time of
  - a filtered first page of GET /api/v1/audit/events for several filters, and
  - GET /api/v1/audit/access-at for random cases and moments,
each through the real API (Django's test client in-process, a privacy officer's personal token, so
authentication, the scoping door, serialisation and the `audit.viewed` event written by every opening
of the trail are included). Target: each under 100 ms.

Among the events are the gates' history that access-at reads back (session 10): 20,000 screening
changes (half of them to a lapsed date) and 5,000 case status changes (closing and reopening).

The 10,000,000 rows are generated inside PostgreSQL (INSERT ... SELECT generate_series) for speed:
their hashes are placeholders, so the chain of this scratch database does not verify — what is
measured here is reading, not the chain (benchmarks/audit_ingest.py measures writing it).

Run: .venv/bin/python benchmarks/audit_review.py [--events 10000000]
Needs: PostgreSQL on 127.0.0.1:5432 (trust).
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._harness import add_scratch_options, manage, scratch

PEOPLE = 10_000
CASES = 10_000
GRANTS = 100_000

GENERATE_EVENTS = """
INSERT INTO audit_auditevent (
    sequence, event_id, occurred_at, recorded_at, actor, on_behalf_of, actor_role, client_name,
    environment, channel, source_address, action, outcome, project_id, image_id, trace_uid,
    object_type, object_id, grant_id, basis, request_id, details, prev_hash, hash)
SELECT i,
       md5('event' || i)::uuid,
       %(start)s::timestamptz + (i * interval '3 seconds'),
       %(start)s::timestamptz + (i * interval '3 seconds') + interval '1 second',
       'p' || lpad(((i * 7919) %% %(people)s)::text, 5, '0'),
       '', '', 'hansken-production', 'production', 'api', '10.1.2.3',
       CASE WHEN i %% 500 = 7 THEN 'person.screening_changed'
            WHEN i %% 2000 = 13 THEN 'case.status_changed'
            ELSE (ARRAY['hansken.read','hansken.search','hansken.read','hansken.export','authz.denied',
                        'hansken.read','hansken.search','grant.created','hansken.read','hansken.tag']
                 )[(1 + i %% 10)::int] END,
       CASE WHEN i %% 20 = 0 THEN 'denied' WHEN i %% 50 = 1 THEN 'failure' ELSE 'success' END,
       case_ids[(1 + (i * 104729) %% %(cases)s)::int],
       NULL, '', '', '', NULL, 'grant', '',
       CASE WHEN i %% 500 = 7 THEN jsonb_build_object(
                'username', 'p' || lpad(((i * 31) %% %(people)s)::text, 5, '0'),
                'before', '2030-01-01',
                'after', CASE WHEN i %% 1000 = 7 THEN '2020-01-01' ELSE '2030-01-01' END)
            WHEN i %% 4000 = 13 THEN '{"before": "open", "after": "closed", "reason": "bench"}'::jsonb
            WHEN i %% 4000 = 2013 THEN '{"before": "closed", "after": "open", "reason": "bench"}'::jsonb
            ELSE '{}'::jsonb END,
       md5('p' || (i - 1)) || md5('q' || (i - 1)), md5('p' || i) || md5('q' || i)
FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS i,
     (SELECT array_agg(project_id ORDER BY id) AS case_ids FROM cases_case) AS c
"""


def load(env: dict[str, str], events: int) -> tuple[str, list[str], datetime.datetime, datetime.datetime]:
    os.environ.update(env)
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import User
    from django.db import connection, transaction
    from django.utils import timezone

    from api_clients.services import personal_token_create
    from audit.actor import Actor
    from audit.models import ChainHead
    from authz.models import Grant, GrantVersion
    from cases.models import Case
    from people.models import Profile
    from people.services import person_create

    rng = random.Random(5)
    started = time.monotonic()
    unusable = make_password(None)
    User.objects.bulk_create(
        [User(username=f"p{i:05d}", password=unusable) for i in range(PEOPLE)], batch_size=5000
    )
    # In username order, so users[i] is p{i:05d} (django-guardian adds its own AnonymousUser row first).
    users = list(
        User.objects.filter(username__startswith="p0").order_by("username").values_list("pk", flat=True)
    )
    screened = timezone.localdate() + datetime.timedelta(days=365)
    Profile.objects.bulk_create(
        [Profile(user_id=pk, screening_valid_until=screened) for pk in users], batch_size=5000
    )
    Case.objects.bulk_create(
        [
            Case(
                project_id=uuid.UUID(int=rng.getrandbits(128), version=4),
                case_number=f"R-{i:05d}",
                title=f"Case {i}",
                case_lead_id=users[i % 1000],
            )
            for i in range(CASES)
        ],
        batch_size=5000,
    )
    cases = list(Case.objects.order_by("pk").values_list("pk", "project_id"))
    now = timezone.now()
    start = now - datetime.timedelta(seconds=3 * events)
    grants: list[Grant] = []
    seen: set[tuple[int, int]] = set()
    while len(grants) < GRANTS:
        user_pk = users[rng.randrange(1000, PEOPLE)]
        case_pk = cases[rng.randrange(CASES)][0]
        if (user_pk, case_pk) in seen:
            continue
        seen.add((user_pk, case_pk))
        valid_from = start + datetime.timedelta(seconds=rng.randrange(3 * events))
        grants.append(
            Grant(
                case_id=case_pk,
                grantee_id=user_pk,
                rights=["read", "search"],
                environments=["production"],
                valid_from=valid_from,
                valid_until=valid_from + datetime.timedelta(days=180),
                reason="bench",
                granted_by_id=users[0],
                granted_at=valid_from,
                changed_at=valid_from,
            )
        )
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
                recorded_at=g.granted_at,
                case_id=g.case_id,
                grantee_id=g.grantee_id,
            )
            for g in Grant.objects.all().only(
                "pk",
                "rights",
                "environments",
                "valid_from",
                "valid_until",
                "granted_at",
                "case_id",
                "grantee_id",
            )
        ],
        batch_size=5000,
    )
    print(f"loaded people, cases, {GRANTS:,} grants in {time.monotonic() - started:.1f} s", flush=True)
    started = time.monotonic()
    step = 1_000_000
    with connection.cursor() as cursor:
        for first in range(1, events + 1, step):
            last = min(first + step - 1, events)
            with transaction.atomic():
                cursor.execute(
                    GENERATE_EVENTS,
                    {"start": start, "people": PEOPLE, "cases": CASES, "first": first, "last": last},
                )
            print(f"  {last:,} events", flush=True)
        ChainHead.objects.filter(pk=1).update(sequence=events, hash="f" * 64)
        cursor.execute("ANALYZE")
    print(f"generated {events:,} audit events in {time.monotonic() - started:.1f} s", flush=True)
    officer = person_create(
        username="privacy.bench",
        roles=["privacy_officer"],
        screened_until=screened,
        by=Actor(username="bench"),
    )
    _, token = personal_token_create(person=officer, by=Actor(username="bench"))
    return token, [str(pid) for _, pid in cases], start, now


def timed(client, url: str, token: str, runs: int = 7) -> tuple[float, float, int]:
    times = []
    status = 0
    for _ in range(runs):
        began = time.perf_counter()
        response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {token}")
        times.append((time.perf_counter() - began) * 1000)
        status = response.status_code
    return statistics.median(times), max(times), status


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=10_000_000)
    add_scratch_options(parser)
    args = parser.parse_args()
    env = scratch("review", args, redis=False).env
    env["DJANGO_ALLOWED_HOSTS"] = "testserver"
    manage(env, "migrate", "-v0")
    token, projects, start, now = load(env, args.events)

    from django.test import Client

    client = Client()
    rng = random.Random(9)
    day = (now - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    mid = (start + (now - start) / 2).strftime("%Y-%m-%dT%H:%M:%SZ")
    mid_next = (start + (now - start) / 2 + datetime.timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%SZ")
    project = projects[rng.randrange(len(projects))]
    queries = [
        ("no filter", ""),
        ("case", f"project_id={project}"),
        ("person", "user=p04242"),
        ("action (common)", "action=hansken.read"),
        ("action as Hansken sent it", "action=read"),
        ("action (1 in 10)", "action=grant.created"),
        ("outcome denied", "outcome=denied"),
        ("outcome failure", "outcome=failure"),
        ("case + action", f"project_id={project}&action=hansken.export"),
        ("case + action (Hansken's)", f"project_id={project}&action=export"),
        ("person + outcome", "user=p04242&outcome=denied"),
        ("last day", f"since={day}"),
        ("6 hours, mid-history", f"since={mid}&until={mid_next}"),
        ("case + 6 hours", f"project_id={project}&since={mid}&until={mid_next}"),
    ]
    print(
        f"\nPostgreSQL, {args.events:,} audit events, {GRANTS:,} grants; "
        "first page (100 rows) through the API"
    )
    print(f"{'filter':<26}{'median ms':>11}{'max ms':>9}{'status':>8}")
    worst = 0.0
    for name, query in queries:
        median, slowest, status = timed(client, f"/api/v1/audit/events?{query}", token)
        worst = max(worst, median)
        print(f"{name:<26}{median:>11.1f}{slowest:>9.1f}{status:>8}")
    access = []
    for _ in range(20):
        moment = start + (now - start) * rng.random()
        case = projects[rng.randrange(len(projects))]
        url = f"/api/v1/audit/access-at?project_id={case}&at={moment.isoformat()}"
        median, slowest, status = timed(client, url.replace("+", "%2B"), token, runs=3)
        access.append(median)
        assert status == 200, status
    print(f"{'access-at (20 cases)':<26}{statistics.median(access):>11.1f}{max(access):>9.1f}{200:>8}")
    print(
        f"\nslowest filtered first page (median): {worst:.1f} ms; slowest access-at: {max(access):.1f} ms "
        "(target: each under 100 ms)"
    )


if __name__ == "__main__":
    main()
