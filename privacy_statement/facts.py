"""Live facts the statement may name, and the placeholders that carry them.

The author writes ``{{ audit_retention_days }}`` where the statement names how long the audit trail
is kept; previews and publication put the value in force at that moment in its place, and the
published version keeps the values it was published with (``StatementVersion.facts``). When a value
changes later (a setting, or the retention policy), ``stale_facts`` names the difference, so the
privacy officer is warned that a published statement no longer tells the truth.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")


def _production_rules() -> Any:
    # The retention policy lives in the database (the privacy officer sets it per environment);
    # production's is the one the statement describes.
    from retention.policies import policy_map

    return policy_map().environments["production"]


@dataclass(frozen=True)
class Fact:
    name: str
    label: Promise
    value: Callable[[], int]


FACTS: tuple[Fact, ...] = (
    Fact(
        "audit_retention_days",
        _("Days the audit trail keeps an event (HG_AUDIT_RETENTION_DAYS)"),
        lambda: int(settings.HG_AUDIT_RETENTION_DAYS),
    ),
    Fact(
        "grant_max_days",
        _("Longest a grant may run, in days (HG_GRANT_MAX_DAYS)"),
        lambda: int(settings.HG_GRANT_MAX_DAYS),
    ),
    Fact(
        "inactivity_days",
        _("Days without use after which case data gets a retention notice (production's retention policy)"),
        lambda: int(_production_rules().inactivity_days),
    ),
    Fact(
        "closure_limit_days",
        _("Longest stay of case data after its case is closed, in days (production's retention policy)"),
        lambda: int(_production_rules().closure_limit_days),
    ),
)
FACT_NAMES = frozenset(fact.name for fact in FACTS)


def live_facts() -> dict[str, int]:
    return {fact.name: fact.value() for fact in FACTS}


def placeholders_in(text: str) -> list[str]:
    """The placeholder names a text uses, in order of first use."""
    return list(dict.fromkeys(PLACEHOLDER.findall(text)))


def unknown_placeholders(*texts: str) -> list[str]:
    return [name for text in texts for name in placeholders_in(text) if name not in FACT_NAMES]


def substitute(text: str, facts: dict[str, Any]) -> str:
    """The text with each placeholder replaced by its value; an unknown one stays as written (the
    services refuse those before anything is stored)."""
    return PLACEHOLDER.sub(lambda match: str(facts.get(match.group(1), match.group(0))), text)


@dataclass(frozen=True)
class StaleFact:
    name: str
    label: Promise
    published: Any
    now: int


def stale_facts(version: Any, now: dict[str, int] | None = None) -> list[StaleFact]:
    """The facts a published version names (in either language) whose value is no longer the one it
    was published with."""
    now = live_facts() if now is None else now
    used = set(placeholders_in(version.source_nl)) | set(placeholders_in(version.source_en))
    return [
        StaleFact(fact.name, fact.label, version.facts.get(fact.name), now[fact.name])
        for fact in FACTS
        if fact.name in used and version.facts.get(fact.name) != now[fact.name]
    ]
