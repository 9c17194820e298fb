"""Audit events as SIEM records: RFC 5424 syslog messages with a CEF or an ECS JSON body, framed by
octet counting (RFC 6587 section 3.4.1: ``<length> <message>``, the length in UTF-8 octets).

Every record is exactly one message whatever the fields hold: CEF header fields escape ``\\`` and
``|`` (line breaks become spaces; the header has no escape for them), CEF extension values escape
``\\``, ``=``, CR and LF; RFC 5424 PARAM-VALUEs escape ``"``, ``\\`` and ``]``; JSON escapes what
JSON escapes. The event id travels in the structured data (``eventId``) and in the body
(``externalId`` / ``event.id``), so the SIEM can drop the duplicates that at-least-once delivery
brings.
"""

from __future__ import annotations

import datetime
import json
import re
import socket
import uuid
from dataclasses import dataclass
from typing import Any

from audit import actions
from audit.chain import CHAINED_FIELDS
from siem.actions import ALERT_RAISED

# Columns read from the trail for forwarding, in this order (siem.forwarder).
COLUMNS = (*CHAINED_FIELDS, "hash")

APP_NAME = "hansken-governance"
VENDOR = "NFI"
PRODUCT = "Hansken Governance"
PRODUCT_VERSION = "1"
# The SD-ID's enterprise number is 32473, the one RFC 5612 reserves for examples and documentation:
# this application has no number of its own, and a private SD-ID needs one.
SD_ID = "audit@32473"
FACILITY_LOG_AUDIT = 13  # RFC 5424 facility 13, "log audit"
ECS_VERSION = "8.11.0"

CHECKPOINT_ACTION = "audit.checkpoint"

# (syslog severity 0-7, CEF severity 0-10) per kind of record.
_INFO = (6, 3)
_FAILURE = (5, 5)
_DENIED = (5, 6)
_ALERT_SEVERITY = {"medium": (4, 7), "high": (3, 8), "critical": (2, 10)}
_CRITICAL = (2, 10)

_CEF_HEADER = str.maketrans({"\\": "\\\\", "|": "\\|", "\r": " ", "\n": " "})
_CEF_VALUE = str.maketrans({"\\": "\\\\", "=": "\\=", "\r": "\\r", "\n": "\\n"})
_SD_VALUE = str.maketrans({"\\": "\\\\", '"': '\\"', "]": "\\]"})
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
# Most values need no escaping; finding that out is cheaper than translating every one of them.
_CEF_SPECIAL = re.compile("[\\\\=\r\n]")
_SD_SPECIAL = re.compile('[\\\\"\\]\x00-\x1f\x7f-\x9f]')
_NOT_PRINTUSASCII = re.compile("[^\x21-\x7e]")


@dataclass(frozen=True)
class Framing:
    """What every record of one run shares: the syslog HOSTNAME and the body format."""

    hostname: str
    body_format: str  # "cef" or "json"
    max_bytes: int

    @classmethod
    def create(cls, *, body_format: str, max_bytes: int, hostname: str | None = None) -> Framing:
        name = _NOT_PRINTUSASCII.sub("", hostname or socket.gethostname())[:255] or "-"
        if body_format not in ("cef", "json"):
            raise ValueError(f"SIEM_FORMAT must be cef or json, not {body_format!r}.")
        return cls(hostname=name, body_format=body_format, max_bytes=max_bytes)


