"""/healthz says the process serves; /readyz says whether its dependencies answer, naming each."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

log = logging.getLogger(__name__)


def _public_error(exc: Exception) -> str:
    """/readyz is public: name the kind of failure, keep host names and credentials in the log."""
    return f"{type(exc).__name__} (details in the application log)"


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
        log.warning("readyz: database check failed", exc_info=True)
        return {"ok": False, "error": _public_error(exc)}
    return {"ok": True, "vendor": connection.vendor}


def check_broker() -> dict[str, Any]:
    url = settings.CELERY_BROKER_URL
    if url.startswith("redis"):
        import redis

        try:
            client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
            client.ping()
        except Exception as exc:
            log.warning("readyz: broker check failed", exc_info=True)
            return {"ok": False, "kind": "redis", "error": _public_error(exc)}
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
    from siem.selectors import backlog

    try:
        pending = backlog()
    except Exception as exc:
        log.warning("readyz: SIEM backlog check failed", exc_info=True)
        return {"ok": False, "forwarding": "on", "error": _public_error(exc)}
    # Not ready when the oldest undelivered event waits longer than SIEM_BACKLOG_MAX_AGE_MINUTES:
    # the SIEM is then missing events it should have had (the forwarder runs every minute).
    return {
        "ok": not pending.too_old,
        "forwarding": "on",
        "host": settings.SIEM_HOST,
        "port": settings.SIEM_PORT,
        "backlog": pending.count,
        "oldest_undelivered_age_seconds": round(pending.age_seconds, 1)
        if pending.age_seconds is not None
        else None,
        "max_age_minutes": settings.SIEM_BACKLOG_MAX_AGE_MINUTES,
        "delivered_up_to": pending.delivered_up_to,
    }


@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": check_database(), "broker": check_broker(), "siem": check_siem()}
    failing = sorted(name for name, result in checks.items() if not result["ok"])
    body = {"status": "ok" if not failing else "unavailable", "failing": failing, "checks": checks}
    return JsonResponse(body, status=200 if not failing else 503)
