"""Benchmark of hashtotals (issue 13), printed, not asserted.

Two manifests of the same N files (default 1,000,000; paths like ``./case 0042/folder 317/evidence
file 0001234.dat``): the delivered side a ``sha256sum`` list, the imported side a ``hashdeep`` list
(size, md5, sha256), with 100 files changed, 100 missing, 100 extra and 100 moved. Printed:

1. the floor: reading both files' lines and nothing else, in Python (``for line in file``);
2. read and compare: ``hashtotals.compare.compare_files`` over both files, as the service runs it
   (the delivered side read into the compact table, the imported side streamed past it, the
   differing delivered lines read again), in a child process: lines/s = 2N / seconds, and the
   child's peak memory (ru_maxrss). Targets: at least 400,000 lines/s, at most 300 MB;
3. the upload's own check of each file (``scan``: every line read and validated before anything is
   stored), per file;
4. through the API: gunicorn (one sync worker, the production settings' shape on a scratch
   PostgreSQL database) receives both files from ``curl -F file=@...`` (multipart, streamed from disk),
   stores, checks and compares them; printed: seconds per upload and the worker's peak memory
   (VmHWM). Django's upload handlers write a file over 2.5 MB to a temporary file as it arrives;
   the service copies it in 1 MB chunks while hashing it, and reads it from disk: the upload is never
   in memory whole, let alone twice.

Run: .venv/bin/python benchmarks/hashtotals.py [--entries 1000000] [--skip-api]
Small (a check that it works, figures mean nothing): --entries 20000
Needs: PostgreSQL on 127.0.0.1:5432 (trust) and curl, for part 4.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._harness import PYTHON, ROOT, add_scratch_options, free_port, manage, scratch, scratch_dir

KIND_COUNT = 100  # files changed, missing, extra and moved each


def _path(i: int) -> str:
    return f"./case {i % 97:04d}/folder {i % 1000:03d}/evidence file {i:07d}.dat"


def _digests(seed: str) -> tuple[str, str]:
    data = seed.encode()
    return hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest()  # noqa: S324 - test data


def generate(folder: Path, entries: int) -> tuple[Path, Path]:
    delivered = folder / "delivered.sha256"
    imported = folder / "imported.hashdeep"
    changed = set(range(0, KIND_COUNT * 7, 7))
    missing = set(range(1, KIND_COUNT * 7, 7))
    moved = set(range(2, KIND_COUNT * 7, 7))
    with open(delivered, "w", encoding="utf-8") as d, open(imported, "w", encoding="utf-8") as h:
        h.write("%%%% HASHDEEP-1.0\n%%%% size,md5,sha256,filename\n")
        h.write("## Invoked from: /evidence\n## $ hashdeep -c md5,sha256 -r -l .\n##\n")
        for i in range(entries):
            md5, sha256 = _digests(str(i))
            d.write(f"{sha256}  {_path(i)}\n")
            if i in missing:
                continue
            path = _path(i).replace("evidence file", "renamed file") if i in moved else _path(i)
            if i in changed:
                md5, sha256 = _digests(f"changed {i}")
            h.write(f"{i % 65536},{md5},{sha256},{path}\n")
        for j in range(KIND_COUNT):
            md5, sha256 = _digests(f"extra {j}")
            h.write(f"12,{md5},{sha256},./extra/added {j:04d}.dat\n")
    return delivered, imported


def _child(code: str, *args: str) -> dict[str, float]:
    """Run ``code`` in a fresh interpreter (so its peak memory is its own) and return its JSON."""
    done = subprocess.run([PYTHON, "-c", code, *args], capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


FLOOR = """
import json, resource, sys, time
start = time.perf_counter(); n = 0
for name in sys.argv[1:]:
    with open(name, "rb", buffering=1 << 20) as f:
        for _ in f:
            n += 1
