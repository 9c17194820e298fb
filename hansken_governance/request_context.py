"""What the audit trail says about a request: its id (to tie an event to the request that caused it)
and where it came from (the client's address, also behind trusted reverse proxies)."""

import functools
import ipaddress
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

REQUEST_ID_HEADER = "X-Request-ID"


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        supplied = request.headers.get(REQUEST_ID_HEADER, "")
        # A caller's id is kept only when it is a sane token; anything else is replaced, never logged raw.
        if not (0 < len(supplied) <= 64 and all(c.isalnum() or c in "-_." for c in supplied)):
            supplied = str(uuid.uuid4())
        request.request_id = supplied  # type: ignore[attr-defined]
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = supplied
        return response


class ApiInEnglishMiddleware:
    """The API speaks English: Hansken and operators' scripts read its messages, whatever language a
    browser session chose. (Placed after LocaleMiddleware, so it has the last word for /api/.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            translation.activate("en")
            request.LANGUAGE_CODE = "en"
        return self.get_response(request)


# Headers that only a reverse proxy may set: they change what the application believes about the
# connection (Django's SECURE_PROXY_SSL_HEADER reads X-Forwarded-Proto).
PROXY_ONLY_HEADERS = ("HTTP_X_FORWARDED_PROTO",)


class TrustedProxyHeadersMiddleware:
    """Drops ``X-Forwarded-Proto`` unless the socket's peer is one of ``HG_TRUSTED_PROXIES``, the
    same rule that ``client_address`` applies to ``X-Forwarded-For``. Without it, any client that
    reaches the application directly could claim HTTPS: no redirect to HTTPS, and Django would treat
    the request as secure. Placed before ``SecurityMiddleware``, which reads the header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        drop_untrusted_proxy_headers(request)
        return self.get_response(request)


def drop_untrusted_proxy_headers(request: HttpRequest) -> None:
    """The rule of ``TrustedProxyHeadersMiddleware``, also applied by the decision fast path
    (``wsgi_handler``), which skips the middleware."""
    peer = request.META.get("REMOTE_ADDR") or None
    proxies: tuple[str, ...] = settings.HG_TRUSTED_PROXIES
    if not (proxies and peer is not None and _is_trusted(peer, proxies)):
        for header in PROXY_ONLY_HEADERS:
            request.META.pop(header, None)


def client_address(request: HttpRequest) -> str | None:
    """Where the request came from: the socket's peer, or, when that peer is one of the trusted
    reverse proxies (``HG_TRUSTED_PROXIES``), the right-most address in ``X-Forwarded-For`` that is
    not itself a trusted proxy.

    Each proxy appends the address it received the request from, so every entry right of the
    right-most untrusted one was written by a proxy we trust, and that entry is the client as the
    outermost trusted proxy saw it; anything left of it is what the client chose to send. An empty
    setting trusts no header at all. An entry a trusted proxy wrote that is not an address gives
    None (unknown), so an address allow-list refuses rather than guesses. Used by every reader of
    the address: the API clients' allow-list (both the DRF and the decision fast path) and the
    audit trail's ``source_address``."""
    peer = request.META.get("REMOTE_ADDR") or None
    proxies: tuple[str, ...] = settings.HG_TRUSTED_PROXIES
    if not proxies or peer is None or not _is_trusted(peer, proxies):
        return peer
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if not forwarded.strip():
        return peer  # the proxy asked on its own behalf (a health probe)
    address = peer
    for hop in reversed(forwarded.split(",")):
        ip = _ip(hop)
        if ip is None:
            return None
        address = str(ip)
        if not _is_trusted(address, proxies):
            return address
    return address  # every hop a trusted proxy: the left-most one asked


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _ip(text: str) -> IPAddress | None:
    """An address as proxies write it: bare, ``1.2.3.4:port`` or ``[v6]:port``; IPv4-mapped IPv6
    as the IPv4 address it is."""
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


@functools.lru_cache(maxsize=16)
def _networks(proxies: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in proxies)


# Bounded: the addresses looked up are the peers and forwarded hops, some chosen by callers.
@functools.lru_cache(maxsize=4096)
def _is_trusted(address: str, proxies: tuple[str, ...]) -> bool:
    ip = _ip(address)
    return ip is not None and any(ip in network for network in _networks(proxies))
