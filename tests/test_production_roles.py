"""The production shape's database roles, without Docker (issue 11, item 3): the role set-up that
docker-compose.yml runs (``deploy/postgres/init-roles.sql``) run with psql against a scratch
database on the suite's PostgreSQL server, ``migrate`` run as the owner it creates, and the
application (the checkpoint task, the retention purge, ``audit_verify``) run as its runtime role,
each in its own process as in production. PostgreSQL only: SQLite has no roles.

The roles are the server's, not the database's, so they get names of their own and are dropped
with the scratch database afterwards.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

REPO = Path(__file__).resolve().parent.parent
SUITE_URL = os.environ.get("DATABASE_URL", "")
RETENTION_DAYS = 30

pytestmark = pytest.mark.skipif(
    not SUITE_URL.startswith("postgres"), reason="database roles are PostgreSQL's (the suite runs on SQLite)"
)


@dataclass(frozen=True)
class Deployment:
    database: str
    owner: str
    runtime: str
    owner_url: str
    runtime_url: str
    admin_url: str
    data_dir: Path

    @property
    def checkpoint_file(self) -> Path:
        return self.data_dir / "checkpoints" / "audit-checkpoints.log"

    def env(self, url: str) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.data_dir),
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "DJANGO_SETTINGS_MODULE": "hansken_governance.settings.test",
            "DATABASE_URL": url,
            "HG_DATA_DIR": str(self.data_dir),
            "HG_AUDIT_CHECKPOINT_FILE": str(self.checkpoint_file),
            "HG_AUDIT_RETENTION_DAYS": str(RETENTION_DAYS),
            "LOG_LEVEL": "WARNING",
        }

    def manage(self, url: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO,
            env=self.env(url),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    def query(
        self, url: str, statement: str, params: Sequence[Any] | Mapping[str, Any] = ()
    ) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(url, autocommit=True) as db:
            return db.execute(statement, params).fetchall()


def _url(server: str, user: str, password: str, database: str) -> str:
    parts = urlsplit(server)
    return f"postgres://{user}:{password}@{parts.hostname}:{parts.port or 5432}/{database}"


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    import psycopg

    suffix = uuid.uuid4().hex[:10]
    owner, runtime, database = f"hg_owner_{suffix}", f"hg_runtime_{suffix}", f"hg_roles_{suffix}"
    passwords = {owner: secrets.token_hex(16), runtime: secrets.token_hex(16)}
    server = SUITE_URL.rsplit("/", 1)[0]
    admin_url = f"{server}/postgres"
    parts = urlsplit(SUITE_URL)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    deployment = Deployment(
        database=database,
        owner=owner,
        runtime=runtime,
        owner_url=_url(server, owner, passwords[owner], database),
        runtime_url=_url(server, runtime, passwords[runtime], database),
        admin_url=f"{server}/{database}",
        data_dir=tmp_path_factory.mktemp("roles-data"),
    )
    try:
        setup = subprocess.run(
            [
                "psql",
                "--no-psqlrc",
                "--set",
                "ON_ERROR_STOP=1",
                "--host",
                parts.hostname or "127.0.0.1",
                "--port",
                str(parts.port or 5432),
                "--username",
                parts.username or "postgres",
                "--dbname",
                database,
                "--file",
                str(REPO / "deploy" / "postgres" / "init-roles.sql"),
            ],
            env={
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "PGPASSWORD": parts.password or "",
                "HG_DB_OWNER": owner,
                "HG_DB_OWNER_PASSWORD": passwords[owner],
                "HG_DB_RUNTIME": runtime,
                "HG_DB_RUNTIME_PASSWORD": passwords[runtime],
                "POSTGRES_DB": database,
            },
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert setup.returncode == 0, setup.stdout + setup.stderr
        migrated = deployment.manage(deployment.owner_url, "migrate", "--noinput", "-v", "0")
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
        yield deployment
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            admin.execute(f'DROP ROLE IF EXISTS "{runtime}"')
            admin.execute(f'DROP ROLE IF EXISTS "{owner}"')


def test_the_setup_makes_two_roles_without_superpowers_and_the_owner_owns_everything(deployment):
    roles = deployment.query(
        deployment.admin_url,
        "SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolcanlogin "
        "FROM pg_roles WHERE rolname IN (%s, %s) ORDER BY rolname",
        (deployment.owner, deployment.runtime),
    )
    assert {row[0] for row in roles} == {deployment.owner, deployment.runtime}
    assert all(row[1:] == (False, False, False, False, False, True) for row in roles)
    owners = deployment.query(
        deployment.admin_url,
        "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'",
    )
    assert owners == [(deployment.owner,)]
    membership = deployment.query(
        deployment.admin_url, "SELECT pg_has_role(%s, %s, 'MEMBER')", (deployment.runtime, deployment.owner)
    )
    assert membership == [(False,)]
    function = deployment.query(
        deployment.admin_url,
        "SELECT pg_get_userbyid(proowner), prosecdef FROM pg_proc WHERE proname = 'audit_purge_expired'",
    )
    assert function == [(deployment.owner, True)]
    rights = dict(
        deployment.query(
            deployment.admin_url,
            "SELECT c.relname, array_agg(DISTINCT acl.privilege_type ORDER BY acl.privilege_type) "
            "FROM pg_class c, aclexplode(c.relacl) acl WHERE c.relname LIKE 'audit\\_%%' "
            "AND acl.grantee = to_regrole(%s) GROUP BY c.relname",
            (deployment.runtime,),
        )
    )
    assert rights["audit_auditevent"] == ["INSERT", "SELECT"]
    assert rights["audit_chaincheckpoint"] == ["INSERT", "SELECT"]
    assert rights["audit_chainhead"] == ["INSERT", "SELECT", "UPDATE"]
    # The privacy statement's acknowledgements are only ever added (``audit.pg_privileges.KEPT``).
    acknowledgement_rights = deployment.query(
        deployment.admin_url,
        "SELECT array_agg(DISTINCT acl.privilege_type ORDER BY acl.privilege_type) "
        "FROM pg_class c, aclexplode(c.relacl) acl WHERE c.relname = 'privacy_statement_acknowledgement' "
        "AND acl.grantee = to_regrole(%s)",
        (deployment.runtime,),
    )
    assert acknowledgement_rights == [(["INSERT", "SELECT"],)]
    # Every other table of the application is the runtime role's to write, as it needs.
    others = deployment.query(
        deployment.admin_url,
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname NOT LIKE 'audit\\_%%' "
        "AND c.relname <> 'privacy_statement_acknowledgement' "
        "AND NOT (has_table_privilege(%(r)s, c.oid, 'SELECT') "
        "AND has_table_privilege(%(r)s, c.oid, 'INSERT') "
        "AND has_table_privilege(%(r)s, c.oid, 'UPDATE') "
        "AND has_table_privilege(%(r)s, c.oid, 'DELETE'))",
        {"r": deployment.runtime},
    )
    assert others == [(0,)]


WRITE_AND_RUN_TASKS = """
import datetime, json
from unittest import mock
from django.utils import timezone
from audit.actor import Actor
from audit.services import audit_record
from audit.tasks import verify_chain, write_checkpoint
from retention.tasks import purge_audit_trail

