"""The decision API's input: what a check, a batch item and a query parameter must be, refused with
the field (and the item's index) that is wrong."""

from __future__ import annotations

import sys
import uuid
from typing import Any

import orjson
from django.http import HttpRequest

from authz.api.decision.problems import problem
from authz.decisions import USERNAME_MAX, Check, image_of_trace, is_username
from authz.models import Action

MAX_BATCH = 1000
# The limits of a username (``authz.decisions.USERNAME_MAX``) and a correlation id, wherever one comes
# in (parse_check, the batch's short way, projects).
CORRELATION_ID_MAX = 200
MAX_TRACE_UID = 500
ACTIONS = frozenset(Action.values)


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
        if not isinstance(trace_uid, str) or len(trace_uid) > MAX_TRACE_UID:
            raise problem(
                400, f"A trace uid is text of at most {MAX_TRACE_UID} characters.", "trace_uid", index
            )
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


def query_action(request: HttpRequest) -> str:
    action = request.GET.get("action", "")
    if action not in ACTIONS:
        raise problem(400, f"Give action, one of: {', '.join(sorted(ACTIONS))}.", "action")
    return action
