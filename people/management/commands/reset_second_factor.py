"""python manage.py reset_second_factor USERNAME --reason "..."

Removes a person's second factor (authenticator app and recovery codes), for when both are lost: at
their next password sign-in they set up a new one, if their roles require it.

Four eyes: in the browser a reset waits for a second administrator (``/accounts/second-factor/reset/``,
``people.services.proposals``). This command is the operator's path: whoever runs it holds the host
and could as well write to the database. It applies the reset at once, and the trail records it as
``person.second_factor_reset`` by ``command:reset_second_factor`` with the operating-system user.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from audit.actor import Actor
from hansken_governance.command_errors import as_command_error
from people.services.second_factor import second_factor_reset


class Command(BaseCommand):
    help = "Reset a person's second factor (authenticator app and recovery codes); audited."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--reason", required=True, help="Why: what was lost, and how it was established.")

    def handle(self, *args: Any, **options: Any) -> None:
        person = User.objects.filter(username=options["username"]).first()
        if person is None:
            raise CommandError(f"Nobody has the username {options['username']}.")
        try:
            second_factor_reset(
                person=person, reason=options["reason"], by=Actor.command("reset_second_factor")
            )
        except ValidationError as exc:
            raise as_command_error(exc) from exc
        self.stdout.write(
            f"The second factor of {person.get_username()} is reset: at the next password sign-in "
            "they set up a new one, if their roles require it."
        )
