"""Django app configuration of grants and decisions: connects the cache-invalidation signals."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuthzConfig(AppConfig):
    name = "authz"
    verbose_name = _("Authorisations")

    def ready(self) -> None:
        from authz import signals

        signals.connect()