def write(count):
    for n in range(count):
        audit_record(action="case.created", actor=Actor.system("roles-test"), object_type="case", object_id=n)

with mock.patch("audit.services.timezone.now", return_value=timezone.now() - datetime.timedelta(days=40)):
    write(3)
write(2)
result = {"checkpoint": write_checkpoint(), "purged": purge_audit_trail(), "verified": verify_chain()}
print(json.dumps(result))
"""


def test_the_runtime_role_writes_the_trail_checkpoints_and_purges(deployment):
    """The checkpoint task as the runtime role (not the owner) writes the table row and the file line;
    the weekly purge removes the expired prefix through the owner's function; the chain verifies."""
    done = deployment.manage(deployment.runtime_url, "shell", "-c", WRITE_AND_RUN_TASKS)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"checkpoint": 5, "purged": 3, "verified": "OK 3 events"}
    lines = [json.loads(line) for line in deployment.checkpoint_file.read_text().splitlines()]
    assert [line["sequence"] for line in lines] == [5, 3]  # the task's, then the purge's anchor
    purge = deployment.query(
        deployment.admin_url,
        "SELECT actor, details->>'anchor_sequence', details->>'retention_days' FROM audit_auditevent "
        "WHERE action = 'audit.purged'",
    )
    assert purge == [("system:audit_purge", "3", str(RETENTION_DAYS))]
    verified = deployment.manage(deployment.runtime_url, "audit_verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.strip() == "OK 3 events"


RUNTIME_ATTEMPTS = {
    "delete-prefix": (
        "SELECT set_config('hansken.audit_purge', 'on', true); "
        "DELETE FROM audit_auditevent WHERE sequence <= 4",
        "permission denied for table audit_auditevent",
    ),
    "delete-tail": (
        "DELETE FROM audit_auditevent WHERE sequence > 4",
        "permission denied for table audit_auditevent",
    ),
    "head-rewind": (
        "UPDATE audit_chainhead SET sequence = 1 WHERE id = 1",
        "the chain head only moves forward",
    ),
    "disable-trigger": (
        "ALTER TABLE audit_auditevent DISABLE TRIGGER USER",
        "must be owner of table audit_auditevent",
    ),
    "truncate": ("TRUNCATE audit_auditevent", "permission denied for table audit_auditevent"),
}


@pytest.mark.parametrize("attempt", list(RUNTIME_ATTEMPTS))
def test_the_runtime_role_cannot_shorten_the_trail(deployment, attempt):
    import psycopg

    if not deployment.query(deployment.admin_url, "SELECT 1 FROM audit_auditevent LIMIT 1"):
        done = deployment.manage(deployment.runtime_url, "shell", "-c", WRITE_AND_RUN_TASKS)
        assert done.returncode == 0, done.stderr
    before = deployment.query(deployment.admin_url, "SELECT sequence, hash FROM audit_auditevent ORDER BY 1")
    statement, refusal = RUNTIME_ATTEMPTS[attempt]
    with psycopg.connect(deployment.runtime_url) as runtime, pytest.raises(psycopg.Error, match=refusal):
        runtime.execute(statement)
    after = deployment.query(deployment.admin_url, "SELECT sequence, hash FROM audit_auditevent ORDER BY 1")
    assert after == before


def test_what_the_owner_can_do_audit_verify_still_notices(deployment):
    """Last: it damages the scratch trail. The owner switches the triggers off and cuts the tail and
    moves the head back with it; the checkpoint file, outside the database, still says how far the
    chain reached."""
    import psycopg

    if not deployment.checkpoint_file.exists():
        done = deployment.manage(deployment.runtime_url, "shell", "-c", WRITE_AND_RUN_TASKS)
        assert done.returncode == 0, done.stderr
    # A checkpoint of the newest row first, so the cut reaches behind one.
    checkpoint = deployment.manage(
        deployment.runtime_url,
        "shell",
        "-c",
        "from audit.services import audit_record; from audit.actor import Actor; "
        "from audit.tasks import write_checkpoint; "
        "audit_record(action='case.created', actor=Actor.system('t')); print(write_checkpoint())",
    )
    assert checkpoint.returncode == 0, checkpoint.stderr
    newest = int(checkpoint.stdout.strip().splitlines()[-1])
    with psycopg.connect(deployment.owner_url) as owner:
        keep = newest - 1
        owner.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        owner.execute("ALTER TABLE audit_chainhead DISABLE TRIGGER USER")
        owner.execute("ALTER TABLE audit_chaincheckpoint DISABLE TRIGGER USER")
        owner.execute("DELETE FROM audit_auditevent WHERE sequence > %s", (keep,))
        owner.execute("DELETE FROM audit_chaincheckpoint WHERE sequence > %s", (keep,))
        owner.execute(
            "UPDATE audit_chainhead SET sequence = %s, "
            "hash = (SELECT hash FROM audit_auditevent WHERE sequence = %s)",
            (keep, keep),
        )
        for table in ("audit_auditevent", "audit_chainhead", "audit_chaincheckpoint"):
            owner.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    verified = deployment.manage(deployment.runtime_url, "audit_verify")
    assert verified.returncode == 1
    assert f"broken at sequence {newest}: the chain ends at sequence {keep}" in verified.stderr
    assert "the tail was cut off" in verified.stderr
