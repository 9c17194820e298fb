"""Container health checks: ``python -m tools.healthcheck {web,worker,beat}``.

Exit 0 when healthy, 1 otherwise (Docker's HEALTHCHECK convention), with one line saying why.

- ``web``: ``/healthz`` answers 200 on the local port. The request carries the first allowed host
  and says it came over HTTPS, as the TLS proxy in front would, so neither the host check nor the
  HTTPS redirect gets in the way of a probe from inside the container.
- ``worker``: this container's Celery worker answers a ping through the broker.
- ``beat``: the broker answers (beat has nothing to ping; its process is the container's own).
"""

from __future__ import annotations

import os
import socket
import sys
import urllib.error
import urllib.request

TIMEOUT_SECONDS = 5.0


def _probe_host() -> str:
    first = os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",")[0].strip()
    # ".example.org" allows example.org and its subdomains; "*" is no host name at all.
    host = first.lstrip(".")
    return host if host and host != "*" else "localhost"


def check_web() -> tuple[bool, str]:
    port = int(os.environ.get("HG_PORT", "8000"))
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/healthz",
        headers={"Host": _probe_host(), "X-Forwarded-Proto": "https"},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 (fixed http URL)  # nosec B310  # a fixed http URL on loopback
            return response.status == 200, f"/healthz answered {response.status}"
    except urllib.error.HTTPError as exc:
        return False, f"/healthz answered {exc.code}"
    except OSError as exc:
        return False, f"/healthz did not answer: {exc}"


def check_worker() -> tuple[bool, str]:
    from hansken_governance.celery import app

    node = f"celery@{socket.gethostname()}"
    replies = app.control.ping(destination=[node], timeout=TIMEOUT_SECONDS)
    if any(node in reply for reply in replies):
        return True, f"{node} answered"
    return False, f"{node} did not answer a ping"


def check_beat() -> tuple[bool, str]:
    import django

    django.setup()
    from hansken_governance.health import check_broker

    result = check_broker()
    return bool(result["ok"]), f"broker: {result}"


CHECKS = {"web": check_web, "worker": check_worker, "beat": check_beat}


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in CHECKS:
        print(f"usage: python -m tools.healthcheck {{{','.join(CHECKS)}}}", file=sys.stderr)
        return 2
    try:
        healthy, detail = CHECKS[argv[0]]()
    except Exception as exc:  # a health check reports trouble, it does not crash with a traceback
        healthy, detail = False, f"{type(exc).__name__}: {exc}"
    print(f"{argv[0]}: {'healthy' if healthy else 'unhealthy'}: {detail}")
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
