"""The only writer of hashtotals: ``manifest_upload`` stores an uploaded manifest and, when the other
side is there, compares the two. Everything is checked before anything is stored: a manifest that
cannot be read completely is refused (``ValidationError`` naming the line) and its file removed.
Audit events go in last, so the chain lock is held only for the moment of writing them."""

from __future__ import annotations

import datetime
from typing import Any, BinaryIO

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from audit.actor import Actor
from audit.services import audit_record
from cases.models import Dataset, DatasetStatus
from hansken_governance.service_errors import refusal
from hashtotals import actions, storage
from hashtotals.compare import compare_files, compare_images, entry_json
from hashtotals.models import Comparison, Difference, Manifest, Side, Verdict
from hashtotals.readers import HEAD, ReadError, Summary, display, ordered, reader_for, scan
from hashtotals.selectors import latest_manifest
from notifications.services import notify

BATCH = 2000


# The code of a manifest that a reader refused. Its words travel with it: the message is the reader's
# English template, the parameters its details, so the API answers ``str(error)`` as ever and a page
# shows the same refusal in the reader's language (``readers.in_language``).
UNREADABLE = "manifest_unreadable"


def _refusal(error: ReadError) -> ValidationError:
    return refusal("file", error.template, UNREADABLE, **error.details)


def _read(stored_name: str, fmt: str | None) -> Summary:
    with storage.open_manifest(stored_name) as stream:
        head = stream.peek(HEAD)[:HEAD]  # type: ignore[attr-defined]
        reader = reader_for(fmt, head)
        return scan(reader, stream)


def _entries(manifest: Manifest, wanted: list[str], only: set[int] | None = None) -> Any:
    """A fresh pass over a stored manifest's entries (the file is closed when the pass ends). Only
    the ``wanted`` algorithms are read: the upload checked the whole file already."""
    reader = reader_for(manifest.format, b"")
    reader.wanted = frozenset(wanted)
    with storage.open_manifest(manifest.stored_name) as stream:
        yield from reader.entries(stream, only)


@transaction.atomic
def manifest_upload(
    *,
    dataset: Dataset,
    side: str,
    source: BinaryIO,
    original_name: str,
    fmt: str | None,
    by: Actor,
    now: datetime.datetime | None = None,
) -> tuple[Manifest, Comparison | None]:
    """Store ``source`` as the ``side`` manifest of ``dataset``; compare it with the other side's
    newest manifest when there is one."""
    if side not in Side.values:
        raise refusal("side", "Choose delivered or imported.", "side_unknown")
    if dataset.status == DatasetStatus.DELETED:
        raise refusal(None, "The dataset has been deleted; there is nothing to compare.", "dataset_deleted")
    now = now or timezone.now()
    stored_name, sha256, file_size = storage.store(source, folder=str(dataset.image_id))
    try:
        try:
            summary = _read(stored_name, fmt or None)
        except ReadError as error:
            raise _refusal(error) from None
        # One upload at a time per dataset: the other side read below is the one compared.
        Dataset.objects.select_for_update().filter(pk=dataset.pk).first()
        manifest = Manifest.objects.create(
            dataset=dataset,
            side=side,
            format=summary.format,
            tool=summary.tool[:50],
            original_name=original_name[:255],
            stored_name=stored_name,
            sha256=sha256,
            file_size=file_size,
            entries=summary.entries,
            lists_files=summary.lists_files,
            algorithms=summary.algorithms,
            image_hashes=summary.image_hashes,
            image_size=summary.image_size,
            not_files=summary.not_files,
            uploaded_by=by.username,
            uploaded_at=now,
        )
        other_side = Side.IMPORTED if side == Side.DELIVERED else Side.DELIVERED
        other = latest_manifest(dataset, other_side)
        comparison = None
        if other is not None:
            delivered, imported = (manifest, other) if side == Side.DELIVERED else (other, manifest)
            comparison = _compare(dataset, delivered, imported, by=by, now=now)
        audit_record(
            action=actions.MANIFEST_UPLOADED,
            actor=by,
            project_id=dataset.case.project_id,
            image_id=dataset.image_id,
            object_type="hash_manifest",
            object_id=manifest.pk,
            details={
                "side": side,
                "format": manifest.format,
                "file_name": manifest.original_name,
                "sha256": sha256,
                "file_size": file_size,
                "entries": manifest.entries,
                "algorithms": manifest.algorithms,
                "image_hashes": manifest.image_hashes,
            },
            occurred_at=now,
        )
        if comparison is not None:
            _record_comparison(dataset, comparison, by=by)
    except BaseException:
        # The database rolls back; the stored file must go with it.
        storage.discard(stored_name)
        raise
    return manifest, comparison


