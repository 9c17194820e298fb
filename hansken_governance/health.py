"""/healthz says the process serves; /readyz says whether its dependencies answer, naming each."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def check_database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    return {"ok": True, "vendor": connection.vendor}


def check_broker() -> dict[str, Any]:
    url = settings.CELERY_BROKER_URL
    if url.startswith("redis"):
        import redis

        try:
            client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
            client.ping()
        except Exception as exc:
            return {"ok": False, "kind": "redis", "error": f"{type(exc).__name__}: {exc}"}
        return {"ok": True, "kind": "redis"}
    folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return {"ok": False, "kind": "filesystem", "error": str(exc)}
    if not os.access(folder, os.W_OK):
        return {"ok": False, "kind": "filesystem", "error": f"{folder} is not writable"}
    return {"ok": True, "kind": "filesystem"}


def check_siem() -> dict[str, Any]:
    if not settings.SIEM_HOST:
        return {
            "ok": True,
            "forwarding": "off",
            "detail": "SIEM_HOST is not set: audit events are not forwarded.",
        }
    # The backlog is measured by the SIEM forwarder once it exists (SIEM issue).
    return {"ok": True, "forwarding": "on", "host": settings.SIEM_HOST, "port": settings.SIEM_PORT}


@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": check_database(), "broker": check_broker(), "siem": check_siem()}
    failing = sorted(name for name, result in checks.items() if not result["ok"])
    body = {"status": "ok" if not failing else "unavailable", "failing": failing, "checks": checks}
    return JsonResponse(body, status=200 if not failing else 503)
