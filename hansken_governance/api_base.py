"""Shared pieces of the API: strict input serializers (unknown fields are an error, not silently
dropped), timezone-aware datetime input, and output in UTC."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db import models
from django.http import QueryDict
from rest_framework import serializers

from hansken_governance.json_keys import TWICE


class UTCDateTimeField(serializers.DateTimeField):
    """A time as the API states it everywhere: ISO 8601 in UTC with "Z" (as the decision and audit
    APIs write it), not in the server's display time zone."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("default_timezone", datetime.UTC)
        super().__init__(**kwargs)


class OutputSerializer(serializers.ModelSerializer):
    """A model's fields as the API answers them: times in UTC (``UTCDateTimeField``)."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: UTCDateTimeField,
    }


# Fields that take several values in a form (multipart or urlencoded), each given as its own part.
_MANY = (serializers.ListField, serializers.MultipleChoiceField, serializers.ManyRelatedField)


def repeated_fields(names: Iterable[str], *sources: Any) -> list[str]:
    """Which of ``names`` a form gives more than once, across ``sources`` (its data and its files:
    ``QueryDict``/``MultiValueDict``, or DRF's ``request.data`` holding both). Django would take
    the last silently; the API's ``StrictSerializer`` and the pages' upload forms refuse them."""
    return [
        name
        for name in names
        if sum(len(source.getlist(name)) for source in sources if hasattr(source, "getlist")) > 1
    ]


class StrictSerializer(serializers.Serializer):
    """An input serializer that names every field it does not know, instead of ignoring it, and, in a
    form (multipart or urlencoded), every field of one value given more than once: Django would take
    the last silently, so ``-F side=imported -F side=delivered`` or two ``file`` parts would store
    what the sender may not have meant."""

    def to_internal_value(self, data: Any) -> Any:
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, dict) else []
        unknown_errors = {name: ["This field is not known."] for name in unknown}
        if isinstance(data, QueryDict):
            single = [name for name, field in self.fields.items() if not isinstance(field, _MANY)]
            for name in repeated_fields(single, data):
                unknown_errors[name] = [TWICE % {"field": name}]
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
            raise serializers.ValidationError({**detail, **unknown_errors}) from exc
        if unknown_errors:
            raise serializers.ValidationError(unknown_errors)
        return value


def single_query_values(params: QueryDict) -> dict[str, str]:
    """The query's parameters, each with its one value. A parameter given twice (``?lang=en&lang=nl``,
    ``?status=open&status=kept``) has no one meaning, and ``QueryDict.dict()`` would quietly keep the
    last: refused with 400 and named, as an unknown one is. No API of ours takes a list in its query."""
    repeated = sorted(name for name, values in params.lists() if len(values) > 1)
    if repeated:
        raise serializers.ValidationError(
            {name: ["This parameter is given more than once."] for name in repeated}
        )
    return {name: str(values[0]) for name, values in params.lists()}


class StrictUUIDField(serializers.UUIDField):
    """A UUID given as a JSON string, as the contract says. DRF's own field also takes a JSON number
    and reads 5 as 00000000-0000-0000-0000-000000000005: a different project than the caller meant."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class AwareDateTimeField(serializers.DateTimeField):
    """ISO 8601 with an offset (the contract): a time without one is ambiguous and refused."""

    default_error_messages = {
        "naive": "Give the time with an offset, e.g. 2026-01-31T12:00:00Z.",
    }

    def to_internal_value(self, value: Any) -> Any:
        if isinstance(value, str) and value and not _has_offset(value):
            self.fail("naive")
        return super().to_internal_value(value)


def _has_offset(text: str) -> bool:
    tail = text.strip()[10:]  # past the date part
    return tail.endswith(("Z", "z")) or "+" in tail or "-" in tail
