"""The comparison over real tool output: the delivered tree hashed by one tool, the imported tree
(one file changed, one renamed, one removed, one added) by another, for every pair of file-listing
formats; the image-level logs (ewf-tools, dc3dd) of an ext4 image against each other. Through the
service, so each manifest is stored, read back from its stored file and compared."""

from __future__ import annotations

import hashlib
import io
import subprocess
import uuid
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from audit.actor import Actor
from audit.models import AuditEvent
from cases.models import Dataset
from cases.services import dataset_register
from hashtotals import storage
from hashtotals.models import Comparison, Difference, Manifest
from hashtotals.readers import reader_for, scan
from hashtotals.services import manifest_upload
from notifications.models import Notification
from tests.hashtotals_tools import LISTS, TREE, after_tree, expected_differences, ext4_image, need, write_tree
from tests.personas import Cast

BY = Actor(username="operator", role="operator", channel="api")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str | None, bytes, bytes]]:
    """Each format's output over the delivered and over the imported tree."""
    base = tmp_path_factory.mktemp("pairs")
    before = write_tree(base / "before", TREE)
    after = write_tree(base / "after", after_tree())
    made = {}
    for label, (fmt, make) in LISTS.items():
        try:
            made[label] = (fmt, make(before), make(after))
        except pytest.skip.Exception:
            continue
    return made


def _dataset(cast: Cast) -> Dataset:
    return dataset_register(
        case=cast.case,
        image_id=uuid.uuid4(),
        description="USB stick",
        delivered_by="Police unit East",
        imported_at=None,
        environments=["production"],
        by=Actor.command("tests"),
    )


def _upload(dataset: Dataset, side: str, fmt: str | None, data: bytes):
    return manifest_upload(
        dataset=dataset, side=side, source=io.BytesIO(data), original_name=f"{side}.txt", fmt=fmt, by=BY
    )


def _algorithms(fmt: str | None, data: bytes) -> set[str]:
    return set(scan(reader_for(fmt, data[:8192]), io.BytesIO(data)).algorithms)


def _found(comparison: Comparison) -> set[tuple[str, bytes, bytes | None]]:
    found = set()
    for row in comparison.differences.all():
        side = row.delivered or row.imported
        assert side is not None
        path = bytes.fromhex(side["path_hex"]) if "path_hex" in side else side["path"].encode()
        moved_to = row.imported["path"].encode() if row.kind == "moved" and row.imported else None
        found.add((row.kind, path, moved_to))
    return found


@pytest.mark.parametrize("delivered_label", list(LISTS))
def test_every_format_pair_finds_exactly_the_four_differences(cast: Cast, outputs, delivered_label: str):
    if delivered_label not in outputs:
        pytest.skip(f"{delivered_label}: tool missing")
    fmt_d, before, _ = outputs[delivered_label]
    compared = refused = 0
    for imported_label, (fmt_i, _, after) in outputs.items():
        dataset = _dataset(cast)
        _upload(dataset, "delivered", fmt_d, before)
        common = _algorithms(fmt_d, before) & _algorithms(fmt_i, after)
        if not common:
            # No algorithm in common: refused, and the refused upload stored nothing.
            stored = Manifest.objects.count()
            with pytest.raises(ValidationError, match="share no hash algorithm"):
                _upload(dataset, "imported", fmt_i, after)
            assert Manifest.objects.count() == stored
            refused += 1
            continue
        _, comparison = _upload(dataset, "imported", fmt_i, after)
        assert comparison is not None
        pair = f"{delivered_label} -> {imported_label}"
        assert comparison.verdict == "differences", pair
        assert comparison.counts() == {
            "matched": len(TREE) - 3,
            "changed": 1,
            "missing": 1,
            "extra": 1,
            "moved": 1,
        }, pair
        assert _found(comparison) == expected_differences(), pair
        assert set(comparison.algorithms) == common
        compared += 1
    assert compared >= 1


