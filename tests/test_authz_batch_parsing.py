"""``decide_batch`` takes a short way for the usual batch item whose answer is remembered; whatever it
accepts, refuses or decides must be exactly what ``parse_check`` and ``decide_all`` give, with the
same decision or the same error (the first bad item's). A property test over generated batches:
the usual four fields with values of every JSON type, missing and extra fields, NULs, over-long
text, non-canonical UUIDs, traces."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from authz.api.decision import deciding, parsing, problems
from authz.cache import FactCache
from authz.decisions import CaseFacts, GrantFacts, PersonFacts
from privilege.rules import NOTHING_WITHHELD, Withheld

PROJECT = "44444444-4444-4444-8444-444444444444"

values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.sampled_from(
        [
            "read",
            "export",
            "investigator",
            "",
            "a\x00b",
            "line\nbreak",
            "x" * 150,
            "x" * 151,
            "x" * 200,
            "x" * 201,
            PROJECT,
            PROJECT.upper(),
            "{" + PROJECT + "}",
            PROJECT[:-1],
            f"{PROJECT}:0-1",
            "read ",
        ]
    ),
    st.text(max_size=5),
    st.lists(st.text(max_size=2), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)
fields = st.sampled_from(["user", "project_id", "action", "correlation_id", "trace_uid", "extra"])


# Text that is almost right: empty, control characters, just within and just over the limits.
TRICKY = ["", "a\x00b", "line\nbreak", "x" * 150, "x" * 151, "x" * 200, "x" * 201]


IMAGE = "11111111-1111-4111-8111-111111111111"
GOOD = {"user": "investigator", "project_id": PROJECT, "action": "read", "correlation_id": "7"}


OTHER_IMAGE = "55555555-5555-4555-8555-555555555555"
REMOVED_IMAGE = "66666666-6666-4666-8666-666666666666"
# Traces: under the privileged mark on 0-3, beside it, another spelling, other images, bad ones.
TRACES = [
    f"{IMAGE}:0-3",
    f"{IMAGE}:0-3-1",
    f"{IMAGE}:0-30",
    f"{IMAGE}:0-4",
    f"{IMAGE}:0-03-1",
    f"{IMAGE.upper()}:0-3",
    f"{OTHER_IMAGE}:0",
    f"{REMOVED_IMAGE}:1",
    f"{IMAGE}:0--1",
    f"{IMAGE}:0-\u0663",
    f"{IMAGE}:" + "1-" * 260 + "1",
    "",
    "nope",
]


@st.composite
def usual_items(draw: Any) -> dict[str, Any]:
    """The usual four fields (or five, with a trace), good, with at most one of them spoiled."""
    item: dict[str, Any] = {
        "user": draw(st.sampled_from(["investigator", "ö-user"])),
        "project_id": draw(st.sampled_from([PROJECT, PROJECT.upper()])),
        "action": draw(st.sampled_from(["read", "export"])),
        "correlation_id": draw(st.sampled_from(["", "7", "é"])),
    }
    if draw(st.booleans()):
        item["trace_uid"] = draw(st.sampled_from(TRACES))
    spoiled = draw(st.sampled_from([None, *item]))
    if spoiled is not None:
        item[spoiled] = draw(st.one_of(st.sampled_from(TRICKY), values))
    return item


items = st.one_of(
    usual_items(), usual_items(), st.dictionaries(fields, values, min_size=3, max_size=5), values
)


def outcome(parse: Any) -> tuple[Any, ...]:
    try:
        return ("accepted", parse())
    except problems.RequestProblem as problem:
        return ("refused", problem.status, problem.errors)


def full_way(items: list[Any]) -> tuple[list[Any], list[str]]:
    """What the batch must give: each item checked by ``parse_check`` in order, then decided, with
    nothing remembered."""
    checks = [parsing.parse_check(item, index, parsing.BATCH_ITEM_FIELDS) for index, item in enumerate(items)]
    decisions = deciding.decide_all(checks, "production", True, remember=False)
    return decisions, [check[3] for check in checks]


@pytest.fixture
def known_facts(monkeypatch):
    """A fact cache of its own that knows one investigator with a read grant on one open case; every
    other person and project is unknown."""
    start = timezone.now() - datetime.timedelta(days=1)
    grant = GrantFacts(
        5, frozenset({"read"}), frozenset({"production"}), start, start + datetime.timedelta(days=30), False
    )
    person = PersonFacts(3, "investigator", True, datetime.date(2100, 1, 1), frozenset(), {7: (grant,)})
    case = CaseFacts(7, PROJECT, "open", frozenset({REMOVED_IMAGE}), frozenset({IMAGE, REMOVED_IMAGE}))
    withheld = Withheld({IMAGE: ["0-3"]})
    cache = FactCache()
    # What the short way reads as it is (the full way loads through the two functions below).
    cache.people, cache.cases, cache.withheld = {"investigator": person}, {PROJECT: case}, {PROJECT: withheld}

    def people_and_cases(usernames, project_ids, use):
        return (
            {name: person if name == "investigator" else None for name in usernames},
            {project: case if project == PROJECT else None for project in project_ids},
        )

    monkeypatch.setattr(cache, "people_and_cases", people_and_cases)
    monkeypatch.setattr(
        cache,
        "withheld_for",
        lambda project_ids, use: lambda p: withheld if p == PROJECT else NOTHING_WITHHELD,
    )
    monkeypatch.setattr(deciding, "fact_cache", cache)
    return cache


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(items, min_size=1, max_size=4))
# Each limit of the short way, spoiled once, whatever the generator happens to draw.
@example(batch=[{**GOOD, "user": ""}])
@example(batch=[{**GOOD, "user": "x" * 151}])
@example(batch=[{**GOOD, "user": "a\x00b"}])
@example(batch=[{**GOOD, "action": "fly"}])
# The key would be the remembered one's if the action were not checked: "...re" + "ad".
@example(batch=[{**GOOD, "project_id": PROJECT + "re", "action": "ad"}])
@example(batch=[{**GOOD, "project_id": ["x"]}])
@example(batch=[{**GOOD, "project_id": PROJECT.upper()}])
@example(batch=[{**GOOD, "correlation_id": "x" * 201}])
@example(batch=[{**GOOD, "correlation_id": "line\nbreak"}])
@example(batch=[{**GOOD, "correlation_id": None}])
# A fifth field, with the four usual ones good.
@example(batch=[{**GOOD, "extra": 1}])
@example(batch=[{**GOOD, "trace_uid": "11111111-1111-4111-8111-111111111111:0"}])
# Trace ids are checked for their one spelling all at once after the loop: a bad one (even under a
# withheld trace, "0-3" being marked) goes the full way, which refuses or reads it; the others stand.
@example(batch=[{**GOOD, "trace_uid": f"{IMAGE}:0-4"}, {**GOOD, "trace_uid": f"{IMAGE}:0-3-x"}])
@example(batch=[{**GOOD, "trace_uid": f"{IMAGE}:0-3-01"}, {**GOOD, "trace_uid": f"{IMAGE}:0-3-1"}])
@example(batch=[{**GOOD, "trace_uid": f"{IMAGE}:0-4"}, {**GOOD, "trace_uid": f"{IMAGE}:"}])
@example(
    batch=[{**GOOD, "trace_uid": f"{IMAGE}:0\n1"}, {**GOOD, "action": "export", "trace_uid": f"{IMAGE}:0"}]
)
# A trace uid of null or empty text is no trace; four fields of which one is not the usual one.
@example(batch=[{**GOOD, "trace_uid": None}, {**GOOD, "trace_uid": ""}])
@example(batch=[{"user": "investigator", "project_id": PROJECT, "action": "read", "trace_uid": ""}])
# The same trace twice: the second finds the image read by the first, and takes the short way.
@example(batch=[{**GOOD, "trace_uid": f"{IMAGE}:0-3-1"}, {**GOOD, "trace_uid": f"{IMAGE}:0-3-1"}])
@example(batch=[{**GOOD, "trace_uid": f"{IMAGE}:0-4"}, {**GOOD, "trace_uid": f"{IMAGE}:0-03"}])
@example(batch=[{**GOOD, "trace_uid": f"{REMOVED_IMAGE}:1"}, {**GOOD, "trace_uid": f"{OTHER_IMAGE}:1"}])
# The first bad item is the one reported, whichever way the good ones before it took.
@example(batch=[GOOD, {**GOOD, "action": "fly"}, {**GOOD, "user": ""}])
@example(batch=[{**GOOD, "user": ""}, GOOD])
def test_the_short_way_accepts_refuses_and_decides_exactly_what_the_full_way_does(known_facts, batch):
    expected = outcome(lambda: full_way(batch))
    # The usual good item's answer is remembered, so items made from it find their keys; the first
    # time other answers may not be remembered yet, the second time they are.
    deciding.decide_batch([GOOD], "production", True)
    first = outcome(lambda: deciding.decide_batch(batch, "production", True))
    second = outcome(lambda: deciding.decide_batch(batch, "production", True))
    assert first == expected
    assert second == expected


def test_a_remembered_answer_is_given_without_looking_at_any_fact(known_facts, monkeypatch):
    decisions, _ = deciding.decide_batch([GOOD], "production", True)
    assert decisions[0].allowed and decisions[0].grant_id == 5

    def no_facts(*args):
        raise AssertionError("the short way looked at the facts")

    monkeypatch.setattr(known_facts, "people_and_cases", no_facts)
    known_facts.people = known_facts.cases = {}  # a read of these would raise KeyError
    again, correlation_ids = deciding.decide_batch(
        [GOOD, {**GOOD, "correlation_id": "8"}], "production", True
    )
    assert again == [decisions[0], decisions[0]]
    assert correlation_ids == ["7", "8"]


def test_no_action_ends_with_another_so_the_answer_key_is_unambiguous():
    # answer_key is user NUL project action; with a project id of any length, the action is the
    # one action the key ends with.
    actions = parsing.ACTIONS
    assert not [(a, b) for a in actions for b in actions if a != b and a.endswith(b)]


def test_the_denials_of_a_batch_come_with_their_checks(known_facts):
    batch = [
        GOOD,
        {**GOOD, "action": "export", "correlation_id": "8"},
        {**GOOD, "user": "ghost", "project_id": PROJECT.upper()},
        {"user": "ghost", "project_id": PROJECT, "action": "read", "trace_uid": ""},
        {**GOOD, "user": "ghost", "trace_uid": IMAGE + ":0-1"},
    ]
    decisions, _ = deciding.decide_batch(batch, "production", True)
    denials = deciding.denials_of(batch, decisions)
    assert [(index, check, decision.reason) for index, check, decision in denials] == [
        (1, (("investigator", PROJECT, "export"), "", None, "8"), "right_missing"),
        (2, (("ghost", PROJECT, "read"), "", None, "7"), "unknown_user"),
        (3, (("ghost", PROJECT, "read"), "", None, ""), "unknown_user"),
        (4, (("ghost", PROJECT, "read"), IMAGE + ":0-1", IMAGE, "7"), "unknown_user"),
    ]
    # Each is the check parse_check makes of its item.
    for index, check, _ in denials:
        assert check == parsing.parse_check(batch[index], index, parsing.BATCH_ITEM_FIELDS)
