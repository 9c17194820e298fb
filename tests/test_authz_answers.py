"""``decide_many`` remembers answers (``Answers``) and gives them again while they cannot change. A
property test over generated facts and moments: whatever it remembers, it gives exactly what
``decide`` gives for the same facts at the same moment, across grant starts and ends, screening
dates, midnight, traces, environments and a clock that steps back."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from authz.decisions import (
    ANSWERS_LIMIT,
    Answers,
    CaseFacts,
    Check,
    GrantFacts,
    PersonFacts,
    decide,
    decide_many,
)
from authz.models import Action

ACTIONS = list(Action.values)
ENVIRONMENTS = ["production", "experiment", "test"]
IMAGE = "11111111-1111-4111-8111-111111111111"
REMOVED_IMAGE = "22222222-2222-4222-8222-222222222222"
FOREIGN_IMAGE = "33333333-3333-4333-8333-333333333333"
PROJECT = "44444444-4444-4444-8444-444444444444"
# A fixed start, an hour before midnight in Amsterdam, so generated moments cross a day boundary.
START = datetime.datetime(2026, 11, 27, 22, 0, tzinfo=datetime.UTC)

hours = st.integers(min_value=-72, max_value=72)
grant_strategy = st.builds(
    lambda grant_id, rights, environments, start, length, revoked: GrantFacts(
        grant_id,
        frozenset(rights),
        frozenset(environments),
        START + datetime.timedelta(hours=start),
        START + datetime.timedelta(hours=start + length),
        revoked,
    ),
    st.integers(min_value=1, max_value=10**6),
    st.sets(st.sampled_from(ACTIONS), min_size=1),
    st.sets(st.sampled_from(["production", "experiment"]), min_size=1),
    hours,
    st.integers(min_value=1, max_value=96),
    st.booleans(),
)


@st.composite
def worlds(draw):
    case = None
    if draw(st.sampled_from([True, True, True, False])):  # mostly a known case, mostly open
        status = draw(st.sampled_from(["open", "open", "open", "closed"]))
        case = CaseFacts(7, PROJECT, status, frozenset({REMOVED_IMAGE}), frozenset({IMAGE, REMOVED_IMAGE}))
    person = None
    if draw(st.sampled_from([True, True, True, False])):  # mostly a known person, mostly active
        # Mostly screened well past the moments, so that grant boundaries decide; sometimes a date
        # that the moments cross (at midnight), or none at all.
        screening_days = draw(st.sampled_from([30, 30, 30, None, -1, 0, 1, 2]))
        grants = draw(st.lists(grant_strategy, max_size=4))
        person = PersonFacts(
            user_id=3,
            username="investigator",
            active=draw(st.sampled_from([True, True, True, False])),
            screened_until=(
                None
                if screening_days is None
                else timezone.localdate(START) + datetime.timedelta(days=screening_days)
            ),
            # Mostly not the case lead or a deputy, so that the grants decide.
            managed_case_ids=frozenset({7})
            if draw(st.sampled_from([False, False, False, True]))
            else frozenset(),
            grants_by_case={7: tuple(grants)} if grants else {},
        )
    return person, case


def all_checks() -> list[Check]:
    traces: list[tuple[str, str | None]] = [
        ("", None),
        (f"{IMAGE}:0-1", IMAGE),
        (f"{REMOVED_IMAGE}:2", REMOVED_IMAGE),
        (f"{FOREIGN_IMAGE}:0", FOREIGN_IMAGE),
    ]
    return [
        (("investigator", PROJECT, action), trace_uid, image_id, "")
        for action in ACTIONS
        for trace_uid, image_id in traces
    ]


@settings(max_examples=300, deadline=None)
@given(
    world=worlds(),
    # Moments in hours from START, in order; sometimes the clock is set back once.
    moments=st.lists(st.integers(min_value=-80, max_value=110), min_size=2, max_size=8).map(sorted),
    step_back=st.booleans(),
    environment=st.sampled_from(ENVIRONMENTS),
)
def test_remembered_answers_equal_the_rule_at_every_moment(world, moments, step_back, environment):
    person, case = world
    people = {"investigator": person}
    cases = {PROJECT: case}
    answers: Answers = {}
    checks = all_checks()
    if step_back:
        moments = [*moments, moments[0]]
    for hour in moments:
        now = START + datetime.timedelta(hours=hour, minutes=hour % 7)
        today = timezone.localdate(now)
        got = decide_many(people, cases, checks, environment, now, today, answers)
        expected = [
            decide(person, case, action, environment, now, today, image_id)
            for (_, _, action), _, image_id, _ in checks
        ]
        assert got == expected, f"at {now.isoformat()}"


def test_an_answer_is_remembered_and_its_end_is_the_next_grant_boundary():
    grant = GrantFacts(
        5, frozenset({"read"}), frozenset({"production"}), START, START + datetime.timedelta(hours=2), False
    )
    person = PersonFacts(3, "investigator", True, datetime.date(2030, 1, 1), frozenset(), {7: (grant,)})
    case = CaseFacts(7, PROJECT, "open", frozenset(), frozenset({IMAGE}))
    answers: Answers = {}
    check: Check = (("investigator", PROJECT, "read"), "", None, "")
    now = START + datetime.timedelta(minutes=5)
    first = decide_many(
        {"investigator": person}, {PROJECT: case}, [check], "production", now, now.date(), answers
    )
    assert first[0].allowed and first[0].grant_id == 5
    decision, since, until = answers[("investigator", PROJECT, "read")]
    assert decision is first[0]
    assert since == now.timestamp()
    assert until == (START + datetime.timedelta(hours=2)).timestamp()
    # Given again from memory: the facts are not even looked at (an empty mapping would raise).
    again = decide_many(
        {}, {}, [check], "production", now + datetime.timedelta(minutes=1), now.date(), answers
    )
    assert again[0] is decision
    # Past its end, it is worked out again from the facts.
    later = START + datetime.timedelta(hours=3)
    expired = decide_many(
        {"investigator": person}, {PROJECT: case}, [check], "production", later, later.date(), answers
    )
    assert expired[0].reason == "grant_expired"


def test_the_memory_is_bounded(monkeypatch):
    monkeypatch.setattr("authz.decisions.ANSWERS_LIMIT", 3)
    case = CaseFacts(7, PROJECT, "open", frozenset(), frozenset())
    answers: Answers = {}
    for i in range(10):
        decide_many(
            {f"u{i}": None},
            {PROJECT: case},
            [((f"u{i}", PROJECT, "read"), "", None, "")],
            "production",
            START,
            START.date(),
            answers,
        )
        assert len(answers) <= 3
    assert ANSWERS_LIMIT >= 100_000


@pytest.mark.django_db
def test_any_change_to_the_facts_empties_the_cache_answers(settings, monkeypatch):
    from authz import cache
    from authz.cache import fact_cache

    remembered = (decide(None, None, "read", "production", START, START.date()), 0.0, 1.0)

    def remember() -> None:
        fact_cache.answers_for("production")[("someone", PROJECT, "read")] = remembered

    fact_cache.clear()
    remember()
    fact_cache.forget(("p:someone-else",))  # a change to one person
    assert fact_cache.answers_for("production") == {}
    remember()
    fact_cache.forget(("c:" + PROJECT,))  # a change to one case
    assert fact_cache.answers_for("production") == {}
    remember()
    fact_cache.forget(())  # a broad change
    assert fact_cache.answers_for("production") == {}
    remember()
    settings.HG_AUTHZ_PRELOAD = False
    fact_cache._start_over("another-epoch", 0)  # a new epoch, or the maximum age reached
    assert fact_cache.answers_for("production") == {}
    remember()
    monkeypatch.setattr(cache, "MAX_ENTRIES", 0)  # the fact store overflows and starts empty
    fact_cache.people_and_cases(["investigator"], [], use=True)
    assert fact_cache.answers_for("production") == {}
    fact_cache.clear()
