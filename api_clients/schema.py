"""How the OpenAPI schema at /api/schema/ describes our bearer tokens: drf-spectacular cannot guess a
custom authentication class, and without this the schema shows no security at all."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api_clients.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API client's token, or a person's personal token for scripts.",
        }
