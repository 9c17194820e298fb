"""The decisions of a request's checks, in order, at one moment: ``decide_all`` for any checks, and
``decide_batch``, the batch's short way for items whose answer is remembered."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from operator import itemgetter
from typing import Any

from django.utils import timezone

from authz.answers import Answers
from authz.api.decision.parsing import (
    ACTIONS,
    BATCH_ITEM_FIELDS,
    CORRELATION_ID_MAX,
    MAX_TRACE_UID,
    parse_check,
    parse_uuid,
)
from authz.cache import fact_cache
from authz.decisions import (
    CANONICAL_IMAGES,
    EXPORT,
    GATE_REASONS,
    CaseFacts,
    Check,
    Decision,
    decide_many,
    decide_trace,
)
from privilege.rules import CANONICAL_TRACE_ID, CLEAR, Withheld, all_canonical_trace_ids


def decide_all(
    checks: list[Check],
    environment: str,
    use_cache: bool,
    now: datetime.datetime | None = None,
    remember: bool = True,
) -> list[Decision]:
    """The decisions of these checks for a client of this environment, in order, at one moment."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    # Answers before facts (the rule: ``authz.cache.FactCache``).
    answers = fact_cache.answers_for(environment) if use_cache and remember else Answers()
    # The privileged marks of the cases whose traces are asked about (loaded once per case).
    withheld = fact_cache.withheld_for({c[0][1] for c in checks if c[2] is not None}, use_cache)
    if use_cache:
        try:
            # Usually every person and case is in the cache already: read its dictionaries as they
            # are. A miss raises KeyError, and the batch goes again with the missing facts loaded.
            return decide_many(
                fact_cache.people, fact_cache.cases, checks, environment, now, today, answers, withheld
            )
        except KeyError:
            if remember:
                answers = fact_cache.answers_for(environment)
    people, cases = fact_cache.people_and_cases(
        [c[0][0] for c in checks], [c[0][1] for c in checks], use_cache
    )
    return decide_many(people, cases, checks, environment, now, today, answers, withheld)


# A denied decision with its place in the request and its check: what the audit trail records.
Denial = tuple[int, Check, Decision]


# The fields of a batch item on the short way, in one call each: without a trace, and with one.
_FIELDS = itemgetter("user", "project_id", "action", "correlation_id")
_FIELDS_WITH_TRACE = itemgetter("user", "project_id", "action", "correlation_id", "trace_uid")


