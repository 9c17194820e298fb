"""PostgreSQL's one way for audit rows to leave the trail: the owner's function ``audit_purge_expired``.

The runtime role has no DELETE on the trail and cannot open the append-only triggers' door
(``audit.triggers``, ``audit.pg_privileges``). The retention purge therefore runs inside this
function, created by ``migrate`` and so owned by the owner role, with ``SECURITY DEFINER``: it runs
with the owner's rights, but does only what its body says, whoever calls it:

- the retention period is the one fixed in the function when ``migrate`` ran
  (``HG_AUDIT_RETENTION_DAYS`` of the owner's environment), not the caller's;
- the cut-off is the database's own clock (``now()``) minus that period; a caller cannot move it;
- it removes only a prefix of the chain whose every row occurred *and* was recorded before the
  cut-off, up to the sequence the caller names (``p_through``), never a row after a younger one;
- it writes the anchor checkpoint at the last removed sequence, and appends the purge event
  (``audit.purged``, naming the anchor's sequence, hash and times, the cut-off and the period) to
  the chain under the chain lock, with its hash computed here exactly as ``audit.chain.row_hash``
  does (the encoding's template is produced from ``audit.chain.canonical_bytes`` itself). The
  verifier accepts a missing prefix only where such an event names that anchor (``audit.verify``).

Called with ``p_through`` NULL it removes nothing and gives its plan (cut-off, period, the expired
prefix), so ``retention.purge`` can verify those rows before asking for their removal. The file line
of the anchor checkpoint is written by ``retention.purge`` in the same transaction (a database
function cannot reach the checkpoint file). ``install`` is idempotent; the migration and every
``migrate`` (``post_migrate``) call it with the current setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from audit.chain import CHAINED_FIELDS, canonical_bytes, canonical_json
from retention.actions import AUDIT_PURGED

FUNCTION = "audit_purge_expired"
OUTCOME_SUCCESS = "success"
OBJECT_TYPE = "audit_trail"

# The caller's text parameters (who asked), in this order after ``p_through``.
ACTOR_PARAMETERS = (
    "actor",
    "on_behalf_of",
    "actor_role",
    "client_name",
    "environment",
    "channel",
    "request_id",
)
RESULT_COLUMNS = (
    "cutoff",
    "retention_days",
    "first_sequence",
    "last_sequence",
    "purged",
    "anchor_hash",
    "checkpoint_at",
    "event_sequence",
)


def _utc(expression: str) -> str:
    """A timestamptz as the chain encodes times (``audit.chain._canonical_value``), as JSON text."""
    return f"""to_json(to_char(({expression}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))::text"""


def _text(expression: str) -> str:
    return f"to_json(({expression})::text)::text"


# Each slot of the purge event's encoding: the SQL expression giving its JSON text.
_ROW_SLOTS: dict[str, str] = {
    "sequence": "event_sequence::text",
    "event_id": _text("v_event_id"),
    "occurred_at": _utc("v_now"),
    "recorded_at": _utc("v_now"),
    **{name: _text(f"p_{name}") for name in ACTOR_PARAMETERS},
    "details": "v_details",
}
_DETAILS_SLOTS: dict[str, str] = {
    "anchor_hash": _text("anchor_hash"),
    "anchor_occurred_at": _utc("v_anchor_occurred"),
    "anchor_recorded_at": _utc("v_anchor_recorded"),
    "anchor_sequence": "last_sequence::text",
    "cutoff": _utc("cutoff"),
    "first_sequence": "first_sequence::text",
    "last_sequence": "last_sequence::text",
    "purged": "purged::text",
    "retention_days": "retention_days::text",
}


def _placeholder(name: str) -> str:
    return f"@@{name}@@"


def event_details(**values: Any) -> dict[str, Any]:
    """The purge event's ``details``: what this function writes, and ``retention.purge`` on SQLite
    or when nothing is removed. Every key present, None where there is no value."""
    details: dict[str, Any] = {name: None for name in _DETAILS_SLOTS}
    details["refused"] = None
    unknown = set(values) - set(details)
    if unknown:
        raise ValueError(f"Not a field of the purge event's details: {sorted(unknown)}")
    details.update(values)
    return details


def _spliced(encoded: bytes, slots: dict[str, str]) -> str:
    """``encoded`` (a canonical encoding holding placeholders) as a SQL expression: a text literal
    with each placeholder, quotes included, replaced by its expression."""
    literal = encoded.decode().replace("'", "''")
    for name, expression in slots.items():
        quoted = f'"{_placeholder(name)}"'
        if literal.count(quoted) != 1:
            raise AssertionError(f"The purge event's template holds {quoted} {literal.count(quoted)} times.")
        literal = literal.replace(quoted, f"' || {expression} || '")
    return f"'{literal}'"


def _details_expression() -> str:
    details = event_details(**{name: _placeholder(name) for name in _DETAILS_SLOTS})
    # Nested values are encoded by the same encoder as the row (``canonical_bytes``).
    return _spliced(canonical_json(details).encode(), _DETAILS_SLOTS)


def _encoding_expression() -> str:
    """The purge event's canonical encoding: ``canonical_bytes`` of a row whose values are
    placeholders, each then replaced by its expression."""
    fields: dict[str, Any] = {name: None for name in CHAINED_FIELDS}
    fields.update(
        {
            "action": AUDIT_PURGED,
            "outcome": OUTCOME_SUCCESS,
            "object_type": OBJECT_TYPE,
            "object_id": "",
            "trace_uid": "",
            "basis": "",
        }
    )
    fields.update({name: _placeholder(name) for name in _ROW_SLOTS})
    return _spliced(canonical_bytes(fields), _ROW_SLOTS)


def _definition(days: int, schema: str) -> str:
    if days < 1:
        raise ValueError("The audit trail's retention must be at least one day.")
    actor_parameters = ", ".join(f"p_{name} text" for name in ACTOR_PARAMETERS)
    columns = ", ".join(
        (
            "sequence, event_id, occurred_at, recorded_at, action, outcome, object_type, object_id, "
            "trace_uid, basis, details, prev_hash, hash",
            *ACTOR_PARAMETERS,
        )
    )
    values = ", ".join(
        (
            "event_sequence, v_event_id, v_now, v_now, "
            f"'{AUDIT_PURGED}', '{OUTCOME_SUCCESS}', '{OBJECT_TYPE}', '', '', '', "
            "v_details::jsonb, v_head_hash, v_hash",
            *(f"p_{name}" for name in ACTOR_PARAMETERS),
        )
    )
    return f"""
CREATE OR REPLACE FUNCTION {FUNCTION}(
    p_through bigint, {actor_parameters},
    OUT cutoff timestamptz, OUT retention_days integer, OUT first_sequence bigint,
    OUT last_sequence bigint, OUT purged bigint, OUT anchor_hash text, OUT checkpoint_at timestamptz,
    OUT event_sequence bigint
) LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, "{schema}", pg_temp AS $$
DECLARE
    v_now timestamptz := now();
    v_head_sequence bigint;
    v_head_hash text;
    v_young bigint;
    v_existing text;
    v_anchor_occurred timestamptz;
    v_anchor_recorded timestamptz;
    v_event_id uuid;
    v_encoded text;
    v_details text;
    v_hash text;
BEGIN
    retention_days := {int(days)};  -- fixed by migrate, not by the caller
    -- In seconds, not calendar days: the same in every session time zone, as Python's timedelta.
    cutoff := v_now - make_interval(secs => retention_days * 86400);
    purged := 0;
    -- The chain lock, as every writer takes it (audit.services).
    SELECT sequence, hash INTO v_head_sequence, v_head_hash FROM audit_chainhead WHERE id = 1 FOR UPDATE;
    SELECT min(sequence) INTO first_sequence FROM audit_auditevent;
    IF first_sequence IS NULL THEN
        RETURN;
    END IF;
    SELECT min(sequence) INTO v_young FROM audit_auditevent
        WHERE occurred_at >= cutoff OR recorded_at >= cutoff;
    last_sequence := coalesce(v_young - 1, (SELECT max(sequence) FROM audit_auditevent));
    IF last_sequence < first_sequence THEN
        last_sequence := NULL;
    END IF;
    IF p_through IS NULL THEN
        RETURN;  -- the plan only
    END IF;
    IF last_sequence IS NULL OR p_through < first_sequence OR p_through > last_sequence THEN
        RAISE EXCEPTION 'audit purge refused: sequence % is not in the expired prefix (% to %, cut-off %)',
            p_through, first_sequence, coalesce(last_sequence::text, 'none'), cutoff
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF v_head_sequence IS NULL THEN
        RAISE EXCEPTION 'audit purge refused: the chain has no head' USING ERRCODE = 'data_exception';
    END IF;
    last_sequence := p_through;
    SELECT hash, occurred_at, recorded_at INTO anchor_hash, v_anchor_occurred, v_anchor_recorded
        FROM audit_auditevent WHERE sequence = p_through;
    -- The anchor: a checkpoint at the last removed row (an existing one must agree with it).
    SELECT hash, created_at INTO v_existing, checkpoint_at
        FROM audit_chaincheckpoint WHERE sequence = p_through;
    IF NOT FOUND THEN
        checkpoint_at := v_now;
        INSERT INTO audit_chaincheckpoint (sequence, hash, created_at) VALUES (p_through, anchor_hash, v_now);
    ELSIF v_existing <> anchor_hash THEN
        RAISE EXCEPTION 'audit purge refused: the checkpoint at % disagrees with the row''s hash', p_through
            USING ERRCODE = 'data_exception';
    END IF;
    -- The append-only triggers' door: open to the owner only, for this statement.
    PERFORM set_config('hansken.audit_purge', 'on', true);
    DELETE FROM audit_auditevent WHERE sequence <= p_through;
    GET DIAGNOSTICS purged = ROW_COUNT;
    PERFORM set_config('hansken.audit_purge', 'off', true);
    -- The purge event, appended to the chain after the head.
    event_sequence := v_head_sequence + 1;
    v_event_id := gen_random_uuid();
    v_details := {_details_expression()};
    v_encoded := {_encoding_expression()};
    v_hash := encode(sha256(convert_to(v_head_hash || v_encoded, 'UTF8')), 'hex');
    INSERT INTO audit_auditevent ({columns}) VALUES ({values});
    UPDATE audit_chainhead SET sequence = event_sequence, hash = v_hash WHERE id = 1;
END;
$$;
"""  # noqa: S608 (names from this module's constants, the period an integer)  # nosec B608


def install(connection: Any, *, days: int) -> None:
    """Create or replace the function with ``days`` as the retention period (PostgreSQL only)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        schema = cursor.fetchone()[0]
        cursor.execute(_definition(days, schema.replace('"', '""')))


def remove(connection: Any) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"DROP FUNCTION IF EXISTS {FUNCTION}(bigint, {', '.join(['text'] * len(ACTOR_PARAMETERS))})"
        )


@dataclass(frozen=True)
class PurgeCall:
    cutoff: Any
    retention_days: int
    first_sequence: int | None
    last_sequence: int | None
    purged: int
    anchor_hash: str | None
    checkpoint_at: Any
    event_sequence: int | None


def call(connection: Any, *, through: int | None, actor: dict[str, str]) -> PurgeCall:
    """Run the function (``through`` None: the plan only) in the caller's transaction."""
    placeholders = ", ".join(["%s"] * (1 + len(ACTOR_PARAMETERS)))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(RESULT_COLUMNS)} FROM {FUNCTION}({placeholders})",  # noqa: S608  # nosec B608  # constant names, values as parameters
            [through, *(actor[name] for name in ACTOR_PARAMETERS)],
        )
        row = cursor.fetchone()
    return PurgeCall(*row)
