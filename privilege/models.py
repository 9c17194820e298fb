"""Privileged marks: the status Hansken's reviewers gave a trace (suspected, confirmed, rejected),
with every status a trace ever had as a ``PrivilegedMarkVersion``.

A trace is identified within its image by its id, the path in the trace tree (``0-3-1``); the
image is a dataset of the mark's case. The current mark is kept for fast decisions; the versions
say who marked what, when, why and through which client.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.models import Case, Dataset

# A trace uid is at most 500 characters (as the decision API takes it): 36 for the image's UUID,
# one for the colon, the rest for the id.
MAX_TRACE_ID = 463


class MarkStatus(models.TextChoices):
    SUSPECTED = "suspected", _("Suspected")
    CONFIRMED = "confirmed", _("Confirmed")
    REJECTED = "rejected", _("Rejected (not privileged)")


class PrivilegedMark(models.Model):
    """The current status of one trace. ``suspected`` and ``confirmed`` withhold the trace and
    everything it contains; ``rejected`` means reviewed and not privileged."""

    # No index of their own on the two keys: the (case, status) and (dataset, trace id) indexes
    # below start with them and serve their lookups; each index less makes the ingest faster.
    # On PostgreSQL the two keys are checked as ONE composite foreign key, (dataset, case) ->
    # the dataset's (id, case), added by migration 0003 in place of the two single ones: one check
    # per mark instead of two, and the database also keeps the denormalised case equal to the
    # dataset's. (Django has no composite foreign keys; its state still lists the single ones,
    # which SQLite keeps.)
    case = models.ForeignKey(
        Case,
        on_delete=models.PROTECT,
        related_name="privileged_marks",
        verbose_name=_("case"),
        db_index=False,
    )
    dataset = models.ForeignKey(
        Dataset,
        on_delete=models.PROTECT,
        related_name="privileged_marks",
        verbose_name=_("dataset"),
        db_index=False,
    )
    trace_id = models.CharField(_("trace id"), max_length=MAX_TRACE_ID)
    status = models.CharField(_("status"), max_length=10, choices=MarkStatus.choices)
    marked_at = models.DateTimeField(_("marked at"))
    marked_by = models.CharField(_("marked by"), max_length=150, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    recorded_at = models.DateTimeField(_("recorded at"))
    client_name = models.CharField(_("client"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("privileged mark")
        verbose_name_plural = _("privileged marks")
        ordering = ["dataset_id", "trace_id"]
        constraints = [
            # One current mark per trace; the keyset pagination of the list walks this index.
            models.UniqueConstraint(fields=["dataset", "trace_id"], name="privileged_mark_one_per_trace"),
            # The target of the versions' composite foreign key (mark, case) (migration 0003).
            models.UniqueConstraint(fields=["id", "case"], name="privileged_mark_id_case"),
        ]
        indexes = [models.Index(fields=["case", "status"], name="privileged_mark_case_status")]

    def __str__(self) -> str:
        return f"{self.trace_id} in {self.dataset_id}: {self.status}"


class PrivilegedMarkVersion(models.Model):
    """One status a trace had: append-only, one row per change (the first mark included)."""

    # The (mark, version) index serves the mark's key; nothing looks versions up by case alone (a
    # case's history goes through its marks, and the audit trail has it by case and time), so the
    # case has no index: each index less is work less for every version stored (migration 0004).
    # On PostgreSQL both keys are one composite foreign key, (mark, case) -> the mark's (id, case)
    # (migration 0003): one check per version, and the denormalised case is the mark's.
    mark = models.ForeignKey(
        PrivilegedMark, on_delete=models.PROTECT, related_name="versions", db_index=False
    )
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=MarkStatus.choices)
    previous_status = models.CharField(max_length=10, blank=True)
    marked_at = models.DateTimeField()
    marked_by = models.CharField(max_length=150, blank=True)
    reason = models.TextField(blank=True)
    recorded_at = models.DateTimeField()
    client_name = models.CharField(max_length=100, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    # Denormalised, so a case's history needs no join to the mark.
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+", db_index=False)

    class Meta:
        verbose_name = _("privileged mark version")
        verbose_name_plural = _("privileged mark versions")
        ordering = ["mark_id", "version"]
        constraints = [
            models.UniqueConstraint(fields=["mark", "version"], name="privileged_mark_version_unique")
        ]

    def __str__(self) -> str:
        return f"mark {self.mark_id} v{self.version} ({self.status})"
