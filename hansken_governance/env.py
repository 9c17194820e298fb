"""Typed readers for settings taken from the environment.

Secrets may come from ``NAME`` or from a file named by ``NAME_FILE`` (Docker/Kubernetes secrets), as
healthchecks' ``envsecret`` does. A required setting that is missing raises at start-up: the
application fails closed instead of running with a guessed value.
"""

from __future__ import annotations

import ipaddress
import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class MissingSetting(ImproperlyConfigured):
    pass


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None:
        if default is None:
            raise MissingSetting(f"The setting {name} is required and has no default.")
        return default
    return value


def env_optional(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"The setting {name} must be true or false, not {raw!r}.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"The setting {name} must be a whole number, not {raw!r}.") from exc


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [part.strip() for part in raw.split(",") if part.strip()]


def env_networks(name: str) -> tuple[str, ...]:
    """Comma-separated addresses or networks (CIDR); one that is neither stops the start-up, so a
    typo never silently trusts (or distrusts) somebody else."""
    entries = env_list(name)
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"The setting {name} holds {entry!r}, which is not an address or network (CIDR)."
            ) from exc
    return tuple(entries)


def env_secret(name: str) -> str | None:
    """The secret from NAME, or from the file named by NAME_FILE; None when neither is set."""
    value = os.environ.get(name)
    if value:
        return value
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            with open(path, encoding="utf-8") as handle:
                secret = handle.read().strip()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"{name}_FILE points at {path!r}, which cannot be read: {exc}"
            ) from exc
        if not secret:
            raise ImproperlyConfigured(f"{name}_FILE points at {path!r}, which is empty.")
        return secret
    return None


def env_required_secret(name: str) -> str:
    secret = env_secret(name)
    if not secret:
        raise MissingSetting(f"The secret {name} (or {name}_FILE) is required and has no default.")
    return secret
