from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HashtotalsConfig(AppConfig):
    name = "hashtotals"
    verbose_name = _("Hashtotals")
