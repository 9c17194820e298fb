"""The privileged-traces rule: a trace inside privileged data is denied with ``withheld_privileged``
(case lead and deputies included) unless the person holds ``review_privileged`` by an explicit
grant; a mark takes effect on the very next decision; marks that cannot be read give no decision.
The fast structure (``privilege.rules.Withheld``) is pinned to the plain rule by a property test."""

from __future__ import annotations

import datetime
from unittest import mock

from django.db import DatabaseError
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from authz.cache import invalidate
from cases.models import DeputyPeriod
from privilege import rules
from privilege.rules import (
    CLEAR,
    CONTAINS_WITHHELD,
    WITHHELD,
    Withheld,
    ancestors_and_self,
    canonical_trace_id,
    contains_by_reference,
    withheld_by_reference,
)
from tests.authz_helpers import check, grant
from tests.personas import CASE_PROJECT_ID, IMAGE_ID, OTHER_PROJECT_ID, Cast
from tests.privilege_helpers import mark, post_marks, uid

IMAGE_A = "11111111-1111-4111-8111-111111111111"
IMAGE_B = "22222222-2222-4222-8222-222222222222"


def tree(depth: int, width: int) -> list[str]:
    """Every id of a tree ``depth`` levels deep with ``width`` children per trace (roots 0..width-1)."""
    level = [str(n) for n in range(width)]
    ids = list(level)
    for _ in range(depth - 1):
        level = [f"{parent}-{n}" for parent in level for n in range(width)]
        ids += level
    return ids


# Steps up to 11, so that "1" and "10" and "1-1" and "11" all occur: the prefix traps.
TRACES = [*tree(3, 3), "0-10", "0-10-1", "0-11", "1-1-10", "10", "10-1", "11"]
marks_strategy = st.dictionaries(
    st.tuples(st.sampled_from([IMAGE_A, IMAGE_B]), st.sampled_from(TRACES)),
    st.sampled_from(["suspected", "confirmed", "rejected"]),
    max_size=15,
)


def _assert_agrees_with_the_plain_rule(marks, *, by_bisection: bool) -> None:
    marked: dict[str, list[str]] = {}
    for (image, trace_id), status in marks.items():
        if status in ("suspected", "confirmed"):
            marked.setdefault(image, []).append(trace_id)
    withheld = Withheld(marked)
    for image_marks in withheld._images.values():
        # The way asked for is the way taken: sets, or the bisection they fall back to.
        assert (image_marks.top_lengths is None) == by_bisection
        assert (image_marks.holders is None) == (by_bisection and any("-" in t for t in image_marks.ordered))
    for image in (IMAGE_A, IMAGE_B, "33333333-3333-4333-8333-333333333333"):
        for trace_id in TRACES:
            assert withheld.withholds(image, trace_id) == withheld_by_reference(marks, image, trace_id), (
                image,
                trace_id,
            )
            assert withheld.contains(image, trace_id) == contains_by_reference(marks, image, trace_id), (
                image,
                trace_id,
            )
            # The export check asks both at once.
            expected = (
                WITHHELD
                if withheld_by_reference(marks, image, trace_id)
                else CONTAINS_WITHHELD
                if contains_by_reference(marks, image, trace_id)
                else CLEAR
            )
            assert withheld.state(image, trace_id) == expected, (image, trace_id)
        # And of many traces at once (the export check), in order, repeats included.
        states = withheld.states_of_image(image)
        asked = [*TRACES, *reversed(TRACES)]
        assert (states(asked) if states else [CLEAR] * len(asked)) == [
            withheld.state(image, trace_id) for trace_id in asked
        ], image


@settings(max_examples=500, deadline=None)
@given(marks=marks_strategy)
def test_the_fast_rule_gives_what_the_plain_rule_gives(marks):
    _assert_agrees_with_the_plain_rule(marks, by_bisection=False)


@settings(max_examples=200, deadline=None)
@given(marks=marks_strategy)
def test_without_the_set_of_containers_the_rule_still_gives_what_the_plain_rule_gives(marks):
    # The topmost ids as sets, but too many containers to keep as one: "contains" bisects.
    with mock.patch.object(rules, "MAX_HOLDERS_PER_ID", 0), mock.patch.object(rules, "MIN_HOLDERS", 0):
        marked: dict[str, list[str]] = {}
        for (image, trace_id), status in marks.items():
            if status in ("suspected", "confirmed"):
                marked.setdefault(image, []).append(trace_id)
        withheld = Withheld(marked)
    for image in (IMAGE_A, IMAGE_B):
        states = withheld.states_of_image(image)
        expected = [
            WITHHELD
            if withheld_by_reference(marks, image, trace_id)
            else CONTAINS_WITHHELD
            if contains_by_reference(marks, image, trace_id)
            else CLEAR
            for trace_id in TRACES
        ]
        assert (states(TRACES) if states else [CLEAR] * len(TRACES)) == expected, image


