"""Who may publish test reports: machine clients with ``reports:write`` (CI), and people with the
engineer role (software engineers make the releases), in the browser or with a personal token.
Administrators manage the CI clients but do not publish results themselves. Every signed-in person
reads them (docs/test-reports.md, "Who may do what")."""

from __future__ import annotations

from typing import Any

from people.roles import Role, has_role

WRITE_SCOPE = "reports:write"
UPLOADER_ROLES = (Role.ENGINEER,)


def may_publish(user: Any) -> bool:
    return bool(user and user.is_authenticated and has_role(user, *UPLOADER_ROLES))
