"""The scopes a machine client may hold, as the contract names them."""

from django.db import models


class Scope(models.TextChoices):
    AUTHZ_CHECK = "authz:check", "authz:check"
    AUDIT_WRITE = "audit:write", "audit:write"
    CASES_WRITE = "cases:write", "cases:write"
    HASHTOTALS_WRITE = "hashtotals:write", "hashtotals:write"
    PRIVILEGE_WRITE = "privilege:write", "privilege:write"
    EXPORT_CHECK = "export:check", "export:check"
    REPORTS_WRITE = "reports:write", "reports:write"