@settings(max_examples=300, deadline=None)
@given(marks=marks_strategy)
def test_the_bisection_for_unusual_trees_gives_what_the_plain_rule_gives(marks):
    # Limits of 0: every image's lookups fall back to the sorted ids (as for a tree whose topmost
    # marks have many lengths, or whose ids are very deep).
    with (
        mock.patch.object(rules, "MAX_TOP_LENGTHS", -1),
        mock.patch.object(rules, "MAX_HOLDERS_PER_ID", 0),
        mock.patch.object(rules, "MIN_HOLDERS", 0),
    ):
        _assert_agrees_with_the_plain_rule(marks, by_bisection=True)


# Texts that are almost trace ids: every way an id can be wrong, beside ids in their one spelling.
id_texts = st.one_of(
    st.sampled_from(TRACES),
    st.sampled_from(
        ["", "-", "0-", "-0", "0--1", "00", "01", "0-01", "0-00-1", "0-10", "0\n1", "0-²", "٣", "a"]
    ),
    st.text(alphabet="0123-\n", max_size=6),
)


@settings(max_examples=500)
@given(ids=st.lists(id_texts, max_size=6))
def test_all_canonical_trace_ids_says_what_the_regular_expression_says_of_each(ids):
    assert rules.all_canonical_trace_ids(ids) == all(rules.is_canonical_trace_id(i) for i in ids)


def test_ids_are_compared_in_their_one_spelling():
    assert canonical_trace_id("0-03-001") == "0-3-1"
    assert canonical_trace_id("0-10") == "0-10"
    withheld = Withheld({IMAGE_A: ["0-3"]})
    assert withheld.withholds(IMAGE_A, "00-003-1")
    assert withheld.contains(IMAGE_A, "00")
    assert withheld.state(IMAGE_A, "00-003-1") == WITHHELD
    assert withheld.state(IMAGE_A, "00") == CONTAINS_WITHHELD
    assert ancestors_and_self("0-3-1") == ["0-3-1", "0-3", "0"]


def test_a_read_grant_does_not_reach_privileged_traces(cast: Cast):
    grant(cast, rights=["read"])
    post_marks(cast, mark("0-3", "confirmed"), mark("0-5", "suspected"), mark("0-7", "rejected"))
    reasons = {
        trace_id: check(cast, trace_uid=uid(trace_id))["reason"]
        for trace_id in ("0-3", "0-3-1", "0-3-1-9", "0-5", "0-5-2", "0-7", "0-7-1", "0", "0-30", "0-4", "1")
    }
    assert reasons == {
        "0-3": "withheld_privileged",
        "0-3-1": "withheld_privileged",
        "0-3-1-9": "withheld_privileged",
        "0-5": "withheld_privileged",
        "0-5-2": "withheld_privileged",
        "0-7": "grant",  # reviewed: not privileged
        "0-7-1": "grant",
        "0": "grant",  # the container is readable (exporting it is another matter)
        "0-30": "grant",  # 0-30 is not under 0-3
        "0-4": "grant",
        "1": "grant",
    }
    # Without a trace, the case itself is still readable.
    assert check(cast)["allowed"] is True


def test_case_lead_and_deputy_are_withheld_too_and_only_an_explicit_review_grant_opens(cast: Cast):
    post_marks(cast, mark("0-3"))
    for person in ("case_lead", "deputy"):
        answer = check(cast, user=person, trace_uid=uid("0-3-1"))
        assert (answer["allowed"], answer["reason"], answer["grant_id"]) == (
            False,
            "withheld_privileged",
            None,
        )
        assert check(cast, user=person, trace_uid=uid("0-4"))["reason"] == "case_lead"
    review = grant(cast, grantee="deputy", rights=["review_privileged"], days=10)
    answer = check(cast, user="deputy", trace_uid=uid("0-3-1"))
    assert (answer["allowed"], answer["reason"], answer["grant_id"]) == (True, "grant", review.pk)
    assert answer["valid_until"] is not None
    # A review grant for another environment does not count.
    grant(cast, grantee="investigator", rights=["read", "review_privileged"], environments=["experiment"])
    grant(cast, grantee="investigator", rights=["read"])
    assert check(cast, trace_uid=uid("0-3"))["reason"] == "withheld_privileged"
    # review_privileged alone does not give the action itself.
    grant(cast, grantee="engineer", rights=["review_privileged"])
    assert check(cast, user="engineer", trace_uid=uid("0-3"))["reason"] == "right_missing"


