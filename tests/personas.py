"""The cast, built in one place for every test (healthchecks' ``hc/test.py`` pattern).

Two open cases: ``case`` (led by ``case_lead``, with ``deputy`` as deputy) and ``other_case`` (led
by ``other_case_lead``). Every person has a personal token; the two Hansken clients have theirs.
``cast.api(name)`` returns a DRF test client that authenticates with the named persona's bearer token.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import Max
from django.utils import timezone
from rest_framework.test import APIClient

from api_clients.models import ApiClient
from api_clients.services import api_client_create, personal_token_create
from audit.actor import Actor
from audit.models import AuditEvent
from cases.models import Case, Dataset
from cases.services import case_add_deputy, case_create, dataset_register
from people.roles import Role
from people.services import person_create
from siem.models import MonitorCursor

PASSWORD = "Correct-Horse-Battery-9"

PEOPLE: dict[str, list[str]] = {
    "case_lead": [Role.CASE_LEAD],
    "deputy": [Role.CASE_LEAD],
    "other_case_lead": [Role.CASE_LEAD],
    "investigator": [Role.INVESTIGATOR],
    "engineer": [Role.ENGINEER],
    "operator": [Role.OPERATOR],
    "privacy_officer": [Role.PRIVACY_OFFICER],
    "security_manager": [Role.SECURITY_MANAGER],
    "administrator": [Role.ADMINISTRATOR],
}

PRODUCTION_SCOPES = [
    "authz:check",
    "audit:write",
    "cases:write",
    "hashtotals:write",
    "privilege:write",
    "export:check",
    "reports:write",
]
CLIENTS: dict[str, tuple[str, list[str]]] = {
    "hansken_production": ("production", PRODUCTION_SCOPES),
    "hansken_experiment": ("experiment", ["authz:check", "audit:write"]),
}

PERSONAS = [*PEOPLE, *CLIENTS]
CASE_PROJECT_ID = uuid.UUID("11111111-1111-4111-8111-111111111111")
OTHER_PROJECT_ID = uuid.UUID("22222222-2222-4222-8222-222222222222")
IMAGE_ID = uuid.UUID("33333333-3333-4333-8333-333333333333")


@dataclass
class Cast:
    people: dict[str, User]
    clients: dict[str, ApiClient]
    tokens: dict[str, str]
    case: Case
    other_case: Case
    dataset: Dataset

    def __getitem__(self, name: str) -> User:
        return self.people[name]

    def api(self, persona: str | None) -> APIClient:
        client = APIClient()
        if persona is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {self.tokens[persona]}")
        return client


def build_cast() -> Cast:
    setup = Actor.command("tests")
    people: dict[str, User] = {}
    clients: dict[str, ApiClient] = {}
    tokens: dict[str, str] = {}
    screened_until = timezone.localdate() + datetime.timedelta(days=365)
    for username, roles in PEOPLE.items():
        person = person_create(
            username=username, roles=roles, screened_until=screened_until, password=PASSWORD, by=setup
        )
        people[username] = person
        _, tokens[username] = personal_token_create(person=person, by=setup)
    for name, (environment, scopes) in CLIENTS.items():
        clients[name], tokens[name] = api_client_create(
            name=name, environment=environment, scopes=scopes, by=setup
        )
    case = case_create(
        project_id=CASE_PROJECT_ID,
        case_number="NFI-2026-0001",
        title="Operation Heron",
        case_lead=people["case_lead"],
        by=setup,
    )
    case_add_deputy(case=case, deputy=people["deputy"], by=setup)
    other_case = case_create(
        project_id=OTHER_PROJECT_ID,
        case_number="NFI-2026-0002",
        title="Operation Kestrel",
        case_lead=people["other_case_lead"],
        by=setup,
    )
    dataset = dataset_register(
        case=case,
        image_id=IMAGE_ID,
        description="Laptop image",
        delivered_by="Police unit East",
        imported_at=None,
        environments=["production"],
        by=setup,
    )
    # The monitoring rules start after the cast's own creation: the people were made from a command,
    # which the rules rightly alert on (``person_privileges_changed``), and each test looks at what
    # it does itself. tests/test_four_eyes.py sees the creation alerts on their own.
    head = AuditEvent.objects.aggregate(head=Max("sequence"))["head"] or 0
    MonitorCursor.objects.update_or_create(pk=1, defaults={"last_sequence": head})
    return Cast(people, clients, tokens, case, other_case, dataset)
