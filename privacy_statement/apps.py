"""Django app configuration of the privacy statement (an empty room for now)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyStatementConfig(AppConfig):
    name = "privacy_statement"
    verbose_name = _("Privacy statement")
