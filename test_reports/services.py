"""The only writers of release test reports: ``release_create`` and ``report_upload``. Each checks
everything before it stores anything and writes its audit event in the same transaction; a report
that cannot be read completely is refused (``ValidationError`` naming the problem) with nothing
stored."""

from __future__ import annotations

import datetime
import io
from typing import BinaryIO

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.actor import Actor
from audit.services import audit_record
from hansken_governance.service_errors import refusal
from test_reports import actions
from test_reports.models import VERSION, Kind, NotPassedTest, Release, Report
from test_reports.parsers import ParsedReport, ReportRefused, read_report
from test_reports.parsers.publish import publishable
from test_reports.upload import CHUNK, HashingReader, TooLarge, max_bytes

BATCH = 2000
NOTES_LIMIT = 10_000
# A release may be announced before its date, but not for a year from now or more: a date far ahead
# (2999, a slip of the keyboard) would sort first in the list for ever and can never be changed.
RELEASED_AHEAD = datetime.timedelta(days=366)


@transaction.atomic
def release_create(
    *,
    version: str,
    released_at: datetime.datetime,
    notes: str,
    by: Actor,
    now: datetime.datetime | None = None,
) -> Release:
    if not VERSION.match(version or ""):
        raise refusal(
            "version",
            "Give a version of at most 100 letters, digits, dots, dashes, underscores or plus signs, "
            "starting with a letter or digit.",
            "version_invalid",
        )
    if timezone.is_naive(released_at):
        raise refusal("released_at", "Give the time with an offset.", "time_naive")
    now = now or timezone.now()
    if released_at > now + RELEASED_AHEAD:
        raise refusal(
            "released_at",
            "A release date more than a year ahead is refused: give the day the release is made.",
            "released_far_ahead",
        )
    if len(notes) > NOTES_LIMIT:
        raise refusal("notes", "Keep the notes under %(limit)s characters.", "notes_long", limit=NOTES_LIMIT)
    if Release.objects.filter(version=version).exists():
        raise refusal("version", "Release %(version)s exists already.", "release_exists", version=version)
    try:
        with transaction.atomic():
            release = Release.objects.create(
                version=version, released_at=released_at, notes=notes, created_by=by.username, created_at=now
            )
    except IntegrityError:  # posted twice at the same moment: the other request won
        raise refusal(
            "version", "Release %(version)s exists already.", "release_exists", version=version
        ) from None
    audit_record(
        action=actions.RELEASE_CREATED,
        actor=by,
        object_type="release",
        object_id=release.pk,
        details={"version": version, "released_at": released_at.isoformat(), "notes": notes},
        occurred_at=now,
    )
    return release


def _read(source: BinaryIO) -> tuple[ParsedReport, str, int]:
    source.seek(0)
    counted = HashingReader(source, max_bytes())
    stream = io.BufferedReader(counted, CHUNK)
    try:
        parsed = read_report(stream)
        while stream.read(CHUNK):  # what the reader left (a trailing newline): the hash covers it all
            pass
    except TooLarge as large:
        raise refusal(
            "file",
            "The file is larger than %(limit)s bytes, the most a test report may be.",
            "too_large",
            limit=large.limit,
        ) from None
    except ReportRefused as refused:
        raise refusal("file", refused.template, refused.code, **refused.params) from None
    return parsed, counted.digest.hexdigest(), counted.size


@transaction.atomic
def report_upload(
    *,
    release: Release,
    kind: str,
    source: BinaryIO,
    original_name: str,
    by: Actor,
    now: datetime.datetime | None = None,
) -> Report:
    """Read ``source`` (JUnit XML or CTRF JSON) and store it as a ``kind`` report of ``release``."""
    if kind not in Kind.values:
        raise refusal("kind", "Choose unit, integration or regression.", "kind_unknown")
    parsed, sha256, size = _read(source)
    if Report.objects.filter(release=release, kind=kind, sha256=sha256).exists():
        raise refusal(
            "file",
            "This file was uploaded already as a %(kind)s report of %(version)s.",
            "report_exists",
            kind=kind,
            version=release.version,
        )
    now = now or timezone.now()
    report = Report.objects.create(
        release=release,
        kind=kind,
        format=parsed.format,
        tool=parsed.tool[:50],
        file_name=publishable(original_name, 255).split("\n", 1)[0],
        sha256=sha256,
        file_size=size,
        tests=parsed.tests,
        passed=parsed.passed,
        failed=parsed.failed,
        errors=parsed.errors,
        skipped=parsed.skipped,
        flaky=parsed.flaky,
        duration_seconds=parsed.duration_seconds,
        uploaded_by=by.username,
        uploaded_at=now,
    )
    batch: list[NotPassedTest] = []
    for ordinal, case in enumerate(parsed.not_passed):
        batch.append(
            NotPassedTest(
                report=report,
                ordinal=ordinal,
                outcome=str(case.outcome),
                suite=case.suite,
                classname=case.classname,
                name=case.name,
                message=case.message,
                details=case.details,
            )
        )
        if len(batch) == BATCH:
            NotPassedTest.objects.bulk_create(batch)
            batch = []
    NotPassedTest.objects.bulk_create(batch)
    audit_record(
        action=actions.REPORT_UPLOADED,
        actor=by,
        object_type="test_report",
        object_id=report.pk,
        details={
            "version": release.version,
            "kind": kind,
            "format": report.format,
            "tool": report.tool,
            "file_name": report.file_name,
            "sha256": sha256,
            "file_size": size,
            "counts": report.counts(),
        },
        occurred_at=now,
    )
    return report
