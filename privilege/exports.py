"""The export check (``POST /api/v1/authz/export-check``): which of the traces asked for may leave
Hansken, and its record in the audit trail.

An export is allowed only when ``check`` allows the person ``export`` on the case and no trace
asked for is blocked. A trace is blocked when it lies in a removed dataset (``dataset_deleted``),
in an image that is not a dataset of the case (``unknown_image``), inside privileged data
(``withheld_privileged``), or when it contains privileged data (``contains_privileged``: a mailbox
holding one privileged e-mail). Blocked traces are blocked whoever asks: holding
``review_privileged`` lets a person read withheld traces, never export them.

Every export check, allowed or not, is in the trail with the traces asked for: one event per
``TRACES_PER_EVENT`` traces (a request of 10,000 makes 10 events, not 10,000), the first carrying
the decision id as its event id. The traces are written compactly, each image once with the ids
asked for in it (``trace_runs``): the event is a quarter of the size it would be with every trace
uid in full, and its size is what the chain hashes, the database parses, stores and logs while the
trail's one lock is held (measured in docs/privileged-traces.md, "Speed of the export check").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from audit.models import Outcome
from audit.services import ClientEvent, audit_record_client_events
from authz.decisions import CaseFacts, Decision, Reason
from privilege import actions
from privilege.rules import CLEAR, CONTAINS_WITHHELD, WITHHELD, Withheld

TRACES_PER_EVENT = 1_000
MAX_TRACES = 10_000


class Blocked:
    DATASET_DELETED = "dataset_deleted"
    UNKNOWN_IMAGE = "unknown_image"
    WITHHELD_PRIVILEGED = "withheld_privileged"
    CONTAINS_PRIVILEGED = "contains_privileged"


# The answer's reason when the person may export but a trace is blocked: the decision API's codes.
_REASON_OF_BLOCK = {
    Blocked.DATASET_DELETED: Reason.DATASET_DELETED,
    Blocked.UNKNOWN_IMAGE: Reason.NO_GRANT,
    Blocked.WITHHELD_PRIVILEGED: Reason.WITHHELD_PRIVILEGED,
    Blocked.CONTAINS_PRIVILEGED: Reason.WITHHELD_PRIVILEGED,
}

# A trace asked for: (trace uid as sent, canonical image id, trace id in its one spelling).
Trace = tuple[str, str, str]


# A trace's block, by code: the privileged states of ``privilege.rules``, then the image's own
# blocks. A tuple indexed by the code (built from the mapping, so it fails at import if the codes
# are not 0 to 4).
_DATASET_DELETED_CODE = 3
_UNKNOWN_IMAGE_CODE = 4
_BLOCK_BY_CODE: dict[int, str | None] = {
    CLEAR: None,
    WITHHELD: Blocked.WITHHELD_PRIVILEGED,
    CONTAINS_WITHHELD: Blocked.CONTAINS_PRIVILEGED,
    _DATASET_DELETED_CODE: Blocked.DATASET_DELETED,
    _UNKNOWN_IMAGE_CODE: Blocked.UNKNOWN_IMAGE,
}
_BLOCK_OF_CODE = tuple(_BLOCK_BY_CODE[code] for code in range(len(_BLOCK_BY_CODE)))


def _deleted(trace_id: str) -> int:
    return _DATASET_DELETED_CODE


def _unknown(trace_id: str) -> int:
    return _UNKNOWN_IMAGE_CODE


def blocked_traces(
    case: CaseFacts | None, withheld: Withheld, traces: Sequence[Trace]
) -> list[dict[str, str]]:
    """Each blocked trace once, in the order asked, with why. Nothing when the case is unknown (the
    answer is then ``unknown_project`` anyway).

    The image of a trace decides how it is looked at (removed, not of the case, or its marks); that
    is worked out once per image, not per trace: ``code_of`` holds, per image, the function that
    gives a trace's code. Most traces are clear, so only a blocked one is checked for repeats."""
    if case is None:
        return []
    blocked: list[dict[str, str]] = []
    seen: set[str] = set()
    code_of: dict[str, Callable[[str], int]] = {}
    for trace_uid, image_id, trace_id in traces:
        code = code_of.get(image_id)
        if code is None:
            if image_id in case.removed_image_ids:
                code = _deleted
            elif image_id not in case.image_ids:
                code = _unknown
            else:
                code = withheld.state_of_image(image_id)
            code_of[image_id] = code
        why = _BLOCK_OF_CODE[code(trace_id)]
        if why is not None and trace_uid not in seen:
            seen.add(trace_uid)
            blocked.append({"trace_uid": trace_uid, "reason": why})
    return blocked


