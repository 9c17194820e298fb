"""Readers of test reports: JUnit XML (``junit``) and CTRF JSON (``ctrf``), told apart by the first
character of the file. Both read the upload as a stream and count from the test cases themselves,
never from a header; both return a ``ParsedReport`` or raise ``ReportRefused`` naming the problem.

Counting rules (docs/test-reports.md, "How a report is counted"):

- one test is one (suite, class name, name); a test that appears twice (pytest writes a test that
  fails and then errors in its teardown as two ``<testcase>`` elements) is counted once;
- its outcome is the worst of what was reported for it: failed, then error, then skipped, then
  passed. So a test that fails and then errors in teardown counts once, as *failed*, and both
  messages are kept;
- Surefire's ``<flakyFailure>``/``<flakyError>`` (failed, then passed on a rerun) count as passed and
  are listed as flaky; ``<rerunFailure>``/``<rerunError>`` beside a final failure or error change
  nothing (the test failed every time);
- pytest's xfail is written as skipped and counts as skipped; a non-strict xpass is written as a pass.
"""

from __future__ import annotations

from typing import BinaryIO

from test_reports.parsers.common import (
    CaseResult,
    Outcome,
    ParsedReport,
    ReportRefused,
    Tally,
)
from test_reports.parsers.ctrf import read_ctrf
from test_reports.parsers.junit import read_junit

__all__ = ["CaseResult", "Outcome", "ParsedReport", "ReportRefused", "Tally", "read_report"]

HEAD = 4096
FORMATS = ("junit", "ctrf")


def read_report(stream: BinaryIO) -> ParsedReport:
    """Read a whole report from ``stream`` (a buffered reader, whose ``peek`` shows the start, or a
    seekable file)."""
    head = _head(stream)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<"):
        return read_junit(stream)
    if text.startswith(b"{"):
        return read_ctrf(stream)
    if not text:
        raise ReportRefused("The file is empty.")
    raise ReportRefused("This is not a test report: give JUnit XML or CTRF JSON.")


def _head(stream: BinaryIO) -> bytes:
    peek = getattr(stream, "peek", None)
    if peek is not None:
        return bytes(peek(HEAD)[:HEAD])
    position = stream.tell()
    head = stream.read(HEAD)
    stream.seek(position)
    return head
