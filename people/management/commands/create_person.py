"""python manage.py create_person USERNAME --role ROLE [--role ROLE ...] [--screened-until YYYY-MM-DD]
[--password PW] [--with-token]

With --with-token, a personal token is created and printed alone on the last line of standard output.

Four eyes: in the browser, a new person with a case or administrator role waits for a second
administrator (``people.services.proposals``). This command is the operator's installation path and
HR/identity sync's: whoever runs it holds the host and could as well write to the database, so a
second pair of eyes inside the application would prove nothing. It applies the change at once, and
the trail records it as ``command:create_person`` with the operating-system user (``on_behalf_of``).
The rules that hold everywhere hold here too: no administrator role together with a case role.
"""

from __future__ import annotations

import datetime
from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from api_clients.services import personal_token_create
from audit.actor import Actor
from hansken_governance.command_errors import as_command_error
from people.roles import Role
from people.services import person_create


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"--screened-until must be a date as YYYY-MM-DD, not {text!r}.") from exc


class Command(BaseCommand):
    help = "Create a person with roles, screening date, and optionally a password and a personal token."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", dest="roles", action="append", required=True, choices=Role.values)
        parser.add_argument("--screened-until", dest="screened_until")
        parser.add_argument("--screening-reference", default="")
        parser.add_argument("--password")
        parser.add_argument("--email", default="")
        parser.add_argument("--employee-number")
        parser.add_argument("--with-token", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        screened_until = _date(options["screened_until"]) if options["screened_until"] else None
        by = Actor.command("create_person")
        try:
            with transaction.atomic():
                person = person_create(
                    username=options["username"],
                    roles=options["roles"],
                    screened_until=screened_until,
                    screening_reference=options["screening_reference"],
                    password=options["password"],
                    email=options["email"],
                    employee_number=options["employee_number"],
                    by=by,
                )
                token = None
                if options["with_token"]:
                    _, token = personal_token_create(person=person, by=by)
        except ValidationError as exc:
            raise as_command_error(exc) from exc
        self.stdout.write(
            f"Created {person.get_username()} with roles {', '.join(sorted(options['roles']))}."
        )
        if token:
            self.stdout.write("Personal token (shown once; only its hash is stored):")
            self.stdout.write(token)
