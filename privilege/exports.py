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

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import compress
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


@dataclass(frozen=True, slots=True)
class ImageRun:
    """Consecutive traces of one image, as the image was spelled in them: ``start`` to ``stop``
    (positions in ``Traces``), the image part as sent and its canonical id."""

    image_part: str
    image_id: str
    start: int
    stop: int


@dataclass(frozen=True, slots=True)
class Traces:
    """The traces of an export check, in the order asked, as parallel lists: ``uids`` as sent,
    ``sent_ids`` their id parts as sent, ``trace_ids`` those in their one spelling (the same list
    when every id was), and ``runs``, the stretches of one image. Lists rather than a tuple per
    trace: the usual request (one image, ids in their one spelling) is read with a few passes over
    its text (``authz.api.decision.export.parse_traces``), its ids checked with one call per trace
    and its runs joined at once; a tuple per trace cost more than the checks."""

    uids: Sequence[str]
    sent_ids: Sequence[str]
    trace_ids: Sequence[str]
    runs: Sequence[ImageRun]

    def __len__(self) -> int:
        return len(self.uids)

    def parts(self, size: int) -> Iterator[Traces]:
        """The traces in parts of at most ``size``, each with its runs cut to it (the usual request
        is one part: itself, not a copy)."""
        if len(self.uids) <= size:
            yield self
            return
        for start in range(0, len(self.uids), size):
            stop = min(start + size, len(self.uids))
            runs = [
                ImageRun(
                    run.image_part, run.image_id, max(run.start, start) - start, min(run.stop, stop) - start
                )
                for run in self.runs
                if run.start < stop and run.stop > start
            ]
            yield Traces(self.uids[start:stop], self.sent_ids[start:stop], self.trace_ids[start:stop], runs)


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


def blocked_traces(case: CaseFacts | None, withheld: Withheld, traces: Traces) -> list[dict[str, str]]:
    """Each blocked trace once, in the order asked, with why. Nothing when the case is unknown (the
    answer is then ``unknown_project`` anyway).

    The image of a run decides how its traces are looked at: all of them blocked (a removed image,
    or one not of the case), none (an image without withholding marks), or each by its marks, one
    loop over its traces (``Withheld.states_of_image``). Most traces are clear, so only a blocked one is
    checked for repeats."""
    if case is None:
        return []
    found: list[tuple[int, int]] = []  # (position, code) of each blocked trace, in order
    for run in traces.runs:
        positions = range(run.start, run.stop)
        if run.image_id in case.removed_image_ids:
            found += ((position, _DATASET_DELETED_CODE) for position in positions)
        elif run.image_id not in case.image_ids:
            found += ((position, _UNKNOWN_IMAGE_CODE) for position in positions)
        else:
            states = withheld.states_of_image(run.image_id)
            if states is None:
                continue
            codes = states(traces.trace_ids[run.start : run.stop])
            found += ((run.start + offset, codes[offset]) for offset in compress(range(len(codes)), codes))
    blocked: list[dict[str, str]] = []
    seen: set[str] = set()
    uids = traces.uids
    for position, code in found:
        trace_uid = uids[position]
        if trace_uid not in seen:
            seen.add(trace_uid)
            blocked.append({"trace_uid": trace_uid, "reason": _BLOCK_OF_CODE[code]})  # type: ignore[dict-item]
    return blocked


def trace_runs(traces: Traces) -> list[dict[str, Any]]:
    """The traces as the trail keeps them: runs of consecutive traces of one image, each
    ``{"image_id": the image part as sent, "trace_ids": "the id parts as sent, joined by commas"}``.
    Order, repeats and spelling are kept: ``f"{image_id}:{trace_id}"`` for each id gives back every
    trace uid as sent, in the order asked (``trace_uids_of`` does that). An id is digits and dashes
    (``parse_traces`` refuses anything else), so a comma cannot be part of one. One text rather than
    a JSON list: a list of 1,000 short strings cost the canonical encoding about 0.1 ms and the
    database another 0.13 ms (parsing, ``jsonb``) per event; the joined text a fraction of that."""
    return [
        {"image_id": run.image_part, "trace_ids": ",".join(traces.sent_ids[run.start : run.stop])}
        for run in traces.runs
    ]


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
    actor_role: str,
    project_id: str,
    traces: Traces,
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
    parts = list(traces.parts(TRACES_PER_EVENT))
    blocked_by_uid = {item["trace_uid"]: item["reason"] for item in blocked}
    events = []
    for number, part in enumerate(parts):
        details: dict[str, Any] = {
            "allowed": allowed,
            "reason": reason,
            "requested": len(traces),
            "traces": trace_runs(part),
            # Every blocked trace of the part, repeats included, in order.
            "blocked": [
                {"trace_uid": uid, "reason": blocked_by_uid[uid]}
                for uid in filter(blocked_by_uid.__contains__, part.uids)
            ]
            if blocked_by_uid
            else [],
        }
        if len(parts) > 1:
            details["part"], details["parts"] = number + 1, len(parts)
        only = len(traces) == 1
        events.append(
            ClientEvent(
                event_ids[number],
                user,
                project_id,
                part.runs[0].image_id if only else None,
                part.uids[0] if only else "",
                grant_id,
                details,
                actor_role,
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
