"""The API's JSON parser: DRF's own, with JSON nested too deeply for Python a 400 like any other
malformed body, instead of a RecursionError (a 500).

Python's json module recurses once per level of nesting, so a body of 100,000 opening brackets
exhausts the interpreter's recursion limit. Nothing the contract accepts nests more than a few
levels (usage event details at most ``audit.usage.MAX_DETAILS_DEPTH``), so such a body is refused
whole, before any view sees it (and ``api_errors.contract_exception_handler`` answers the same
400 when a body that just parsed exhausts the stack later, in a field). The decision API's fast
path parses with orjson, which refuses more than 1,024 levels with its own ``JSONDecodeError``
(``authz.api.decision_views``).
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class GovernanceJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body nests too deeply.") from None
