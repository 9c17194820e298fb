"""The readers of release test reports, on real pytest runs (both JUnit families, made here) and on
files in the shapes Surefire, Gradle, Ant and CTRF write: counted exactly from the test cases,
never from the header; nothing of the build machine kept; bad files refused in words."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from test_reports.parsers import ParsedReport, ReportRefused, read_report
from test_reports.parsers.publish import publishable, shorten_paths
from tests import report_samples as samples


def _counts(report: ParsedReport) -> dict[str, int]:
    return {
        name: getattr(report, name) for name in ("tests", "passed", "failed", "errors", "skipped", "flaky")
    }


def _outcomes(report: ParsedReport) -> dict[str, str]:
    return {case.name: str(case.outcome) for case in report.not_passed}


def _everything_kept(report: ParsedReport) -> str:
    return "\n".join(
        f"{case.suite} {case.classname} {case.name} {case.message} {case.details}"
        for case in report.not_passed
    )


@pytest.fixture(scope="module", params=["xunit1", "xunit2"])
def pytest_report(request: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, ParsedReport]:
    path = samples.run_pytest(tmp_path_factory.mktemp(request.param), request.param)
    data = path.read_bytes()
    return data, read_report(io.BytesIO(data))


def test_a_real_pytest_run_is_counted_from_its_test_cases(pytest_report):
    data, report = pytest_report
    assert (report.format, report.tool) == ("junit", "pytest")
    assert _counts(report) == samples.PYTEST_COUNTS
    assert _outcomes(report) == samples.PYTEST_OUTCOMES
    # The header pytest wrote counts the teardown error of a failed test again: it is not what we count.
    assert b'errors="3"' in data and b'failures="4"' in data


def test_a_test_that_fails_and_then_errors_in_teardown_counts_once_as_failed_with_both_messages(
    pytest_report,
):
    data, report = pytest_report
    assert data.count(b'name="test_fails_then_errors_in_teardown"') == 2  # two <testcase> elements
    (case,) = [case for case in report.not_passed if case.name == "test_fails_then_errors_in_teardown"]
    assert str(case.outcome) == "failed"
    assert "call failed" in case.message and "failed on teardown" in case.message


def test_setup_and_teardown_errors_xfail_and_xpass_count_as_documented(pytest_report):
    _, report = pytest_report
    cases = {case.name: case for case in report.not_passed}
    assert cases["test_errors_in_setup"].message.startswith("failed on setup")
    assert cases["test_passes_then_errors_in_teardown"].message.startswith("failed on teardown")
    assert cases["test_xfail"].message == "known bug"  # xfail: skipped, with its reason
    assert "test_xpass" not in cases  # a non-strict xpass is a pass
    assert cases["test_xpass_strict"].message.startswith("[XPASS(strict)]")
    assert cases["test_skipped"].message == "not on this machine"


def test_a_pytest_message_keeps_its_text_and_loses_the_absolute_path(pytest_report):
    _, report = pytest_report
    cases = {case.name: case for case in report.not_passed}
    assert "<script>alert('x')</script>" in cases["test_fails"].message  # escaping is the page's job
    setup = cases["test_errors_in_setup"]
    assert "…/fixtures/db.py" in setup.message
    assert "/home/alice" not in _everything_kept(report)


@pytest.mark.parametrize(
    ("data", "counts", "tool"),
    [
        pytest.param(samples.SUREFIRE, samples.SUREFIRE_COUNTS, "surefire", id="surefire"),
        pytest.param(samples.GRADLE, samples.GRADLE_COUNTS, "gradle", id="gradle"),
        pytest.param(samples.ANT, samples.ANT_COUNTS, "ant", id="ant"),
    ],
)
def test_java_build_tools_reports_are_counted_from_their_test_cases(data, counts, tool):
    report = read_report(io.BytesIO(data))
    assert report.format == "junit"
    assert report.tool == tool
    assert _counts(report) == counts


def test_surefire_flaky_tests_count_as_passed_and_reruns_of_a_failure_as_one_failure():
    report = read_report(io.BytesIO(samples.SUREFIRE))
    assert _outcomes(report) == {
        "flakyNetwork": "flaky",
        "flakyTimeout": "flaky",
        "alwaysFails": "failed",
        "brokenSetup": "error",
        "ignored": "skipped",
    }
    cases = {case.name: case for case in report.not_passed}
    assert cases["flakyNetwork"].message == "Connection reset"
    assert "SocketException" in cases["flakyNetwork"].details
    assert cases["alwaysFails"].message == "expected:<1> but was:<2>"
    assert "…/hansken/TraceTest.java:77" in cases["alwaysFails"].details


def test_nothing_of_the_build_machine_is_kept_from_a_surefire_file():
    kept = _everything_kept(read_report(io.BytesIO(samples.SUREFIRE)))
    for secret in samples.SUREFIRE_SECRETS:
        assert secret not in kept, secret


def test_nested_suites_are_named_and_the_same_test_in_two_suites_is_two_tests():
    report = read_report(io.BytesIO(samples.ANT))
    suites = {(case.suite, case.name): str(case.outcome) for case in report.not_passed}
    assert suites == {
        ("ExportTest", "testBlocked"): "error",
        ("ExportTest \u203a Nested", "testExport"): "failed",
    }


def test_a_ctrf_report_is_counted_from_its_tests_not_its_summary():
    report = read_report(io.BytesIO(samples.CTRF))
    assert (report.format, report.tool) == ("ctrf", "playwright")
    assert _counts(report) == samples.CTRF_COUNTS
    assert _outcomes(report) == {
        "uploads a manifest": "failed",
        "waits for SSO": "skipped",
        "privacy statement": "skipped",
        "crashed worker": "error",
        "retried once": "flaky",
    }
    failed = next(case for case in report.not_passed if case.name == "uploads a manifest")
    assert failed.suite == "hashtotals \u203a upload"
    assert failed.details == "at …/e2e/upload.spec.ts:41:7"
    assert "ci-secret-user" not in _everything_kept(report)


@pytest.mark.parametrize(
    ("data", "code", "words"),
    [
        pytest.param(samples.XML_BOMB, "xml_entities", "entities", id="xml-bomb"),
        pytest.param(samples.EXTERNAL_ENTITY, "xml_entities", "entities", id="external-entity"),
        pytest.param(samples.NOT_A_REPORT_XML, "not_a_report", "starts with <html>", id="html"),
        pytest.param(samples.NOT_A_REPORT_JSON, "not_a_report", "no results.tests", id="other-json"),
        pytest.param(samples.NOT_A_REPORT_TEXT, "not_a_report", "JUnit XML or CTRF JSON", id="text"),
        pytest.param(b"", "not_a_report", "empty", id="empty"),
        pytest.param(samples.MALFORMED_XML, "xml_malformed", "line 1, column", id="cut-off-xml"),
        pytest.param(
            b'{"results": {"tests": [{"name": "a", "status": "passed"}',
            "json_malformed",
            "JSON",
            id="cut-off-json",
        ),
        pytest.param(samples.NO_TESTS, "no_tests", "no test cases", id="no-tests"),
        pytest.param(
            b'{"results": {"tests": [{"name": "a", "status": "green"}]}}',
            "ctrf_invalid",
            "results.tests[0]",
            id="ctrf-status",
        ),
        pytest.param(
            b'{"results": {"tests": [{"status": "passed"}]}}', "ctrf_invalid", "no name", id="ctrf-name"
        ),
    ],
)
def test_a_file_that_is_not_a_readable_report_is_refused_in_words(data, code, words):
    with pytest.raises(ReportRefused) as refused:
        read_report(io.BytesIO(data))
    assert refused.value.code == code
    assert words in str(refused.value)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("/home/alice/work/hansken/tests/test_x.py:12", "…/tests/test_x.py:12"),
        ("at file:///var/lib/jenkins/ws/a/B.java", "at …/a/B.java"),
        (r"C:\Users\alice\src\nl\Foo.java:3", r"…\nl\Foo.java:3"),
        ("~/projects/hansken/x.py", "…/hansken/x.py"),
        ("tests/test_x.py::test_a", "tests/test_x.py::test_a"),  # relative: left alone
        ("see https://example.org/a/b/c/d", "see https://example.org/a/b/c/d"),
        ("ratio 1/2/3", "ratio 1/2/3"),
    ],
)
def test_absolute_paths_keep_only_their_last_two_steps(text, shown):
    assert shorten_paths(text) == shown


def test_long_messages_are_cut_with_a_note_and_control_characters_dropped():
    text = publishable("a\x00b\x1b" + "x" * 50, 10)
    assert text.startswith("abxxxxxxxx\n…") and "more characters not shown" in text


def test_an_upload_is_read_as_a_stream(tmp_path: Path):
    # 20,000 passing tests: read through without holding the tree (each <testcase> is dropped).
    body = b"".join(b'<testcase classname="c" name="t%d"/>' % i for i in range(20000))
    path = tmp_path / "big.xml"
    path.write_bytes(b'<testsuite name="big">' + body + b"</testsuite>")
    with path.open("rb") as stream:
        report = read_report(stream)
    assert _counts(report) == {
        "tests": 20000,
        "passed": 20000,
        "failed": 0,
        "errors": 0,
        "skipped": 0,
        "flaky": 0,
    }
