"""Test report files for the release test reports' tests: a tiny pytest module run for real (in
both JUnit families), and hand-written files in the shapes Maven Surefire (with reruns and flaky
tests), Gradle, Ant and CTRF write. Their headers are deliberately wrong: counts must come from the
test cases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

# A pytest module with one test of each outcome pytest writes into JUnit XML.
PYTEST_MODULE = """
import pytest

@pytest.fixture
def broken_setup():
    raise RuntimeError("setup broke at /home/alice/ci/hansken/tests/fixtures/db.py")

@pytest.fixture
def broken_teardown():
    yield
    raise RuntimeError("teardown broke")

def test_passes():
    assert True

def test_fails():
    assert 1 == 2, "<script>alert('x')</script>"

def test_errors_in_setup(broken_setup):
    pass

def test_passes_then_errors_in_teardown(broken_teardown):
    pass

def test_fails_then_errors_in_teardown(broken_teardown):
    assert False, "call failed"

def test_skipped():
    pytest.skip("not on this machine")

@pytest.mark.xfail(reason="known bug")
def test_xfail():
    assert False

@pytest.mark.xfail(reason="fixed already")
def test_xpass():
    assert True

@pytest.mark.xfail(reason="must fail", strict=True)
def test_xpass_strict():
    assert True

@pytest.mark.parametrize("n", [1, 2])
def test_param(n):
    assert n == 1
"""

# What each test of PYTEST_MODULE counts as (the contract's outcome; "passed" is not listed).
PYTEST_OUTCOMES = {
    "test_fails": "failed",
    "test_errors_in_setup": "error",
    "test_passes_then_errors_in_teardown": "error",
    "test_fails_then_errors_in_teardown": "failed",
    "test_skipped": "skipped",
    "test_xfail": "skipped",
    "test_xpass_strict": "failed",
    "test_param[2]": "failed",
}
PYTEST_COUNTS = {"tests": 11, "passed": 3, "failed": 4, "errors": 2, "skipped": 2, "flaky": 0}


def run_pytest(folder: Path, family: str) -> Path:
    """Run PYTEST_MODULE with pytest in a subprocess, writing JUnit XML of ``family``."""
    (folder / "test_sample.py").write_text(PYTEST_MODULE)
    (folder / "empty.ini").write_text("[pytest]\n")
    out = folder / f"{family}.xml"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "PYTEST_"))}
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-c",
            str(folder / "empty.ini"),
            "--rootdir",
            str(folder),
            "-p",
            "no:django",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:hypothesispytest",
            f"--junitxml={out}",
            "-o",
            f"junit_family={family}",
            str(folder / "test_sample.py"),
        ],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 1, completed.stdout + completed.stderr  # some tests fail, on purpose
    return out


# Maven Surefire 3 with rerunFailingTestsCount=2: flaky tests passed on a rerun, a failure and an
# error that stayed; the build machine's class path, user name and home folder in <properties>.
SUREFIRE = b"""<?xml version="1.0" encoding="UTF-8"?>
<testsuite xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xsi:noNamespaceSchemaLocation="https://maven.apache.org/surefire/maven-surefire-plugin/xsd/surefire-test-report-3.0.xsd"
    version="3.0" name="nl.nfi.hansken.TraceTest" time="1.234" tests="9" errors="0" skipped="0" failures="0">
  <properties>
    <property name="java.class.path" value="/home/jenkins/.m2/repository/junit/junit/4.13.2/junit-4.13.2.jar"/>
    <property name="user.name" value="jenkins"/>
    <property name="user.home" value="/home/jenkins"/>
  </properties>
  <testcase name="readsTrace" classname="nl.nfi.hansken.TraceTest" time="0.010"/>
  <testcase name="flakyNetwork" classname="nl.nfi.hansken.TraceTest" time="0.200">
    <flakyFailure message="Connection reset" type="java.net.SocketException">
      <stackTrace>java.net.SocketException: Connection reset
\tat nl.nfi.hansken.Net.read(Net.java:42)</stackTrace>
      <system-out>token=s3cr3t-from-system-out</system-out>
    </flakyFailure>
  </testcase>
  <testcase name="flakyTimeout" classname="nl.nfi.hansken.TraceTest" time="0.300">
    <flakyError message="Timed out" type="java.util.concurrent.TimeoutException">
      <stackTrace>java.util.concurrent.TimeoutException: Timed out</stackTrace>
    </flakyError>
  </testcase>
  <testcase name="alwaysFails" classname="nl.nfi.hansken.TraceTest" time="0.100">
    <failure message="expected:&lt;1&gt; but was:&lt;2&gt;" type="java.lang.AssertionError">java.lang.AssertionError: expected:&lt;1&gt; but was:&lt;2&gt;
