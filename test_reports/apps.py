from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TestReportsConfig(AppConfig):
    name = "test_reports"
    verbose_name = _("Test reports")