print(json.dumps({"seconds": time.perf_counter() - start, "lines": n,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

COMPARE = """
import json, resource, sys, time
from hashtotals.compare import compare_files
from hashtotals.readers import reader_for
def entries(name, fmt, only=None):
    reader = reader_for(fmt, b"")
    reader.wanted = frozenset(["sha256"])  # as the service: the upload checked every column
    with open(name, "rb", buffering=1 << 20) as f:
        yield from reader.entries(f, only)
start = time.perf_counter()
delivered = lambda only: entries(sys.argv[1], "sha256sum", only)  # noqa: E731
result = compare_files(delivered, entries(sys.argv[2], "hashdeep"), ["sha256"])
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, **result.counts(),
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

SCAN = """
import json, resource, sys, time
from hashtotals.readers import reader_for, scan
start = time.perf_counter()
with open(sys.argv[1], "rb", buffering=1 << 20) as f:
    summary = scan(reader_for(None, f.peek(8192)[:8192]), f)
print(json.dumps({"seconds": time.perf_counter() - start, "entries": summary.entries,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _lines(path: Path) -> int:
    with open(path, "rb") as f:
        return sum(1 for _ in f)


def _last_line(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def _vm_hwm_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else float("nan")


def api_part(delivered: Path, imported: Path, args: argparse.Namespace) -> None:
    env = scratch("hashtotals", args).env
    env["HG_HASHTOTALS_DIR"] = str(scratch_dir("hg-bench-hashtotals-"))
    manage(env, "migrate", "-v", "0")
    _last_line(env, "create_person", "bench.lead", "--role", "case_lead", "--screened-until", "2030-01-01")
    token = _last_line(
        env,
        "create_api_client",
        "bench",
        "--environment",
        "production",
        "--scope",
        "cases:write",
        "--scope",
        "hashtotals:write",
    )
    port = free_port()
    proc = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "hansken_governance.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--worker-class", "sync", "--timeout", "600", "--log-level", "warning"],
        env=env, cwd=ROOT, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2):  # noqa: S310 - loopback
                    break
            except OSError:
                time.sleep(0.3)
        auth = ["-H", f"Authorization: Bearer {token}"]
        project, image = "aaaaaaaa-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000002"

        def call(*args: str) -> dict[str, object]:
            out = subprocess.run(
                ["curl", "-sS", "--fail-with-body", *auth, *args], capture_output=True, check=True
            )
            return json.loads(out.stdout)

        case = {
            "project_id": project,
            "case_number": "BENCH-1",
            "title": "Benchmark",
            "case_lead": "bench.lead",
        }
        call("-H", "Content-Type: application/json", "-d", json.dumps(case), f"{base}/api/v1/cases")
        dataset = {"image_id": image, "description": "1M files", "delivered_by": "bench"}
        call(
            "-H",
            "Content-Type: application/json",
            "-d",
            json.dumps(dataset),
            f"{base}/api/v1/cases/{project}/datasets",
        )
        url = f"{base}/api/v1/cases/{project}/datasets/{image}/manifests"
        workers = [int(p) for p in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()]
        for side, path in (("delivered", delivered), ("imported", imported)):
            start = time.perf_counter()
            body = call("-F", f"side={side}", "-F", f"file=@{path}", url)
            seconds = time.perf_counter() - start
            comparison: dict[str, object] = body.get("comparison") or {}  # type: ignore[assignment]
            counts = comparison.get("counts")
            print(
                f"  upload {side:9} {path.stat().st_size / 1e6:7.1f} MB: {seconds:6.2f} s, "
                f"{body['entries']} entries" + (f", counts {counts}" if counts else "")
            )
        peak = max(_vm_hwm_mb(pid) for pid in workers)
        print(f"  the gunicorn worker's peak memory (VmHWM): {peak:.0f} MB (target: at most 300 MB)")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--skip-api", action="store_true", help="leave out part 4 (needs PostgreSQL)")
    add_scratch_options(parser)
    args = parser.parse_args()
    folder = scratch_dir("hg-bench-manifests-")
    print(f"Generating two manifests of {args.entries:,} files in {folder} ...")
    delivered, imported = generate(folder, args.entries)
    total = _lines(delivered) + _lines(imported)
    for path in (delivered, imported):
        print(f"  {path.name}: {path.stat().st_size / 1e6:.1f} MB")

    floor = _child(FLOOR, str(delivered), str(imported))
    rate = total / floor["seconds"]
    print(f"1. floor, reading the lines alone: {floor['seconds']:.2f} s = {rate:,.0f} lines/s")
    result = _child(COMPARE, str(delivered), str(imported))
    print(
        f"2. read and compare: {result['seconds']:.2f} s = {total / result['seconds']:,.0f} lines/s "
        f"({result['seconds'] / floor['seconds']:.1f}x the floor), peak memory {result['rss_mb']:.0f} MB "
        "(targets: at least 400,000 lines/s, at most 300 MB)"
    )
    counts = {k: int(result[k]) for k in ("matched", "changed", "missing", "extra", "moved")}
    expected = {"matched": args.entries - 3 * KIND_COUNT, "changed": KIND_COUNT, "missing": KIND_COUNT,
                "extra": KIND_COUNT, "moved": KIND_COUNT}  # fmt: skip
    print(f"   counts {counts}" + ("" if counts == expected else f"  WRONG, expected {expected}"))
    for path in (delivered, imported):
        checked = _child(SCAN, str(path))
        print(
            f"3. the upload's check of {path.name}: {checked['seconds']:.2f} s = "
            f"{_lines(path) / checked['seconds']:,.0f} lines/s, peak memory {checked['rss_mb']:.0f} MB"
        )
    if not args.skip_api:
        print("4. through the API (gunicorn, PostgreSQL):")
        api_part(delivered, imported, args)


if __name__ == "__main__":
    main()
