"""The envelope of a bulk request (``{"<key>": [item, ...]}``), read one way for every bulk endpoint.

Usage events and privileged marks arrive in the same shape; reading the envelope and collecting the
items' errors (each with its ``index``, the first ``MAX_ERRORS`` only) in one place keeps the
contract's error shape and limits identical between them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from hansken_governance.api_errors import error

# A request with thousands of bad items gets the first hundred errors, not a megabyte of them.
MAX_ERRORS = 100
T = TypeVar("T")


class BulkProblem(Exception):
    """The request cannot be stored; ``errors`` are in the contract's shape."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors)
        self.errors = errors


class BadItem(Exception):
    """One item's problem: the field it lies in (``None``: the item as a whole) and plain words."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def parse_bulk(body: Any, *, key: str, noun: str, limit: int, parse_item: Callable[[Any], T]) -> list[T]:
    """The items of ``body[key]``, each read by ``parse_item`` (which raises ``BadItem``), or
    ``BulkProblem`` naming every problem found (with the item's index)."""
    if not isinstance(body, dict):
        raise BulkProblem([error(f"The body must be a JSON object with '{key}'.")])
    unknown = sorted(set(body) - {key})
    if unknown:
        raise BulkProblem([error("This field is not known.", name) for name in unknown])
    items = body.get(key)
    if not isinstance(items, list) or not items:
        raise BulkProblem([error(f"Give '{key}': a list of 1 to {limit:,} {noun}.", key)])
    if len(items) > limit:
        raise BulkProblem(
            [error(f"At most {limit:,} {noun} per request ({len(items):,} sent); split it.", key)]
        )
    parsed: list[T] = []
    errors: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        try:
            parsed.append(parse_item(item))
        except BadItem as bad:
            errors.append(error(bad.message, bad.field, index))
            if len(errors) >= MAX_ERRORS:
                break
    if errors:
        raise BulkProblem(errors)
    return parsed
