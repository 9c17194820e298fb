"""Django app configuration of the machine clients and personal tokens."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiClientsConfig(AppConfig):
    name = "api_clients"
    verbose_name = _("API clients")

    def ready(self) -> None:
        # Registers the bearer token scheme with drf-spectacular before any schema is generated.
        from api_clients import schema  # noqa: F401
