"""``POST /api/v1/authz/export-check`` (scope ``export:check``): may this person export these
traces? The person's ``export`` right is decided by the one rule, as ``check`` decides it; the
traces are held against the case's datasets and privileged marks (``privilege.exports``). A
decision-API view: the same short path, authentication and fail-closed error handling as ``check``."""

from __future__ import annotations

import uuid
from operator import itemgetter
from typing import Any

from django.http import HttpRequest, HttpResponse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers

from api_clients.models import ApiClient
from authz.api.decision.deciding import decide_all
from authz.api.decision.ids import DecisionIds
from authz.api.decision.parsing import USERNAME_PROBLEM, parse_json_object, parse_uuid
from authz.api.decision.problems import json_response, problem
from authz.api.decision.views import FastDecisionView
from authz.cache import fact_cache
from authz.decisions import Check, is_username
from hansken_governance.request_context import client_address
from privilege.exports import (
    MAX_TRACES,
    TRACES_PER_EVENT,
    ImageRun,
    Traces,
    blocked_traces,
    export_check_record,
    export_verdict,
)
from privilege.rules import CANONICAL_TRACE_ID, all_canonical_trace_ids, canonical_trace_id, is_trace_id

is_canonical = CANONICAL_TRACE_ID.match

EXPORT_FIELDS = frozenset({"user", "project_id", "trace_uids"})
MAX_TRACE_UID = 500


def parse_traces(value: Any) -> Traces:
    """The request's trace uids, checked: each ``{imageId}:{id}`` with an image UUID and an id of
    steps of digits joined by ``-``, at most ``MAX_TRACE_UID`` characters. A refusal names the
    first bad trace's index."""
    if not isinstance(value, list) or not value:
        raise problem(400, f"Give 'trace_uids': a list of 1 to {MAX_TRACES:,} trace uids.", "trace_uids")
    if len(value) > MAX_TRACES:
        raise problem(400, f"At most {MAX_TRACES:,} trace uids per request; split it.", "trace_uids")
    return _read_at_once(value) or _read_one_by_one(value)


def _read_at_once(uids: list[Any]) -> Traces | None:
    """The usual request (every trace in one image, spelled the same way, every id in its one
    spelling) read with a few passes over its text instead of a dozen steps per trace: about half
    the CPU for 1,000 traces. None for anything else, which ``_read_one_by_one`` then reads (and
    refuses, naming the index, where it must); both give the same ``Traces`` for what this takes
    (tests/test_export_check_parsing.py).

    Why the passes prove each uid is ``{image}:{id}``: the ids (each uid past the first one's
    image part and colon) are trace ids in their one spelling (``all_canonical_trace_ids``), so
    no id holds a newline, a colon or anything else. Each occurrence
    of newline-image-colon in the newline-joined uids begins at a newline; one inside a uid would
    put the colon into that uid's id. So as many occurrences as uids means every uid begins with
    the image part and its colon."""
    first = uids[0]
    if type(first) is not str:
        return None
    image_part, colon, _ = first.partition(":")
    if not colon or "\n" in image_part:
        return None
    try:
        joined = "\n" + "\n".join(uids)  # TypeError: a uid that is not text
    except TypeError:
        return None
    count = len(uids)
    if joined.count(f"\n{image_part}:") != count:
        return None
    ids = list(map(itemgetter(slice(len(image_part) + 1, None)), uids))
    if max(map(len, uids)) > MAX_TRACE_UID:
        return None
    if not all_canonical_trace_ids(ids):
        return None
    image_id = _image_id(image_part)
    if image_id is None:
        return None
    return Traces(uids, ids, ids, [ImageRun(image_part, image_id, 0, count)])


def _image_id(image_part: str) -> str | None:
    try:
        return str(uuid.UUID(image_part))
    except ValueError:
        return None


