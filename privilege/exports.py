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

from collections.abc import Sequence
from typing import Any

from audit.models import Outcome
from audit.services import ClientEvent, audit_record_client_events
from authz.decisions import CaseFacts, Decision, Reason
from privilege import actions
from privilege.rules import CLEAR, WITHHELD, Withheld

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


def blocked_traces(
    case: CaseFacts | None, withheld: Withheld, traces: Sequence[Trace]
) -> list[dict[str, str]]:
    """Each blocked trace once, in the order asked, with why. Nothing when the case is unknown (the
    answer is then ``unknown_project`` anyway)."""
    if case is None:
        return []
    blocked: list[dict[str, str]] = []
    seen: set[str] = set()
    removed, images = case.removed_image_ids, case.image_ids
    state = withheld.state_canonical  # one bisection for both privileged questions
    for trace_uid, image_id, trace_id in traces:
        if trace_uid in seen:
            continue
        seen.add(trace_uid)
        if image_id in removed:
            why = Blocked.DATASET_DELETED
        elif image_id not in images:
            why = Blocked.UNKNOWN_IMAGE
        else:
            found = state(image_id, trace_id)
            if found == CLEAR:
                continue
            why = Blocked.WITHHELD_PRIVILEGED if found == WITHHELD else Blocked.CONTAINS_PRIVILEGED
        blocked.append({"trace_uid": trace_uid, "reason": why})
    return blocked


def trace_runs(traces: Sequence[Trace]) -> list[dict[str, Any]]:
    """The traces as the trail keeps them: runs of consecutive traces of one image, each
    ``{"image_id": the image part as sent, "trace_ids": [the id parts as sent]}``. Order, repeats
    and spelling are kept: ``f"{image_id}:{trace_id}"`` gives back every trace uid as sent, in the
    order asked (``trace_uids_of`` does that)."""
    runs: list[dict[str, Any]] = []
    current: str | None = None
    ids: list[str] = []
    for trace_uid, _, _ in traces:
        image, _, trace_id = trace_uid.partition(":")
        if image != current:
            current, ids = image, []
            runs.append({"image_id": image, "trace_ids": ids})
        ids.append(trace_id)
    return runs


def trace_uids_of(details: dict[str, Any]) -> list[str]:
    """The trace uids of an export check's event, as asked (``trace_runs`` reversed)."""
    return [f"{run['image_id']}:{trace_id}" for run in details["traces"] for trace_id in run["trace_ids"]]


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
