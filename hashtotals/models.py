"""Hash manifests of a dataset (delivered and imported), the comparisons made of them, and each
difference found. Manifests keep the uploaded file itself, with its SHA-256, so that a comparison
can be redone and shown in court; nothing here is ever changed or deleted once stored."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.models import Dataset


class Side(models.TextChoices):
    DELIVERED = "delivered", _("delivered")
    IMPORTED = "imported", _("imported")


class Verdict(models.TextChoices):
    COMPLETE = "complete", _("complete")
    DIFFERENCES = "differences", _("differences")
    WAITING = "waiting", _("waiting")


class Kind(models.TextChoices):
    CHANGED = "changed", _("changed")
    MISSING = "missing", _("missing")
    EXTRA = "extra", _("extra")
    MOVED = "moved", _("moved")


class Manifest(models.Model):
    """One uploaded hash tool output. The newest of each side of a dataset is the one compared."""

    dataset = models.ForeignKey(
        Dataset, on_delete=models.PROTECT, related_name="manifests", verbose_name=_("dataset")
    )
    side = models.CharField(_("side"), max_length=10, choices=Side.choices)
    format = models.CharField(_("format"), max_length=20)
    tool = models.CharField(_("tool"), max_length=50, blank=True)
    original_name = models.CharField(_("file name"), max_length=255, blank=True)
    stored_name = models.CharField(max_length=300, unique=True)  # under settings.HASHTOTALS_DIR
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64)
    file_size = models.BigIntegerField(_("file size"))
    entries = models.PositiveIntegerField(_("entries"))
    # A list of files, perhaps of none; False for a manifest with image hashes only.
    lists_files = models.BooleanField(_("lists files"), default=True)
    algorithms = models.JSONField(_("algorithms"), default=list)
    image_hashes = models.JSONField(_("image hashes"), default=dict)
    image_size = models.BigIntegerField(_("image size"), null=True, blank=True)
    not_files = models.JSONField(_("elements that are not files"), default=dict)
    uploaded_by = models.CharField(_("uploaded by"), max_length=200)
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        verbose_name = _("hash manifest")
        verbose_name_plural = _("hash manifests")
        indexes = [models.Index(fields=["dataset", "side", "-uploaded_at"], name="manifest_dataset_side")]

    def __str__(self) -> str:
        return f"{self.side} {self.format} of {self.dataset_id} ({self.sha256[:12]})"


class Comparison(models.Model):
    """The comparison of one delivered with one imported manifest."""

    dataset = models.ForeignKey(
        Dataset, on_delete=models.PROTECT, related_name="hash_comparisons", verbose_name=_("dataset")
    )
    delivered = models.ForeignKey(Manifest, on_delete=models.PROTECT, related_name="+")
    imported = models.ForeignKey(Manifest, on_delete=models.PROTECT, related_name="+")
    verdict = models.CharField(_("verdict"), max_length=12, choices=Verdict.choices)
    files_compared = models.BooleanField(_("files compared"))
    algorithms = models.JSONField(_("algorithms compared"), default=list)
    matched = models.PositiveIntegerField(_("matched"), default=0)
    changed = models.PositiveIntegerField(_("changed"), default=0)
    missing = models.PositiveIntegerField(_("missing"), default=0)
    extra = models.PositiveIntegerField(_("extra"), default=0)
    moved = models.PositiveIntegerField(_("moved"), default=0)
    image = models.JSONField(_("image hashes compared"), null=True, blank=True)
    compared_at = models.DateTimeField(_("compared at"))
    compared_by = models.CharField(_("compared by"), max_length=200)

    class Meta:
        verbose_name = _("hashtotal comparison")
        verbose_name_plural = _("hashtotal comparisons")
        indexes = [models.Index(fields=["dataset", "-compared_at"], name="comparison_dataset")]

    def __str__(self) -> str:
        return f"{self.verdict} for {self.dataset_id} at {self.compared_at:%Y-%m-%d %H:%M}"

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in ("matched", "changed", "missing", "extra", "moved")}


class Difference(models.Model):
    """One entry that did not match, in path order (``ordinal``) within its comparison."""

    comparison = models.ForeignKey(Comparison, on_delete=models.PROTECT, related_name="differences")
    ordinal = models.PositiveIntegerField()
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    path = models.TextField(_("path"))
    delivered = models.JSONField(null=True, blank=True)
    imported = models.JSONField(null=True, blank=True)

    class Meta:
        verbose_name = _("difference")
        verbose_name_plural = _("differences")
        ordering = ["comparison", "ordinal"]
        constraints = [
            models.UniqueConstraint(fields=["comparison", "ordinal"], name="difference_ordinal_unique")
        ]
        indexes = [models.Index(fields=["comparison", "kind", "ordinal"], name="difference_kind")]

    def __str__(self) -> str:
        return f"{self.kind} {self.path}"