def _compare(
    dataset: Dataset, delivered: Manifest, imported: Manifest, *, by: Actor, now: datetime.datetime
) -> Comparison:
    lists_files = delivered.lists_files and imported.lists_files
    if delivered.entries and imported.entries:
        common = ordered(set(delivered.algorithms) & set(imported.algorithms))
    else:
        # A list of no files: every entry of the other side is missing (or extra) whatever the
        # algorithm, so the other side's are used. Two empty lists agree, with nothing to read.
        common = ordered(delivered.algorithms or imported.algorithms)
    image = compare_images(
        delivered.image_hashes, imported.image_hashes, delivered.image_size, imported.image_size
    )
    if lists_files and not common and (delivered.entries or imported.entries):
        raise refusal(
            "file",
            "The delivered manifest has %(delivered)s and the imported one %(imported)s: they share no "
            "hash algorithm, so no file could be compared. Upload a list with an algorithm both sides have.",
            "no_common_algorithm",
            delivered=", ".join(delivered.algorithms),
            imported=", ".join(imported.algorithms),
        )
    if not lists_files and image is None:
        raise refusal(
            "file",
            "The two manifests give nothing to compare: not both list files, and they share no image hash "
            "algorithm.",
            "nothing_to_compare",
        )
    result = (
        compare_files(lambda only: _entries(delivered, common, only), _entries(imported, common), common)
        if lists_files and common
        else None
    )
    counts = (
        result.counts() if result else dict.fromkeys(("matched", "changed", "missing", "extra", "moved"), 0)
    )
    clean = all(counts[kind] == 0 for kind in ("changed", "missing", "extra", "moved"))
    verdict = Verdict.COMPLETE if clean and (image is None or image["matched"]) else Verdict.DIFFERENCES
    comparison = Comparison.objects.create(
        dataset=dataset,
        delivered=delivered,
        imported=imported,
        verdict=verdict,
        files_compared=lists_files,
        algorithms=common if lists_files else [],
        image=image,
        compared_at=now,
        compared_by=by.username,
        **counts,
    )
    if result is not None:
        rows = (
            Difference(
                comparison=comparison,
                ordinal=ordinal,
                kind=difference.kind,
                path=display(difference.path),
                delivered=entry_json(difference.delivered, delivered.algorithms)
                if difference.delivered
                else None,
                imported=entry_json(difference.imported, imported.algorithms)
                if difference.imported
                else None,
            )
            for ordinal, difference in enumerate(result.differences)
        )
        batch: list[Difference] = []
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH:
                Difference.objects.bulk_create(batch)
                batch = []
        Difference.objects.bulk_create(batch)
    return comparison


def _record_comparison(dataset: Dataset, comparison: Comparison, *, by: Actor) -> None:
    case = dataset.case
    audit_record(
        action=actions.COMPARISON_MADE,
        actor=by,
        project_id=case.project_id,
        image_id=dataset.image_id,
        object_type="hash_comparison",
        object_id=comparison.pk,
        details={
            "verdict": comparison.verdict,
            "counts": comparison.counts(),
            "algorithms": comparison.algorithms,
            "image": comparison.image,
            "delivered_manifest": comparison.delivered_id,
            "imported_manifest": comparison.imported_id,
            "delivered_sha256": comparison.delivered.sha256,
            "imported_sha256": comparison.imported.sha256,
        },
        occurred_at=comparison.compared_at,
    )
    if comparison.verdict == Verdict.DIFFERENCES:
        counts = comparison.counts()
        notify(
            recipient=case.case_lead,
            kind="hashtotals_differences",
            params={
                "case": case.case_number,
                "dataset": dataset.description,
                "image": str(dataset.image_id),
                "image_matched": None if comparison.image is None else comparison.image["matched"],
                **counts,
            },
            dedup_key=f"hashtotals:{comparison.pk}",
            link=reverse("hashtotals-dataset", args=[case.project_id, dataset.image_id]),
        )
