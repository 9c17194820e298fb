"""The decision API that Hansken asks on every access: ``check``, ``check-batch``, ``projects`` and
``subjects``.

This is the hot path. The classes are DRF views so that the OpenAPI schema describes them, but
``dispatch`` skips DRF's request wrapping, content negotiation and per-request token query: the
client is found by token digest in the in-process fact cache (``authz.cache``), which one Redis GET
per request keeps exact. Any failure on the way — a database or cache error included — answers with
an error status, never ``allowed: true``.
"""

from __future__ import annotations

import datetime
import logging
import os
import sys
import time
import uuid
from collections.abc import Sequence
from typing import Any, TypeGuard

import orjson
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.views import APIView

from api_clients.authentication import LAST_USED_RESOLUTION, BearerTokenAuthentication
from api_clients.models import ApiClient, PersonalToken
from api_clients.permissions import client_may
from api_clients.tokens import CLIENT_PREFIX, token_digest
from audit.models import Outcome
from audit.services import ClientEvent, audit_record_client_events
from authz import actions
from authz.cache import fact_cache
from authz.decisions import Answers, Check, Decision, decide_many, image_of_trace
from authz.models import Action, Grant
from cases.models import Case, DeputyPeriod
from hansken_governance.request_context import client_address

log = logging.getLogger(__name__)

MAX_BATCH = 1000
# The limits of a username and a correlation id, wherever one comes in (parse_check, the batch's
# short way, projects).
USERNAME_MAX = 150
CORRELATION_ID_MAX = 200
SCOPE = "authz:check"
ACTIONS = frozenset(Action.values)


class RequestProblem(Exception):
    def __init__(self, status: int, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors)
        self.status = status
        self.errors = errors


def problem(status: int, message: str, field: str | None = None, index: int | None = None) -> RequestProblem:
    item: dict[str, Any] = {"field": field, "message": message}
    if index is not None:
        item["index"] = index
    return RequestProblem(status, [item])


def authenticate(request: HttpRequest, use_cache: bool, now: datetime.datetime) -> ApiClient:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise problem(401, "Send the client's token as 'Authorization: Bearer <token>'.")
    if not token.startswith(CLIENT_PREFIX):
        if _is_usable_personal_token(token, now):
            raise problem(403, "Decisions are asked by Hansken's machine clients, not with a personal token.")
        raise problem(401, "The token is not valid, has expired or was revoked.")
    client: ApiClient | None = fact_cache.client(token_digest(token), use_cache)
    if client is None or not client.is_usable(now):
        raise problem(401, "The token is not valid, has expired or was revoked.")
    if not client.accepts_source(client_address(request)):
        raise problem(401, "This client may not call from this address.")
    if not client_may(client, SCOPE):
        raise problem(403, f"This client lacks the scope {SCOPE}.")
    if client.last_used_at is None or now - client.last_used_at > LAST_USED_RESOLUTION:
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
        client.last_used_at = now
    return client


def _is_usable_personal_token(token: str, now: datetime.datetime) -> bool:
    personal = PersonalToken.objects.select_related("user").filter(token_digest=token_digest(token)).first()
    return personal is not None and personal.is_usable(now)


