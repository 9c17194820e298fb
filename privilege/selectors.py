"""Reads of privileged marks: the withheld traces of a case (for the decision cache), one page of
marks under filters (keyset-paginated), counts by status, a trace's history and the refused
export checks. Cases are reached through the one scoping door (``CasePurpose.REVIEW_PRIVILEGED``)
by the views; these functions take a case already allowed."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from audit.models import AuditEvent
from cases.models import Case, Dataset
from privilege import actions
from privilege.models import MarkStatus, PrivilegedMark, PrivilegedMarkVersion
from privilege.rules import STATUSES, WITHHOLDING, Withheld

DEFAULT_PAGE = 100
MAX_PAGE = 1000


def withheld_of_cases(project_ids: set[str]) -> dict[str, Withheld]:
    """The withholding marks of these cases (by canonical project id text), one query. A case
    without marks gets an empty ``Withheld``. A database error propagates: no decision is made on
    marks that could not be read."""
    marked: dict[str, dict[str, list[str]]] = {project_id: defaultdict(list) for project_id in project_ids}
    rows = PrivilegedMark.objects.filter(
        case__project_id__in=[uuid.UUID(p) for p in project_ids], status__in=sorted(WITHHOLDING)
    ).values_list("case__project_id", "dataset__image_id", "trace_id")
    for project_id, image_id, trace_id in rows.iterator(chunk_size=10_000):
        marked[str(project_id)][str(image_id)].append(trace_id)
    return {project_id: Withheld(images) for project_id, images in marked.items()}


@dataclass(frozen=True)
class MarkRow:
    trace_uid: str
    status: str
    marked_at: Any
    marked_by: str
    reason: str
    version: int
    recorded_at: Any
    client_name: str


def encode_cursor(dataset_pk: int, trace_id: str) -> str:
    return base64.urlsafe_b64encode(f"{dataset_pk}:{trace_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str]:
    """ValueError for anything we did not hand out."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        dataset, _, trace_id = text.partition(":")
        if not dataset.isdigit() or not trace_id or not trace_id.replace("-", "").isdigit():
            raise ValueError("not a cursor")
        return int(dataset), trace_id
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValueError("not a cursor") from None


def marks_of_case(case: Case) -> QuerySet[PrivilegedMark]:
    return PrivilegedMark.objects.filter(case=case)


def marks_page(
    case: Case,
    *,
    status: str | None = None,
    under: tuple[str, str] | None = None,
    cursor: tuple[int, str] | None = None,
    limit: int = DEFAULT_PAGE,
) -> tuple[list[MarkRow], str | None]:
    """One page of the case's marks in (image, trace id) order, with the cursor of the next page.
    ``under``: (image id, trace id): that trace and every trace it contains."""
    marks = marks_of_case(case)
    if status:
        marks = marks.filter(status=status)
    if under is not None:
        image_id, trace_id = under
        marks = marks.filter(dataset__image_id=image_id).filter(
            Q(trace_id=trace_id) | Q(trace_id__startswith=trace_id + "-")
        )
    if cursor is not None:
        dataset_pk, trace_id = cursor
        marks = marks.filter(Q(dataset_id__gt=dataset_pk) | Q(dataset_id=dataset_pk, trace_id__gt=trace_id))
    rows = list(
        marks.order_by("dataset_id", "trace_id").values_list(
            "dataset_id",
            "dataset__image_id",
            "trace_id",
            "status",
            "marked_at",
            "marked_by",
            "reason",
            "version",
            "recorded_at",
            "client_name",
        )[: limit + 1]
    )
    next_cursor = encode_cursor(rows[limit - 1][0], rows[limit - 1][2]) if len(rows) > limit else None
    return [
        MarkRow(f"{image_id}:{trace_id}", status_, marked_at, marked_by, reason, version, recorded, client)
        for _, image_id, trace_id, status_, marked_at, marked_by, reason, version, recorded, client in rows[
            :limit
        ]
    ], next_cursor


def counts_by_status(case: Case) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    for status, count in marks_of_case(case).values_list("status").annotate(n=Count("pk")).order_by():
        counts[status] = count
    return counts


def trace_history(case: Case, image_id: str, trace_id: str) -> list[PrivilegedMarkVersion]:
    """Every status the trace had, oldest first."""
    return list(
        PrivilegedMarkVersion.objects.filter(
            case=case, mark__dataset__image_id=image_id, mark__trace_id=trace_id
        ).order_by("version")
    )


def case_images(case: Case) -> list[str]:
    return [
        str(image_id) for image_id in Dataset.objects.filter(case=case).values_list("image_id", flat=True)
    ]


def refused_export_checks(case: Case, limit: int = 50) -> list[AuditEvent]:
    """The latest export checks of the case that were refused, newest first (from the trail: every
    export check is there)."""
    return list(
        AuditEvent.objects.filter(project_id=case.project_id, action=actions.EXPORT_REFUSED).order_by(
            "-sequence"
        )[:limit]
    )


def cases_with_suspected_marks(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Of these cases, those holding traces marked ``suspected`` (withheld until a reviewer confirms
    or rejects them), each with that count: the start page's list for case leads. One query."""
    return (
        cases.annotate(
            suspected_marks=Count(
                "privileged_marks", filter=Q(privileged_marks__status=MarkStatus.SUSPECTED), distinct=True
            )
        )
        .filter(suspected_marks__gt=0)
        .order_by("case_number")
    )
