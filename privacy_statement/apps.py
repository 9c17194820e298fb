"""Django app configuration of the privacy statement: re-arms the trigger that freezes published
versions after every ``migrate``."""

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _rearm_triggers(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """Every ``migrate`` re-creates the trigger that freezes published versions (SQLite drops a
    table's triggers when a migration rebuilds it; see ``privacy_statement.triggers``)."""
    from django.db import connections

    from privacy_statement import triggers

    connection = connections[using]
    if triggers.TABLE in connection.introspection.table_names():
        triggers.install(connection)


class PrivacyStatementConfig(AppConfig):
    name = "privacy_statement"
    verbose_name = _("Privacy statement")

    def ready(self) -> None:
        post_migrate.connect(_rearm_triggers, sender=self, dispatch_uid="privacy-statement-rearm-triggers")