def parse_json_object(request: HttpRequest) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise problem(415, "Send the body as application/json.")
    try:
        body = orjson.loads(request.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise problem(400, f"The body is not valid JSON: {exc}.") from exc
    if not isinstance(body, dict):
        raise problem(400, "The body must be a JSON object.")
    return body


CHECK_FIELDS = frozenset({"user", "project_id", "action", "trace_uid"})
BATCH_ITEM_FIELDS = CHECK_FIELDS | {"correlation_id"}

# The canonical text form of each project id seen, by the text Hansken sent: Hansken asks about the
# same projects over and over, and the hot path keys on these strings rather than on UUID objects.
_CANONICAL_PROJECT_IDS: dict[str, str] = {}
_CANONICAL_LIMIT = 65_536


def parse_uuid(text: str) -> str:
    """The canonical text of a UUID, interned (as ``authz.facts`` interns the project ids it loads)."""
    canonical = _CANONICAL_PROJECT_IDS.get(text)
    if canonical is None:
        canonical = sys.intern(str(uuid.UUID(text)))
        if len(_CANONICAL_PROJECT_IDS) >= _CANONICAL_LIMIT:
            _CANONICAL_PROJECT_IDS.clear()
        # Keyed by the canonical object itself when that is what was sent (the usual case).
        _CANONICAL_PROJECT_IDS[canonical if text == canonical else text] = canonical
    return canonical


USERNAME_PROBLEM = f"Give the username (printable text, at most {USERNAME_MAX} characters)."


def is_username(value: Any) -> TypeGuard[str]:
    """Text that can be a username: printable (so no NUL, no line break), 1 to USERNAME_MAX long."""
    return isinstance(value, str) and 0 < len(value) <= USERNAME_MAX and value.isprintable()


def parse_check(item: Any, index: int | None, allowed_fields: frozenset[str]) -> Check:
    if not isinstance(item, dict):
        raise problem(400, "Each check must be a JSON object.", None, index)
    if not item.keys() <= allowed_fields:
        raise problem(400, "This field is not known.", sorted(set(item) - allowed_fields)[0], index)
    user = item.get("user")
    if not is_username(user):
        raise problem(400, USERNAME_PROBLEM, "user", index)
    raw_project = item.get("project_id")
    try:
        if not isinstance(raw_project, str):
            raise ValueError("not text")
        project_id = parse_uuid(raw_project)
    except ValueError as exc:
        raise problem(400, "Give the Hansken project id as a UUID.", "project_id", index) from exc
    action = item.get("action")
    if not isinstance(action, str) or action not in ACTIONS:
        raise problem(400, f"Unknown action; known: {', '.join(sorted(ACTIONS))}.", "action", index)
    trace_uid = item.get("trace_uid")
    if trace_uid is None:
        trace_uid = ""
    image_id = None
    if trace_uid != "":
        if not isinstance(trace_uid, str) or len(trace_uid) > 500:
            raise problem(400, "A trace uid is text of at most 500 characters.", "trace_uid", index)
        try:
            image_id = image_of_trace(trace_uid)
        except ValueError as exc:
            raise problem(
                400,
                str(exc) if "{imageId}" in str(exc) else "The trace uid does not start with an image UUID.",
                "trace_uid",
                index,
            ) from exc
    correlation_id = item.get("correlation_id", "")
    if "correlation_id" in allowed_fields and (
        # Printable: it goes into the audit trail, and PostgreSQL stores no NUL in JSON.
        not isinstance(correlation_id, str)
        or len(correlation_id) > CORRELATION_ID_MAX
        or not correlation_id.isprintable()
    ):
        raise problem(
            400,
            f"Give a correlation id (printable text, at most {CORRELATION_ID_MAX} characters).",
            "correlation_id",
            index,
        )
    return ((user, project_id, action), trace_uid, image_id, correlation_id)


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
    # The remembered answers are fetched before any fact is read (see FactCache.forget). Without
    # the cache, answers are remembered within this request only.
    answers = fact_cache.answers_for(environment) if use_cache and remember else Answers()
    if use_cache:
        try:
            # Usually every person and case is in the cache already: read its dictionaries as they
            # are. A miss raises KeyError, and the batch goes again with the missing facts loaded.
            return decide_many(fact_cache.people, fact_cache.cases, checks, environment, now, today, answers)
        except KeyError:
            if remember:
                answers = fact_cache.answers_for(environment)
    people, cases = fact_cache.people_and_cases(
        [c[0][0] for c in checks], [c[0][1] for c in checks], use_cache
    )
    return decide_many(people, cases, checks, environment, now, today, answers)


# A denied decision with its place in the request and its check: what the audit trail records.
Denial = tuple[int, Check, Decision]


def decide_batch(items: list[Any], environment: str, use_cache: bool) -> tuple[list[Decision], list[str]]:
    """The decisions of a batch's items and their correlation ids, in order (``denials_of`` gives
    the denials with their checks, for ``record_denials``).

    The usual item takes a short way: exactly the four fields user, project id, action and
    correlation id, checked as ``parse_check`` checks them, and a question whose answer is
    remembered (``authz.decisions.Answers``), found by the project id as sent. An answer is only
    ever remembered under the canonical text of a project id that was checked, so finding one
    means that the text sent is that canonical text. (The key is unambiguous: a username has no
    NUL, and no action ends with another action.) Every other item goes through ``parse_check`` and
    ``decide_all``, in order, so the first bad item is the one reported, and the short way accepts,
    refuses and decides exactly what the full way does (tests/test_authz_batch_parsing.py)."""
    now = timezone.now()
    timestamp = now.timestamp()
    # The remembered answers are fetched before any fact is read (see FactCache.forget).
    answers = fact_cache.answers_for(environment) if use_cache else Answers()
    generation = answers.begin(timestamp)
    known = answers.decisions
    decisions: list[Any] = []  # a Decision for each item; None until the full way has decided it
    correlation_ids: list[str] = []
    full_way: list[int] = []
    add_decision, add_correlation_id = decisions.append, correlation_ids.append
    for index, item in enumerate(items):
        # Four fields, and these four found: then there is no other field.
        if type(item) is dict and len(item) == 4:
            user = item.get("user")
            action = item.get("action")
            correlation_id = item.get("correlation_id")
            project_text = item.get("project_id")
            if (
                type(user) is str
                and type(action) is str
                and type(correlation_id) is str
                and type(project_text) is str
                and action in ACTIONS
                and 0 < len(user) <= USERNAME_MAX  # is_username, spelled out: this runs per item
                and len(correlation_id) <= CORRELATION_ID_MAX
                and user.isprintable()
                and correlation_id.isprintable()
            ):
                decision = known.get(f"{user}\0{project_text}{action}")  # answer_key, spelled out
                if decision is not None:
                    add_decision(decision)
                    add_correlation_id(correlation_id)
                    continue
        add_decision(None)
        add_correlation_id("")
        full_way.append(index)
    if full_way:
        checks = [parse_check(items[index], index, BATCH_ITEM_FIELDS) for index in full_way]
        decided = decide_all(checks, environment, use_cache, now)
        for index, check, decision in zip(full_way, checks, decided, strict=True):
            decisions[index] = decision
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


# The third group of a decision id: the version (7) and a check's place in its batch (at most
# 1,000 < 16**3).
_ID_PLACES = [f"-7{n:03x}-" for n in range(16**3)]
_ID_PLACES_JSON = [place.encode() for place in _ID_PLACES]


class DecisionIds(Sequence[str]):
    """The decision ids of one request: ``count`` distinct time-ordered UUIDs (version 7, RFC
    9562), made cheaply: the first 48 bits are the time in milliseconds, the 12 bits after the
    version are the check's place in the request, and the last 62 bits are random, once per
    request. Within a request they are distinct by construction; two requests in the same
    millisecond share an id with probability 2**-62. Time order matters because a denial's id is its
    audit event id, which the trail keeps in a unique index: ids that grow are added at the end of
    that index instead of on a random page of it. Only the ids of denials are ever made as strings;
    the batch answer writes the others from the parts (``batch_body``)."""

    __slots__ = ("_count", "prefix", "suffix")

    def __init__(self, count: int) -> None:
        if count > len(_ID_PLACES):
            raise ValueError(f"At most {len(_ID_PLACES)} decision ids per request.")
        self._count = count
        millis = time.time_ns() // 1_000_000
        random_bits = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
        stamp = f"{millis & 0xFFFF_FFFF_FFFF:012x}"
        self.prefix = f"{stamp[:8]}-{stamp[8:]}"
        self.suffix = f"{0x8000 | (random_bits >> 48):04x}-{random_bits & 0xFFFF_FFFF_FFFF:012x}"

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._count))]
        if not -self._count <= index < self._count:
            raise IndexError("decision id index out of range")
        return self.prefix + _ID_PLACES[index % self._count] + self.suffix


