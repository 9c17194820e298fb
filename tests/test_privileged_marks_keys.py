"""The database itself keeps privileged marks and their versions consistent, whoever writes: a mark
names an existing dataset and, on PostgreSQL, exactly that dataset's case; a version names an
existing mark and, on PostgreSQL, exactly that mark's case; a mark with versions cannot be
deleted. On PostgreSQL these are two composite foreign keys (``privilege.0003``), on SQLite the
single ones Django made. Rows are written here straight to the tables, past the service, because
the point is what the database refuses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from privilege.models import PrivilegedMark, PrivilegedMarkVersion
from tests.personas import Cast
from tests.privilege_helpers import mark, post_marks

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="composite foreign keys are PostgreSQL's (privilege.0003)"
)


def _refused_by_the_database(write: Callable[[], Any]) -> None:
    """``write`` fails on a foreign key, checked now rather than at the commit (the keys are
    deferred, and a test's transaction never commits)."""
    with pytest.raises(IntegrityError), transaction.atomic():
        write()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        else:
            connection.check_constraints()


def _stored_mark(cast: Cast) -> PrivilegedMark:
    post_marks(cast, mark("0-3", "suspected"))
    return PrivilegedMark.objects.get(trace_id="0-3")


def _mark_row(**fields: Any) -> None:
    now = timezone.now()
    PrivilegedMark.objects.create(
        trace_id="0-9", status="confirmed", marked_at=now, recorded_at=now, **fields
    )


def _version_row(**fields: Any) -> None:
    now = timezone.now()
    PrivilegedMarkVersion.objects.create(
        version=2, status="confirmed", previous_status="suspected", marked_at=now, recorded_at=now, **fields
    )


def test_a_mark_of_the_right_case_and_dataset_is_stored(cast: Cast):
    _mark_row(case=cast.case, dataset=cast.dataset)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        else:
            connection.check_constraints()
    assert PrivilegedMark.objects.filter(trace_id="0-9", case=cast.case).exists()


def test_a_mark_of_a_dataset_that_does_not_exist_is_refused(cast: Cast):
    _refused_by_the_database(lambda: _mark_row(case=cast.case, dataset_id=cast.dataset.pk + 1000))


def test_a_version_of_a_mark_that_does_not_exist_is_refused(cast: Cast):
    stored = _stored_mark(cast)
    _refused_by_the_database(lambda: _version_row(mark_id=stored.pk + 1000, case=cast.case))


def test_a_mark_with_versions_cannot_be_deleted(cast: Cast):
    stored = _stored_mark(cast)

    def delete() -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {PrivilegedMark._meta.db_table} WHERE id = %s", [stored.pk])  # noqa: S608  # the model's table name

    _refused_by_the_database(delete)


@postgresql_only
def test_a_mark_naming_another_case_than_its_datasets_is_refused(cast: Cast):
    _refused_by_the_database(lambda: _mark_row(case=cast.other_case, dataset=cast.dataset))


@postgresql_only
def test_a_version_naming_another_case_than_its_marks_is_refused(cast: Cast):
    stored = _stored_mark(cast)
    _refused_by_the_database(lambda: _version_row(mark=stored, case=cast.other_case))


@postgresql_only
def test_a_marks_case_cannot_be_changed_away_from_its_dataset(cast: Cast):
    stored = _stored_mark(cast)
    _refused_by_the_database(lambda: PrivilegedMark.objects.filter(pk=stored.pk).update(case=cast.other_case))