\tat nl.nfi.hansken.TraceTest.alwaysFails(/home/jenkins/workspace/hansken/src/test/java/nl/nfi/hansken/TraceTest.java:77)</failure>
    <rerunFailure message="expected:&lt;1&gt; but was:&lt;2&gt;" type="java.lang.AssertionError">
      <stackTrace>java.lang.AssertionError</stackTrace>
    </rerunFailure>
    <rerunFailure message="expected:&lt;1&gt; but was:&lt;2&gt;" type="java.lang.AssertionError">
      <stackTrace>java.lang.AssertionError</stackTrace>
    </rerunFailure>
    <system-out>user.home=/home/jenkins</system-out>
  </testcase>
  <testcase name="brokenSetup" classname="nl.nfi.hansken.TraceTest" time="0.001">
    <error message="Cannot open C:\\Users\\jenkins\\AppData\\Local\\Temp\\db.lock" type="java.io.IOException">java.io.IOException</error>
    <rerunError message="Cannot open" type="java.io.IOException"><stackTrace>java.io.IOException</stackTrace></rerunError>
  </testcase>
  <testcase name="ignored" classname="nl.nfi.hansken.TraceTest" time="0">
    <skipped message="not yet"/>
  </testcase>
  <system-err>JAVA_HOME=/usr/lib/jvm/java-17</system-err>
</testsuite>
"""  # noqa: E501
SUREFIRE_COUNTS = {"tests": 6, "passed": 3, "failed": 1, "errors": 1, "skipped": 1, "flaky": 2}
# What must never reach a page: the properties, system-out and system-err, and the user's folders.
SUREFIRE_SECRETS = ("jenkins", ".m2", "s3cr3t", "JAVA_HOME", "/usr/lib/jvm", "AppData")

# Gradle: one suite per class, empty properties and CDATA output.
GRADLE = b"""<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="nl.nfi.hansken.QueryTest" tests="1" skipped="0" failures="0" errors="0"
    timestamp="2026-11-30T10:00:00" hostname="build-7" time="0.5">
  <properties/>
  <testcase name="parses()" classname="nl.nfi.hansken.QueryTest" time="0.1"/>
  <testcase name="rejects()" classname="nl.nfi.hansken.QueryTest" time="0.1">
    <failure message="org.opentest4j.AssertionFailedError: expected: &lt;true&gt; but was: &lt;false&gt;"
        type="org.opentest4j.AssertionFailedError">org.opentest4j.AssertionFailedError</failure>
  </testcase>
  <testcase name="later()" classname="nl.nfi.hansken.QueryTest" time="0.0"><skipped/></testcase>
  <system-out><![CDATA[]]></system-out>
  <system-err><![CDATA[]]></system-err>
</testsuite>
"""
GRADLE_COUNTS = {"tests": 3, "passed": 1, "failed": 1, "errors": 0, "skipped": 1, "flaky": 0}

# Ant's junitreport: <testsuites> with id/package suites; one suite nests another, and a test of the
# same name in two suites is two tests.
ANT = b"""<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite id="0" package="nl.nfi.hansken" name="ExportTest" tests="2" failures="0" errors="0"
      hostname="ant-1" timestamp="2026-11-30T10:00:00" time="0.2">
    <properties><property name="basedir" value="/home/ant/hansken"/></properties>
    <testcase classname="nl.nfi.hansken.ExportTest" name="testExport" time="0.1"/>
    <testcase classname="nl.nfi.hansken.ExportTest" name="testBlocked" time="0.1">
      <error message="boom" type="java.lang.IllegalStateException">java.lang.IllegalStateException: boom</error>
    </testcase>
    <testsuite name="Nested" tests="1">
      <testcase classname="nl.nfi.hansken.ExportTest" name="testExport" time="0.1">
        <failure message="nested failure">trace</failure>
      </testcase>
    </testsuite>
  </testsuite>
