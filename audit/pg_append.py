"""The PostgreSQL function that appends one machine client's events to the chain in one statement.

The decision API writes every denied decision to the audit trail before it answers. Done from
Python, that is four round trips to the database per request (BEGIN, lock the chain head, insert and
move the head, COMMIT), each a wait for the worker and a switch for both processes. The function
``audit_append_client_events`` does the same work inside the database, so the caller sends one
statement: on its own it is one transaction, inside a caller's transaction it is part of that.

The function reads the records (the JSON, and each row's details into ``jsonb``) and splits the
rows' canonical encodings out of their one text parameter before it takes the chain lock, and only
numbers, hashes and inserts the rows under it: every writer of the trail waits while the lock is
held, and for an export check of 1,000 traces the reading was more than half of the function's time
under the lock (0.51-0.55 ms under the lock before, 0.20 ms after,
measured from the lock to the function's end; docs/privileged-traces.md).

What stays in Python: the canonical encoding of every row (``audit.chain.RowEncoder``), which is the
definition of what the chain covers. The function only adds what is known under the lock: each
row's sequence number, the previous row's hash, and its own hash, computed as
``audit.chain.row_hash_parts`` does, SHA-256 over the UTF-8 bytes of
``prev_hash || before || sequence || after``. ``audit_verify`` checks these hashes in Python, and the
tests verify the chain after the function has written it.

``install`` is idempotent (CREATE OR REPLACE, and any other version of the function dropped). The
migration calls it, and so does every ``migrate`` after it (``post_migrate``), so the function matches
this file once ``migrate`` has run. On SQLite there is nothing to install: ``audit.services`` writes
there from Python.
"""

from __future__ import annotations

from typing import Any

from audit.chain import GENESIS_HASH

FUNCTION = "audit_append_client_events"

# The columns that differ from row to row, in the JSON records the caller sends, with their types;
# the canonical encoding of each row comes along in ``before`` and ``after``.
ROW_COLUMNS = (
    ("event_id", "uuid"),
    ("actor", "text"),
    ("actor_role", "text"),
    ("project_id", "uuid"),
    ("image_id", "uuid"),
    ("trace_uid", "text"),
    ("grant_id", "bigint"),
    ("details", "jsonb"),
)
# The canonical encoding of each row around its sequence number (``RowEncoder.text_parts``) comes
# as one text parameter: every row's two parts in order, joined by this separator. Not inside the
# JSON records: there each quote of the encoding (which is JSON) would be escaped, and unescaping
# them was a third of the function's reading (measured in docs/privileged-traces.md). The canonical
# encoding escapes every control character, so the separator never occurs in a part.
PART_SEPARATOR = "\x1e"
# The columns every row of the call shares, as typed parameters after the records, in this order.
SHARED_COLUMNS = (
    ("occurred_at", "timestamptz"),
    ("recorded_at", "timestamptz"),
    ("on_behalf_of", "text"),
    ("client_name", "text"),
    ("environment", "text"),
    ("channel", "text"),
    ("source_address", "inet"),
    ("action", "text"),
    ("outcome", "text"),
    ("object_type", "text"),
    ("object_id", "text"),
    ("request_id", "text"),
)