def decide_batch(items: list[Any], environment: str, use_cache: bool) -> tuple[list[Decision], list[str]]:
    """The decisions of a batch's items and their correlation ids, in order (``denials_of`` gives
    the denials with their checks, for ``record_denials``).

    The usual item takes a short way: exactly the four fields user, project id, action and
    correlation id (or these and a trace uid), checked as ``parse_check`` checks them, and a
    question whose answer is remembered (``authz.answers.Answers``), found by the project id as
    sent; with a trace, the trace's part (``decide_trace``) from facts already in the cache. An
    answer is only ever remembered under the canonical text of a project id that was checked and a
    username that ``is_username`` accepts (``decide_many``), so finding one means that the text
    sent is that canonical text and that the username is well-formed: the short way checks the
    username's type only. (The key is unambiguous: a remembered username has no NUL, a canonical
    project id none either, and no action ends with another action.) Every other item goes
    through ``parse_check`` and ``decide_all``, in order, so the first bad item is the one
    reported, and the short way accepts, refuses and decides exactly what the full way does
    (tests/test_authz_batch_parsing.py)."""
    now = timezone.now()
    timestamp = now.timestamp()
    # Answers before facts (the rule: ``authz.cache.FactCache``).
    answers = fact_cache.answers_for(environment) if use_cache else Answers()
    generation = answers.begin(timestamp)
    known = answers.decisions
    decisions: list[Any] = []  # a Decision for each item; None until the full way has decided it
    correlation_ids: list[str] = []
    full_way: list[int] = []
    add_decision, add_correlation_id = decisions.append, correlation_ids.append
    # The items on the short way with a trace, and their trace ids as sent.
    traced: list[int] = []
    trace_ids: list[str] = []
    add_traced, add_trace_id = traced.append, trace_ids.append
    # For items with a trace: facts already in the cache, read after the answers (the same rule),
    # and looked up again only when the project or the image differs from the item before (a
    # batch is usually about one case and one image).
    cases: dict[str, CaseFacts | None] = fact_cache.cases if use_cache else {}
    withheld_facts: dict[str, Withheld] = fact_cache.withheld if use_cache else {}
    image_get, canonical_id = CANONICAL_IMAGES.get, CANONICAL_TRACE_ID.match
    looked_up_project = looked_up_image = None  # the project text and image id of the facts below
    case: CaseFacts | None = None
    withheld: Withheld | None = None
    image_usable = False  # a dataset of the case, not removed
    withholds: Callable[[str], bool] | None = None  # the image's marks (None: nothing withheld)
    for index, item in enumerate(items):
        decision: Decision | None = None
        if type(item) is dict:
            size = len(item)
            try:
                if size == 4:
                    user, project_text, action, correlation_id = _FIELDS(item)
                    trace_uid = None
                elif size == 5:
                    user, project_text, action, correlation_id, trace_uid = _FIELDS_WITH_TRACE(item)
                else:
                    trace_uid = user = None  # another number of fields: the full way says why
            except KeyError:  # another field than these: the full way names it
                user = None
            if (
                type(user) is str is type(action) is type(correlation_id) is type(project_text)
                and action in ACTIONS
                and len(correlation_id) <= CORRELATION_ID_MAX
                and correlation_id.isprintable()
            ):
                decision = known.get(f"{user}\0{project_text}{action}")  # answer_key, spelled out
                if decision is not None and trace_uid is not None:
                    # The trace's part (authz.decisions.decide_trace) on the remembered answer. Taken
                    # here only for a trace uid that parse_check would read the same way: an image
                    # text it has read before, an id in its one spelling. Anything else, or a fact
                    # not in the cache, goes the full way (decision None).
                    if type(trace_uid) is not str or len(trace_uid) > MAX_TRACE_UID:
                        decision = None
                    elif trace_uid:
                        image_part, _, trace_id = trace_uid.partition(":")
                        image_id = image_get(image_part)
                        if image_id is None:
                            decision = None
                        else:
                            # Whether the id is in its one spelling is asked of all the batch's ids
                            # at once, after this loop; until then nothing below may rely on it.
                            add_traced(index)
                            add_trace_id(trace_id)
                        if (
                            image_id is not None
                            and decision is not None
                            and decision.reason not in GATE_REASONS
                        ):
                            if project_text != looked_up_project or image_id is not looked_up_image:
                                # (CANONICAL_IMAGES gives one text object per image text sent: the
                                # same image spelled otherwise only looks its facts up again.)
                                looked_up_project, looked_up_image = project_text, image_id
                                case, withheld = cases.get(project_text), withheld_facts.get(project_text)
                                image_usable = (
                                    case is not None
                                    and image_id in case.image_ids
                                    and image_id not in case.removed_image_ids
                                )
                                withholds = (
                                    None if withheld is None else withheld.withholds_of_image(image_id)
                                )
                            if case is None or withheld is None:
                                decision = None
                            elif not (
                                decision.allowed
                                and image_usable
                                and (
                                    withheld.state_canonical(image_id, trace_id) == CLEAR
                                    if action == EXPORT
                                    else withholds is None or not withholds(trace_id)
                                )
                            ):
                                # Denied, or a trace withheld (for export: or holding withheld data)
                                # or outside the case: decide_trace says.
                                person = fact_cache.people.get(user)
                                decision = (
                                    None
                                    if person is None or canonical_id(trace_id) is None
                                    else decide_trace(
                                        person,
                                        case,
                                        action,
                                        environment,
                                        now,
                                        decision,
                                        image_id,
                                        trace_id,
                                        withheld,
                                    )
                                )
                if decision is not None:
                    add_decision(decision)
                    add_correlation_id(correlation_id)
                    continue
        add_decision(None)
        add_correlation_id("")
        full_way.append(index)
    if trace_ids and not all_canonical_trace_ids(trace_ids):
        # An id not in its one spelling, or no id at all: its item goes the full way, which reads
        # or refuses it (the rest stand: an id in its one spelling was decided as it is).
        for index, trace_id in zip(traced, trace_ids, strict=True):
            if canonical_id(trace_id) is None and decisions[index] is not None:
                decisions[index] = None
                correlation_ids[index] = ""
                full_way.append(index)
        full_way.sort()
    if full_way:
        checks = [parse_check(items[index], index, BATCH_ITEM_FIELDS) for index in full_way]
        decided = decide_all(checks, environment, use_cache, now)
        for index, check, full_decision in zip(full_way, checks, decided, strict=True):
            decisions[index] = full_decision
            correlation_ids[index] = check[3]
    if not answers.still_hold(timestamp, generation):
        # Another thread of this worker forgot the answers meanwhile, or remembered one that does
        # not hold at ``now`` (see Answers): all again, the full way, without the memory.
        checks = [parse_check(item, index, BATCH_ITEM_FIELDS) for index, item in enumerate(items)]
        return decide_all(checks, environment, use_cache, now, remember=False), [c[3] for c in checks]
    return decisions, correlation_ids


def denials_of(items: list[Any], decisions: list[Decision]) -> list[Denial]:
    """The denied decisions of a batch that ``decide_batch`` has decided, with their checks. The
    items are known to be good by then: one with the usual four fields is taken as it is."""
    denials: list[Denial] = []
    for index, decision in enumerate(decisions):
        if not decision.allowed:
            item = items[index]
            check: Check
            if len(item) == 4 and "correlation_id" in item and "trace_uid" not in item:
                question = (item["user"], parse_uuid(item["project_id"]), item["action"])
                check = (question, "", None, item["correlation_id"])
            else:
                check = parse_check(item, index, BATCH_ITEM_FIELDS)
            denials.append((index, check, decision))
    return denials