def record_denials(request: HttpRequest, client: ApiClient, denials: list[Denial], count: int) -> DecisionIds:
    """The decision ids of a request of ``count`` checks; every denied decision among them becomes
    an audit event (one chain lock for the whole batch), whose id is the decision id. Allows are not
    stored here: the usage event that follows records the access itself."""
    ids = DecisionIds(count)
    events: list[ClientEvent] = []
    for index, ((user, project_id, action), trace_uid, image_id, correlation_id), decision in denials:
        details = {"requested_action": action, "reason": decision.reason}
        if correlation_id:
            details["correlation_id"] = correlation_id
        grant_id = decision.grant_id
        events.append(ClientEvent(ids[index], user, project_id, image_id, trace_uid, grant_id, details))
    if events:
        audit_record_client_events(
            events,
            action=actions.DECISION_DENIED,
            outcome=Outcome.DENIED,
            client_name=client.name,
            environment=client.environment,
            source_address=client_address(request),
            request_id=getattr(request, "request_id", ""),
        )
    return ids


def decision_body(decision: Decision, decision_id: str) -> dict[str, Any]:
    return {**decision.as_json, "decision_id": decision_id}


def json_response(data: Any, status: int = 200) -> HttpResponse:
    """orjson instead of Django's encoder: a batch answer of 1,000 decisions is serialised about ten
    times faster."""
    return HttpResponse(orjson.dumps(data), content_type="application/json", status=status)


