"""``decide_many`` remembers answers (``Answers``) and gives them again while they cannot change. A
property test over generated facts and moments: whatever it remembers, it gives exactly what
``decide`` gives for the same facts at the same moment, across grant starts and ends, screening
dates, midnight, traces (some inside privileged marks), environments and a clock that steps back."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from authz.answers import ANSWERS_LIMIT, Answers, answer_key
from authz.decisions import (
    CaseFacts,
    Check,
    GrantFacts,
    PersonFacts,
    decide,
    decide_many,
)
from authz.models import Action
from privilege.rules import Withheld

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
            # Sometimes a deputyship whose end the moments cross: its end must bound the answers.
            deputy_until={7: START + datetime.timedelta(hours=draw(hours))}
            if draw(st.sampled_from([False, False, True]))
            else {},
        )
    return person, case


def all_checks() -> list[Check]:
    traces: list[tuple[str, str | None]] = [
        ("", None),
        (f"{IMAGE}:0-1", IMAGE),
        (f"{IMAGE}:0-2-5", IMAGE),
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
    # Privileged marks on the image: none, a container, or one trace.
    marked=st.sampled_from([(), ("0-2",), ("0-1",), ("0",)]),
)
def test_remembered_answers_equal_the_rule_at_every_moment(world, moments, step_back, environment, marked):
    person, case = world
    withheld = Withheld({IMAGE: marked})
    people = {"investigator": person}
    cases = {PROJECT: case}
    answers = Answers()
    checks = all_checks()
    if step_back:
        moments = [*moments, moments[0]]
    for hour in moments:
        now = START + datetime.timedelta(hours=hour, minutes=hour % 7)
        today = timezone.localdate(now)
        got = decide_many(people, cases, checks, environment, now, today, answers, lambda _: withheld)
        expected = [
            decide(
                person,
                case,
                action,
                environment,
                now,
                today,
                image_id,
                trace_uid.partition(":")[2] if image_id else None,
                withheld,
            )
            for (_, _, action), trace_uid, image_id, _ in checks
        ]
        assert got == expected, f"at {now.isoformat()}"


def test_an_answer_is_remembered_and_its_end_is_the_next_grant_boundary():
    grant = GrantFacts(
        5, frozenset({"read"}), frozenset({"production"}), START, START + datetime.timedelta(hours=2), False
    )
    person = PersonFacts(3, "investigator", True, datetime.date(2030, 1, 1), frozenset(), {7: (grant,)})
    case = CaseFacts(7, PROJECT, "open", frozenset(), frozenset({IMAGE}))
    answers = Answers()
    check: Check = (("investigator", PROJECT, "read"), "", None, "")
    now = START + datetime.timedelta(minutes=5)
    first = decide_many(
        {"investigator": person}, {PROJECT: case}, [check], "production", now, now.date(), answers
    )
    assert first[0].allowed and first[0].grant_id == 5
    assert answers.decisions[answer_key(("investigator", PROJECT, "read"))] is first[0]
    assert answers.since == now.timestamp()
    assert answers.until == (START + datetime.timedelta(hours=2)).timestamp()
    # Given again from memory: the facts are not even looked at (an empty mapping would raise).
    again = decide_many(
        {}, {}, [check], "production", now + datetime.timedelta(minutes=1), now.date(), answers
    )
    assert again[0] is first[0]
    # Past its end, it is worked out again from the facts.
    later = START + datetime.timedelta(hours=3)
    expired = decide_many(
        {"investigator": person}, {PROJECT: case}, [check], "production", later, later.date(), answers
    )
    assert expired[0].reason == "grant_expired"
    # The memory started again at that moment and holds the new answer, until the screening lapses
    # (at the start of the day after its date).
    assert answers.decisions == {answer_key(("investigator", PROJECT, "read")): expired[0]}
    lapse = timezone.make_aware(datetime.datetime(2030, 1, 2))
    assert (answers.since, answers.until) == (later.timestamp(), lapse.timestamp())


def test_the_memory_is_bounded(monkeypatch):
    monkeypatch.setattr("authz.answers.ANSWERS_LIMIT", 3)
    case = CaseFacts(7, PROJECT, "open", frozenset(), frozenset())
    answers = Answers()
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

    remembered = decide(None, None, "read", "production", START, START.date())

    def remember() -> None:
        key = answer_key(("someone", PROJECT, "read"))
        fact_cache.answers_for("production").remember(key, remembered, 0.0, 1.0)
        assert len(fact_cache.answers_for("production")) == 1

    fact_cache.clear()
    remember()
    fact_cache.forget(("p:someone-else",))  # a change to one person
    assert len(fact_cache.answers_for("production")) == 0
    remember()
    fact_cache.forget(("c:" + PROJECT,))  # a change to one case
    assert len(fact_cache.answers_for("production")) == 0
    remember()
    fact_cache.forget(())  # a broad change
    assert len(fact_cache.answers_for("production")) == 0
    remember()
    settings.HG_AUTHZ_PRELOAD = False
    fact_cache._start_over("another-epoch", 0)  # a new epoch, or the maximum age reached
    assert len(fact_cache.answers_for("production")) == 0
    remember()
    monkeypatch.setattr(cache, "MAX_ENTRIES", 0)  # the fact store overflows and starts empty
    fact_cache.people_and_cases(["investigator"], [], use=True)
    assert len(fact_cache.answers_for("production")) == 0
    fact_cache.clear()


def test_an_answer_remembered_meanwhile_for_a_later_moment_is_not_given_for_an_earlier_one():
    """Threads of one worker share the memory. If another thread remembers, while a batch is being
    decided, an answer worked out at a later moment (here: after the grant started), the batch must
    not give that answer for its own, earlier moment."""
    start = START + datetime.timedelta(hours=1)
    grant = GrantFacts(
        5, frozenset({"read"}), frozenset({"production"}), start, START + datetime.timedelta(days=1), False
    )
    person = PersonFacts(3, "investigator", True, datetime.date(2030, 1, 1), frozenset(), {7: (grant,)})
    case = CaseFacts(7, PROJECT, "open", frozenset(), frozenset({IMAGE}))
    answers = Answers()
    later = start + datetime.timedelta(minutes=1)
    allowed_later = decide(person, case, "read", "production", later, later.date())
    assert allowed_later.allowed

    class PeopleWhileAnotherThreadRemembers(dict):
        def __getitem__(self, key):
            # The other thread, at ``later``, remembers the answer to the second question.
            answers.remember(
                answer_key(("investigator", PROJECT, "read")), allowed_later, later.timestamp(), 1e12
            )
            return super().__getitem__(key)

    now = START  # before the grant starts
    checks: list[Check] = [
        (("investigator", PROJECT, "search"), "", None, ""),
        (("investigator", PROJECT, "read"), "", None, ""),
    ]
    people = PeopleWhileAnotherThreadRemembers(investigator=person)
    got = decide_many(people, {PROJECT: case}, checks, "production", now, now.date(), answers)
    assert [d.reason for d in got] == ["grant_not_yet_valid", "grant_not_yet_valid"]


def test_answers_forgotten_meanwhile_by_another_thread_are_not_trusted():
    """Three threads of one worker: B remembers an answer that holds until the grant ends; the batch
    (A, after the end) reads it; C, also after the end, finds the span over and forgets everything,
    which opens the span again. A must notice that the memory changed under it (its generation)
    rather than trust the span it now sees."""
    end = START + datetime.timedelta(hours=1)
    grant = GrantFacts(
        5,
        frozenset({"read", "search", "export"}),
        frozenset({"production"}),
        START - datetime.timedelta(days=1),
        end,
        False,
    )
    person = PersonFacts(3, "investigator", True, datetime.date(2030, 1, 1), frozenset(), {7: (grant,)})
    case = CaseFacts(7, PROJECT, "open", frozenset(), frozenset({IMAGE}))
    before_end, after_end = end - datetime.timedelta(seconds=1), end + datetime.timedelta(seconds=1)
    now = end + datetime.timedelta(seconds=2)
    answers = Answers()
    allowed_before = decide(person, case, "search", "production", before_end, before_end.date())
    assert allowed_before.allowed
    looked_up: list[str] = []

    class PeopleWhileOtherThreadsRun(dict):
        def __getitem__(self, key):
            looked_up.append(key)
            if len(looked_up) == 1:  # B, before the end, remembers "search"
                key_b = answer_key(("investigator", PROJECT, "search"))
                answers.remember(key_b, allowed_before, before_end.timestamp(), end.timestamp())
            elif len(looked_up) == 2:  # C, after the end, starts the memory again
                answers.begin(after_end.timestamp())
            return super().__getitem__(key)

    checks: list[Check] = [
        (("investigator", PROJECT, action), "", None, "") for action in ("read", "search", "export")
    ]
    people = PeopleWhileOtherThreadsRun(investigator=person)
    got = decide_many(people, {PROJECT: case}, checks, "production", now, now.date(), answers)
    assert [d.reason for d in got] == ["grant_expired"] * 3


def test_a_username_with_a_nul_is_decided_but_never_remembered():
    answers = Answers()
    check: Check = (("in\0vestigator", PROJECT, "read"), "", None, "")
    got = decide_many(
        {"in\0vestigator": None}, {PROJECT: None}, [check], "production", START, START.date(), answers
    )
    assert got[0].reason == "unknown_user"
    assert len(answers) == 0
