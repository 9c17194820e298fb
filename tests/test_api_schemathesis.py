"""The API tried by a tool no one here wrote: schemathesis, against ``/api/schema/`` served by a live
gunicorn on loopback and the test's PostgreSQL database (issue 16, item 5).

Every operation of the schema is called with generated requests (valid and invalid) under each kind
of token: a client holding exactly one scope, for every scope; the experiment client; and personal
tokens of people in several roles. Every answer must be no 5xx, of a status the schema documents
for that operation (4xx included), of the documented content type, and match the schema. Then a
second person runs every read operation against the first person's case: each answer is a refusal,
never the case's data.

The run is bounded: ``EXAMPLES`` generated requests per operation and token (no shrinking, no
example database), so the test's time does not grow with luck. PostgreSQL only: gunicorn runs in
other processes, which share the database only through a server (the embedded SQLite pass skips it).
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from django.db import connection
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import checks

from api_clients.services import api_client_create
from audit.actor import Actor
from tests.authz_helpers import grant
from tests.live_decisions import Gunicorn, child_env
from tests.personas import CASE_PROJECT_ID, PRODUCTION_SCOPES, Cast

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]

EXAMPLES = 5
# status_code_conformance: every status an operation answers is one its schema documents, 4xx
# included (hansken_governance.api_schema.document_error_answers), so a client written from the
# schema knows every answer it can get, and each error's body matches the contract's shape.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]
# People whose tokens are tried: the managing side, the reviewing side, the operating side, and
# someone with no part in the case.
PEOPLE = ["case_lead", "investigator", "operator", "privacy_officer", "administrator"]


@dataclass
class Live:
    cast: Cast
    web: Gunicorn
    tokens: dict[str, str]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web.port}"


def _database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def live(cast: Cast, tmp_path: Path) -> Iterator[Live]:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: the live server's processes share the test database through a server")
    tokens: dict[str, str] = {}
    by = Actor.command("tests")
    for scope in PRODUCTION_SCOPES:
        _, tokens[f"client {scope}"] = api_client_create(
            name=f"only-{scope.replace(':', '-')}", environment="production", scopes=[scope], by=by
        )
    tokens["client experiment"] = cast.tokens["hansken_experiment"]
    for person in PEOPLE:
        tokens[f"person {person}"] = cast.tokens[person]
    grant(cast)  # a grant on the case, so that grant and decision routes have something to find
    env = child_env(_database_url(), os.environ.get("REDIS_URL", ""), tmp_path / "data")
    web = Gunicorn(env, tmp_path / "web")
    try:
        web.start()
        yield Live(cast, web, tokens)
    finally:
        web.stop()


def _schema(live: Live) -> Any:
    return schemathesis.openapi.from_url(f"{live.base_url}/api/schema/?format=json")


def _operations(schema: Any) -> list[Any]:
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the schema lists no operation"
    return operations


def _run(operation: Any, live: Live, token: str, failures: list[str], label: str) -> None:
    session = requests.Session()

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as found
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
    def one(case: Any) -> None:
        try:
            case.call_and_validate(
                base_url=live.base_url,
                session=session,
                headers={"Authorization": f"Bearer {token}"},
                checks=CHECKS,
                timeout=30,
            )
        except (Exception, BaseExceptionGroup) as failure:  # every failure is collected, reported at the end
            failures.extend(f"{label}: {operation.label}: {line}" for line in _summaries(failure))
            raise

    with contextlib.suppress(Exception, BaseExceptionGroup):  # each failure is in ``failures`` already
        one()


def _summaries(failure: BaseException) -> list[str]:
    """One line per failed check: its kind and its first lines (schemathesis groups them)."""
    if isinstance(failure, BaseExceptionGroup):
        return [line for inner in failure.exceptions for line in _summaries(inner)]
    text = " / ".join(part.strip() for part in str(failure).splitlines()[:4] if part.strip())
    return [f"{type(failure).__name__}: {text[:400]}"]


def test_every_operation_under_every_kind_of_token_answers_within_its_schema(live: Live):
    schema = _schema(live)
    operations = _operations(schema)
    failures: list[str] = []
    for label, token in live.tokens.items():
        for operation in operations:
            _run(operation, live, token, failures, label)
    assert not failures, "\n".join(dict.fromkeys(failures))
    # And the live server really was reached, by every token: its access log names each request.
    assert live.web.log_lines() >= len(live.tokens) * len(operations)


def _ask_as_outsider(operation: Any, live: Live, outsider: str, leaks: list[str]) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def one(case: Any) -> None:
        case.path_parameters = {**(case.path_parameters or {}), "project_id": str(CASE_PROJECT_ID)}
        response = case.call(
            base_url=live.base_url, headers={"Authorization": f"Bearer {outsider}"}, timeout=30
        )
        body = response.text
        if response.status_code < 400 or str(CASE_PROJECT_ID) in body or "Operation Heron" in body:
            leaks.append(f"{operation.label} {case.formatted_path}: {response.status_code} {body[:300]}")

    one()


_CASE_PATH = re.compile(r"\{project_id\}")


def test_a_second_case_lead_never_reads_the_first_case(live: Live):
    """The two-user run: every read operation whose path names a case, generated by schemathesis
    and then pointed at the first case, asked with the other case's lead's token. Each answer is a
    refusal (4xx); none carries the first case's project id or title."""
    schema = _schema(live)
    reads = [op for op in _operations(schema) if op.method.upper() == "GET" and _CASE_PATH.search(op.path)]
    assert reads, "no read operation names a case"
    outsider = live.cast.tokens["other_case_lead"]
    leaks: list[str] = []
    for operation in reads:
        _ask_as_outsider(operation, live, outsider, leaks)
    assert not leaks, "\n".join(leaks)
    # The same reads by the case's own lead do answer: the refusals above are about the person.
    own = requests.get(
        f"{live.base_url}/api/v1/cases/{CASE_PROJECT_ID}",
        headers={"Authorization": f"Bearer {live.cast.tokens['case_lead']}"},
        timeout=30,
    )
    assert own.status_code == 200 and own.json()["title"] == "Operation Heron"
    assert uuid.UUID(own.json()["project_id"]) == CASE_PROJECT_ID
