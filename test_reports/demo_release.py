"""The demo's release: this project's own test reports (``make demo-reports`` made them from real
runs of its suite and they are committed in ``test_reports/demo/``), loaded through the services like
any upload, so a newcomer sees real reports at once. ``seed_demo`` calls ``demo_release_load``."""

from __future__ import annotations

from pathlib import Path

from django.utils import timezone

from audit.actor import Actor
from test_reports import services
from test_reports.models import Release

FOLDER = Path(__file__).resolve().parent / "demo"
VERSION = "governance-0.1.0"
# kind -> file: the browser tests are this project's regression tests (end to end, in Chromium).
FILES = {"unit": "unit.xml", "integration": "integration.xml", "regression": "browser.xml"}
NOTES = (
    "This project's own test suite (Hansken Governance), as committed in test_reports/demo/: "
    "unit = tests that need no database, integration = API and page tests, "
    "regression = the browser tests in Chromium."
)


def demo_release_load(*, by: Actor) -> Release:
    release = services.release_create(version=VERSION, released_at=timezone.now(), notes=NOTES, by=by)
    for kind, name in FILES.items():
        with (FOLDER / name).open("rb") as source:
            services.report_upload(release=release, kind=kind, source=source, original_name=name, by=by)
    return release
