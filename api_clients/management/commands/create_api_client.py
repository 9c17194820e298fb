"""python manage.py create_api_client NAME --environment ENV --scope SCOPE [--scope SCOPE ...]

Prints the token alone on the last line of standard output; it is shown only this once.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand

from api_clients.scopes import Scope
from api_clients.services import api_client_create
from audit.actor import Actor
from hansken_governance.command_errors import as_command_error
from hansken_governance.environments import Environment


class Command(BaseCommand):
    help = "Create a machine client (one per Hansken environment, or a CI system) and print its token once."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--environment", required=True, choices=Environment.values)
        parser.add_argument("--scope", dest="scopes", action="append", required=True, choices=Scope.values)
        parser.add_argument(
            "--allow-source",
            dest="allowed_sources",
            action="append",
            default=[],
            help="An address or network (CIDR) the client may call from; repeat for more. Default: any.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            client, token = api_client_create(
                name=options["name"],
                environment=options["environment"],
                scopes=options["scopes"],
                allowed_sources=options["allowed_sources"],
                by=Actor.command("create_api_client"),
            )
        except ValidationError as exc:
            raise as_command_error(exc) from exc
        self.stdout.write(
            f"Created API client {client.name} for {client.environment} with scopes "
            f"{', '.join(client.scopes)}, valid until {client.expires_at:%Y-%m-%d}."
        )
        self.stdout.write("Token (shown once; only its hash is stored):")
        self.stdout.write(token)
