"""Django app configuration of SIEM forwarding and monitoring: registers the alert notifications' texts."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SiemConfig(AppConfig):
    name = "siem"
    verbose_name = _("SIEM forwarding and monitoring")

    def ready(self) -> None:
        from siem import messages

        messages.register()
