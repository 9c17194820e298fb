"""Hansken environments. Experiment is treated as production in every rule (seed measure 5); only
production may change security settings."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Environment(models.TextChoices):
    PRODUCTION = "production", _("Production")
    EXPERIMENT = "experiment", _("Experiment")
    TEST = "test", _("Test")
    DEVELOPMENT = "development", _("Development")


# Environments whose clients may do more than ask for decisions and report usage.
MANAGEMENT_ENVIRONMENTS = frozenset({Environment.PRODUCTION, Environment.TEST, Environment.DEVELOPMENT})
# Scopes an experiment-environment client may hold: it authorises against us and reports usage,
# and cannot change anything (seed measure 5).
EXPERIMENT_SCOPES = frozenset({"authz:check", "audit:write"})


# Environments without case data: their clients may register and use test cases only, never touch
# a real case or its usage events, and their usage events never move a case's last access
# (cases.models.Case.is_real, docs/authorisations.md).
TEST_ENVIRONMENTS = frozenset({Environment.TEST.value, Environment.DEVELOPMENT.value})
# Environments whose usage events can be a real access to case data.
CASE_DATA_ENVIRONMENTS = frozenset({Environment.PRODUCTION.value, Environment.EXPERIMENT.value})


def may_change_security_settings(environment: str) -> bool:
    return environment == Environment.PRODUCTION


# Where case data lives: what a grant (or an access request) may name, and the only environments in
# which a decision can allow anything.
GRANT_ENVIRONMENTS = frozenset({Environment.PRODUCTION.value, Environment.EXPERIMENT.value})
GRANT_ENVIRONMENT_CHOICES = [
    (Environment.PRODUCTION.value, Environment.PRODUCTION.label),
    (Environment.EXPERIMENT.value, Environment.EXPERIMENT.label),
]
