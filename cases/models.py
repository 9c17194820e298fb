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
    """A forensic case: one Hansken project. The case lead owns its authorisations; deputies hold
    the object permission ``cases.manage_case_access`` (django-guardian) and may manage them too."""

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
    """When a person was a deputy of a case: django-guardian holds only the current yes/no, so the
    history that "who could act on case X at moment T" needs is kept here, written by the same
    services in the same transaction."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="deputy_periods")
    deputy = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField()
    added_by = models.CharField(max_length=200)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("deputy period")
        verbose_name_plural = _("deputy periods")
        indexes = [models.Index(fields=["case", "added_at"], name="deputyperiod_case_added")]

    def __str__(self) -> str:
        return f"deputy {self.deputy_id} on {self.case_id} from {self.added_at:%Y-%m-%d}"


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

    def __str__(self) -> str:
        return f"{self.image_id} ({self.description})"


ENVIRONMENT_VALUES = tuple(Environment.values)