def _definition() -> str:
    row_names = [name for name, _ in ROW_COLUMNS]
    shared_names = [name for name, _ in SHARED_COLUMNS]
    parameters = ", ".join(f"p_{name} {kind}" for name, kind in SHARED_COLUMNS)
    record_type = ", ".join(f"{name} {kind}" for name, kind in ROW_COLUMNS)
    arrays = [name for name, _ in ROW_COLUMNS]
    declared = "\n".join(f"    a_{name} {kind}[];" for name, kind in ROW_COLUMNS)
    return f"""
CREATE OR REPLACE FUNCTION {FUNCTION}(records json, parts text, {parameters}) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
{declared}
    a_parts text[];
    head_sequence bigint;
    head_hash text;
    previous text;
    total integer;
    sequences bigint[] := '{{}}';
    previous_hashes text[] := '{{}}';
    hashes text[] := '{{}}';
BEGIN
    -- The records are read once, into one array per column, before the chain lock is taken:
    -- parsing the JSON (and the details into jsonb) is most of the work, and every writer of the
    -- trail waits while the lock is held. In the records' order (by their place, not by chance).
    SELECT {", ".join(f"array_agg(r.{name} ORDER BY r.slot)" for name in arrays)}
        INTO {", ".join(f"a_{name}" for name in arrays)}
    FROM ROWS FROM (json_to_recordset(records) AS ({record_type}))
        WITH ORDINALITY AS r({", ".join(arrays)}, slot);
    total := coalesce(array_length(a_event_id, 1), 0);
    IF total = 0 THEN
        RETURN;
    END IF;
    a_parts := string_to_array(parts, E'\\x1e');
    IF coalesce(array_length(a_parts, 1), 0) <> 2 * total THEN
        RAISE EXCEPTION 'audit_append_client_events: % rows but % parts', total, array_length(a_parts, 1);
    END IF;
    -- The chain lock: every writer of the trail takes this row first (see audit.services).
    SELECT sequence, hash INTO head_sequence, head_hash FROM audit_chainhead WHERE id = 1 FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO audit_chainhead (id, sequence, hash) VALUES (1, 0, '{GENESIS_HASH}')
            ON CONFLICT (id) DO NOTHING;
        SELECT sequence, hash INTO head_sequence, head_hash FROM audit_chainhead WHERE id = 1 FOR UPDATE;
    END IF;
    FOR slot IN 1..total LOOP
        head_sequence := head_sequence + 1;
        previous := head_hash;
        head_hash := encode(sha256(convert_to(
            previous || a_parts[2 * slot - 1] || head_sequence::text || a_parts[2 * slot], 'UTF8'
        )), 'hex');
        sequences[slot] := head_sequence;
        previous_hashes[slot] := previous;
        hashes[slot] := head_hash;
    END LOOP;
    INSERT INTO audit_auditevent (
        sequence, prev_hash, hash, {", ".join(row_names)}, {", ".join(shared_names)}, basis
    )
    SELECT u.sequence, u.prev_hash, u.hash, {", ".join("u." + n for n in row_names)},
        {", ".join("p_" + n for n in shared_names)}, ''
    FROM unnest(sequences, previous_hashes, hashes, {", ".join("a_" + n for n in row_names)})
        AS u(sequence, prev_hash, hash, {", ".join(row_names)});
    UPDATE audit_chainhead SET sequence = head_sequence, hash = head_hash WHERE id = 1;
END;
$$;
"""  # noqa: S608 (names and types from this module's constants, no input)  # nosec B608


def call_sql() -> str:
    """The statement that calls the function: the records as JSON, the parts, then the shared columns."""
    return f"SELECT {FUNCTION}(%s::json, %s, {', '.join(['%s'] * len(SHARED_COLUMNS))})"


def _signature() -> str:
    return f"{FUNCTION}({', '.join(['json', 'text', *(kind for _, kind in SHARED_COLUMNS)])})"


def _drop_other_versions(cursor: Any, keep: str | None) -> None:
    """Drop every function of this name in the schema but the one with signature ``keep``: a
    function whose arguments changed is another function to PostgreSQL, and the old one would stay."""
    cursor.execute(
        "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE p.proname = %s AND n.nspname = current_schema() "
        "AND p.oid IS DISTINCT FROM to_regprocedure(%s)",
        [FUNCTION, keep],
    )
    for (signature,) in cursor.fetchall():
        cursor.execute(f"DROP FUNCTION {signature}")


def install(connection: Any) -> None:
    """Create the function as this module defines it, or replace it in place (the same signature:
    a request calling it meanwhile never finds it missing), and drop any other version of it."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(_definition())
        _drop_other_versions(cursor, keep=_signature())


def remove(connection: Any) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        _drop_other_versions(cursor, keep=None)
