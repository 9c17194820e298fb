"""Django app configuration of people, roles and sign-in: connects the sign-in audit signals."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    name = "people"
    verbose_name = _("People")

    def ready(self) -> None:
        # Sign-in, failed sign-in and sign-out each write an audit event (people.signals).
        from people import lockout, sessions, signals

        # The session limits' receiver first: it fills the session that the audit receiver saves.
        sessions.connect()
        signals.connect()
        lockout.connect()