def trace_runs(traces: Sequence[Trace]) -> list[dict[str, Any]]:
    """The traces as the trail keeps them: runs of consecutive traces of one image, each
    ``{"image_id": the image part as sent, "trace_ids": "the id parts as sent, joined by commas"}``.
    Order, repeats and spelling are kept: ``f"{image_id}:{trace_id}"`` for each id gives back every
    trace uid as sent, in the order asked (``trace_uids_of`` does that). An id is digits and dashes
    (``parse_traces`` refuses anything else), so a comma cannot be part of one. One text rather than
    a JSON list: a list of 1,000 short strings cost the canonical encoding about 0.1 ms and the
    database another 0.13 ms (parsing, ``jsonb``) per event; the joined text a fraction of that."""
    runs: list[dict[str, Any]] = []
    current: str | None = None
    ids: list[str] = []
    lists: list[list[str]] = []
    for trace_uid, _, _ in traces:
        image, _, trace_id = trace_uid.partition(":")
        if image != current:
            current, ids = image, []
            lists.append(ids)
            runs.append({"image_id": image})
        ids.append(trace_id)
    for run, run_ids in zip(runs, lists, strict=True):
        run["trace_ids"] = ",".join(run_ids)
    return runs


def trace_uids_of(details: dict[str, Any]) -> list[str]:
    """The trace uids of an export check's event, as asked (``trace_runs`` reversed)."""
    return [
        f"{run['image_id']}:{trace_id}"
        for run in details["traces"]
        for trace_id in run["trace_ids"].split(",")
    ]


def export_verdict(decision: Decision, blocked: list[dict[str, str]]) -> tuple[bool, str]:
    """(allowed, reason): the person's ``export`` decision first, then the first blocked trace."""
    if not decision.allowed:
        return False, decision.reason
    if blocked:
        return False, _REASON_OF_BLOCK[blocked[0]["reason"]]
    return True, decision.reason


def export_check_record(
    *,
    event_ids: Sequence[str],
    user: str,
    project_id: str,
    traces: Sequence[Trace],
    allowed: bool,
    reason: str,
    grant_id: int | None,
    blocked: list[dict[str, str]],
    client_name: str,
    environment: str,
    source_address: str | None,
    request_id: str,
) -> None:
    """The export check into the trail (``event_ids``: one per part, the first the decision id).
    On PostgreSQL one statement, in its own transaction (``audit.pg_append``)."""
    parts = [traces[start : start + TRACES_PER_EVENT] for start in range(0, len(traces), TRACES_PER_EVENT)]
    blocked_by_uid = {item["trace_uid"]: item["reason"] for item in blocked}
    events = []
    for number, part in enumerate(parts):
        details: dict[str, Any] = {
            "allowed": allowed,
            "reason": reason,
            "requested": len(traces),
            "traces": trace_runs(part),
            "blocked": [
                {"trace_uid": uid, "reason": blocked_by_uid[uid]}
                for uid, _, _ in part
                if uid in blocked_by_uid
            ]
            if blocked_by_uid
            else [],
        }
        if len(parts) > 1:
            details["part"], details["parts"] = number + 1, len(parts)
        only = part[0] if len(traces) == 1 else None
        events.append(
            ClientEvent(
                event_ids[number],
                user,
                project_id,
                only[1] if only is not None else None,
                only[0] if only is not None else "",
                grant_id,
                details,
            )
        )
    audit_record_client_events(
        events,
        action=actions.EXPORT_ALLOWED if allowed else actions.EXPORT_REFUSED,
        outcome=Outcome.SUCCESS if allowed else Outcome.DENIED,
        client_name=client_name,
        environment=environment,
        source_address=source_address,
        request_id=request_id,
    )