class FastDecisionView(APIView):
    """Plain Django underneath (see the module docstring); DRF only describes it."""

    authentication_classes = [BearerTokenAuthentication]
    permission_classes: list[Any] = []

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        handler = getattr(self, request.method.lower(), None) if request.method in ("GET", "POST") else None
        if handler is None:
            return json_response({"errors": [{"field": None, "message": "Method not allowed."}]}, status=405)
        try:
            use_cache = fact_cache.sync()
            client = authenticate(request, use_cache, timezone.now())
            response: HttpResponse = handler(request, client, use_cache)
            return response
        except RequestProblem as exc:
            return json_response({"errors": exc.errors}, status=exc.status)
        except DatabaseError:
            log.exception("Decision failed: database unavailable")
            return json_response(
                {
                    "errors": [
                        {
                            "field": None,
                            "message": "The decision service cannot reach its database; no decision.",
                        }
                    ]
                },
                status=503,
            )


DECISION_SCHEMA = inline_serializer(
    "Decision",
    {
        "allowed": serializers.BooleanField(),
        "reason": serializers.CharField(),
        "grant_id": serializers.IntegerField(allow_null=True),
        "valid_until": serializers.DateTimeField(allow_null=True),
        "decision_id": serializers.UUIDField(),
    },
)
CHECK_SCHEMA = inline_serializer(
    "DecisionCheck",
    {
        "user": serializers.CharField(),
        "project_id": serializers.UUIDField(),
        "action": serializers.ChoiceField(choices=Action.choices),
        "trace_uid": serializers.CharField(required=False),
    },
)


class CheckApi(FastDecisionView):
    @extend_schema(request=CHECK_SCHEMA, responses={200: DECISION_SCHEMA}, operation_id="authz_check")
    def post(self, request: HttpRequest, client: ApiClient, use_cache: bool) -> HttpResponse:
        check = parse_check(parse_json_object(request), None, CHECK_FIELDS)
        decision = decide_all([check], client.environment, use_cache)[0]
        ids = record_denials(request, client, [] if decision.allowed else [(0, check, decision)], 1)
        return json_response(decision_body(decision, ids[0]))


class CheckBatchApi(FastDecisionView):
    @extend_schema(
        request=inline_serializer(
            "DecisionCheckBatch",
            {"checks": serializers.ListField(child=serializers.DictField(), max_length=MAX_BATCH)},
        ),
        responses={
            200: inline_serializer(
                "DecisionBatch", {"results": serializers.ListField(child=serializers.DictField())}
            )
        },
        operation_id="authz_check_batch",
    )
    def post(self, request: HttpRequest, client: ApiClient, use_cache: bool) -> HttpResponse:
        body = parse_json_object(request)
        unknown = sorted(set(body) - {"checks"})
        if unknown:
            raise problem(400, "This field is not known.", unknown[0])
        items = body.get("checks")
        if not isinstance(items, list) or not items:
            raise problem(400, "Give 'checks': a list of 1 to 1,000 checks.", "checks")
        if len(items) > MAX_BATCH:
            raise problem(400, f"At most {MAX_BATCH} checks per request; split the batch.", "checks")
        decisions, correlation_ids = decide_batch(items, client.environment, use_cache)
        ids = record_denials(request, client, denials_of(items, decisions), len(items))
        return HttpResponse(batch_body(correlation_ids, decisions, ids), content_type="application/json")


