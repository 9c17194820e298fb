"""The privacy statement: versions (Dutch and English, drafted then published and frozen) and the
acknowledgements of the people who were shown a version.

A version is a draft until the privacy officer publishes it; from then on no column of it changes
(the service refuses, and database triggers refuse too: ``privacy_statement.triggers``). A
correction is a new version. Publication freezes what readers get: the Markdown with every
placeholder replaced by the value it had then (``facts``), the sanitised HTML, and its SHA-256.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class StatementVersion(models.Model):
    # Given at publication (1, 2, ...); a draft has none.
    number = models.PositiveIntegerField(_("version"), null=True, blank=True, unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    # What the author writes: Markdown with placeholders such as {{ grant_max_days }}.
    title_nl = models.CharField(_("title (Dutch)"), max_length=200, blank=True)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    source_nl = models.TextField(_("text (Dutch, Markdown)"), blank=True)
    source_en = models.TextField(_("text (English, Markdown)"), blank=True)
    change_summary_nl = models.TextField(_("change summary (Dutch)"), blank=True)
    change_summary_en = models.TextField(_("change summary (English)"), blank=True)
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    updated_at = models.DateTimeField(_("changed at"))
    # Set at publication and frozen with it.
    effective_from = models.DateTimeField(_("in force from"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )
    # The live facts (privacy_statement.facts) as they were at publication, so a later change of a
    # setting shows as a warning instead of silently making the statement untrue.
    facts = models.JSONField(_("facts at publication"), default=dict, blank=True)
    markdown_nl = models.TextField(blank=True)
    markdown_en = models.TextField(blank=True)
    html_nl = models.TextField(blank=True)
    html_en = models.TextField(blank=True)
    sha256_nl = models.CharField(max_length=64, blank=True)
    sha256_en = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("privacy statement version")
        verbose_name_plural = _("privacy statement versions")
        ordering = ["-number", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft", number__isnull=True, published_at__isnull=True)
                | Q(
                    status="published",
                    number__isnull=False,
                    published_at__isnull=False,
                    effective_from__isnull=False,
                ),
                name="privacy_version_published_has_number_and_dates",
            ),
        ]
        indexes = [
            # The version in force: newest published whose date has come (the notice asks it on every page).
            models.Index(fields=["status", "effective_from"], name="privacy_version_in_force"),
        ]

    def __str__(self) -> str:
        return f"version {self.number}" if self.number else f"draft {self.pk}"

    @property
    def is_published(self) -> bool:
        return self.status == VersionStatus.PUBLISHED

    def title(self, language: str) -> str:
        return str(getattr(self, f"title_{_lang(language)}"))

    def source(self, language: str) -> str:
        return str(getattr(self, f"source_{_lang(language)}"))

    def markdown(self, language: str) -> str:
        return str(getattr(self, f"markdown_{_lang(language)}"))

    def html(self, language: str) -> str:
        return str(getattr(self, f"html_{_lang(language)}"))

    def sha256(self, language: str) -> str:
        return str(getattr(self, f"sha256_{_lang(language)}"))

    def change_summary(self, language: str) -> str:
        return str(getattr(self, f"change_summary_{_lang(language)}"))


LANGUAGES = ("nl", "en")


def _lang(language: str) -> str:
    return language if language in LANGUAGES else "nl"


class Acknowledgement(models.Model):
    """That a person was shown a published version: in the browser (by himself) or by Hansken."""

    version = models.ForeignKey(
        StatementVersion,
        on_delete=models.PROTECT,
        related_name="acknowledgements",
        verbose_name=_("version"),
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="privacy_acknowledgements",
        verbose_name=_("person"),
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"))
    channel = models.CharField(_("channel"), max_length=20)  # "browser", "api"
    client_name = models.CharField(_("reported by client"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("acknowledgement")
        verbose_name_plural = _("acknowledgements")
        ordering = ["-acknowledged_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["version", "person"], name="privacy_one_ack_per_person"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} saw version {self.version_id}"
