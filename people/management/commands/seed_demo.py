"""python manage.py seed_demo

Loads the demo data that ``make run`` shows: one person per role, three cases with datasets, a
Hansken production API client, and the first version of the privacy statement (published by the
privacy officer, in force from today; its text is ``privacy_statement.demo_statement``).
Everything goes through the services, so every write is in the audit trail like any other.
Idempotent: when the demo data is there, it says so and creates nothing.

The passwords are random and printed; they are also kept in ``<data folder>/demo-users.txt``
(readable by its owner only) so that ``make run`` can show them again on its next start. The API
token is printed once and kept nowhere, as for every client.

Refused under the production settings: demo people with printed passwords do not belong there.
"""

from __future__ import annotations

import datetime
import os
import secrets
import uuid
from argparse import ArgumentParser
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from api_clients.models import ApiClient
from api_clients.scopes import Scope
from api_clients.services import api_client_create
from audit.actor import Actor
from cases.services import case_add_deputy, case_create, dataset_register
from hansken_governance.command_errors import as_command_error
from hansken_governance.environments import Environment
from people.roles import Role
from people.services import person_create
from privacy_statement import demo_statement
from privacy_statement import services as privacy_services
from test_reports.demo_release import demo_release_load

CREDENTIALS_FILE_NAME = "demo-users.txt"
DEMO_CLIENT_NAME = "hansken-production"
# Stable ids, so the demo cases have the same project ids on every fresh install.
_DEMO_NAMESPACE = uuid.UUID("6f0c3a52-9d1e-4a43-9a55-2f2f3e7f4d10")


@dataclass(frozen=True)
class DemoPerson:
    username: str
    role: str
    first_name: str
    last_name: str
    what: str


@dataclass(frozen=True)
class DemoDataset:
    key: str
    description: str
    delivered_by: str
    environments: tuple[str, ...]
    imported_days_ago: int


@dataclass(frozen=True)
class DemoCase:
    key: str
    case_number: str
    title: str
    case_lead: str
    deputy: str | None
    datasets: tuple[DemoDataset, ...]


PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson("lead.devries", Role.CASE_LEAD, "Anna", "de Vries", "case lead"),
    DemoPerson("deputy.jansen", Role.CASE_LEAD, "Pieter", "Jansen", "deputy on Heron, lead of Plover"),
    DemoPerson("investigator.bakker", Role.INVESTIGATOR, "Sanne", "Bakker", "investigator"),
    DemoPerson("engineer.visser", Role.ENGINEER, "Daan", "Visser", "software engineer"),
    DemoPerson("operator.smit", Role.OPERATOR, "Lotte", "Smit", "operator"),
    DemoPerson("privacy.meijer", Role.PRIVACY_OFFICER, "Eva", "Meijer", "privacy officer"),
    DemoPerson("security.mulder", Role.SECURITY_MANAGER, "Thomas", "Mulder", "security manager"),
    DemoPerson("admin.bos", Role.ADMINISTRATOR, "Ruben", "Bos", "administrator"),
)

CASES: tuple[DemoCase, ...] = (
    DemoCase(
        "heron",
        "NFI-DEMO-0001",
        "Operation Heron",
        "lead.devries",
        "deputy.jansen",
        (
            DemoDataset("heron-laptop", "Laptop image, suspect A", "Police unit East", ("production",), 40),
            DemoDataset(
                "heron-phone",
                "Phone extraction, suspect A",
                "Police unit East",
                ("production", "experiment"),
                35,
            ),
        ),
    ),
    DemoCase(
        "kestrel",
        "NFI-DEMO-0002",
        "Operation Kestrel",
        "lead.devries",
        None,
        (DemoDataset("kestrel-mail", "Mail server export", "FIOD", ("production",), 200),),
    ),
    DemoCase(
        "plover",
        "NFI-DEMO-0003",
        "Operation Plover",
        "deputy.jansen",
        None,
        (DemoDataset("plover-usb", "Seized USB drives", "Police unit North", ("production",), 12),),
    ),
)


def demo_uuid(key: str) -> uuid.UUID:
    return uuid.uuid5(_DEMO_NAMESPACE, key)


def credentials_path() -> Path:
    return Path(settings.DATA_DIR) / CREDENTIALS_FILE_NAME


def read_demo_credentials(path: Path | None = None) -> list[tuple[str, str, str]]:
    """(username, role, password) of the demo people, as written when they were created; empty
    when the file is missing (e.g. the data was loaded elsewhere)."""
    path = path or credentials_path()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    rows = []
    for line in lines:
        parts = line.split("\t")
        if len(parts) == 3 and not line.startswith("#"):
            rows.append((parts[0], parts[1], parts[2]))
    return rows


