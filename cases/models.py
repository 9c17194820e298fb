"""Cases (one Hansken project each), their datasets (one image each), and deputies with their history."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from hansken_governance.environments import TEST_ENVIRONMENTS, Environment


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")
    ARCHIVED = "archived", _("Archived")
    DELETED = "deleted", _("Deleted")


class Case(models.Model):
    """A forensic case: one Hansken project. The case lead owns its authorisations; deputies (a
    ``DeputyPeriod`` in force) may manage them too."""

    project_id = models.UUIDField(_("Hansken project id"), unique=True)
    case_number = models.CharField(_("case number"), max_length=64, unique=True)
    title = models.CharField(_("title"), max_length=300)
    case_lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="led_cases",
        verbose_name=_("case lead"),
    )
    status = models.CharField(_("status"), max_length=10, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    last_accessed_at = models.DateTimeField(_("last accessed at"), null=True, blank=True)
    # Who registered the case decides whether it is real (see ``is_real``): the environment of the
    # API client that did, empty when a person (or a command) did.
    registered_in = models.CharField(
        _("registered by a client of"), max_length=20, choices=Environment.choices, blank=True, default=""
    )

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["case_number"]
        permissions = [("manage_case_access", _("Manage access to the case (deputy of the case lead)"))]

    def __str__(self) -> str:
        return f"{self.case_number}: {self.title}"

    @property
    def is_real(self) -> bool:
        """A real case holds case data: registered by a person or by a production or experiment
        client. A case that a test or development client registered is a test case, and is the only
        kind such a client may touch (``cases.selectors.cases_for_client``)."""
        return self.registered_in not in TEST_ENVIRONMENTS


class CaseUserObjectPermission(UserObjectPermissionBase):
    """Direct foreign key instead of guardian's generic one: rows go with their case and are
    indexed (guardian's generic rows become orphans when an object is deleted)."""

    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)


class CaseGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)


class DeputyPeriod(models.Model):
    """A person's deputyship of a case: from ``added_at`` until ``valid_until`` (at most
    ``HG_GRANT_MAX_DAYS``, like a grant), or until ``removed_at`` when it ended earlier (removed by the
    case lead, the deputy deactivated or signed off the case). This row is the one place that says who
    is a deputy now (``cases.selectors.deputyships``); every state it had is a ``DeputyVersion``."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="deputy_periods")
    deputy = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField()
    added_by = models.CharField(max_length=200)
    valid_until = models.DateTimeField(_("valid until"))
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.CharField(max_length=200, blank=True)
    removed_reason = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    # Set by the hourly sweep when it recorded the period's natural end (``case.deputy_expired``),
    # so that event is written once, as ``Grant.expiry_recorded_at`` does for grants.
    expiry_recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("deputy period")
        verbose_name_plural = _("deputy periods")
        indexes = [
            models.Index(fields=["case", "added_at"], name="deputyperiod_case_added"),
            models.Index(fields=["deputy", "removed_at"], name="deputyperiod_deputy_open"),
        ]

    def __str__(self) -> str:
        return f"deputy {self.deputy_id} on {self.case_id} from {self.added_at:%Y-%m-%d}"


class DeputyChange(models.TextChoices):
    APPOINTED = "appointed", _("Appointed")
    CHANGED = "changed", _("Changed")
    ENDED = "ended", _("Ended")
    # Written by the migration that introduced end dates: the state a period had before it (no end
    # date), and the end date it got then.
    MIGRATED = "migrated", _("Recorded at the introduction of end dates")


class DeputyVersion(models.Model):
    """One state of a deputy period, in force from ``recorded_at`` until ``superseded_at`` (open while
    current), as ``GrantVersion`` is for grants: "who could act on case X at moment T" reads these,
    never the period's current state. Append-only."""

    period = models.ForeignKey(DeputyPeriod, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=DeputyChange.choices)
    valid_from = models.DateTimeField()
    # Null only in the versions that describe periods before end dates existed.
    valid_until = models.DateTimeField(null=True, blank=True)
    ended = models.BooleanField(default=False)
    changed_by_label = models.CharField(max_length=200)
    reason = models.TextField(blank=True)
    recorded_at = models.DateTimeField()
    superseded_at = models.DateTimeField(null=True, blank=True)
    # Denormalised so "access at a moment" filters by case or person without a join.
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    deputy = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["period_id", "version"]
        constraints = [models.UniqueConstraint(fields=["period", "version"], name="deputy_version_unique")]
        indexes = [
            models.Index(fields=["case", "recorded_at"], name="deputyversion_case_time"),
            models.Index(fields=["deputy", "recorded_at"], name="deputyversion_deputy_time"),
        ]

    def __str__(self) -> str:
        return f"deputy period {self.period_id} v{self.version} ({self.kind})"


class DatasetStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    DELETE_REQUESTED = "delete_requested", _("Deletion requested")
    DELETED = "deleted", _("Deleted")


class Dataset(models.Model):
    """Evidence of a case: one Hansken image."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="datasets", verbose_name=_("case"))
    image_id = models.UUIDField(_("Hansken image id"), unique=True)
    description = models.CharField(_("description"), max_length=500)
    delivered_by = models.CharField(_("delivered by"), max_length=200)
    imported_at = models.DateTimeField(_("imported at"))
    environments = models.JSONField(
        _("environments present in"), default=list, help_text=_("Hansken environments holding a copy.")
    )
    status = models.CharField(
        _("status"), max_length=20, choices=DatasetStatus.choices, default=DatasetStatus.ACTIVE
    )
    last_accessed_at = models.DateTimeField(_("last accessed at"), null=True, blank=True, db_index=True)
    registered_at = models.DateTimeField(_("registered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("dataset")
        verbose_name_plural = _("datasets")
        ordering = ["imported_at"]
        constraints = [
            # The target of composite foreign keys (dataset, case): a privileged mark names its case
            # beside its dataset, and the database keeps the two consistent (privilege.0003).
            models.UniqueConstraint(fields=["id", "case"], name="dataset_id_case"),
        ]

    def __str__(self) -> str:
        return f"{self.image_id} ({self.description})"


ENVIRONMENT_VALUES = tuple(Environment.values)
