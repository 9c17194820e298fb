"""A real SIEM receiver for the tests and the benchmark: Debian's rsyslog on loopback, started as a
non-daemon process with its own configuration and work directory, receiving RFC 5424 syslog with
octet-counting framing over TCP or TLS (RFC 5425), and writing each message exactly as received,
one per line, to a file the test reads back.

Certificates are made here with ``cryptography``: a CA, and a server certificate for a host name,
so a test can also start a receiver whose certificate comes from another CA or names another host.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import re
import signal
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

RSYSLOGD = "/usr/sbin/rsyslogd"
EVENT_ID = re.compile(r'eventId="([^"\\]*)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Authority:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    cert_file: Path


@dataclass
class ServerIdentity:
    cert_file: Path
    key_file: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_authority(folder: Path, name: str) -> Authority:
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(_name(name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file = folder / f"{name}-ca.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return Authority(key, cert, cert_file)


def issue_server_certificate(authority: Authority, folder: Path, host_name: str) -> ServerIdentity:
    """A server certificate for ``host_name`` (as a DNS name, and as an IP address when it is one)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    alt_names: list[x509.GeneralName] = [x509.DNSName(host_name)]
    with contextlib.suppress(ValueError):
        import ipaddress

        alt_names.append(x509.IPAddress(ipaddress.ip_address(host_name)))
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(host_name))
        .issuer_name(authority.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(authority.key.public_key()), critical=False
        )
        .sign(authority.key, hashes.SHA256())
    )
    stem = folder / f"server-{host_name}-{x509.random_serial_number() % 10**6}"
    cert_file = stem.with_suffix(".crt")
    key_file = stem.with_suffix(".key")
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    key_file.chmod(0o600)
    return ServerIdentity(cert_file, key_file)


class Receiver:
    """rsyslogd -n on 127.0.0.1:<port>. ``received.log`` holds one line per message as received."""

    def __init__(
        self,
        folder: Path,
        *,
        identity: ServerIdentity | None = None,
        authority: Authority | None = None,
        port: int | None = None,
    ) -> None:
        self.folder = folder
        self.identity = identity
        self.authority = authority
        self.port = port or free_port()
        self.output = folder / "received.log"
        self.process: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "work").mkdir(exist_ok=True)

    @property
    def tls(self) -> bool:
        return self.identity is not None

    def _config(self) -> str:
        lines = [
            f'global(workDirectory="{self.folder / "work"}" maxMessageSize="256k"',
        ]
        if self.identity is not None:
            assert self.authority is not None
            lines.append(
                f'  defaultNetstreamDriverCAFile="{self.authority.cert_file}"'
                f' defaultNetstreamDriverCertFile="{self.identity.cert_file}"'
                f' defaultNetstreamDriverKeyFile="{self.identity.key_file}"'
            )
        lines.append(")")
        if self.identity is not None:
            # Server-side TLS; clients are anonymous (the forwarder authenticates the receiver).
            lines.append(
                'module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" '
                'StreamDriver.AuthMode="anon")'
            )
        else:
            lines.append('module(load="imtcp")')
        lines += [
            f'input(type="imtcp" address="127.0.0.1" port="{self.port}")',
            # The message exactly as it arrived (framing removed), one per line.
            'template(name="raw" type="string" string="%rawmsg%\\n")',
            f'action(type="omfile" file="{self.output}" template="raw" flushOnTXEnd="on" asyncWriting="off")',
        ]
        return "\n".join(lines) + "\n"

    def start(self) -> None:
        config = self.folder / "rsyslog.conf"
        config.write_text(self._config())
        pidfile = self.folder / "rsyslogd.pid"
        with contextlib.suppress(FileNotFoundError):
            pidfile.unlink()
        stderr = (self.folder / "rsyslogd.stderr").open("ab")
        self.process = subprocess.Popen(
            [RSYSLOGD, "-n", "-f", str(config), "-i", str(pidfile)],
            stdout=stderr,
            stderr=stderr,
            start_new_session=True,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"rsyslogd exited: {(self.folder / 'rsyslogd.stderr').read_text()}")
            # A listening port is enough: the probe connection itself carries no message.
            with socket.socket() as probe:
                probe.settimeout(0.2)
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("rsyslogd did not start listening")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None

    def lines(self) -> list[str]:
        if not self.output.exists():
            return []
        return self.output.read_text(encoding="utf-8").splitlines()

    def event_ids(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for line in self.lines():
            match = EVENT_ID.search(line)
            if match:
                counts[match.group(1)] += 1
        return counts

    def wait_for(self, expected: set[str], timeout: float = 30) -> set[str]:
        """The ids received, once every expected id arrived or the time ran out."""
        deadline = time.monotonic() + timeout
        while True:
            seen = set(self.event_ids())
            if expected <= seen or time.monotonic() > deadline:
                return seen
            time.sleep(0.1)


@contextlib.contextmanager
def running(receiver: Receiver) -> Iterator[Receiver]:
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()
