"""Browser pages: the datasets with their verdicts, one dataset's comparison (verdict, counts,
filtered differences, the operator's upload form with a progress bar) and its CSV download. Every
dataset is loaded through the cases' scoping door, so one outside the person's scope is a 404."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from audit.actor import Actor
from cases.selectors import CasePurpose, cases_for_person
from hashtotals import selectors, services
from hashtotals.forms import DifferenceFilterForm, ManifestUploadForm
from hashtotals.models import Comparison, Side

PAGE = 200


class _Request:
    """The scoping door takes a request; the browser's person is ``request.user``."""

    def __init__(self, request: HttpRequest) -> None:
        self.user = request.user
        self.auth = None


@login_required
def dataset_list(request: HttpRequest) -> HttpResponse:
    rows = []
    for dataset in selectors.datasets_visible_to(request.user).order_by("case__case_number", "imported_at"):
        delivered, imported, comparison = selectors.current_state(dataset)
        rows.append(
            {"dataset": dataset, "delivered": delivered, "imported": imported, "comparison": comparison}
        )
    return render(request, "hashtotals/dataset_list.html", {"rows": rows})


def _may_upload(request: HttpRequest, project_id: uuid.UUID) -> bool:
    return (
        cases_for_person(request.user, CasePurpose.HASHTOTALS_UPLOAD).filter(project_id=project_id).exists()
    )


@login_required
def dataset_hashtotals(request: HttpRequest, project_id: uuid.UUID, image_id: uuid.UUID) -> HttpResponse:
    dataset = selectors.dataset_for(_Request(request), project_id, image_id, CasePurpose.HASHTOTALS_VIEW)
    may_upload = _may_upload(request, project_id)
    form = ManifestUploadForm()
    status = 200
    if request.method == "POST":
        if not may_upload:
            return HttpResponse(status=403)
        form = ManifestUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                manifest, comparison = services.manifest_upload(
                    dataset=dataset,
                    side=form.cleaned_data["side"],
                    source=upload,
                    original_name=upload.name or "",
                    fmt=form.cleaned_data["format"] or None,
                    by=Actor.from_request(request),
                )
            except ValidationError as error:
                form.add_service_error(error)
            else:
                messages.success(
                    request,
                    _("The %(side)s manifest (%(format)s, %(entries)s entries) was stored.")
                    % {
                        "side": Side(manifest.side).label,
                        "format": manifest.format,
                        "entries": manifest.entries,
                    },
                )
                target = reverse("hashtotals-dataset", args=[project_id, image_id])
                if request.headers.get("X-Requested-With") == "XMLHttpRequest":
                    return JsonResponse({"redirect": target})
                return redirect(target)
        status = 400
        if request.headers.get("X-Requested-With") == "XMLHttpRequest":
            errors = [str(message) for problems in form.errors.values() for message in problems]
            return JsonResponse({"errors": errors}, status=400)
    delivered, imported, comparison = selectors.current_state(dataset)
    filters = DifferenceFilterForm(request.GET or None)
    kind = ""
    after = -1
    if filters.is_valid():
        kind = filters.cleaned_data["kind"] or ""
        after = filters.cleaned_data["cursor"] if filters.cleaned_data["cursor"] is not None else -1
    rows: list[Any] = []
    next_cursor = None
    if comparison is not None:
        rows = list(selectors.differences(comparison, kind=kind or None, after=after)[: PAGE + 1])
        if len(rows) > PAGE:
            next_cursor = rows[PAGE - 1].ordinal
            rows = rows[:PAGE]
    context = {
        "dataset": dataset,
        "case": dataset.case,
        "delivered": delivered,
        "imported": imported,
        "comparison": comparison,
        "differences": rows,
        "kind": kind,
        "next_cursor": next_cursor,
        "filters": filters,
        "form": form,
        "may_upload": may_upload,
    }
    return render(request, "hashtotals/dataset.html", context, status=status)


def _csv_rows(comparison: Comparison) -> Iterator[list[Any]]:
    algorithms = comparison.algorithms
    yield [
        "kind",
        "path",
        "delivered_path",
        "imported_path",
        "delivered_size",
        "imported_size",
        *(f"delivered_{name}" for name in algorithms),
        *(f"imported_{name}" for name in algorithms),
    ]
    for row in selectors.differences(comparison).iterator(chunk_size=2000):
        sides = [row.delivered or {}, row.imported or {}]
        yield [
            row.kind,
            row.path,
            *(side.get("path", "") for side in sides),
            *(side.get("size", "") for side in sides),
            *(sides[0].get("hashes", {}).get(name, "") for name in algorithms),
            *(sides[1].get("hashes", {}).get(name, "") for name in algorithms),
        ]


class _Echo:
    def write(self, value: str) -> str:
        return value


def _safe(value: Any) -> Any:
    # A cell that a spreadsheet would run as a formula is written as text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@login_required
def dataset_hashtotals_csv(
    request: HttpRequest, project_id: uuid.UUID, image_id: uuid.UUID
) -> HttpResponse | StreamingHttpResponse:
    dataset = selectors.dataset_for(_Request(request), project_id, image_id, CasePurpose.HASHTOTALS_VIEW)
    comparison = selectors.current_state(dataset)[2]
    if comparison is None:
        return redirect("hashtotals-dataset", project_id, image_id)
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow([_safe(cell) for cell in row]) for row in _csv_rows(comparison)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="hashtotals-{dataset.image_id}.csv"'
    return response
