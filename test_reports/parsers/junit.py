"""JUnit XML as pytest (xunit1 and xunit2), Maven Surefire (with its rerun and flaky elements),
Gradle and Ant write it: ``<testsuites>`` or a bare ``<testsuite>``, suites nested at any depth.

The file is read as a stream by ``defusedxml`` (no entity is ever expanded, no external resource
fetched, no DTD read); each ``<testcase>`` is interpreted by ``junitparser``'s xunit2 test case the
moment it is complete and then dropped, so memory does not grow with the file. ``<properties>``,
``<system-out>`` and ``<system-err>`` are never read (the build machine's class path, user name and
home folder are in Surefire's properties). A ``<testcase>`` without a name is refused (as a CTRF test
without one), naming its number in the file; an attribute given twice is not well-formed XML and is
refused by the parser."""

from __future__ import annotations

import contextlib
from typing import Any, BinaryIO

import defusedxml.ElementTree as SafeET
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import ParseError
from junitparser import Error, Failure, Skipped
from junitparser.xunit2 import TestCase

from test_reports.parsers.common import SUITE_SEPARATOR, Outcome, ParsedReport, ReportRefused, Tally

ROOTS = ("testsuites", "testsuite")
_DROPPED = ("properties", "system-out", "system-err")
_SCHEMA = "{http://www.w3.org/2001/XMLSchema-instance}noNamespaceSchemaLocation"


def _local(tag: Any) -> str:
    text = str(tag)
    return text.rsplit("}", 1)[-1] if text.startswith("{") else text


def _guess_tool(root: Any, first_suite: dict[str, str]) -> str:
    """Which tool wrote the file, from the marks each leaves on its outermost suites (shown, never
    relied on: every tool's file is read the same way)."""
    if "surefire" in root.get(_SCHEMA, ""):
        return "surefire"
    if root.get("name") in ("pytest", "pytest tests") or first_suite.get("name") == "pytest":
        return "pytest"
    if "id" in first_suite and "package" in first_suite:
        return "ant"
    if "hostname" in first_suite and "timestamp" in first_suite:
        return "gradle"
    return ""


def _first_line(text: str | None) -> str:
    return (text or "").strip().split("\n", 1)[0]


def _case(tally: Tally, elem: Any, suites: list[str], number: int) -> float:
    if not elem.get("name"):
        # As a CTRF test without a name: a test nobody can name cannot be counted as one test.
        raise ReportRefused(
            "%(where)s has no name.", code="junit_invalid", where=f"<testcase> number {number}"
        )
    case = TestCase.fromelem(elem)
    final = case.result
    outcome = Outcome.PASSED
    message: str | None = None
    details: str | None = None
    for kind, rank in ((Failure, Outcome.FAILED), (Error, Outcome.ERROR), (Skipped, Outcome.SKIPPED)):
        found = [result for result in final if isinstance(result, kind)]
        if found:
            outcome = rank
            message = found[0].message or _first_line(found[0].text)
            details = found[0].text
            break
    if outcome is Outcome.PASSED and case.is_flaky:
        outcome = Outcome.FLAKY
        first = (case.flaky_failures() or case.flaky_errors())[0]
        message = first.message or _first_line(first.stack_trace)
        details = first.stack_trace
    tally.add(
        suite=SUITE_SEPARATOR.join(name for name in suites if name),
        classname=case.classname or "",
        name=case.name or "",
        outcome=outcome,
        message=message,
        details=details,
    )
    try:
        return float(elem.get("time") or 0)
    except ValueError:
        return 0.0


def read_junit(stream: BinaryIO) -> ParsedReport:
    tally = Tally()
    stack: list[Any] = []
    suites: list[str] = []
    root: Any | None = None
    first_suite: dict[str, str] = {}
    duration = 0.0
    cases = 0
    try:
        for event, elem in SafeET.iterparse(stream, events=("start", "end"), forbid_dtd=True):
            tag = _local(elem.tag)
            if event == "start":
                if root is None:
                    if tag not in ROOTS:
                        raise ReportRefused(
                            f"This XML is not a JUnit test report: it starts with <{tag}>, not "
                            "<testsuites> or <testsuite>."
                        )
                    root = elem
                if tag == "testsuite":
                    if not suites and not first_suite:
                        first_suite = dict(elem.attrib)
                    suites.append(elem.get("name") or "")
                stack.append(elem)
                continue
            stack.pop()
            if tag == "testcase" and not any(_local(e.tag) == "testcase" for e in stack):
                cases += 1
                duration += _case(tally, elem, suites, cases)
            elif tag == "testsuite":
                suites.pop()
            elif tag not in _DROPPED:
                continue
            # Done with it: dropped from its parent so that memory does not grow with the file.
            if stack:
                with contextlib.suppress(ValueError):
                    stack[-1].remove(elem)
    except (EntitiesForbidden, DTDForbidden) as refused:
        raise ReportRefused(
            "The file declares a DTD or XML entities; a test report never needs them, and they are how "
            "entity-expansion bombs and external-entity attacks work. Nothing was read from it.",
            code="xml_entities",
        ) from refused
    except ExternalReferenceForbidden as refused:
        raise ReportRefused(
            "The file refers to an external resource (an external entity); it was not fetched.",
            code="xml_entities",
        ) from refused
    except ParseError as broken:
        line, column = getattr(broken, "position", (0, 0))
        raise ReportRefused(
            "The XML is not well formed (line %(line)s, column %(column)s): %(reason)s.",
            code="xml_malformed",
            line=line,
            column=column,
            reason=_reason(broken),
        ) from broken
    if root is None:
        raise ReportRefused("This is not a test report: give JUnit XML or CTRF JSON.")
    return tally.result(
        format="junit", tool=_guess_tool(root, first_suite), duration_seconds=round(duration, 3)
    )


def _reason(error: ParseError) -> str:
    return str(error).split(":", 1)[0]
