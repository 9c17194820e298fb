"""CTRF JSON (Common Test Report Format, ctrf.io): ``{"results": {"tool": {"name"}, "summary",
"tests": [{"name", "status", "message", "trace", "suite", "flaky", ...}]}}``.

Read as a stream with ``ijson``: each test is built, counted and dropped in turn. The ``summary`` is
ignored (counts come from the tests) and so is ``environment`` (build machine details). Status
``passed`` counts as passed (as flaky when ``flaky`` is true), ``failed`` as failed, ``skipped`` and
``pending`` as skipped, ``other`` as an error. A key given twice in one object (``"tests"`` twice in
``"results"``, ``"status"`` twice in a test) is refused, naming it: such a file does not say one
thing (``hansken_governance.json_keys``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, BinaryIO

import ijson

from hansken_governance.json_keys import TWICE, RepeatedKey, unique_keys
from test_reports.parsers.common import SUITE_SEPARATOR, Outcome, ParsedReport, ReportRefused, Tally
from test_reports.parsers.publish import publishable

_STATUS = {
    "passed": Outcome.PASSED,
    "failed": Outcome.FAILED,
    "skipped": Outcome.SKIPPED,
    "pending": Outcome.SKIPPED,
    "other": Outcome.ERROR,
}
_TEST = "results.tests.item"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return SUITE_SEPARATOR.join(str(part) for part in value)
    return str(value)


def _test(tally: Tally, index: int, test: Any) -> float:
    where = f"results.tests[{index}]"
    if not isinstance(test, dict):
        raise ReportRefused("%(where)s is not an object.", code="ctrf_invalid", where=where)
    name = test.get("name")
    if not isinstance(name, str) or not name:
        raise ReportRefused("%(where)s has no name.", code="ctrf_invalid", where=where)
    status = _STATUS.get(test.get("status"))  # type: ignore[arg-type]
    if status is None:
        raise ReportRefused(
            "%(where)s has status %(status)s; CTRF knows passed, failed, skipped, pending and other.",
            code="ctrf_invalid",
            where=where,
            status=repr(test.get("status")),
        )
    if status is Outcome.PASSED and test.get("flaky") is True:
        status = Outcome.FLAKY
    tally.add(
        suite=_text(test.get("suite")),
        classname=_text(test.get("filePath")),
        name=name,
        outcome=status,
        message=_text(test.get("message")),
        details=_text(test.get("trace")),
    )
    duration = test.get("duration")
    return float(duration) / 1000 if isinstance(duration, int | float | Decimal) else 0.0


def read_ctrf(stream: BinaryIO) -> ParsedReport:
    tally = Tally()
    tool = ""
    saw_tests = False
    index = 0
    duration = 0.0
    builder: ijson.ObjectBuilder | None = None
    depth = 0
    first = True
    try:
        for prefix, event, value in unique_keys(ijson.parse(stream)):
            if builder is not None:
                builder.event(event, value)
                if event in ("start_map", "start_array"):
                    depth += 1
                elif event in ("end_map", "end_array"):
                    depth -= 1
                if depth == 0:
                    duration += _test(tally, index, builder.value)
                    index += 1
                    builder = None
                continue
            if first:
                if event != "start_map":
                    raise ReportRefused("This JSON is not a CTRF report: it is not an object.")
                first = False
            if prefix == "results.tests" and event == "start_array":
                saw_tests = True
            elif prefix == _TEST:
                builder = ijson.ObjectBuilder()
                builder.event(event, value)
                depth = 1 if event in ("start_map", "start_array") else 0
                if depth == 0:
                    duration += _test(tally, index, builder.value)
                    index += 1
                    builder = None
            elif prefix == "results.tool.name" and event == "string":
                tool = publishable(str(value), 50).split("\n", 1)[0]
    except RepeatedKey as repeated:
        raise ReportRefused(TWICE, code="field_twice", field=repeated.path) from None
    except ijson.JSONError as broken:
        raise ReportRefused(
            "The JSON is not well formed: %(reason)s.", code="json_malformed", reason=str(broken)
        ) from broken
    if not saw_tests:
        raise ReportRefused("This JSON is not a CTRF report: it has no results.tests list.")
    return tally.result(format="ctrf", tool=tool, duration_seconds=round(duration, 3))
