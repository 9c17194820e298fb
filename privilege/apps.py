"""The privileged-traces room (seed measure 10): marks, their history, and the export checks."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivilegeConfig(AppConfig):
    name = "privilege"
    verbose_name = _("Privileged traces")
