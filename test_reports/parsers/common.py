"""What a reader returns, and how tests are merged and counted (see the package's docstring)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from test_reports.parsers.publish import DETAILS_LIMIT, MESSAGE_LIMIT, NAME_LIMIT, publishable

# A report with more distinct tests than this is refused: the merge keeps one small entry per test.
MAX_TESTS = 1_000_000
# Between the names of nested suites: a single right-pointing angle quotation mark.
SUITE_SEPARATOR = " \u203a "


class ReportRefused(Exception):
    """A file that is not a test report we can read completely; ``str()`` says why, in plain words."""

    def __init__(self, message: str, *, code: str = "not_a_report", **params: object) -> None:
        super().__init__(message % params if params else message)
        self.template = message
        self.code = code
        self.params = params


class Outcome(StrEnum):
    PASSED = "passed"
    FLAKY = "flaky"  # passed after failing first (Surefire's flakyFailure, CTRF's flaky): counted as passed
    SKIPPED = "skipped"
    ERROR = "error"
    FAILED = "failed"


# Worst first: the outcome a test that was reported more than once keeps.
_RANK = {Outcome.PASSED: 0, Outcome.FLAKY: 1, Outcome.SKIPPED: 2, Outcome.ERROR: 3, Outcome.FAILED: 4}


@dataclass
class CaseResult:
    """One test that did not simply pass, as it may be published."""

    suite: str
    classname: str
    name: str
    outcome: Outcome
    message: str = ""
    details: str = ""


@dataclass
class ParsedReport:
    format: str
    tool: str
    tests: int
    passed: int
    failed: int
    errors: int
    skipped: int
    flaky: int
    not_passed: list[CaseResult]
    duration_seconds: float | None = None


@dataclass
class _Entry:
    outcome: Outcome
    messages: list[tuple[str, str]] = field(default_factory=list)  # (message, details) per report of it
    suite: str = ""
    classname: str = ""
    name: str = ""


class Tally:
    """The tests of one report, merged by (suite, class name, name) as they are read."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str, str], _Entry] = {}
        self._order: list[tuple[str, str, str]] = []

    def add(
        self,
        *,
        suite: str,
        classname: str,
        name: str,
        outcome: Outcome,
        message: str | None = None,
        details: str | None = None,
    ) -> None:
        key = (suite, classname, name)
        entry = self._entries.get(key)
        if entry is None:
            if len(self._entries) >= MAX_TESTS:
                raise ReportRefused(
                    "The report holds more than %(limit)s tests; split it by kind or module.",
                    code="too_many_tests",
                    limit=MAX_TESTS,
                )
            entry = self._entries[key] = _Entry(outcome)
            self._order.append(key)
        elif _RANK[outcome] > _RANK[entry.outcome]:
            entry.outcome = outcome
        if outcome is not Outcome.PASSED:
            # Only what did not pass is kept, and only as it may be published.
            entry.suite = publishable(suite, NAME_LIMIT)
            entry.classname = publishable(classname, NAME_LIMIT)
            entry.name = publishable(name, NAME_LIMIT)
            entry.messages.append((publishable(message, MESSAGE_LIMIT), publishable(details, DETAILS_LIMIT)))

    def result(self, *, format: str, tool: str, duration_seconds: float | None = None) -> ParsedReport:
        if not self._entries:
            raise ReportRefused("The report holds no test cases.", code="no_tests")
        counts = dict.fromkeys(Outcome, 0)
        not_passed: list[CaseResult] = []
        for key in self._order:
            entry = self._entries[key]
            counts[entry.outcome] += 1
            if entry.outcome is Outcome.PASSED:
                continue
            messages = [message for message, _ in entry.messages if message]
            details = [text for _, text in entry.messages if text]
            not_passed.append(
                CaseResult(
                    suite=entry.suite,
                    classname=entry.classname,
                    name=entry.name,
                    outcome=entry.outcome,
                    message=publishable("\n".join(messages), MESSAGE_LIMIT),
                    details=publishable("\n\n".join(details), DETAILS_LIMIT),
                )
            )
        return ParsedReport(
            format=format,
            tool=tool,
            tests=len(self._entries),
            passed=counts[Outcome.PASSED] + counts[Outcome.FLAKY],
            failed=counts[Outcome.FAILED],
            errors=counts[Outcome.ERROR],
            skipped=counts[Outcome.SKIPPED],
            flaky=counts[Outcome.FLAKY],
            not_passed=not_passed,
            duration_seconds=duration_seconds,
        )
