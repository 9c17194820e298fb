"""Reads of release test reports: every signed-in person may read them all (there is nothing
case-bound here), so there is no scoping door, only the shapes the pages and the API show."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from test_reports.models import COUNTS, VERSION, Kind, NotPassedTest, Release, Report


@dataclass
class KindSummary:
    """The reports of one kind of one release, added up."""

    kind: str
    label: str
    reports: list[Report] = field(default_factory=list)
    tests: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    flaky: int = 0
    not_passed: list[NotPassedTest] = field(default_factory=list)

    @property
    def ran(self) -> int:
        """Tests that ran (not skipped): what the pass rate is taken over."""
        return self.tests - self.skipped

    @property
    def pass_rate(self) -> float | None:
        """Passed tests per test that ran, 0 to 100; None when nothing ran."""
        return None if self.ran == 0 else round(100 * self.passed / self.ran, 1)

    @property
    def not_passed_share(self) -> dict[str, float]:
        """Shares of all tests, 0 to 100, for the bar: passed, failed or errors, skipped."""
        if not self.tests:
            return {"passed": 0.0, "broken": 0.0, "skipped": 0.0}
        return {
            "passed": 100 * self.passed / self.tests,
            "broken": 100 * (self.failed + self.errors) / self.tests,
            "skipped": 100 * self.skipped / self.tests,
        }


def releases_newest_first() -> QuerySet[Release]:
    return Release.objects.order_by("-released_at", "-pk").prefetch_related("reports")


def release_by_version(version: str) -> Release:
    """The release of that version; 404 for one that does not exist or could not (a NUL byte, which
    PostgreSQL refuses in a query, or any other character a version never has)."""
    if not VERSION.match(version):
        raise Http404("No such release.")
    return get_object_or_404(Release.objects.prefetch_related("reports"), version=version)


def kind_summaries(release: Release, *, with_tests: bool = False) -> list[KindSummary]:
    """One summary per kind, in the order unit, integration, regression; only kinds with reports.
    ``with_tests``: each with every test of its reports that did not pass."""
    summaries = {value: KindSummary(value, str(label)) for value, label in Kind.choices}
    for report in release.reports.all():
        summary = summaries[report.kind]
        summary.reports.append(report)
        for name in COUNTS:
            setattr(summary, name, getattr(summary, name) + getattr(report, name))
    if with_tests:
        for row in not_passed_of(release):
            summaries[row.report.kind].not_passed.append(row)
    return [summary for summary in summaries.values() if summary.reports]


def not_passed_of(release: Release) -> QuerySet[NotPassedTest]:
    return (
        NotPassedTest.objects.filter(report__release=release)
        .select_related("report")
        .order_by("report__kind", "report_id", "ordinal")
    )


def trend(limit: int = 20) -> list[tuple[Release, dict[str, float | None]]]:
    """The last ``limit`` releases, oldest first, with each kind's pass rate (None: no report)."""
    newest = list(releases_newest_first()[:limit])
    points = []
    for release in reversed(newest):
        rates: dict[str, float | None] = dict.fromkeys(Kind.values)
        for summary in kind_summaries(release):
            rates[summary.kind] = summary.pass_rate
        points.append((release, rates))
    return points
