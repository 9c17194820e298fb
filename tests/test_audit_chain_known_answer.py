"""The chain's encoding pinned by a known answer, and tampering tried on every stored column.

``test_audit_chain`` checks that the chain notices changes; this module checks *what* the chain
covers. A fixed event hashes to a digest written here, so a change of the encoding (a field left
out of the hash, a time written another way, keys in another order) fails here first, and old
trails would no longer verify. The digest and the canonical text below were computed once and are
not derived from the code under test: the hash is recomputed here with ``hashlib`` alone.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import uuid
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from audit import actions, chain
from audit.actor import Actor
from audit.chain import CHAINED_FIELDS, GENESIS_HASH, canonical_bytes, row_hash
from audit.models import AuditEvent, ChainHead
from audit.services import audit_record
from tests.audit_helpers import triggers_off

KNOWN_EVENT: dict[str, Any] = {
    "sequence": 1,
    "event_id": uuid.UUID("0b4f3a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"),
    "occurred_at": datetime.datetime(2026, 11, 5, 10, 15, 30, 123456, tzinfo=datetime.UTC),
    # Given in another zone on purpose: the encoding writes every time in UTC.
    "recorded_at": datetime.datetime(
        2026, 11, 5, 11, 15, 31, 654321, tzinfo=datetime.timezone(datetime.timedelta(hours=1))
    ),
    "actor": "lead.devries",
    "on_behalf_of": "investigator.bakker",
    "actor_role": "case_lead",
    "client_name": "hansken-production",
    "environment": "production",
    "channel": "api",
    "source_address": "192.0.2.10",
    "action": "grant.created",
    "outcome": "success",
    "project_id": uuid.UUID("11111111-1111-4111-8111-111111111111"),
    "image_id": uuid.UUID("33333333-3333-4333-8333-333333333333"),
    "trace_uid": "33333333-3333-4333-8333-333333333333:0-3-1",
    "object_type": "grant",
    "object_id": "17",
    "grant_id": 17,
    "basis": "grant",
    "request_id": "req-7f3a",
    "details": {"rights": ["read", "search"], "reason": "Zaak Reiger, één week", "n": 2.5},
}

KNOWN_CANONICAL = (
    '{"action":"grant.created","actor":"lead.devries","actor_role":"case_lead","basis":"grant",'
    '"channel":"api","client_name":"hansken-production","details":{"n":2.5,"reason":"Zaak Reiger, één week",'
    '"rights":["read","search"]},"environment":"production","event_id":"0b4f3a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",'
    '"grant_id":17,"image_id":"33333333-3333-4333-8333-333333333333","object_id":"17","object_type":"grant",'
    '"occurred_at":"2026-11-05T10:15:30.123456Z","on_behalf_of":"investigator.bakker","outcome":"success",'
    '"project_id":"11111111-1111-4111-8111-111111111111","recorded_at":"2026-11-05T10:15:31.654321Z",'
    '"request_id":"req-7f3a","sequence":1,"source_address":"192.0.2.10",'
    '"trace_uid":"33333333-3333-4333-8333-333333333333:0-3-1"}'
)
KNOWN_DIGEST = "aee35b2a0fe4168bc17bf7d54c831c151eb1e7361c64ceee6b12ebc2226ca527"


@pytest.fixture(autouse=True)
def checkpoint_file(tmp_path: Path, settings) -> Path:
    settings.AUDIT_CHECKPOINT_FILE = str(tmp_path / "audit-checkpoints.log")
    return tmp_path / "audit-checkpoints.log"


def test_the_known_event_has_the_known_encoding_and_digest():
    assert canonical_bytes(KNOWN_EVENT).decode() == KNOWN_CANONICAL
    independent = hashlib.sha256(GENESIS_HASH.encode() + KNOWN_CANONICAL.encode()).hexdigest()
    assert independent == KNOWN_DIGEST
    assert row_hash(GENESIS_HASH, KNOWN_EVENT) == KNOWN_DIGEST


def test_the_known_event_names_every_chained_field_and_the_chain_every_stored_column():
    # The event must hold a value in every field, or dropping that field would go unnoticed; and
    # every column of the table but the two hashes must be chained.
    assert set(KNOWN_EVENT) == set(CHAINED_FIELDS)
    assert all(value not in (None, "", {}) for value in KNOWN_EVENT.values())
    columns = {field.column for field in AuditEvent._meta.concrete_fields}
    assert columns - {"prev_hash", "hash"} == set(CHAINED_FIELDS)


@pytest.mark.parametrize("field", CHAINED_FIELDS)
def test_dropping_any_field_from_the_hash_changes_the_known_digest(monkeypatch, field: str):
    """What the known answer guards against: an encoding that leaves one field out gives another
    digest, so ``test_the_known_event_has_the_known_encoding_and_digest`` would fail."""
    monkeypatch.setattr(chain, "_FIRST_FIELDS", tuple(name for name in chain._FIRST_FIELDS if name != field))
    monkeypatch.setattr(
        chain, "LATER_FIELDS", frozenset(name for name in chain.LATER_FIELDS if name != field)
    )
    monkeypatch.setattr(chain, "_TYPED_FIELDS", tuple(name for name in chain._TYPED_FIELDS if name != field))
    assert row_hash(GENESIS_HASH, KNOWN_EVENT) != KNOWN_DIGEST


@pytest.mark.parametrize("field", [name for name in CHAINED_FIELDS if name != "sequence"])
def test_changing_any_field_changes_the_known_digest(field: str):
    changed = {**KNOWN_EVENT, field: _other_value(field, KNOWN_EVENT[field])}
    assert row_hash(GENESIS_HASH, changed) != KNOWN_DIGEST


def test_the_known_event_stored_and_read_back_verifies_with_the_known_digest(db: None):
    """The database keeps every column exactly as encoded (microseconds, UUIDs, JSON numbers and
    accents), so the digest of the row as read back is still the known one."""
    AuditEvent.objects.create(prev_hash=GENESIS_HASH, hash=KNOWN_DIGEST, **KNOWN_EVENT)
    ChainHead.objects.update_or_create(pk=1, defaults={"sequence": 1, "hash": KNOWN_DIGEST})
    stored = AuditEvent.objects.get(sequence=1)
    assert (
        row_hash(stored.prev_hash, {name: getattr(stored, name) for name in CHAINED_FIELDS}) == KNOWN_DIGEST
    )
    assert _verify() == "OK 1 events"


# Tampering on every stored column: one value per column, each different from what the row holds.
TAMPERED: dict[str, Any] = {
    "sequence": 1000,
    "event_id": str(uuid.UUID("66666666-6666-4666-8666-666666666666")),
    "occurred_at": "2020-01-01T00:00:00+00:00",
    "recorded_at": "2020-01-01T00:00:00+00:00",
    "actor": "mallory",
    "on_behalf_of": "mallory",
    "actor_role": "administrator",
    "client_name": "forged-client",
    "environment": "experiment",
    "channel": "browser",
    "source_address": "203.0.113.9",
    "action": "case.viewed",
    "outcome": "failure",
    "project_id": str(uuid.UUID("77777777-7777-4777-8777-777777777777")),
    "image_id": str(uuid.UUID("88888888-8888-4888-8888-888888888888")),
    "trace_uid": "88888888-8888-4888-8888-888888888888:0",
    "object_type": "grant",
    "object_id": "999",
    "grant_id": 999,
    "basis": "no_grant",
    "request_id": "forged",
    "details": json.dumps({"n": 2, "title": "Another case"}),
    "prev_hash": "f" * 64,
    "hash": "e" * 64,
}


def test_the_tampering_table_names_every_stored_column():
    assert set(TAMPERED) == {field.column for field in AuditEvent._meta.concrete_fields}


@pytest.mark.parametrize("column", list(TAMPERED))
def test_tampering_with_any_stored_column_breaks_the_chain_at_that_row(db: None, column: str):
    by = Actor.command("tests")
    for n in range(5):
        audit_record(
            action=actions.CASE_CREATED,
            actor=by,
            project_id=uuid.uuid4(),
            object_type="case",
            object_id=n,
            details={"n": n, "title": f"Case {n}"},
        )
    assert _verify() == "OK 5 events"
    with triggers_off(), connection.cursor() as cursor:
        statement = f"UPDATE audit_auditevent SET {column} = %s WHERE sequence = 3"  # noqa: S608 (column from the table above)
        cursor.execute(statement, [TAMPERED[column]])
        assert cursor.rowcount == 1
    with pytest.raises(CommandError) as failure:
        _verify()
    assert str(failure.value).startswith("broken at sequence 3: "), str(failure.value)


def _verify() -> str:
    out = StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue().strip()


def _other_value(field: str, value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return uuid.UUID(int=value.int ^ 1)
    if isinstance(value, datetime.datetime):
        return value + datetime.timedelta(microseconds=1)
    if isinstance(value, int):
        return value + 1
    if isinstance(value, dict):
        return {**value, "n": 3}
    return value + "x"