def test_export_of_a_trace_inside_or_holding_withheld_data_is_denied_whoever_asks(cast: Cast):
    # The contract: a trace that contains withheld data is never exportable, whoever asks; check
    # with action export says what export-check says of the same trace.
    post_marks(cast, mark("0-3-1"), mark("0-5", "rejected"))
    grant(cast, rights=["read", "export", "review_privileged"])
    grant(cast, grantee="deputy", rights=["review_privileged"])
    expected = {
        "0": "withheld_privileged",  # holds 0-3-1
        "0-3": "withheld_privileged",  # holds 0-3-1
        "0-3-1": "withheld_privileged",  # marked: a review grant lets one read it, not export it
        "0-3-1-2": "withheld_privileged",
        "0-3-2": None,
        "0-5": None,  # reviewed: not privileged
        "1": None,
    }
    for person, allowed_reason in (
        ("investigator", "grant"),
        ("case_lead", "case_lead"),
        ("deputy", "case_lead"),
    ):
        answers = {
            trace_id: check(cast, user=person, action="export", trace_uid=uid(trace_id))
            for trace_id in expected
        }
        assert {t: (a["allowed"], a["reason"]) for t, a in answers.items()} == {
            t: (False, why) if why else (True, allowed_reason) for t, why in expected.items()
        }, person
        batch = (
            cast.api("hansken_production")
            .post(
                "/api/v1/authz/check-batch",
                {
                    "checks": [
                        {
                            "correlation_id": trace_id,
                            "user": person,
                            "project_id": str(CASE_PROJECT_ID),
                            "action": "export",
                            "trace_uid": uid(trace_id),
                        }
                        for trace_id in expected
                    ]
                },
                format="json",
            )
            .json()["results"]
        )
        assert {r["correlation_id"]: (r["allowed"], r["reason"]) for r in batch} == {
            t: (a["allowed"], a["reason"]) for t, a in answers.items()
        }, person
    # Reading is unchanged: the container is readable, the marked trace only with the review grant.
    assert check(cast, trace_uid=uid("0"))["reason"] == "grant"
    assert check(cast, trace_uid=uid("0-3-1"))["reason"] == "grant"
    assert check(cast, user="case_lead", trace_uid=uid("0-3-1"))["reason"] == "withheld_privileged"


def test_the_answer_names_the_grant_that_ends_first(cast: Cast):
    post_marks(cast, mark("0-3"))
    read = grant(cast, rights=["read"], days=5)
    review = grant(cast, rights=["review_privileged"], days=20)
    answer = check(cast, trace_uid=uid("0-3"))
    assert (answer["allowed"], answer["grant_id"]) == (True, read.pk)
    assert check(cast, action="review_privileged", trace_uid=uid("0-3"))["grant_id"] == review.pk


