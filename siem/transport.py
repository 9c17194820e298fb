"""One delivery to the SIEM: connect (TCP, or TLS with certificate and host-name verification), write
the framed records, then close gracefully and wait for the receiver to close too.

Syslog over TCP has no application-level acknowledgement, so "written" is not "received". The
strongest confirmation the protocol allows is the close: after our last record we send TLS
close_notify (or a TCP FIN) and wait until the receiver closes its side. A receiver closes only
after it has read everything before our close; a receiver that stopped reading, died, or reset the
connection makes the delivery fail, and the caller sends the same records again next time
(at-least-once; the SIEM drops duplicates by event id).
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass

from django.conf import settings


class DeliveryError(Exception):
    """The records may not have arrived; the cursor must not move."""


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    transport: str  # "tcp" or "tls"
    ca_file: str | None
    timeout: float

    @classmethod
    def from_settings(cls) -> Target:
        if not settings.SIEM_HOST:
            raise ValueError("SIEM_HOST is not set.")
        return cls(
            host=settings.SIEM_HOST,
            port=settings.SIEM_PORT,
            transport=settings.SIEM_TRANSPORT,
            ca_file=settings.SIEM_CA_FILE,
            timeout=float(settings.SIEM_TIMEOUT_SECONDS),
        )


def tls_context(ca_file: str | None) -> ssl.SSLContext:
    # create_default_context: CERT_REQUIRED and check_hostname, i.e. RFC 5425's certificate and
    # host-name checks. With SIEM_CA_FILE only that CA is trusted, otherwise the system's.
    context = ssl.create_default_context(cafile=ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def deliver(target: Target, records: list[bytes]) -> None:
    """Write ``records`` (already framed) over one connection and confirm by a graceful close.
    Raises ``DeliveryError`` when anything goes wrong, including a refused certificate."""
    try:
        raw = socket.create_connection((target.host, target.port), timeout=target.timeout)
    except OSError as exc:
        raise DeliveryError(f"cannot connect to the SIEM: {exc}") from exc
    try:
        if target.transport == "tls":
            try:
                stream = tls_context(target.ca_file).wrap_socket(raw, server_hostname=target.host)
            except (ssl.SSLError, ssl.CertificateError, OSError) as exc:
                raise DeliveryError(f"TLS handshake with the SIEM failed: {exc}") from exc
            stream.sendall(b"".join(records))
            _close_tls(stream)
        else:
            raw.sendall(b"".join(records))
            raw.shutdown(socket.SHUT_WR)
            _await_close(raw)
    except DeliveryError:
        raise
    except (OSError, ssl.SSLError) as exc:
        raise DeliveryError(f"sending to the SIEM failed: {exc}") from exc
    finally:
        raw.close()


def _close_tls(stream: ssl.SSLSocket) -> None:
    try:
        plain = stream.unwrap()  # sends close_notify and waits for the receiver's
    except ssl.SSLEOFError:
        # rsyslog (GnuTLS) answers close_notify by closing the TCP connection without its own
        # close_notify. It reads our close_notify only after every record before it, so this EOF
        # still says the receiver read everything.
        return
    plain.shutdown(socket.SHUT_WR)
    _await_close(plain)


def _await_close(sock: socket.socket) -> None:
    """Wait for the receiver's FIN. A reset (unread data thrown away) or a timeout is a failure."""
    while True:
        data = sock.recv(4096)
        if not data:
            return
