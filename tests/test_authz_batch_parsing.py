"""``parse_batch`` takes a short way for the usual batch item; whatever it accepts or refuses must be
exactly what ``parse_check`` accepts or refuses, with the same check or the same error. A property
test over generated items: the usual four fields with values of every JSON type, missing and extra
fields, NULs, over-long text, non-canonical UUIDs, traces."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from authz.api import decision_views

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


GOOD = {"user": "investigator", "project_id": PROJECT, "action": "read", "correlation_id": "7"}


@st.composite
def usual_items(draw: Any) -> dict[str, Any]:
    """The usual four fields, good, with at most one of them spoiled."""
    item: dict[str, Any] = {
        "user": draw(st.sampled_from(["investigator", "ö-user"])),
        "project_id": draw(st.sampled_from([PROJECT, PROJECT.upper()])),
        "action": draw(st.sampled_from(["read", "export"])),
        "correlation_id": draw(st.sampled_from(["", "7", "é"])),
    }
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
    except decision_views.RequestProblem as problem:
        return ("refused", problem.status, problem.errors)


@settings(max_examples=2000, deadline=None)
@given(item=items)
# Each limit of the short way, spoiled once, whatever the generator happens to draw.
@example(item={**GOOD, "user": ""})
@example(item={**GOOD, "user": "x" * 151})
@example(item={**GOOD, "user": "a\x00b"})
@example(item={**GOOD, "action": "fly"})
@example(item={**GOOD, "project_id": ["x"]})
@example(item={**GOOD, "correlation_id": "x" * 201})
@example(item={**GOOD, "correlation_id": "line\nbreak"})
@example(item={**GOOD, "correlation_id": None})
def test_the_short_way_accepts_and_refuses_exactly_what_the_full_check_does(item):
    # Project ids seen before, in several spellings: the short way knows only those.
    for spelling in (PROJECT, PROJECT.upper(), "{" + PROJECT + "}"):
        decision_views.parse_uuid(spelling)
    short = outcome(lambda: decision_views.parse_batch([item]))
    full = outcome(lambda: [decision_views.parse_check(item, 0, decision_views.BATCH_ITEM_FIELDS)])
    assert short == full
