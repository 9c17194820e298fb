"""Records as the SIEM receives them: RFC 6587 octet counting (UTF-8 octets), RFC 5424 header and
structured data, CEF and ECS JSON bodies. Hostile text (CR, LF, |, =, \\, ], ", non-ASCII) in any
field gives exactly one well-formed record that parses back to the original values."""

from __future__ import annotations

import datetime
import json
import uuid

import pytest

from siem import formats
from tests.siem_parse import parse_cef, parse_json, parse_syslog, split_frames

HOSTILE = 'a\rb\nc|d=e\\f]g"h é 漢字 🔒 \\n \\= end\\'
OCCURRED = datetime.datetime(2026, 1, 31, 12, 0, 0, 123456, tzinfo=datetime.UTC)


def _row(**overrides):
    event = {
        "sequence": 42,
        "event_id": uuid.UUID("9b2f3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d"),
        "occurred_at": OCCURRED,
        "recorded_at": OCCURRED + datetime.timedelta(seconds=1),
        "actor": HOSTILE,
        "on_behalf_of": HOSTILE,
        "actor_role": "investigator",
        "client_name": HOSTILE,
        "environment": "production",
        "channel": "api",
        "source_address": "192.0.2.7",
        "action": "hansken." + HOSTILE,
        "outcome": "success",
        "project_id": uuid.UUID("11111111-1111-4111-8111-111111111111"),
        "image_id": None,
        "trace_uid": HOSTILE,
        "object_type": "",
        "object_id": "",
        "grant_id": 7,
        "basis": "grant",
        "request_id": "req-1",
        "details": {"note": HOSTILE, HOSTILE: [1, 2.5, None, True]},
        "hash": "ab" * 32,
    }
    event.update(overrides)
    return tuple(event[name] for name in formats.COLUMNS)


def _framing(body_format, max_bytes=65536):
    return formats.Framing.create(body_format=body_format, max_bytes=max_bytes, hostname="hg-test")


@pytest.mark.parametrize("body_format", ["cef", "json"])
def test_it_frames_one_record_whose_length_counts_utf8_octets(body_format):
    data = formats.event_record(_framing(body_format), _row())
    frames = split_frames(data)
    assert len(frames) == 1
    length, _, message = data.partition(b" ")
    assert int(length) == len(message) == len(frames[0])
    text = message.decode("utf-8")
    assert int(length) > len(text)  # non-ASCII: octets, not characters
    # One line: no raw CR or LF anywhere, whatever the fields hold.
    assert "\r" not in text and "\n" not in text


def test_it_escapes_the_structured_data_as_rfc_5424_requires():
    message = parse_syslog(formats.event_record(_framing("cef"), _row()).partition(b" ")[2].decode())
    assert message.pri == 13 * 8 + 6  # log audit, informational
    assert message.timestamp == "2026-01-31T12:00:00.123456Z"
    assert (message.hostname, message.app, message.msgid) == ("hg-test", "hansken-governance", "audit")
    assert message.sd_id == "audit@32473"
    assert message.params["eventId"] == "9b2f3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d"
    assert message.params["sequence"] == "42"
    assert message.params["hash"] == "ab" * 32
    # ", \ and ] escaped and read back; control characters replaced, so the header stays one line.
    assert message.params["action"] == "hansken." + HOSTILE.replace("\r", "\ufffd").replace("\n", "\ufffd")


def test_it_writes_cef_that_parses_back_to_the_original_values():
    message = parse_syslog(formats.event_record(_framing("cef"), _row()).partition(b" ")[2].decode())
    header, extension = parse_cef(message.body)
    assert header[:4] == ["0", "NFI", "Hansken Governance", "1"]
    # Header fields escape \ and |; line breaks, which the header cannot escape, become spaces.
    assert header[4] == ("hansken." + HOSTILE).replace("\r", " ").replace("\n", " ")
    assert header[6] == "3"
    assert extension["externalId"] == "9b2f3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d"
    assert extension["cn1Label"] == "sequence" and extension["cn1"] == "42"
    # Extension values escape \, =, CR and LF and read back exactly.
    assert extension["suser"] == HOSTILE
    assert extension["act"] == "hansken." + HOSTILE
    assert extension["cs3Label"] == "traceUid" and extension["cs3"] == HOSTILE
    assert extension["cs5"] == HOSTILE
    assert extension["hgOnBehalfOf"] == HOSTILE
    assert extension["src"] == "192.0.2.7"
    assert extension["rt"] == str(int(OCCURRED.timestamp() * 1000))
    assert json.loads(extension["cs6"]) == {"note": HOSTILE, HOSTILE: [1, 2.5, None, True]}
    assert "cs2" not in extension  # no image: left out rather than empty


