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
        # A key twice in one object: which one counts is the parser's choice, so neither does.
        pytest.param(
            b'{"results": {"tests": [{"name": "a", "status": "passed"}],'
            b' "tests": [{"name": "b", "status": "failed"}]}}',
            "field_twice",
            "The field results.tests is given twice.",
            id="ctrf-tests-twice",
        ),
        pytest.param(
            b'{"results": {"tests": [{"name": "a", "status": "passed"},'
            b' {"name": "b", "status": "failed", "status": "passed"}]}}',
            "field_twice",
            "The field results.tests[1].status is given twice.",
            id="ctrf-status-twice",
        ),
        pytest.param(
            b'{"results": {"tests": []}, "results": {"tests": [{"name": "a", "status": "passed"}]}}',
            "field_twice",
            "The field results is given twice.",
            id="ctrf-results-twice",
        ),
        # As a CTRF test without a name: a <testcase> without one is refused, naming which.
        pytest.param(
            b'<testsuite name="s"><testcase classname="c" name="a"/><testcase classname="c"/></testsuite>',
            "junit_invalid",
            "<testcase> number 2 has no name.",
            id="junit-no-name",
        ),
        pytest.param(
            b'<testsuite name="s"><testcase classname="c" name=""><failure message="m"/></testcase>'
            b"</testsuite>",
            "junit_invalid",
            "<testcase> number 1 has no name.",
            id="junit-empty-name",
        ),
        pytest.param(
            b'<testsuite name="s"><testcase classname="c" name="a" name="b"/></testsuite>',
            "xml_malformed",
            "duplicate attribute",
            id="junit-attribute-twice",
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


# Home folders (the build machine's user names): whatever else happens to a path, the folder and
# its user name never reach the output (docs/test-reports.md, "Safe to publish").
HOME_FOLDERS = [
    # Found by a tester over HTTP.
    pytest.param(r"C:\Users\Alice Smith\src\proj\Foo.java", r"…\proj\Foo.java", id="windows-name-space"),
    pytest.param("cd /home/alice", "cd …", id="bare-home"),
    pytest.param(
        "path=/home/alice/.m2/r/foo.jar:/home/alice/lib/bar.jar",
        "path=…/r/foo.jar:…/lib/bar.jar",
        id="class-path",
    ),
    pytest.param("/home/alice/my project/tests/test_x.py", "…/tests/test_x.py", id="step-with-space"),
    # A path followed by prose: the prose stays.
    pytest.param("/home/alice/x.py failed with 3", "…/x.py failed with 3", id="prose-after"),
    pytest.param("/home/alice is not writable", "… is not writable", id="prose-after-bare-home"),
    pytest.param("/Users/alice/Library/Application Support/x.log", "…/Application Support/x.log", id="macos"),
    pytest.param("/Users/alice", "…", id="bare-macos-home"),
    pytest.param("/mnt/c/Users/alice/x/y/z.py", "…/y/z.py", id="wsl"),
    pytest.param("/var/home/alice/x.py", "…/x.py", id="home-deeper"),
    pytest.param("cd /root && ls", "cd … && ls", id="root"),
    pytest.param("/root/.cache/pip/x.whl", "…/pip/x.whl", id="root-path"),
    pytest.param("~alice/src/x/y.py", "…/x/y.py", id="tilde-user"),
    pytest.param("see ../home/alice/notes.txt", "see …/notes.txt", id="relative-to-home"),
    pytest.param("jar:file:/home/alice/.m2/a.jar!/org/Foo.class", "jar:…/org/Foo.class", id="jar-url"),
    pytest.param("file://localhost/home/alice/r.xml", "…/r.xml", id="file-url-with-host"),
    pytest.param(
        "-Duser.home=/home/alice -cp /home/bob/a.jar", "-Duser.home=… -cp …/a.jar", id="java-options"
    ),
    pytest.param("(/home/alice/x.py)", "(…/x.py)", id="in-brackets"),
    pytest.param("test_read[/home/alice/data]", "test_read[…/data]", id="in-a-test-id"),
    pytest.param(r"C:\Users\Alice Smith", "…", id="bare-windows-home"),
    pytest.param(r"C:\Users\alice is locked", "…", id="bare-windows-home-takes-the-line"),
    pytest.param(r"C:\Documents and Settings\Bob Jones\x.txt", r"…\x.txt", id="documents-and-settings"),
    pytest.param(r"C:\Documents and Settings\Bob Jones", "…", id="bare-documents-and-settings"),
    pytest.param("C:/Users/alice/a/b/c.java", "…/b/c.java", id="windows-forward-slashes"),
    pytest.param(r"c:\users\alice\x.java", r"…\x.java", id="windows-lower-case"),
    pytest.param(r"'C:\\Users\\alice\\x.txt'", r"'…\\x.txt'", id="python-repr"),
    pytest.param(r"\\srv\share\Users\alice\x", r"…\x", id="unc"),
    pytest.param(r"\\?\C:\Users\alice\x", r"\\?\…\x", id="long-path-prefix"),
    pytest.param(
        r"C:\a\b.jar;C:\Users\alice\c.jar;D:\x\y\z.jar",
        r"C:\a\b.jar;…\c.jar;…\y\z.jar",
        id="windows-class-path",
    ),
    pytest.param("…/home/alice/x.py", "……/x.py", id="after-an-ellipsis"),
]


@pytest.mark.parametrize(("text", "shown"), HOME_FOLDERS)
def test_no_user_name_of_a_home_folder_survives(text, shown):
    assert shorten_paths(text) == shown
    for name in ("alice", "Alice", "Smith", "Bob", "Jones", "bob", "root"):
        assert name not in shown
    assert shorten_paths(shown) == shown  # shortened twice (a message, then the messages joined) is once


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        # Spaces in a step count only where another step follows; the last step ends at a space.
        (r"C:\Program Files (x86)\Java\bin\java.exe", r"…\bin\java.exe"),
        ("/opt/ci/a b/tests/test_x.py:3: AssertionError", "…/tests/test_x.py:3: AssertionError"),
        ("/opt/ci/build/x.py failed, see /opt/ci/log/out.txt", "…/build/x.py failed, see …/log/out.txt"),
        # Not home folders: left alone, or shortened as any path.
        ("/api/users/42", "…/users/42"),
        ("./templates/home/index.html", "./templates/home/index.html"),
        ("templates/home/index.html", "templates/home/index.html"),
        ("/srv/app/root/x.py", "…/root/x.py"),
        ("~ 5 ms", "~ 5 ms"),
    ],
)
def test_paths_with_spaces_and_paths_that_are_no_home_folder(text, shown):
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