</testsuites>
"""  # noqa: E501
ANT_COUNTS = {"tests": 3, "passed": 1, "failed": 1, "errors": 1, "skipped": 0, "flaky": 0}

CTRF = json.dumps(
    {
        "reportFormat": "CTRF",
        "specVersion": "0.0.0",
        "results": {
            "tool": {"name": "playwright"},
            "summary": {"tests": 99, "passed": 99, "failed": 0, "pending": 0, "skipped": 0, "other": 0},
            "tests": [
                {"name": "opens the case list", "status": "passed", "duration": 1200, "suite": "cases"},
                {
                    "name": "uploads a manifest",
                    "status": "failed",
                    "duration": 800,
                    "message": "Timeout 15000ms exceeded",
                    "trace": "at /Users/ci/work/hansken/e2e/upload.spec.ts:41:7",
                    "suite": ["hashtotals", "upload"],
                },
                {"name": "waits for SSO", "status": "skipped", "duration": 0},
                {"name": "privacy statement", "status": "pending", "duration": 0},
                {"name": "crashed worker", "status": "other", "message": "worker exited"},
                {"name": "retried once", "status": "passed", "flaky": True, "retries": 1, "duration": 50},
            ],
            "environment": {"buildName": "nightly", "osPlatform": "linux", "user": "ci-secret-user"},
        },
    }
).encode()
CTRF_COUNTS = {"tests": 6, "passed": 2, "failed": 1, "errors": 1, "skipped": 2, "flaky": 1}

# Bad input: each is refused, with nothing stored.
XML_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<testsuite name="bomb"><testcase classname="a" name="&lol3;"/></testsuite>
"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE testsuite [<!ENTITY passwd SYSTEM "file:///etc/passwd">]>
<testsuite name="xxe"><testcase classname="a" name="b"><failure message="&passwd;"/></testcase></testsuite>
"""
NOT_A_REPORT_XML = b"<?xml version='1.0'?><html><body><testcase name='x'/></body></html>"
NOT_A_REPORT_JSON = b'{"name": "package.json", "version": "1.0.0"}'
NOT_A_REPORT_TEXT = b"PASSED 10 of 10\n"
MALFORMED_XML = b'<testsuite name="cut"><testcase classname="a" name="b"><failure'
NO_TESTS = b'<testsuites name="empty"><testsuite name="none" tests="0"/></testsuites>'

# A key given twice in one object (refused: which one counts would be the parser's choice).
CTRF_TESTS_TWICE = (
    b'{"results": {"tests": [{"name": "a", "status": "passed"}],'
    b' "tests": [{"name": "b", "status": "failed"}]}}'
)
# The second <testcase> has no name (refused, as a CTRF test without one).
JUNIT_NAMELESS = (
    b'<testsuite name="s"><testcase classname="c" name="a"/><testcase classname="c"/></testsuite>'
)

# Home folders of build machines (user names alice, Alice Smith, bobby, Carol King, tooluser, and
# /root) in every field the readers keep.
JUNIT_HOMES = b"""<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="/home/tooluser/ci">
  <testsuite name="/home/alice/suite">
    <testcase classname="C:\\Users\\Alice Smith\\src\\Foo" name="test_read[/home/alice]">
      <failure message="at /Users/bobby/x.py">Trace C:\\Documents and Settings\\Carol King\\y.txt
  /home/alice/my project/tests/t.py:3 failed with /home/alice</failure>
    </testcase>
    <testcase classname="c" name="flaky">
      <flakyFailure message="/root/x failed">
        <stackTrace>at /home/alice:/home/bobby/lib.jar</stackTrace>
      </flakyFailure>
    </testcase>
    <testcase classname="c" name="skip"><skipped message="C:/Users/alice/skip"/></testcase>
    <testcase classname="c" name="cp">
      <failure message="cp=C:\\Users\\alice\\a.jar;C:\\Users\\Alice Smith\\b.jar"/>
    </testcase>
    <testcase classname="c" name="repr">
      <error message="e">'C:\\\\Users\\\\alice\\\\x.txt' ~alice/q/r</error>
    </testcase>
  </testsuite>
</testsuites>
"""
CTRF_HOMES = json.dumps(
    {
        "results": {
            "tool": {"name": "jest /home/tooluser"},
            "tests": [
                {
                    "name": "reads /home/alice/data/in.csv",
                    "status": "failed",
                    "suite": ["/Users/bobby/suite", "C:\\Users\\Alice Smith\\s"],
                    "filePath": "/home/alice/my project/tests/a.spec.ts",
                    "message": "cp=/home/alice/a.jar:/home/alice/b.jar",
                    "trace": "at C:\\Users\\Alice Smith\\src\\proj\\Foo.java:3\n at /home/alice",
                },
                {
                    "name": "retried",
                    "status": "passed",
                    "flaky": True,
                    "message": "in /root",
                    "trace": "C:\\Documents and Settings\\Carol King\\x",
                },
                {"name": "skip", "status": "skipped", "message": "file:///home/alice/x/y"},
                {
                    "name": "cp",
                    "status": "failed",
                    "message": "C:\\Users\\alice\\a.jar;C:\\Users\\Alice Smith\\b",
                },
                {"name": "other", "status": "other", "trace": "'C:\\\\Users\\\\alice\\\\x.txt' ~alice/q/r"},
            ],
        }
    }
).encode()