@pytest.mark.parametrize("label", list(LISTS))
def test_the_same_tree_in_two_formats_is_complete(cast: Cast, outputs, label: str):
    if label not in outputs:
        pytest.skip(f"{label}: tool missing")
    fmt, before, _ = outputs[label]
    partner = "hashdeep" if label != "hashdeep" else "json"
    if partner not in outputs:
        pytest.skip(f"{partner}: tool missing")
    dataset = _dataset(cast)
    _upload(dataset, "delivered", fmt, before)
    _, comparison = _upload(dataset, "imported", outputs[partner][0], outputs[partner][1])
    assert comparison is not None
    assert comparison.verdict == "complete"
    assert comparison.counts() == {"matched": len(TREE), "changed": 0, "missing": 0, "extra": 0, "moved": 0}
    assert not Difference.objects.filter(comparison=comparison).exists()


def test_a_manifest_is_kept_as_uploaded_with_its_sha256(cast: Cast, outputs):
    fmt, before, _ = outputs["hashdeep"]
    manifest, comparison = _upload(_dataset(cast), "delivered", fmt, before)
    assert comparison is None
    assert storage.path_of(manifest.stored_name).read_bytes() == before
    assert manifest.sha256 == hashlib.sha256(before).hexdigest()
    assert manifest.file_size == len(before)
    assert (manifest.format, manifest.entries, manifest.algorithms) == (
        "hashdeep",
        len(TREE),
        ["md5", "sha1", "sha256"],
    )


def test_differences_notify_the_case_lead_and_are_in_the_trail(cast: Cast, outputs):
    fmt, before, _ = outputs["hashdeep"]
    _, _, after = outputs["sha256sum"]
    dataset = _dataset(cast)
    last = AuditEvent.objects.order_by("-sequence").first()
    assert last is not None
    _upload(dataset, "delivered", fmt, before)
    manifest, comparison = _upload(dataset, "imported", None, after)
    assert comparison is not None
    events = list(AuditEvent.objects.filter(sequence__gt=last.sequence).order_by("sequence"))
    assert [e.action for e in events] == [
        "hash_manifest.uploaded",
        "hash_manifest.uploaded",
        "hash_comparison.made",
    ]
    assert events[1].details["sha256"] == manifest.sha256
    assert events[2].details["verdict"] == "differences"
    assert events[2].details["counts"] == comparison.counts()
    assert events[2].image_id == dataset.image_id and events[2].actor == "operator"
    note = Notification.objects.get(kind="hashtotals_differences")
    assert note.recipient == cast["case_lead"]
    assert note.params["changed"] == 1 and note.params["case"] == cast.case.case_number


def test_duplicate_paths_are_paired_by_hash(cast: Cast):
    """fiwalk lists each partition's files; the same path twice on both sides pairs by hash."""
    one, two, three = (hashlib.sha256(x).hexdigest() for x in (b"1", b"2", b"3"))
    delivered = f"{one}  p/a\n{two}  p/a\n{three}  q\n".encode()
    imported = f"{two}  p/a\n{one}  p/a\n{three}  r\n".encode()
    dataset = _dataset(cast)
    _upload(dataset, "delivered", None, delivered)
    _, comparison = _upload(dataset, "imported", None, imported)
    assert comparison.counts() == {"matched": 2, "changed": 0, "missing": 0, "extra": 0, "moved": 1}
    row = comparison.differences.get()
    assert (row.kind, row.delivered["path"], row.imported["path"]) == ("moved", "q", "r")


# --- image-level logs -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    need("mkfs.ext4")
    base = tmp_path_factory.mktemp("images")
    good = ext4_image(write_tree(base / "tree", TREE), base / "evidence.raw")
    other = ext4_image(write_tree(base / "tree2", after_tree()), base / "other.raw")
    return {"good": good, "other": other, "dir": base}


def _tool(args: list[str], cwd: Path, ok: tuple[int, ...] = (0,)) -> bytes:
    done = subprocess.run(args, cwd=cwd, capture_output=True, check=False)
    assert done.returncode in ok, (args, done.stderr)
    return done.stdout + done.stderr


