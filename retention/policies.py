"""Which retention rules govern a dataset.

A case's own policy (an override) wins. Otherwise a dataset held in several environments follows the
strictest rule of each kind among them (shortest threshold, interval and limit): a copy in any
environment is a copy to account for. An environment without a policy has the defaults.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Case as SqlCase
from django.db.models import Field, Value, When

from cases.models import Dataset
from hansken_governance.environments import Environment
from retention.models import (
    DEFAULT_CLOSURE_LIMIT_DAYS,
    DEFAULT_ESCALATION_DAYS,
    DEFAULT_INACTIVITY_DAYS,
    DEFAULT_REMINDER_DAYS,
    RetentionPolicy,
)


@dataclass(frozen=True)
class Rules:
    inactivity_days: int = DEFAULT_INACTIVITY_DAYS
    reminder_days: int = DEFAULT_REMINDER_DAYS
    escalation_days: int = DEFAULT_ESCALATION_DAYS
    closure_limit_days: int = DEFAULT_CLOSURE_LIMIT_DAYS

    @classmethod
    def of(cls, policy: RetentionPolicy) -> Rules:
        return cls(
            policy.inactivity_days, policy.reminder_days, policy.escalation_days, policy.closure_limit_days
        )


def strictest(rules: Iterable[Rules]) -> Rules:
    items = list(rules)
    if not items:
        return Rules()
    return Rules(
        min(r.inactivity_days for r in items),
        min(r.reminder_days for r in items),
        min(r.escalation_days for r in items),
        min(r.closure_limit_days for r in items),
    )


@dataclass(frozen=True)
class PolicyMap:
    """Every policy in force, read once: per environment (defaults filled in) and per case."""

    environments: dict[str, Rules]
    cases: dict[int, Rules]

    def for_environments(self, environments: Iterable[str]) -> Rules:
        known = [self.environments[e] for e in environments if e in self.environments]
        # A dataset in no known environment gets the strictest rules of all: better asked too early.
        return strictest(known) if known else strictest(self.environments.values())

    def for_dataset(self, dataset: Dataset) -> Rules:
        override = self.cases.get(dataset.case_id)
        return override if override is not None else self.for_environments(dataset.environments or [])

    def expression(self, pick: Callable[[Rules], Any], output_field: Field[Any, Any]) -> SqlCase:
        """One SQL CASE giving each dataset row ``pick(its rules)``: case overrides first, then one
        branch per combination of environments (stored sorted, as ``dataset_register`` keeps them),
        so the sweep needs no query per dataset or per policy."""
        whens: list[When] = []
        by_value: dict[Any, list[int]] = {}
        for case_id, rules in self.cases.items():
            by_value.setdefault(pick(rules), []).append(case_id)
        for value, case_ids in by_value.items():
            whens.append(When(case_id__in=sorted(case_ids), then=Value(value, output_field=output_field)))
        for combination in environment_combinations():
            value = pick(self.for_environments(combination))
            whens.append(When(environments=list(combination), then=Value(value, output_field=output_field)))
        fallback = pick(self.for_environments([]))
        return SqlCase(*whens, default=Value(fallback, output_field=output_field), output_field=output_field)


def environment_combinations() -> list[tuple[str, ...]]:
    values = sorted(Environment.values)
    return [combo for size in range(1, len(values) + 1) for combo in itertools.combinations(values, size)]


def policy_map() -> PolicyMap:
    environments = {env: Rules() for env in Environment.values}
    cases: dict[int, Rules] = {}
    for policy in RetentionPolicy.objects.all():
        if policy.case_id is not None:
            cases[policy.case_id] = Rules.of(policy)
        elif policy.environment:
            environments[policy.environment] = Rules.of(policy)
    return PolicyMap(environments, cases)
