"""Reads of hashtotals. Datasets are reached only through the cases' scoping door: a dataset of a
case outside the caller's scope, or of another case, does not exist for the caller (404)."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from cases.models import Case, Dataset, DatasetStatus
from cases.selectors import CasePurpose, case_for, cases_for_person
from hashtotals.models import Comparison, Difference, Manifest, Side, Verdict


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


def _latest_verdict() -> Subquery:
    return Subquery(
        Comparison.objects.filter(dataset=OuterRef("pk"))
        .order_by("-compared_at", "-pk")
        .values("verdict")[:1]
    )


def datasets_with_differences(cases: QuerySet[Case]) -> QuerySet[Dataset]:
    """Datasets of these cases whose latest comparison of hashtotals found differences: the import
    may be incomplete or changed (the start page's list for case leads). One query."""
    return (
        Dataset.objects.filter(case__in=cases)
        .annotate(latest_verdict=_latest_verdict())
        .filter(latest_verdict=Verdict.DIFFERENCES)
        .select_related("case")
        .order_by("case__case_number", "imported_at", "pk")
    )


def active_datasets_without_hashtotals() -> QuerySet[Dataset]:
    """Active datasets that miss the delivered or the imported side's manifest, so nobody can yet say
    whether the import was complete (the operators' list). One query; each row says which sides exist."""
    has_delivered = Exists(Manifest.objects.filter(dataset=OuterRef("pk"), side=Side.DELIVERED))
    has_imported = Exists(Manifest.objects.filter(dataset=OuterRef("pk"), side=Side.IMPORTED))
    return (
        Dataset.objects.filter(status=DatasetStatus.ACTIVE)
        .annotate(has_delivered=has_delivered, has_imported=has_imported)
        .filter(Q(has_delivered=False) | Q(has_imported=False))
        .select_related("case")
        .order_by("imported_at", "pk")
    )
