"""Shapes of the OpenAPI schema shared by several apps' API views."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers


def results_of(name: str, item: type[serializers.Serializer[Any]]) -> Any:
    """A list answer as the views give it, ``{"results": [item, ...]}``, under its own component
    ``name`` (schemathesis found the lists described as bare arrays)."""
    return inline_serializer(name, {"results": item(many=True)})
