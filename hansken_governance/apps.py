"""Django app configuration of the project package itself."""

from django.apps import AppConfig


class HanskenGovernanceConfig(AppConfig):
    name = "hansken_governance"
    verbose_name = "Hansken Governance"