def _read_one_by_one(value: list[Any]) -> Traces:
    images: dict[str, str] = {}
    sent_ids: list[str] = []
    trace_ids: list[str] = []
    runs: list[ImageRun] = []
    current = ""
    for index, trace_uid in enumerate(value):
        if not isinstance(trace_uid, str) or len(trace_uid) > MAX_TRACE_UID:
            raise problem(
                400, f"A trace uid is text of at most {MAX_TRACE_UID} characters.", "trace_uids", index
            )
        image_part, colon, sent_id = trace_uid.partition(":")
        trace_id = sent_id
        if not colon or is_canonical(trace_id) is None:
            if not colon or not is_trace_id(trace_id):
                raise problem(
                    400,
                    "A trace uid is {imageId}:{id}, the id being steps joined by '-', e.g. '<uuid>:0-3-1'.",
                    "trace_uids",
                    index,
                )
            trace_id = canonical_trace_id(trace_id)  # another spelling (0-03): the marks say 0-3
        image_id = images.get(image_part)
        if image_id is None:
            image_id = _image_id(image_part)
            if image_id is None:
                raise problem(400, "The trace uid does not start with an image UUID.", "trace_uids", index)
            images[image_part] = image_id
        if not runs or image_part != current:
            if runs:
                runs[-1] = ImageRun(runs[-1].image_part, runs[-1].image_id, runs[-1].start, index)
            runs.append(ImageRun(image_part, image_id, index, index))
            current = image_part
        sent_ids.append(sent_id)
        trace_ids.append(trace_id)
    runs[-1] = ImageRun(runs[-1].image_part, runs[-1].image_id, runs[-1].start, len(value))
    return Traces(value, sent_ids, trace_ids, runs)


BLOCKED_SCHEMA = inline_serializer(
    "ExportBlockedTrace",
    {
        "trace_uid": serializers.CharField(),
        "reason": serializers.ChoiceField(
            choices=["withheld_privileged", "contains_privileged", "dataset_deleted", "unknown_image"]
        ),
    },
)


class ExportCheckApi(FastDecisionView):
    scope = "export:check"

    @extend_schema(
        request=inline_serializer(
            "ExportCheck",
            {
                "user": serializers.CharField(),
                "project_id": serializers.UUIDField(),
                "trace_uids": serializers.ListField(child=serializers.CharField(), max_length=MAX_TRACES),
            },
        ),
        responses={
            200: inline_serializer(
                "ExportDecision",
                {
                    "allowed": serializers.BooleanField(),
                    "reason": serializers.CharField(),
                    "decision_id": serializers.UUIDField(),
                    "blocked": serializers.ListField(child=BLOCKED_SCHEMA),
                },
            )
        },
        operation_id="authz_export_check",
    )
    def post(self, request: HttpRequest, client: ApiClient, use_cache: bool) -> HttpResponse:
        body = parse_json_object(request)
        unknown = sorted(set(body) - EXPORT_FIELDS)
        if unknown:
            raise problem(400, "This field is not known.", unknown[0])
        user = body.get("user")
        if not is_username(user):
            raise problem(400, USERNAME_PROBLEM, "user")
        raw_project = body.get("project_id")
        try:
            if not isinstance(raw_project, str):
                raise ValueError("not text")
            project_id = parse_uuid(raw_project)
        except ValueError as exc:
            raise problem(400, "Give the Hansken project id as a UUID.", "project_id") from exc
        traces = parse_traces(body.get("trace_uids"))
        check: Check = ((user, project_id, "export"), "", None, "")
        decision = decide_all([check], client.environment, use_cache)[0]
        _, cases = fact_cache.people_and_cases([], [project_id], use_cache)
        withheld = fact_cache.withheld_for({project_id}, use_cache)(project_id)
        blocked = blocked_traces(cases[project_id], withheld, traces)
        allowed, reason = export_verdict(decision, blocked)
        ids = DecisionIds(-(-len(traces) // TRACES_PER_EVENT))
        export_check_record(
            event_ids=ids,
            user=user,
            actor_role=fact_cache.roles_of([user], use_cache)[user],
            project_id=project_id,
            traces=traces,
            allowed=allowed,
            reason=reason,
            grant_id=decision.grant_id,
            blocked=blocked,
            client_name=client.name,
            environment=client.environment,
            source_address=client_address(request),
            request_id=getattr(request, "request_id", ""),
        )
        return json_response(
            {"allowed": allowed, "reason": reason, "decision_id": ids[0], "blocked": blocked}
        )
