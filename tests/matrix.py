"""The one harness for permission matrices (NetBox's generic API tests): an endpoint, the route
walker, the cell runner, and ``last_sequence``.

Every matrix has one shape: ``ENDPOINTS`` (name → ``Endpoint``, the columns) and ``EXPECTED``
(caller → one status per column, in ``ENDPOINTS``' order), checked by ``assert_table_shape`` and
turned into one test per cell by ``cells``. A test module adds what its cells store or answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from audit.models import AuditEvent
from tests.personas import PERSONAS, Cast

ANONYMOUS = "anonymous"
CALLERS = [*PERSONAS, ANONYMOUS]


@dataclass(frozen=True)
class Endpoint:
    """One column: a route (by name, so the table can be checked against every route that exists),
    the method, the path, and the body. Path and body may depend on the test's world (``world``:
    the cast, or a module's richer fixture), so they are a text or a function of it."""

    url_name: str
    method: str
    path: str | Callable[[Any], str]
    body: Callable[[Any], dict[str, Any]] | None = None

    def url(self, world: Any) -> str:
        return self.path if isinstance(self.path, str) else self.path(world)

    def data(self, world: Any) -> dict[str, Any] | None:
        return self.body(world) if self.body is not None else None


def route_names(*view_modules: str) -> set[str]:
    """The names of every route served by a class-based view of these modules."""
    names: set[str] = set()

    def walk(patterns: Iterable[Any]) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern):
                view_class = getattr(pattern.callback, "view_class", None)
                if view_class is not None and view_class.__module__ in view_modules:
                    names.add(pattern.name or str(pattern.pattern))

    walk(get_resolver().url_patterns)
    return names


def assert_table_shape(expected: Mapping[str, tuple[int, ...]], endpoints: Mapping[str, Endpoint]) -> None:
    """One row per caller (every persona and the anonymous caller), one status per column."""
    assert set(expected) == set(CALLERS)
    assert all(len(row) == len(endpoints) for row in expected.values())


def cells(expected: Mapping[str, tuple[int, ...]], endpoints: Mapping[str, Endpoint]) -> list[Any]:
    """``(caller, endpoint, expected status)`` for every cell, one pytest param each."""
    return [
        pytest.param(caller, name, expected[caller][i], id=f"{name}-{caller}")
        for caller in CALLERS
        for i, name in enumerate(endpoints)
    ]


def call(cast: Cast, caller: str, endpoint: Endpoint, world: Any = None) -> Any:
    """The caller's request to the endpoint, through routing and permissions (never a view method)."""
    client = cast.api(None if caller == ANONYMOUS else caller)
    world = cast if world is None else world
    return getattr(client, endpoint.method)(endpoint.url(world), endpoint.data(world), format="json")


def assert_status(response: Any, expected: int) -> None:
    """The status the table says; a refusal in the contract's shape: one error about no field."""
    assert response.status_code == expected, response.content
    if expected >= 400:
        errors = response.json()["errors"]
        assert len(errors) == 1 and errors[0]["field"] is None and errors[0]["message"]
        if expected == 401:
            assert response.headers["WWW-Authenticate"] == "Bearer"


def last_sequence() -> int:
    """The sequence number of the trail's newest event (0 when empty): what a cell compares with."""
    return AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0


def events_since(sequence: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(sequence__gt=sequence).order_by("sequence"))
