"""This project's own test reports: ``make test`` writes the suite's JUnit XML, and the demo data of
``make run`` loads a release with the committed reports of this project's own unit, integration and
browser tests (``test_reports/demo/``), through the services."""

from __future__ import annotations

import io
import re
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

from audit.actor import Actor
from audit.models import AuditEvent
from test_reports.demo_release import FILES, FOLDER, VERSION, demo_release_load
from test_reports.models import Release, Report

ROOT = Path(settings.BASE_DIR)


def test_the_committed_reports_are_real_pytest_runs_of_this_suite():
    for kind, name in FILES.items():
        text = (FOLDER / name).read_text()
        assert '<testsuite name="pytest"' in text, name
        classes = set(re.findall(r'classname="([\w.]+)"', text))
        assert classes and all(cls.startswith("tests.") for cls in classes), (name, classes)
        if kind == "regression":
            assert all(cls.startswith("tests.browser.") for cls in classes)
        else:
            assert not any(cls.startswith("tests.browser.") for cls in classes)


def test_the_demo_release_loads_the_three_reports_through_the_services(db):
    sequence = AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0
    release = demo_release_load(by=Actor.command("seed_demo"))
    assert release.version == VERSION
    reports = {report.kind: report for report in Report.objects.filter(release=release)}
    assert set(reports) == {"unit", "integration", "regression"}
    for kind, report in reports.items():
        assert (report.format, report.tool) == ("junit", "pytest")
        assert (
            report.tests > 0
            and report.passed + report.failed + report.errors + report.skipped == report.tests
        )
        text = (FOLDER / FILES[kind]).read_text()
        assert report.tests == len(set(re.findall(r'<testcase classname="([^"]+)" name="([^"]+)"', text)))
    actions = list(AuditEvent.objects.filter(sequence__gt=sequence).values_list("action", flat=True))
    assert actions == [
        "release.created",
        "test_report.uploaded",
        "test_report.uploaded",
        "test_report.uploaded",
    ]


def test_seed_demo_publishes_the_demo_release(db, tmp_path, settings):
    settings.DATA_DIR = tmp_path
    call_command("seed_demo", stdout=io.StringIO())
    release = Release.objects.get(version=VERSION)
    assert release.reports.count() == 3


def test_make_test_writes_the_suites_junit_xml_where_git_ignores_it():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"pytest --junitxml=\$\(JUNIT_XML\)", makefile)
    assert "JUNIT_XML ?= reports/pytest-$(if $(DATABASE_URL),postgresql,sqlite).xml" in makefile
    assert "/reports/" in (ROOT / ".gitignore").read_text().splitlines()