def iso(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def test_a_deputy_answer_on_a_withheld_trace_holds_no_longer_than_the_deputyship(cast: Cast):
    post_marks(cast, mark("0-3"))
    deputyship_ends = timezone.now() + datetime.timedelta(days=2)
    DeputyPeriod.objects.filter(deputy=cast["deputy"]).update(valid_until=deputyship_ends)
    invalidate(people=["deputy"])
    review = grant(cast, grantee="deputy", rights=["review_privileged"], days=30)
    on_the_case = check(cast, user="deputy")
    assert (on_the_case["reason"], on_the_case["valid_until"]) == ("case_lead", iso(deputyship_ends))
    withheld = check(cast, user="deputy", trace_uid=uid("0-3-1"))
    assert (withheld["allowed"], withheld["reason"], withheld["grant_id"]) == (True, "grant", review.pk)
    assert withheld["valid_until"] == iso(deputyship_ends)  # not the review grant's end, weeks later
    batch = cast.api("hansken_production").post(
        "/api/v1/authz/check-batch",
        {
            "checks": [
                {
                    "correlation_id": "1",
                    "user": "deputy",
                    "project_id": str(CASE_PROJECT_ID),
                    "action": "read",
                    "trace_uid": uid("0-3-1"),
                }
            ]
        },
        format="json",
    )
    assert batch.json()["results"][0]["valid_until"] == iso(deputyship_ends)
    # The review grant ending first is what the answer names and how long it holds.
    DeputyPeriod.objects.filter(deputy=cast["deputy"]).update(
        valid_until=review.valid_until + datetime.timedelta(days=1)
    )
    invalidate(people=["deputy"])
    assert check(cast, user="deputy", trace_uid=uid("0-3-1"))["valid_until"] == iso(review.valid_until)


def test_a_full_store_of_marks_still_answers_every_case_asked(cast: Cast, monkeypatch):
    # The store of cases' marks is cleared when it would grow past its limit; a case held before
    # the clear and asked again in the same request must still be answered (it raised KeyError: a 500).
    from authz import cache

    monkeypatch.setattr(cache, "MAX_WITHHELD_CASES", 1)
    store = cache.FactCache()
    held, other = str(CASE_PROJECT_ID), str(OTHER_PROJECT_ID)
    post_marks(cast, mark("0-3"))
    store.withheld_for([held], use=True)
    withheld = store.withheld_for([held, other], use=True)
    assert withheld(held).withholds(str(IMAGE_ID), "0-3-1")
    assert not withheld(other).withholds(str(IMAGE_ID), "0-3-1")


def test_a_cases_marks_kept_by_the_cache_are_out_of_the_collectors_walks(cast: Cast):
    # Kept in the worker's cache, a case's marks are frozen (never walked by the garbage collector's
    # collections again); loaded for one request only, they are ordinary young objects.
    import gc

    from authz import cache

    held = str(CASE_PROJECT_ID)
    post_marks(cast, mark("0-3"), mark("0-4-1"))
    kept = cache.FactCache().withheld_for([held], use=True)(held)._images[str(IMAGE_ID)]
    once = cache.FactCache().withheld_for([held], use=False)(held)._images[str(IMAGE_ID)]
    walked = {id(obj) for obj in gc.get_objects()}
    assert {id(kept.ordered), id(kept.top_of), id(kept.holders), id(kept.tops)}.isdisjoint(walked)
    assert {id(once.ordered), id(once.holders)} <= walked
    assert kept.state("0-3-1") == once.state("0-3-1") == WITHHELD


def test_a_mark_takes_effect_on_the_very_next_decision(cast: Cast):
    grant(cast, rights=["read"])
    assert check(cast, trace_uid=uid("0-3-1"))["allowed"] is True  # facts and marks now cached
    post_marks(cast, mark("0-3", "suspected", at="2026-11-01T10:00:00Z"))
    assert check(cast, trace_uid=uid("0-3-1"))["reason"] == "withheld_privileged"
    post_marks(cast, mark("0-3", "rejected", at="2026-11-02T10:00:00Z"))
    assert check(cast, trace_uid=uid("0-3-1"))["allowed"] is True


def test_marks_that_cannot_be_read_give_no_decision(cast: Cast):
    grant(cast, rights=["read"])
    invalidate()
    with mock.patch("privilege.selectors.withheld_of_cases", side_effect=DatabaseError("marks unreadable")):
        response = cast.api("hansken_production").post(
            "/api/v1/authz/check",
            {
                "user": "investigator",
                "project_id": str(CASE_PROJECT_ID),
                "action": "read",
                "trace_uid": uid("0"),
            },
            format="json",
        )
        assert response.status_code == 503
        assert "allowed" not in response.json()
        batch = cast.api("hansken_production").post(
            "/api/v1/authz/check-batch",
            {
                "checks": [
                    {
                        "correlation_id": "1",
                        "user": "investigator",
                        "project_id": str(CASE_PROJECT_ID),
                        "action": "read",
                        "trace_uid": uid("0"),
                    }
                ]
            },
            format="json",
        )
        assert batch.status_code == 503


def test_the_batch_answers_traces_as_check_does(cast: Cast):
    grant(cast, rights=["read"])
    post_marks(cast, mark("0-3"))
    items = [
        {
            "correlation_id": f"{user}|{trace_id}",
            "user": user,
            "project_id": str(CASE_PROJECT_ID),
            "action": "read",
            "trace_uid": uid(trace_id),
        }
        for user in ("investigator", "case_lead", "engineer")
        for trace_id in ("0", "0-3", "0-3-1", "0-4")
    ]
    response = cast.api("hansken_production").post(
        "/api/v1/authz/check-batch", {"checks": items}, format="json"
    )
    assert response.status_code == 200
    for item, result in zip(items, response.json()["results"], strict=True):
        single = check(cast, user=item["user"], trace_uid=item["trace_uid"])
        assert (result["allowed"], result["reason"], result["grant_id"]) == (
            single["allowed"],
            single["reason"],
            single["grant_id"],
        ), item


def test_a_trace_uid_with_a_foreign_digit_is_refused(cast: Cast):
    response = cast.api("hansken_production").post(
        "/api/v1/authz/check",
        {
            "user": "investigator",
            "project_id": str(CASE_PROJECT_ID),
            "action": "read",
            "trace_uid": f"{IMAGE_ID}:0-\u0663",
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "trace_uid"
