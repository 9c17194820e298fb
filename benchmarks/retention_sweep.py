"""Benchmark of the daily retention sweep (issue: retention), printed, not asserted.

On PostgreSQL, with 1,000,000 datasets of which 1% are idle past their threshold (spread over 10,000
cases and 200 case leads), it runs the sweep and prints the elapsed seconds and the number of SQL
queries; then a second run (which must open nothing and send nothing); then the same for 100,000
datasets, to show that the number of queries does not grow with the number of datasets.
Target: the first run over 1,000,000 datasets in under 10 s.

The datasets are loaded with COPY (a few seconds); each size gets a fresh database.

Run: .venv/bin/python benchmarks/retention_sweep.py [--sizes 1000000 100000]
Needs: PostgreSQL on 127.0.0.1:5432 (trust).
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

from benchmarks._harness import add_scratch_options, manage, recreate_database, scratch

CASES = 10_000
LEADS = 200
IDLE_SHARE = 0.01


def load(size: int) -> int:
    """Cases, case leads, a privacy officer and ``size`` datasets; returns how many are idle."""
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.utils import timezone

    from cases.models import Case, Dataset
    from people.roles import Role

    rng = random.Random(8)
    now = timezone.now()
    groups = {
        role: Group.objects.get_or_create(name=role)[0] for role in (Role.CASE_LEAD, Role.PRIVACY_OFFICER)
    }
    leads = User.objects.bulk_create([User(username=f"lead{i:04d}") for i in range(LEADS)])
    officer = User.objects.create(username="privacy")
    Group.user_set.through.objects.bulk_create(
        [Group.user_set.through(user_id=u.pk, group_id=groups[Role.CASE_LEAD].pk) for u in leads]
        + [Group.user_set.through(user_id=officer.pk, group_id=groups[Role.PRIVACY_OFFICER].pk)]
    )
    with connection.cursor() as cursor:
        raw = cursor.cursor
        case_columns = "project_id, case_number, title, case_lead_id, status, created_at"
        with raw.copy(f"COPY {Case._meta.db_table} ({case_columns}) FROM STDIN") as copy:
            for i in range(CASES):
                copy.write_row(
                    (uuid.uuid4(), f"NFI-B-{i:06d}", f"Case {i}", leads[i % LEADS].pk, "open", now)
                )
        cursor.execute(f"SELECT min(id) FROM {Case._meta.db_table}")  # noqa: S608
        first_case = cursor.fetchone()[0]
        idle = 0
        columns = (
            "case_id, image_id, description, delivered_by, imported_at, environments, status, "
            "last_accessed_at, registered_at"
        )
        with raw.copy(f"COPY {Dataset._meta.db_table} ({columns}) FROM STDIN") as copy:
            for i in range(size):
                is_idle = rng.random() < IDLE_SHARE
                idle += is_idle
                last = now - datetime.timedelta(
                    days=rng.uniform(200, 600) if is_idle else rng.uniform(0, 150)
                )
                envs = '["experiment", "production"]' if i % 10 == 0 else '["production"]'
                copy.write_row(
                    (
                        first_case + i % CASES,
                        uuid.uuid4(),
                        "Image",
                        "Police",
                        last - datetime.timedelta(days=30),
                        envs,
                        "active",
                        last,
                        now,
                    )
                )
        cursor.execute("VACUUM ANALYZE")
    return idle


def run(size: int, env: dict[str, str], database: str) -> dict[str, float]:
    from django.db import connection, connections
    from django.test.utils import CaptureQueriesContext

    connections.close_all()
    recreate_database(database)
    manage(env, "migrate", "--verbosity", "0")
    started = time.perf_counter()
    idle = load(size)
    print(f"\n{size:,} datasets ({idle:,} idle) loaded in {time.perf_counter() - started:.1f} s", flush=True)

    from retention.models import RetentionNotice
    from retention.sweep import retention_sweep

    figures: dict[str, float] = {"datasets": size, "idle": idle}
    for label in ("first", "second"):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            result = retention_sweep()
            elapsed = time.perf_counter() - started
        figures[f"{label}_seconds"] = round(elapsed, 2)
        figures[f"{label}_queries"] = len(queries.captured_queries)
        print(
            f"  {label} run: {elapsed:.2f} s, {len(queries.captured_queries)} queries, "
            f"opened {result.opened}, notifications {result.notifications}",
            flush=True,
        )
    assert RetentionNotice.objects.count() == idle, "every idle dataset gets exactly one notice"
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 100_000])
    add_scratch_options(parser)
    args = parser.parse_args()
    run_scratch = scratch("retention", args)
    env = run_scratch.env
    os.environ.update(env)
    import django

    django.setup()
    results = [run(size, env, run_scratch.database) for size in args.sizes]
    print("\n" + json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