def _write_credentials(rows: list[tuple[str, str, str]]) -> Path:
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created readable by its owner only, before anything is written into it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("# Demo people created by seed_demo: username, role, password (tab-separated).\n")
        for row in rows:
            handle.write("\t".join(row) + "\n")
    return path


def demo_data_present() -> list[str]:
    """What of the demo data is already there (empty when none of it is)."""
    found = list(
        User.objects.filter(username__in=[p.username for p in PEOPLE]).values_list("username", flat=True)
    )
    if ApiClient.objects.filter(name=DEMO_CLIENT_NAME).exists():
        found.append(f"API client {DEMO_CLIENT_NAME}")
    return sorted(found)


class Command(BaseCommand):
    help = "Load the demo people, cases, datasets and Hansken API client (once; idempotent)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--screened-days",
            type=int,
            default=365,
            help="Days from today for which the demo people's screening is valid (default 365).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # (None while a test overrides settings.)
        if (settings.SETTINGS_MODULE or "").endswith(".production"):
            raise CommandError("seed_demo refuses to run with the production settings: no demo people there.")
        present = demo_data_present()
        if present:
            self.stdout.write(f"Demo data exists ({', '.join(present)}); nothing created.")
            return
        try:
            passwords, token = self._create(screened_days=options["screened_days"])
        except ValidationError as exc:
            raise as_command_error(exc) from exc
        rows = [(p.username, str(p.role), passwords[p.username]) for p in PEOPLE]
        path = _write_credentials(rows)
        self._report(rows, token, path)

    @transaction.atomic
    def _create(self, *, screened_days: int) -> tuple[dict[str, str], str]:
        """Everything or nothing: one transaction around all the services' own."""
        by = Actor.command("seed_demo")
        screened_until = timezone.localdate() + datetime.timedelta(days=screened_days)
        people: dict[str, User] = {}
        passwords: dict[str, str] = {}
        for person in PEOPLE:
            passwords[person.username] = secrets.token_urlsafe(12)
            people[person.username] = person_create(
                username=person.username,
                roles=[person.role],
                screened_until=screened_until,
                screening_reference="DEMO",
                password=passwords[person.username],
                email=f"{person.username}@example.invalid",
                first_name=person.first_name,
                last_name=person.last_name,
                by=by,
            )
        now = timezone.now()
        for demo in CASES:
            case = case_create(
                project_id=demo_uuid(demo.key),
                case_number=demo.case_number,
                title=demo.title,
                case_lead=people[demo.case_lead],
                by=by,
            )
            if demo.deputy:
                case_add_deputy(case=case, deputy=people[demo.deputy], by=by)
            for dataset in demo.datasets:
                dataset_register(
                    case=case,
                    image_id=demo_uuid(dataset.key),
                    description=dataset.description,
                    delivered_by=dataset.delivered_by,
                    imported_at=now - datetime.timedelta(days=dataset.imported_days_ago),
                    environments=list(dataset.environments),
                    by=by,
                )
        _, token = api_client_create(
            name=DEMO_CLIENT_NAME, environment=Environment.PRODUCTION, scopes=Scope.values, by=by
        )
        officer = people["privacy.meijer"]
        draft = privacy_services.statement_draft_create(
            author=officer,
            by=by,
            title_nl=demo_statement.TITLE_NL,
            title_en=demo_statement.TITLE_EN,
            source_nl=demo_statement.SOURCE_NL,
            source_en=demo_statement.SOURCE_EN,
        )
        privacy_services.statement_publish(
            version=draft,
            effective_from=privacy_services.start_of_day(timezone.localdate()),
            change_summary_nl=demo_statement.CHANGE_SUMMARY_NL,
            change_summary_en=demo_statement.CHANGE_SUMMARY_EN,
            publisher=officer,
            by=by,
        )
        demo_release_load(by=by)
        return passwords, token

    def _report(self, rows: list[tuple[str, str, str]], token: str, path: Path) -> None:
        width = max(len(username) for username, _, _ in rows)
        role_width = max(len(role) for _, role, _ in rows)
        self.stdout.write("Demo data created; every write is in the audit trail.")
        self.stdout.write(f"Demo people (passwords also kept in {path}):")
        for username, role, password in rows:
            self.stdout.write(f"    {username.ljust(width)}  {role.ljust(role_width)}  password: {password}")
        self.stdout.write("Demo cases:")
        for demo in CASES:
            deputy = f", deputy {demo.deputy}" if demo.deputy else ""
            self.stdout.write(
                f"    {demo.case_number}  {demo.title}: project {demo_uuid(demo.key)}, "
                f"lead {demo.case_lead}{deputy}, {len(demo.datasets)} dataset(s)"
            )
        self.stdout.write("Privacy statement: version 1 published by privacy.meijer, in force from today.")
        self.stdout.write(
            f"API client {DEMO_CLIENT_NAME} (production, every scope). "
            "Token (shown once; only its hash is stored):"
        )
        self.stdout.write(token)
