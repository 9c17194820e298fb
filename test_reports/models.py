"""Releases, the test reports uploaded for them, and every test of a report that did not simply pass
(what users read). Written only by ``test_reports.services``; nothing is changed or deleted once
stored. The uploaded file itself is not kept: it may hold what must not be published (a Surefire
file's properties); its SHA-256 and size are kept here and in the audit trail."""

from __future__ import annotations

import re

from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    UNIT = "unit", _("unit tests")
    INTEGRATION = "integration", _("integration tests")
    REGRESSION = "regression", _("regression tests")


class Outcome(models.TextChoices):
    FAILED = "failed", _("failed")
    ERROR = "error", _("error")
    SKIPPED = "skipped", _("skipped")
    FLAKY = "flaky", _("passed after a rerun")


# A version is part of the release's address (/api/v1/releases/{version}): letters, digits and
# . _ + - (semantic versions with build metadata), starting with a letter or digit.
VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$")
COUNTS = ("tests", "passed", "failed", "errors", "skipped", "flaky")


class Release(models.Model):
    version = models.CharField(_("version"), max_length=100, unique=True)
    released_at = models.DateTimeField(_("released at"))
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.CharField(_("created by"), max_length=200)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("release")
        verbose_name_plural = _("releases")
        ordering = ["-released_at", "-pk"]

    def __str__(self) -> str:
        return self.version


class Report(models.Model):
    """One uploaded report of one kind. A release may have several of a kind (one per module); the
    pages add them up per kind."""

    release = models.ForeignKey(
        Release, on_delete=models.PROTECT, related_name="reports", verbose_name=_("release")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    format = models.CharField(_("format"), max_length=10)
    tool = models.CharField(_("tool"), max_length=50, blank=True)
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64)
    file_size = models.BigIntegerField(_("file size"))
    tests = models.PositiveIntegerField(_("tests"))
    passed = models.PositiveIntegerField(_("passed"))
    failed = models.PositiveIntegerField(_("failed"))
    errors = models.PositiveIntegerField(_("errors"))
    skipped = models.PositiveIntegerField(_("skipped"))
    flaky = models.PositiveIntegerField(_("passed after a rerun"))
    duration_seconds = models.FloatField(_("duration (seconds)"), null=True, blank=True)
    uploaded_by = models.CharField(_("uploaded by"), max_length=200)
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        verbose_name = _("test report")
        verbose_name_plural = _("test reports")
        ordering = ["release", "kind", "pk"]
        constraints = [
            # The same file for the same kind twice is a repeated upload, not a second module.
            models.UniqueConstraint(fields=["release", "kind", "sha256"], name="report_file_once")
        ]

    def __str__(self) -> str:
        return f"{self.kind} report of {self.release_id} ({self.sha256[:12]})"

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in COUNTS}


class NotPassedTest(models.Model):
    """A test of a report that failed, errored, was skipped, or passed only after a rerun; its name
    and messages as they may be published (``test_reports.parsers.publish``)."""

    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="not_passed")
    ordinal = models.PositiveIntegerField()
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    suite = models.TextField(_("suite"), blank=True)
    classname = models.TextField(_("class"), blank=True)
    name = models.TextField(_("test"))
    message = models.TextField(_("message"), blank=True)
    details = models.TextField(_("details"), blank=True)

    class Meta:
        verbose_name = _("test that did not pass")
        verbose_name_plural = _("tests that did not pass")
        ordering = ["report", "ordinal"]
        constraints = [
            models.UniqueConstraint(fields=["report", "ordinal"], name="not_passed_ordinal_unique")
        ]

    def __str__(self) -> str:
        return f"{self.outcome} {self.name}"