def syslog_time(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _millis(moment: datetime.datetime) -> int:
    return int(moment.timestamp() * 1000)


def sd_value(value: Any) -> str:
    """A PARAM-VALUE: ``"``, ``\\`` and ``]`` escaped; control characters (which RFC 5424 allows
    but many receivers rewrite) replaced, so the header stays one line. The body has the value
    exactly."""
    text = str(value)
    if not _SD_SPECIAL.search(text):
        return text
    return _CONTROL.sub("\ufffd", text).translate(_SD_VALUE)


def cef_header(value: Any) -> str:
    return str(value).translate(_CEF_HEADER)


def cef_value(value: Any) -> str:
    if type(value) is int:
        return str(value)
    text = str(value)
    return text.translate(_CEF_VALUE) if _CEF_SPECIAL.search(text) else text


def severities(action: str, outcome: str, details: dict[str, Any]) -> tuple[int, int]:
    """(syslog severity, CEF severity). Alerts and a broken chain are high; denials stand out."""
    if action == ALERT_RAISED:
        return _ALERT_SEVERITY.get(str(details.get("severity")), _ALERT_SEVERITY["high"])
    if action == actions.AUDIT_VERIFICATION_FAILED:
        return _CRITICAL
    if outcome == "denied":
        return _DENIED
    if outcome == "failure":
        return _FAILURE
    return _INFO


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def frame(message: str) -> bytes:
    """RFC 6587 octet counting: the length counts the UTF-8 octets of the message."""
    data = message.encode("utf-8")
    return b"%d %b" % (len(data), data)


def _syslog(
    framing: Framing, severity: int, moment: datetime.datetime, msgid: str, sd: str, body: str
) -> str:
    pri = FACILITY_LOG_AUDIT * 8 + severity
    # No BOM before the body: RFC 5424 allows MSG-ANY, and receivers then store the text unchanged.
    return f"<{pri}>1 {syslog_time(moment)} {framing.hostname} {APP_NAME} - {msgid} {sd} {body}"


def event_record(framing: Framing, row: tuple[Any, ...]) -> bytes:
    """One audit event (a row in ``COLUMNS`` order) as one framed syslog message."""
    event = dict(zip(COLUMNS, row, strict=True))
    data = _event_message(framing, event)
    if len(data) > framing.max_bytes:
        # A receiver cuts longer messages; the SIEM then gets the record without Hansken's details
        # (the trail keeps them) rather than a broken record.
        size = len(json.dumps(event["details"], ensure_ascii=False).encode("utf-8"))
        event["details"] = {"truncated": True, "original_bytes": size}
        data = _event_message(framing, event)
    return b"%d %b" % (len(data), data)


def _event_message(framing: Framing, event: dict[str, Any]) -> bytes:
    action = event["action"]
    details = event["details"] or {}
    syslog_severity, cef_severity = severities(action, event["outcome"], details)
    msgid = "alert" if action == ALERT_RAISED else "audit"
    sd = (
        f'[{SD_ID} eventId="{event["event_id"]}" sequence="{event["sequence"]}" '
        f'action="{sd_value(action)}" outcome="{sd_value(event["outcome"])}" '
        f'hash="{sd_value(event["hash"])}"]'
    )
    if framing.body_format == "json":
        body = _ecs_event(event, details, syslog_severity)
    else:
        body = _cef_event(event, details, cef_severity)
    return _syslog(framing, syslog_severity, event["occurred_at"], msgid, sd, body).encode("utf-8")


def _cef_event(event: dict[str, Any], details: dict[str, Any], severity: int) -> str:
    action = event["action"]
    header = (
        f"CEF:0|{VENDOR}|{PRODUCT}|{PRODUCT_VERSION}|{cef_header(action)}|"
        f"{cef_header(action + ' ' + event['outcome'])}|{severity}|"
    )
    pairs: list[tuple[str, Any]] = [
        ("rt", _millis(event["occurred_at"])),
        ("externalId", event["event_id"]),
        ("cn1Label", "sequence"),
        ("cn1", event["sequence"]),
        ("act", action),
        ("outcome", event["outcome"]),
        ("suser", event["actor"]),
    ]
    # (key, its label for the custom fields, value); empty values are left out.
    optional: list[tuple[str, str, Any]] = [
        ("spriv", "", event["actor_role"]),
        ("src", "", event["source_address"]),
        ("cs1", "projectId", event["project_id"]),
        ("cs2", "imageId", event["image_id"]),
        ("cs3", "traceUid", event["trace_uid"]),
        ("cs4", "basis", event["basis"]),
        ("cs5", "client", event["client_name"]),
        ("cn2", "grantId", event["grant_id"]),
        ("requestClientApplication", "", event["channel"]),
        # No standard CEF key fits these; ArcSight keeps unknown keys as additional data.
        ("hgEnvironment", "", event["environment"]),
        ("hgOnBehalfOf", "", event["on_behalf_of"]),
        ("hgObjectType", "", event["object_type"]),
        ("hgObjectId", "", event["object_id"]),
        ("deviceCustomDate1", "recordedAt", _millis(event["recorded_at"])),
        ("flexString1", "chainHash", event["hash"]),
        ("flexString2", "requestId", event["request_id"]),
    ]
    for key, label, value in optional:
        if value is None or value == "":
            continue
        if label:
            pairs.append((key + "Label", label))
        pairs.append((key, value))
    if details:
        pairs += [("cs6Label", "details"), ("cs6", json.dumps(details, ensure_ascii=False, sort_keys=True))]
    return header + " ".join(f"{key}={cef_value(value)}" for key, value in pairs)


_ECS_OUTCOME = {"success": "success", "failure": "failure", "denied": "failure"}


def _ecs_event(event: dict[str, Any], details: dict[str, Any], severity: int) -> str:
    action: str = event["action"]
    is_alert = action == ALERT_RAISED
    labels = {
        key: _text(event[column])
        for key, column in (
            ("project_id", "project_id"),
            ("image_id", "image_id"),
            ("trace_uid", "trace_uid"),
            ("basis", "basis"),
            ("environment", "environment"),
            ("channel", "channel"),
            ("client_name", "client_name"),
            ("on_behalf_of", "on_behalf_of"),
            ("object_type", "object_type"),
            ("object_id", "object_id"),
            ("grant_id", "grant_id"),
            ("outcome", "outcome"),
        )
        if event[column] not in (None, "")
    }
    document: dict[str, Any] = {
        "@timestamp": syslog_time(event["occurred_at"]),
        "ecs": {"version": ECS_VERSION},
        "event": {
            "id": str(event["event_id"]),
            "sequence": event["sequence"],
            "action": action,
            "outcome": _ECS_OUTCOME.get(event["outcome"], "unknown"),
            "kind": "alert" if is_alert else "event",
            "category": ["iam"] if not action.startswith("hansken.") else ["database"],
            "severity": severity,
            "created": syslog_time(event["recorded_at"]),
            "dataset": "hansken_governance.audit",
            "module": "hansken_governance",
            "hash": event["hash"],
        },
        "user": {"name": event["actor"]},
        "service": {"name": APP_NAME},
        "labels": labels,
    }
    if event["actor_role"]:
        document["user"]["roles"] = event["actor_role"].split(",")
    if event["source_address"]:
        document["source"] = {"ip": str(event["source_address"])}
    if event["request_id"]:
        document["http"] = {"request": {"id": event["request_id"]}}
    if details:
        document["hansken_governance"] = {"details": details}
    return json.dumps(document, ensure_ascii=False, default=str, separators=(",", ":"))


def checkpoint_record(
    framing: Framing, *, sequence: int, digest: str, created_at: datetime.datetime
) -> bytes:
    """A chain checkpoint as its own record: with these outside the system, cutting rows off the end
    of the trail (and rewriting the chain after it) is detectable."""
    event_id = str(uuid.uuid5(CHECKPOINT_NAMESPACE, f"checkpoint:{sequence}:{digest}"))
    sd = (
        f'[{SD_ID} eventId="{event_id}" sequence="{sequence}" action="{CHECKPOINT_ACTION}" '
        f'outcome="success" hash="{sd_value(digest)}"]'
    )
    syslog_severity, cef_severity = _INFO
    if framing.body_format == "json":
        body = json.dumps(
            {
                "@timestamp": syslog_time(created_at),
                "ecs": {"version": ECS_VERSION},
                "event": {
                    "id": event_id,
                    "sequence": sequence,
                    "action": CHECKPOINT_ACTION,
                    "outcome": "success",
                    "kind": "state",
                    "severity": syslog_severity,
                    "dataset": "hansken_governance.checkpoint",
                    "module": "hansken_governance",
                    "hash": digest,
                },
                "service": {"name": APP_NAME},
            },
            separators=(",", ":"),
        )
    else:
        body = (
            f"CEF:0|{VENDOR}|{PRODUCT}|{PRODUCT_VERSION}|{CHECKPOINT_ACTION}|audit chain checkpoint|"
            f"{cef_severity}|rt={_millis(created_at)} externalId={event_id} cn1Label=sequence "
            f"cn1={sequence} act={CHECKPOINT_ACTION} flexString1Label=chainHash "
            f"flexString1={cef_value(digest)}"
        )
    return frame(_syslog(framing, syslog_severity, created_at, "checkpoint", sd, body))


CHECKPOINT_NAMESPACE = uuid.UUID("2c0d7a5e-3f4b-4f6a-9c1e-8d2b7e6f5a41")
