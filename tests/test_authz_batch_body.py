"""``batch_body`` writes the batch answer from JSON made beforehand (``Decision.batch_fragment``); it
must give exactly the bytes that encoding the plain dictionaries gives."""

from __future__ import annotations

import datetime

import orjson
from hypothesis import given
from hypothesis import strategies as st

from authz.api.decision.bodies import batch_body
from authz.api.decision.ids import DecisionIds
from authz.decisions import Decision, Reason

REASONS = [value for name, value in vars(Reason).items() if not name.startswith("_")]

decisions = st.builds(
    Decision,
    st.booleans(),
    st.sampled_from(REASONS),
    st.one_of(st.none(), st.integers(min_value=1, max_value=2**53)),
    st.one_of(
        st.none(),
        st.datetimes(
            min_value=datetime.datetime(2000, 1, 1),
            max_value=datetime.datetime(2100, 1, 1),
            timezones=st.just(datetime.UTC),
        ),
    ),
)
# Printable, as the batch accepts them: quotes, backslashes and any script included.
correlation_ids = st.text(max_size=200).filter(str.isprintable)


@given(st.lists(st.tuples(correlation_ids, decisions), min_size=1, max_size=50))
def test_the_batch_body_is_byte_for_byte_what_encoding_the_results_gives(pairs):
    correlation_ids = [correlation_id for correlation_id, _ in pairs]
    answers = [decision for _, decision in pairs]
    ids = DecisionIds(len(pairs))
    expected = orjson.dumps(
        {
            "results": [
                {"correlation_id": correlation_id, **decision.as_json, "decision_id": decision_id}
                for correlation_id, decision, decision_id in zip(correlation_ids, answers, ids, strict=True)
            ]
        }
    )
    assert batch_body(correlation_ids, answers, ids) == expected
    assert [item["valid_until"] for item in orjson.loads(expected)["results"]] == [
        d.valid_until.isoformat().replace("+00:00", "Z") if d.valid_until else None for d in answers
    ]
