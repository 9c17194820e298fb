from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.audit_helpers import empty_audit_trail
from tests.personas import Cast, build_cast


@pytest.fixture
def cast(db: None) -> Cast:
    return build_cast()


@pytest.fixture(autouse=True)
def _audit_trail_emptied_before_flush(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a transactional test, empty the append-only audit trail through the purge door before
    Django flushes the database (``tests.audit_helpers``)."""
    marker = request.node.get_closest_marker("django_db")
    if "transactional_db" not in request.fixturenames and not (marker and marker.kwargs.get("transaction")):
        yield
        return
    request.getfixturevalue("transactional_db")
    yield
    empty_audit_trail()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None) -> Iterator[None]:
    """The decision cache's listening connection (``authz.change_feed``) is closed before the test
    database is dropped (PostgreSQL refuses to drop a database with sessions)."""
    from authz.change_feed import change_feed

    yield
    change_feed.close()