def batch_body(correlation_ids: list[str], decisions: list[Decision], ids: DecisionIds) -> bytes:
    """``{"results": [{"correlation_id", "allowed", "reason", "grant_id", "valid_until",
    "decision_id"}, ...]}``: what ``orjson.dumps`` makes of those dictionaries, byte for byte (the
    tests compare the two), at a third of the cost: each decision's middle part is JSON already,
    and each decision id is written from its parts."""
    count = len(decisions)
    if not len(correlation_ids) == len(ids) == count:
        raise ValueError("One correlation id and one decision id per decision.")
    dumps = orjson.dumps
    prefix, suffix = ids.prefix.encode(), ids.suffix.encode() + b'"}'
    results = [
        b'{"correlation_id":%b%b%b%b%b'
        % (dumps(correlation_id), decision.batch_fragment, prefix, place, suffix)
        for correlation_id, decision, place in zip(
            correlation_ids, decisions, _ID_PLACES_JSON[:count], strict=True
        )
    ]
    return b'{"results":[' + b",".join(results) + b"]}"


def query_action(request: HttpRequest) -> str:
    action = request.GET.get("action", "")
    if action not in ACTIONS:
        raise problem(400, f"Give action, one of: {', '.join(sorted(ACTIONS))}.", "action")
    return action


class ProjectsApi(FastDecisionView):
    @extend_schema(
        parameters=[
            OpenApiParameter("user", str, required=True),
            OpenApiParameter("action", str, required=True),
        ],
        responses={
            200: inline_serializer(
                "AllowedProjects", {"project_ids": serializers.ListField(child=serializers.UUIDField())}
            )
        },
        operation_id="authz_projects",
    )
    def get(self, request: HttpRequest, client: ApiClient, use_cache: bool) -> HttpResponse:
        user = request.GET.get("user", "")
        if not is_username(user):
            # As parse_check (so the memory of answers never holds another kind of username).
            raise problem(400, USERNAME_PROBLEM, "user")
        action = query_action(request)
        people, _ = fact_cache.people_and_cases([user], [], use_cache)
        person = people.get(user)
        if person is None:
            return json_response({"project_ids": []})
        # Candidates: every case the person manages or holds a grant on; the rule then decides each,
        # so this list agrees with `check` by construction.
        case_ids = set(person.managed_case_ids) | set(person.grants_by_case) | set(person.deputy_until)
        project_ids = [
            str(p) for p in Case.objects.filter(pk__in=case_ids).values_list("project_id", flat=True)
        ]
        checks: list[Check] = [((user, pid, action), "", None, "") for pid in project_ids]
        decisions = decide_all(checks, client.environment, use_cache)
        allowed = sorted(c[0][1] for c, d in zip(checks, decisions, strict=True) if d.allowed)
        return json_response({"project_ids": allowed})


class SubjectsApi(FastDecisionView):
    @extend_schema(
        parameters=[
            OpenApiParameter("project_id", uuid.UUID, required=True),
            OpenApiParameter("action", str, required=True),
        ],
        responses={
            200: inline_serializer(
                "AllowedSubjects", {"users": serializers.ListField(child=serializers.CharField())}
            )
        },
        operation_id="authz_subjects",
    )
    def get(self, request: HttpRequest, client: ApiClient, use_cache: bool) -> HttpResponse:
        try:
            project_id = uuid.UUID(request.GET.get("project_id", ""))
        except ValueError as exc:
            raise problem(400, "Give project_id, a UUID.", "project_id") from exc
        action = query_action(request)
        case = Case.objects.filter(project_id=project_id).values_list("pk", "case_lead__username").first()
        if case is None:
            return json_response({"users": []})
        case_pk, lead = case
        candidates = {lead}
        # Every deputyship not ended, also one past its end date: the rule decides.
        candidates.update(
            DeputyPeriod.objects.filter(case_id=case_pk, removed_at__isnull=True).values_list(
                "deputy__username", flat=True
            )
        )
        candidates.update(Grant.objects.filter(case_id=case_pk).values_list("grantee__username", flat=True))
        checks: list[Check] = [((username, str(project_id), action), "", None, "") for username in candidates]
        decisions = decide_all(checks, client.environment, use_cache)
        allowed = sorted(c[0][0] for c, d in zip(checks, decisions, strict=True) if d.allowed)
        return json_response({"users": allowed})
