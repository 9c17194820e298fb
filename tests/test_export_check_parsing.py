"""The export check's trace uids are read two ways (``authz.api.decision.export``): the usual
request (one image, ids in their one spelling) with a few passes over its text, anything else one
trace at a time. Whatever the first way takes, it must read exactly as the second does; whatever the
second refuses, the first must leave to it. No database needed."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from authz.api.decision.export import _read_at_once, _read_one_by_one, parse_traces
from authz.api.decision.problems import RequestProblem
from privilege.exports import ImageRun, Traces

IMAGE = "11111111-1111-4111-8111-111111111111"
OTHER = "22222222-2222-4222-8222-222222222222"

# Image parts: the canonical text, other spellings of it (upper case, no dashes, braces), another
# image, and what is no image at all (a newline in front is one that uuid.UUID takes).
SPELLINGS = [IMAGE.upper(), IMAGE.replace("-", ""), "{" + IMAGE + "}"]
image_parts = st.sampled_from(
    [IMAGE, IMAGE, IMAGE, *SPELLINGS, OTHER, "nope", "", "\n" + IMAGE.replace("-", "")[1:]]
)
# Steps: plain numbers, and what the fast way must not let through: leading zeros, empty steps,
# digits of other scripts, separators of the joined text, a colon.
steps = st.one_of(
    st.integers(min_value=0, max_value=120).map(str),
    st.sampled_from(["00", "01", "007", "", "٣", "1\n2", "\n", ":", "3:4", ",", " 1", "1 "]),
)
trace_ids = st.one_of(
    st.lists(st.integers(min_value=0, max_value=120).map(str), min_size=1, max_size=6).map("-".join),
    st.lists(steps, min_size=1, max_size=6).map("-".join),
    st.sampled_from(["", "-", "0-", "-0", "0--1", "9" * 480]),
)
good_ids = st.lists(st.integers(min_value=0, max_value=120).map(str), min_size=1, max_size=6).map("-".join)
uids = st.one_of(
    # Mostly good uids of the one image, so that one bad trace among good ones is common.
    good_ids.map(lambda trace_id: f"{IMAGE}:{trace_id}"),
    good_ids.map(lambda trace_id: f"{IMAGE}:{trace_id}"),
    st.tuples(image_parts, trace_ids).map(lambda pair: f"{pair[0]}:{pair[1]}"),
    st.sampled_from([IMAGE, f"{IMAGE}:0\n{IMAGE}:1"]),  # no colon; a newline between two uids
    st.sampled_from([7, None, ["0"]]),  # not text
)


def _read_plainly(value: list) -> Traces | RequestProblem:
    try:
        return _read_one_by_one(value)
    except RequestProblem as problem:
        return problem


@settings(max_examples=2000, deadline=None)
@given(value=st.lists(uids, min_size=1, max_size=12))
@example(value=[f"{IMAGE}:0-1", f"{IMAGE}:0-01"])
@example(value=[f"{IMAGE}:0", f"{IMAGE.upper()}:0"])
@example(value=[f"{IMAGE}:0", f"x\n{IMAGE}:0"])
@example(value=[f"{IMAGE}:0-1\n{IMAGE}:2"])
@example(value=[f"{IMAGE}:0-", f"{IMAGE}:1"])
@example(value=[f"{IMAGE}:1", f"{IMAGE}:-0"])
@example(value=[f"{IMAGE}:1", f"{IMAGE}:", f"{IMAGE}:2"])
@example(value=[f"{IMAGE}:1-0-1", f"{IMAGE}:0--1"])
def test_the_fast_way_reads_what_the_plain_way_reads_and_nothing_it_refuses(value):
    fast = _read_at_once(value)
    plain = _read_plainly(value)
    if isinstance(plain, RequestProblem):
        assert fast is None
    elif fast is not None:
        assert fast == plain


@settings(max_examples=300, deadline=None)
@given(
    ids=st.lists(st.lists(st.integers(0, 10**6).map(str), min_size=1, max_size=8).map("-".join), min_size=1)
)
def test_the_usual_request_takes_the_fast_way(ids):
    value = [f"{IMAGE}:{trace_id}" for trace_id in ids]
    fast = _read_at_once(value)
    assert fast is not None
    assert fast == _read_one_by_one(value)
    assert fast.runs == [ImageRun(IMAGE, IMAGE, 0, len(ids))]


def test_runs_follow_the_image_as_spelled_and_ids_keep_their_spelling():
    bare = uuid.UUID(IMAGE).hex
    value = [f"{IMAGE}:0-1", f"{IMAGE}:0-1", f"{bare}:0-01", f"{OTHER}:3", f"{IMAGE}:4"]
    traces = parse_traces(value)
    assert traces.runs == [
        ImageRun(IMAGE, IMAGE, 0, 2),
        ImageRun(bare, IMAGE, 2, 3),
        ImageRun(OTHER, OTHER, 3, 4),
        ImageRun(IMAGE, IMAGE, 4, 5),
    ]
    assert list(traces.sent_ids) == ["0-1", "0-1", "0-01", "3", "4"]
    assert list(traces.trace_ids) == ["0-1", "0-1", "0-1", "3", "4"]
    # Cut into parts (one trail event each), every part keeps its own runs.
    assert [part.runs for part in traces.parts(2)] == [
        [ImageRun(IMAGE, IMAGE, 0, 2)],
        [ImageRun(bare, IMAGE, 0, 1), ImageRun(OTHER, OTHER, 1, 2)],
        [ImageRun(IMAGE, IMAGE, 0, 1)],
    ]


@pytest.mark.parametrize(
    ("value", "index"),
    [
        ([f"{IMAGE}:0", f"{IMAGE}:0-"], 1),
        ([f"{IMAGE}:0", f"{IMAGE}:0\n1"], 1),
        ([f"{IMAGE}:0", f"{IMAGE}:{'1' * 500}"], 1),
        ([f"{IMAGE}:0", "nope:1"], 1),
        ([f"{IMAGE}:0", 7], 1),
    ],
)
def test_a_bad_trace_is_named_by_its_index(value, index):
    with pytest.raises(RequestProblem) as refused:
        parse_traces(value)
    [error] = refused.value.errors
    assert (error["field"], error["index"]) == ("trace_uids", index)
