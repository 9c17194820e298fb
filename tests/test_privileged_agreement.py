"""A property test over generated trace trees, marks and grants: every answer of ``check``,
``check-batch`` and ``export-check`` on a trace equals what a brute-force reference says, which
walks every mark against the trace's ancestors and descendants as the contract words it."""

from __future__ import annotations

import datetime
import itertools

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authz.cache import invalidate
from privilege.rules import WITHHOLDING
from tests.authz_helpers import grant
from tests.personas import CASE_PROJECT_ID, IMAGE_ID, Cast
from tests.privilege_helpers import uid

IMAGE = str(IMAGE_ID)
TRACES = ["0", "1", "0-1", "0-2", "0-10", "0-1-1", "0-1-10", "0-10-1", "1-1", "1-1-1", "10", "10-1"]
USERS = ["investigator", "case_lead", "deputy", "engineer"]
ACTIONS = ["read", "export"]
START = datetime.datetime(2026, 11, 1, 8, 0, tzinfo=datetime.UTC)

world_strategy = st.fixed_dictionaries(
    {
        # Marks in the order Hansken sends them, each a little later than the one before (so the
        # last mark of a trace is its status), sometimes sent again (changing nothing).
        "marks": st.lists(
            st.tuples(st.sampled_from(TRACES), st.sampled_from(["suspected", "confirmed", "rejected"])),
            max_size=10,
        ),
        "split_at": st.integers(min_value=0, max_value=10),
        "grants": st.dictionaries(
            st.sampled_from(["investigator", "engineer", "deputy"]),
            st.tuples(
                st.sets(st.sampled_from(["read", "export", "review_privileged"]), min_size=1),
                st.sets(st.sampled_from(["production", "experiment"]), min_size=1),
            ),
            max_size=3,
        ),
    }
)


def reference(world: dict, user: str, action: str, trace_id: str, base: dict) -> tuple[bool, str]:
    """(allowed, reason) of a check on a trace, from the trace-less answer ``base`` and the rule."""
    status = {}
    for trace, state in world["marks"]:
        status[trace] = state
    withheld = any(
        state in WITHHOLDING and (trace == trace_id or trace_id.startswith(trace + "-"))
        for trace, state in status.items()
    )
    if action == "export" and base["allowed"]:
        # As the export check holds every trace: withheld or holding withheld data, whoever asks.
        blocked = withheld or any(
            state in WITHHOLDING and trace.startswith(trace_id + "-") for trace, state in status.items()
        )
        return (False, "withheld_privileged") if blocked else (True, base["reason"])
    if not base["allowed"] or not withheld:
        return base["allowed"], base["reason"]
    rights, environments = world["grants"].get(user, (set(), set()))
    if "review_privileged" in rights and "production" in environments:
        return True, "grant"
    return False, "withheld_privileged"


def export_reference(world: dict, trace_id: str) -> str | None:
    status = {}
    for trace, state in world["marks"]:
        status[trace] = state
    marked = [trace for trace, state in status.items() if state in WITHHOLDING]
    if any(trace == trace_id or trace_id.startswith(trace + "-") for trace in marked):
        return "withheld_privileged"
    if any(trace.startswith(trace_id + "-") for trace in marked):
        return "contains_privileged"
    return None


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(world=world_strategy)
def test_check_batch_and_export_check_agree_with_the_brute_force_rule(cast: Cast, world):
    with transaction.atomic():
        invalidate()  # the cache may hold facts of the example rolled back before this one
        api = cast.api("hansken_production")
        for user, (rights, environments) in world["grants"].items():
            grant(cast, grantee=user, rights=sorted(rights), environments=sorted(environments))
        marks = [
            {
                "trace_uid": uid(trace),
                "status": state,
                "marked_at": (START + datetime.timedelta(minutes=n)).isoformat(),
            }
            for n, (trace, state) in enumerate(world["marks"])
        ]
        # Two requests, the second repeating part of the first: the same mark again changes nothing.
        split = min(world["split_at"], len(marks))
        for part in (marks[:split], marks[max(0, split - 2) :]):
            if part:
                response = api.post(
                    f"/api/v1/cases/{CASE_PROJECT_ID}/privileged", {"marks": part}, format="json"
                )
                assert response.status_code == 201, response.content

        pairs = list(itertools.product(USERS, ACTIONS))
        bases = {}
        for user, action in pairs:
            response = api.post(
                "/api/v1/authz/check",
                {"user": user, "project_id": str(CASE_PROJECT_ID), "action": action},
                format="json",
            )
            bases[(user, action)] = response.json()
        checks = [
            {
                "correlation_id": f"{user}|{action}|{trace}",
                "user": user,
                "project_id": str(CASE_PROJECT_ID),
                "action": action,
                "trace_uid": uid(trace),
            }
            for (user, action), trace in itertools.product(pairs, TRACES)
        ]
        batch = api.post("/api/v1/authz/check-batch", {"checks": checks}, format="json")
        assert batch.status_code == 200
        for result in batch.json()["results"]:
            user, action, trace = result["correlation_id"].split("|")
            expected = reference(world, user, action, trace, bases[(user, action)])
            assert (result["allowed"], result["reason"]) == expected, (user, action, trace, world)
        # A few single checks, which take the other way through the code.
        for user, action, trace in [
            ("investigator", "read", TRACES[3]),
            ("case_lead", "read", TRACES[5]),
            ("deputy", "read", TRACES[0]),
            ("investigator", "export", TRACES[0]),
            ("case_lead", "export", TRACES[2]),
            ("deputy", "export", TRACES[5]),
        ]:
            single = api.post(
                "/api/v1/authz/check",
                {"user": user, "project_id": str(CASE_PROJECT_ID), "action": action, "trace_uid": uid(trace)},
                format="json",
            ).json()
            assert (single["allowed"], single["reason"]) == reference(
                world, user, action, trace, bases[(user, action)]
            )
        for user in USERS:
            answer = api.post(
                "/api/v1/authz/export-check",
                {"user": user, "project_id": str(CASE_PROJECT_ID), "trace_uids": [uid(t) for t in TRACES]},
                format="json",
            ).json()
            expected_blocked = [
                {"trace_uid": uid(trace), "reason": why}
                for trace in TRACES
                if (why := export_reference(world, trace)) is not None
            ]
            assert answer["blocked"] == expected_blocked, (user, world)
            base = bases[(user, "export")]
            assert answer["allowed"] == (base["allowed"] and not expected_blocked)
            if not base["allowed"]:
                assert answer["reason"] == base["reason"]
        transaction.set_rollback(True)