def _ewfacquire(raw: Path, target: str) -> bytes:
    need("ewfacquire")
    return _tool(["ewfacquire", "-u", "-t", target, "-c", "none", "-d", "sha1,sha256", str(raw)], raw.parent)


def _dc3dd_log(raw: Path, name: str) -> bytes:
    need("dc3dd")
    log = raw.parent / f"{name}.log"
    log.unlink(missing_ok=True)
    _tool(
        ["dc3dd", f"if={raw}", f"of={raw.parent / (name + '.img')}", "hash=md5", "hash=sha256", f"log={log}"],
        raw.parent,
    )
    return log.read_bytes()


def test_image_logs_give_the_media_hash(cast: Cast, images):
    raw = images["good"].read_bytes()
    acquired = _ewfacquire(images["good"], str(images["dir"] / "evidence"))
    verified = _tool(["ewfverify", "-d", "sha1,sha256", "evidence.E01"], images["dir"])
    info = _tool(["ewfinfo", "evidence.E01"], images["dir"])
    dc3dd = _dc3dd_log(images["good"], "copy")
    for data, algorithms in (
        (acquired, ("md5", "sha1", "sha256")),
        (verified, ("md5", "sha1", "sha256")),
        (info, ("md5", "sha1")),
        (dc3dd, ("md5", "sha256")),
    ):
        summary = scan(reader_for(None, data[:8192]), io.BytesIO(data))
        assert summary.entries == 0
        assert summary.image_size == len(raw)
        assert summary.image_hashes == {name: hashlib.new(name, raw).hexdigest() for name in algorithms}
    # An EWF image's hash is of the media, not of the .E01 file.
    e01 = (images["dir"] / "evidence.E01").read_bytes()
    assert hashlib.sha256(e01).hexdigest() != hashlib.sha256(raw).hexdigest()

    dataset = _dataset(cast)
    _upload(dataset, "delivered", None, acquired)
    _, comparison = _upload(dataset, "imported", "dc3dd", dc3dd)
    assert comparison.verdict == "complete" and not comparison.files_compared
    assert comparison.image == {
        "algorithm": "sha256",
        "algorithms": ["md5", "sha256"],
        "delivered": hashlib.sha256(raw).hexdigest(),
        "imported": hashlib.sha256(raw).hexdigest(),
        "matched": True,
        "delivered_size": len(raw),
        "imported_size": len(raw),
        "sizes_agree": True,
    }

    dataset = _dataset(cast)
    _upload(dataset, "delivered", None, info)
    _, comparison = _upload(dataset, "imported", None, _dc3dd_log(images["other"], "other"))
    assert comparison.verdict == "differences" and comparison.image["matched"] is False
    assert comparison.image["algorithms"] == ["md5"]


def test_ewfverify_failure_is_refused_even_when_its_hash_lines_agree(cast: Cast, images):
    _ewfacquire(images["good"], str(images["dir"] / "broken"))
    e01 = images["dir"] / "broken.E01"
    data = bytearray(e01.read_bytes())
    first_chunk = data.find(images["good"].read_bytes()[:32768])
    assert first_chunk > 0
    for i in range(4):  # the chunk's checksum, right after its data: the data itself is untouched
        data[first_chunk + 32768 + i] ^= 0xFF
    e01.write_bytes(bytes(data))
    output = _tool(["ewfverify", "broken.E01"], images["dir"], ok=(1,))
    text = output.decode()
    stored = [line.split()[-1] for line in text.splitlines() if line.startswith("MD5 hash")]
    assert len(stored) == 2 and stored[0] == stored[1], text  # the trap: the hash lines agree
    assert "FAILURE" in text
    dataset = _dataset(cast)
    before = (Manifest.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ValidationError, match="FAILURE"):
        _upload(dataset, "delivered", None, output)
    assert (Manifest.objects.count(), AuditEvent.objects.count()) == before
    assert not list((storage.root() / str(dataset.image_id)).iterdir())


