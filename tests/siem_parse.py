"""Strict parsers for what the forwarder sends (RFC 6587 frames, RFC 5424 messages, CEF and ECS
JSON bodies), written from the specifications, so tests read every record back."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_HEADER = re.compile(
    r"<(?P<pri>\d{1,3})>1 (?P<timestamp>\S+) (?P<hostname>[\x21-\x7e]{1,255}) (?P<app>[\x21-\x7e]{1,48}) "
    r"(?P<procid>[\x21-\x7e]{1,128}) (?P<msgid>[\x21-\x7e]{1,32}) "
)


@dataclass
class SyslogMessage:
    pri: int
    timestamp: str
    hostname: str
    app: str
    msgid: str
    sd_id: str
    params: dict[str, str]
    body: str


def split_frames(data: bytes) -> list[bytes]:
    """RFC 6587 octet counting: ``<len> <msg>`` repeated; the length counts octets."""
    frames = []
    position = 0
    while position < len(data):
        space = data.index(b" ", position)
        length = int(data[position:space])
        start = space + 1
        frames.append(data[start : start + length])
        position = start + length
        assert position <= len(data), "a frame runs past the end"
    return frames


def parse_syslog(message: str) -> SyslogMessage:
    match = _HEADER.match(message)
    assert match, f"not an RFC 5424 header: {message[:120]!r}"
    rest = message[match.end() :]
    assert rest.startswith("["), "one SD-ELEMENT expected"
    close = rest.index(" ")
    sd_id = rest[1:close]
    params: dict[str, str] = {}
    position = close
    while True:
        if rest[position] == "]":
            position += 1
            break
        assert rest[position] == " "
        equals = rest.index("=", position)
        name = rest[position + 1 : equals]
        assert rest[equals + 1] == '"'
        value = []
        cursor = equals + 2
        while True:
            char = rest[cursor]
            if char == "\\" and rest[cursor + 1] in '"\\]':
                value.append(rest[cursor + 1])
                cursor += 2
                continue
            if char == '"':
                break
            assert char != "]", "unescaped ] in a PARAM-VALUE"
            value.append(char)
            cursor += 1
        params[name] = "".join(value)
        position = cursor + 1
    assert rest[position] == " ", "a space separates the structured data from the message"
    return SyslogMessage(
        pri=int(match["pri"]),
        timestamp=match["timestamp"],
        hostname=match["hostname"],
        app=match["app"],
        msgid=match["msgid"],
        sd_id=sd_id,
        params=params,
        body=rest[position + 1 :],
    )


def _unescape(text: str, escapable: str) -> str:
    out = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\":
            following = text[index + 1]
            assert following in escapable, f"unknown escape \\{following}"
            out.append({"n": "\n", "r": "\r"}.get(following, following))
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out)


def parse_cef(body: str) -> tuple[list[str], dict[str, str]]:
    """The seven header fields and the extension, both unescaped."""
    assert body.startswith("CEF:")
    assert "\n" not in body and "\r" not in body
    fields: list[str] = []
    current: list[str] = []
    index = 0
    while len(fields) < 7:
        char = body[index]
        if char == "\\":
            current.append(body[index : index + 2])
            index += 2
            continue
        if char == "|":
            fields.append(_unescape("".join(current), "\\|"))
            current = []
        else:
            current.append(char)
        index += 1
    extension = body[index:]
    # Unescaped "=" end keys; a key is the word just before one.
    separators = []
    position = 0
    while position < len(extension):
        if extension[position] == "\\":
            position += 2
            continue
        if extension[position] == "=":
            separators.append(position)
        position += 1
    pairs: dict[str, str] = {}
    starts = []
    for equals in separators:
        key_start = extension.rfind(" ", 0, equals) + 1
        starts.append((key_start, equals))
    for number, (key_start, equals) in enumerate(starts):
        end = starts[number + 1][0] - 1 if number + 1 < len(starts) else len(extension)
        key = extension[key_start:equals]
        assert re.fullmatch(r"[A-Za-z0-9]+", key), f"bad key {key!r}"
        assert key not in pairs, f"key {key} twice"
        pairs[key] = _unescape(extension[equals + 1 : end], "\\=nr")
    return [f.replace("CEF:", "", 1) if i == 0 else f for i, f in enumerate(fields)], pairs


def parse_json(body: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(body)
    return document
