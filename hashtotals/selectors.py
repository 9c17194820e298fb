"""Reads of hashtotals. Datasets are reached only through the cases' scoping door: a dataset of a
case outside the caller's scope, or of another case, does not exist for the caller (404)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from cases.models import Dataset
from cases.selectors import CasePurpose, case_for, cases_for_person
from hashtotals.models import Comparison, Difference, Manifest, Side


def dataset_for(request: Any, project_id: Any, image_id: Any, purpose: CasePurpose) -> Dataset:
    case = case_for(request, project_id, purpose)
    return get_object_or_404(Dataset.objects.select_related("case"), case=case, image_id=image_id)


def datasets_visible_to(user: Any) -> QuerySet[Dataset]:
    cases = cases_for_person(user, CasePurpose.HASHTOTALS_VIEW)
    return Dataset.objects.filter(case__in=cases).select_related("case")


def latest_manifest(dataset: Dataset, side: str) -> Manifest | None:
    return Manifest.objects.filter(dataset=dataset, side=side).order_by("-uploaded_at", "-pk").first()


def current_state(dataset: Dataset) -> tuple[Manifest | None, Manifest | None, Comparison | None]:
    """The newest manifest of each side and their comparison (None while a side is missing)."""
    delivered = latest_manifest(dataset, Side.DELIVERED)
    imported = latest_manifest(dataset, Side.IMPORTED)
    comparison = None
    if delivered is not None and imported is not None:
        comparison = (
            Comparison.objects.filter(dataset=dataset, delivered=delivered, imported=imported)
            .order_by("-compared_at", "-pk")
            .first()
        )
    return delivered, imported, comparison


def differences(comparison: Comparison, *, kind: str | None = None, after: int = -1) -> QuerySet[Difference]:
    rows = Difference.objects.filter(comparison=comparison, ordinal__gt=after)
    if kind:
        rows = rows.filter(kind=kind)
    return rows.order_by("ordinal")