FTK_LOG = (
    "Created By AccessData\u00ae FTK\u00ae Imager 4.7.1.2\r\n\r\n"
    "Case Information: \r\nAcquired using: ADI4.7.1.2\r\nCase Number: NFI-2026-0001\r\n"
    "Evidence Number: 1\r\nUnique Description: laptop\r\nExaminer: J. Jansen\r\nNotes: \r\n\r\n"
    "--------------------------------------------------------------\r\n\r\n"
    "Information for C:\\Evidence\\laptop:\r\n\r\n"
    "Physical Evidentiary Item (Source) Information:\r\n[Device Info]\r\n Source Type: Physical\r\n"
    "[Drive Geometry]\r\n Bytes per Sector: 512\r\n Sector Count: 8,192\r\n"
    "[Physical Drive Information]\r\n Drive Model: Test Disk\r\n Source data size: 4 MB\r\n"
    " Sector count:    8192\r\n"
    "[Computed Hashes]\r\n MD5 checksum:    {md5}\r\n SHA1 checksum:   {sha1}\r\n\r\n"
    "Image Information:\r\n Acquisition started:   Mon Dec 07 00:04:12 2026\r\n"
    " Acquisition finished:  Mon Dec 07 00:04:13 2026\r\n Segment list:\r\n  C:\\Evidence\\laptop.E01\r\n\r\n"
    "Image Verification Results:\r\n Verification started:  Mon Dec 07 00:04:13 2026\r\n"
    " Verification finished: Mon Dec 07 00:04:14 2026\r\n"
    " MD5 checksum:    {md5} : {outcome}\r\n SHA1 checksum:   {sha1} : {outcome}\r\n"
)


def test_an_ftk_imager_log_in_its_published_layout(cast: Cast, images):
    raw = images["good"].read_bytes()
    md5, sha1 = hashlib.md5(raw).hexdigest(), hashlib.sha1(raw).hexdigest()  # noqa: S324
    log = FTK_LOG.replace("{md5}", md5.upper()).replace("{sha1}", sha1).replace("{outcome}", "verified")
    data = log.encode("utf-8")
    summary = scan(reader_for(None, data[:8192]), io.BytesIO(data))
    assert (summary.format, summary.image_size) == ("ftk", len(raw))
    assert summary.image_hashes == {"md5": md5, "sha1": sha1}
    dataset = _dataset(cast)
    _upload(dataset, "delivered", None, data)
    _, comparison = _upload(
        dataset, "imported", None, _ewfacquire(images["good"], str(images["dir"] / "ftk"))
    )
    assert comparison.verdict == "complete" and comparison.image["algorithms"] == ["md5", "sha1"]

    failed = log.replace(": verified", ": does not match").encode("utf-8")
    with pytest.raises(ValidationError, match="did not verify"):
        _upload(_dataset(cast), "delivered", "ftk", failed)


def test_a_comparison_that_cannot_be_audited_stores_nothing_not_even_the_file(cast: Cast, outputs):
    """The seam of the second upload: its manifest, the comparison, the differences, the notification
    and the stored file go together with the events, or not at all."""
    from unittest import mock

    from audit import services as audit_services
    from hashtotals import services as hashtotal_services

    fmt, before, _ = outputs["hashdeep"]
    _, _, after = outputs["sha256sum"]
    dataset = _dataset(cast)
    _upload(dataset, "delivered", fmt, before)
    stored = (Manifest.objects.count(), Comparison.objects.count(), Notification.objects.count())
    events = AuditEvent.objects.count()
    files = sorted((storage.root() / str(dataset.image_id)).iterdir())
    real = audit_services.audit_record

    def fail_on_the_comparison(**kwargs):
        if kwargs["action"] == "hash_comparison.made":
            raise RuntimeError("audit trail unavailable")
        return real(**kwargs)

    failing = mock.patch.object(hashtotal_services, "audit_record", side_effect=fail_on_the_comparison)
    with failing, pytest.raises(RuntimeError):
        _upload(dataset, "imported", None, after)
    assert (Manifest.objects.count(), Comparison.objects.count(), Notification.objects.count()) == stored
    assert AuditEvent.objects.count() == events
    assert not Difference.objects.exists()
    assert sorted((storage.root() / str(dataset.image_id)).iterdir()) == files
