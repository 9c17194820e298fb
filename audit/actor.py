"""Who is acting: a person (browser session or personal token) or a machine client, from where, in
which request. Every service takes one, so its audit event can say who did what from where."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from hansken_governance.request_context import client_address


@dataclass(frozen=True)
class Actor:
    username: str
    role: str = ""
    client_name: str = ""
    environment: str = ""
    on_behalf_of: str = ""
    source_address: str | None = None
    request_id: str = ""
    channel: str = ""  # "browser", "api", "command", "task"
    user_id: int | None = None

    @classmethod
    def system(cls, what: str) -> Actor:
        """The application itself, e.g. a scheduled sweep (``what`` names it)."""
        return cls(username=f"system:{what}", channel="task")

    @classmethod
    def command(cls, name: str) -> Actor:
        import getpass

        try:
            operator = getpass.getuser()
        except Exception:  # no login name in some containers
            operator = "unknown"
        return cls(username=f"command:{name}", on_behalf_of=operator, channel="command")

    @classmethod
    def from_request(cls, request: Any) -> Actor:
        from api_clients.models import ApiClient, PersonalToken
        from people.roles import role_text, roles_of

        django_request: HttpRequest = getattr(request, "_request", request)
        auth = getattr(request, "auth", None)
        source = client_address(django_request)
        request_id = getattr(django_request, "request_id", "")
        if isinstance(auth, ApiClient):
            return cls(
                username=f"client:{auth.name}",
                client_name=auth.name,
                environment=auth.environment,
                source_address=source,
                request_id=request_id,
                channel="api",
            )
        user = request.user
        channel = "api" if isinstance(auth, PersonalToken) else "browser"
        return cls(
            username=user.get_username() if user.is_authenticated else "anonymous",
            role=role_text(roles_of(user)),
            source_address=source,
            request_id=request_id,
            channel=channel,
            user_id=user.pk if user.is_authenticated else None,
        )
