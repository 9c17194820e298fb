"""Benchmark of SIEM forwarding (issue: every audit event to the SIEM), printed, not asserted.

A backlog of 200,000 audit events with a valid chain is written into a scratch PostgreSQL database
(through ``usage_events_record``, which uses COPY), then ``siem.forwarder.forward`` sends all of it to
a local rsyslog over TLS (RFC 5425, certificate and host-name verified, CA made here), RFC 5424 with
octet counting. It prints the forwarder's events/s and, beside it, the receiver's own count of
unique event ids and the rate at which they had all arrived. Target: >= 10,000 events/s.

Run: .venv/bin/python benchmarks/siem_forward.py [--events 200000] [--format cef|json] [--chunk 5000]
Needs: PostgreSQL on 127.0.0.1:5432 (trust), rsyslog and rsyslog-gnutls (Debian packages).
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._harness import add_scratch_options, manage, scratch, scratch_dir
from tests.siem_receiver import Receiver, issue_server_certificate, make_authority

BATCH = 10_000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--format", choices=["cef", "json"], default="cef")
    parser.add_argument("--chunk", type=int, default=5000)
    add_scratch_options(parser)
    args = parser.parse_args()

    folder = scratch_dir("hg-bench-siem-")
    authority = make_authority(folder / "pki", "bench-ca")
    identity = issue_server_certificate(authority, folder / "pki", "localhost")
    receiver = Receiver(folder / "rsyslog", identity=identity, authority=authority)

    env = scratch("siem", args).env
    env.update(
        {
            "SIEM_HOST": "localhost",
            "SIEM_PORT": str(receiver.port),
            "SIEM_TRANSPORT": "tls",
            "SIEM_FORMAT": args.format,
            "SIEM_CA_FILE": str(authority.cert_file),
            "SIEM_CHUNK_SIZE": str(args.chunk),
        }
    )
    manage(env, "migrate", "-v", "0")
    os.environ.update(env)
    import django

    django.setup()
    from audit.models import AuditEvent
    from audit.services import usage_events_record
    from audit.usage import UsageEvent
    from siem.forwarder import forward

    started = time.monotonic()
    now = datetime.datetime.now(datetime.UTC)
    projects = [uuid.uuid4() for _ in range(50)]
    for start in range(0, args.events, BATCH):
        events = [
            UsageEvent(
                event_id=uuid.uuid4(),
                occurred_at=now - datetime.timedelta(seconds=args.events - n),
                user=f"person{n % 500}",
                project_id=projects[n % len(projects)],
                image_id=None,
                trace_uid="",
                action="read",
                outcome="success",
                details={"query": f"type:email AND text:'n{n}'"},
            )
            for n in range(start, min(start + BATCH, args.events))
        ]
        usage_events_record(
            events=events,
            client_name="hansken_production",
            environment="production",
            source_address="127.0.0.1",
            request_id="bench",
        )
    written = AuditEvent.objects.count()
    print(f"backlog: {written:,} events written in {time.monotonic() - started:.1f} s (COPY, chained)")

    receiver.start()
    try:
        started = time.monotonic()
        result = forward()
        sent_seconds = time.monotonic() - started
        if result.error:
            print(f"delivery failed: {result.error}")
        # The receiver's own count: unique event ids in what rsyslog wrote to its file.
        deadline = time.monotonic() + 120
        unique = 0
        while time.monotonic() < deadline:
            unique = len(receiver.event_ids())
            if unique >= written:
                break
            time.sleep(0.2)
        arrived_seconds = time.monotonic() - started
    finally:
        receiver.stop()
    print(f"format {args.format}, TLS, chunks of {args.chunk:,}")
    print(
        f"forwarder: {result.events:,} events in {sent_seconds:.2f} s = "
        f"{result.events / sent_seconds:,.0f} events/s (cursor at #{result.last_sequence:,})"
    )
    print(
        f"receiver:  {unique:,} unique event ids of {written:,}; all written by rsyslog after "
        f"{arrived_seconds:.2f} s = {unique / arrived_seconds:,.0f} events/s"
    )
    print("target: >= 10,000 events/s")


if __name__ == "__main__":
    main()