def test_it_writes_ecs_json_that_parses_back_to_the_original_values():
    message = parse_syslog(formats.event_record(_framing("json"), _row()).partition(b" ")[2].decode())
    document = parse_json(message.body)
    assert document["@timestamp"] == "2026-01-31T12:00:00.123456Z"
    assert document["event"]["id"] == "9b2f3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d"
    assert document["event"]["action"] == "hansken." + HOSTILE
    assert document["event"]["outcome"] == "success"
    assert document["event"]["sequence"] == 42
    assert document["user"]["name"] == HOSTILE
    assert document["source"]["ip"] == "192.0.2.7"
    assert document["labels"]["trace_uid"] == HOSTILE
    assert document["hansken_governance"]["details"] == {"note": HOSTILE, HOSTILE: [1, 2.5, None, True]}


def test_it_maps_a_denial_to_an_ecs_failure_and_keeps_the_original_outcome():
    message = parse_syslog(
        formats.event_record(_framing("json"), _row(outcome="denied", action="authz.denied"))
        .partition(b" ")[2]
        .decode()
    )
    document = parse_json(message.body)
    assert document["event"]["outcome"] == "failure"
    assert document["labels"]["outcome"] == "denied"
    assert message.pri == 13 * 8 + 5  # notice


@pytest.mark.parametrize(
    ("details", "syslog_severity", "cef_severity"),
    [({"severity": "critical"}, 2, "10"), ({"severity": "high"}, 3, "8"), ({"severity": "medium"}, 4, "7")],
)
def test_it_gives_alerts_a_high_severity(details, syslog_severity, cef_severity):
    row = _row(action="monitoring.alert_raised", details=details, actor="system:monitoring")
    message = parse_syslog(formats.event_record(_framing("cef"), row).partition(b" ")[2].decode())
    header, _ = parse_cef(message.body)
    assert message.pri == 13 * 8 + syslog_severity
    assert message.msgid == "alert"
    assert header[6] == cef_severity


def test_it_gives_a_broken_chain_the_highest_severity():
    row = _row(action="audit.verification_failed", outcome="failure", details={"broken_at": 5})
    message = parse_syslog(formats.event_record(_framing("cef"), row).partition(b" ")[2].decode())
    assert message.pri == 13 * 8 + 2
    assert parse_cef(message.body)[0][6] == "10"


def test_it_drops_the_details_of_a_record_too_large_for_the_receiver():
    row = _row(details={"blob": "x" * 5000})
    data = formats.event_record(_framing("json", max_bytes=4096), row)
    message = parse_syslog(data.partition(b" ")[2].decode())
    assert len(data) < 4096
    details = parse_json(message.body)["hansken_governance"]["details"]
    assert details["truncated"] is True and details["original_bytes"] > 5000
    assert message.params["eventId"] == "9b2f3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d"


@pytest.mark.parametrize("body_format", ["cef", "json"])
def test_it_sends_a_checkpoint_as_its_own_record(body_format):
    data = formats.checkpoint_record(
        _framing(body_format), sequence=1000, digest="cd" * 32, created_at=OCCURRED
    )
    message = parse_syslog(split_frames(data)[0].decode())
    assert message.msgid == "checkpoint"
    assert message.params["sequence"] == "1000"
    assert message.params["hash"] == "cd" * 32
    assert message.params["action"] == "audit.checkpoint"
    if body_format == "cef":
        _, extension = parse_cef(message.body)
        assert extension["cn1"] == "1000" and extension["flexString1"] == "cd" * 32
    else:
        assert parse_json(message.body)["event"]["hash"] == "cd" * 32
