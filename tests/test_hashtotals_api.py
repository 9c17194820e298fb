"""The hashtotals API (contract section "Hashtotals"): every persona against every endpoint in one
table, bad input refused with nothing stored, and the comparison as the GET answers it (verdict,
counts, differences by kind, paging)."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from audit.actor import Actor
from audit.models import AuditEvent
from cases.models import Dataset
from cases.services import dataset_register
from hashtotals import storage
from hashtotals.models import Comparison, Difference, Manifest
from tests.matrix import ANONYMOUS, Endpoint, assert_status, assert_table_shape, cells, route_names
from tests.personas import CASE_PROJECT_ID, IMAGE_ID, OTHER_PROJECT_ID, Cast

OTHER_IMAGE_ID = uuid.UUID("77777777-7777-4777-8777-777777777777")


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


DELIVERED = "".join(f"{_sha(name)}  ./{name}\n" for name in ("a", "b", "c", "d")).encode()
IMPORTED = (
    "".join(f"{_sha(name)}  ./{name}\n" for name in ("a", "b", "c-changed", "e"))
    .replace(f"{_sha('c-changed')}  ./c-changed", f"{_sha('c-changed')}  ./c")
    .encode()
)


EMPTY_MD5 = b"d41d8cd98f00b204e9800998ecf8427e"


def _manifests(project_id: uuid.UUID, image_id: uuid.UUID) -> str:
    return f"/api/v1/cases/{project_id}/datasets/{image_id}/manifests"


def _hashtotals(project_id: uuid.UUID, image_id: uuid.UUID) -> str:
    return f"/api/v1/cases/{project_id}/datasets/{image_id}/hashtotals"


def _file(data: bytes = DELIVERED, name: str = "delivered.sha256") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


ENDPOINTS = {
    "upload": Endpoint("api-hashtotals-manifests", "post", _manifests(CASE_PROJECT_ID, IMAGE_ID)),
    "view": Endpoint("api-hashtotals", "get", _hashtotals(CASE_PROJECT_ID, IMAGE_ID)),
    # The image exists, but in the other case: as if it did not exist.
    "upload_image_of_other_case": Endpoint(
        "api-hashtotals-manifests", "post", _manifests(CASE_PROJECT_ID, OTHER_IMAGE_ID)
    ),
    "view_other_case": Endpoint("api-hashtotals", "get", _hashtotals(OTHER_PROJECT_ID, OTHER_IMAGE_ID)),
}

# fmt: off
# Columns: upload, view, upload_image_of_other_case, view_other_case. Operators and clients with
# hashtotals:write upload; operators, reviewers, the case lead and deputies (own cases) view.
EXPECTED: dict[str, tuple[int, ...]] = {
    "case_lead":          (403, 200, 403, 404),
    "deputy":             (403, 200, 403, 404),
    "other_case_lead":    (403, 404, 403, 200),
    "investigator":       (403, 404, 403, 404),
    "engineer":           (403, 404, 403, 404),
    "operator":           (201, 200, 404, 200),
    "privacy_officer":    (403, 200, 403, 200),
    "security_manager":   (403, 200, 403, 200),
    "administrator":      (403, 404, 403, 404),
    "hansken_production": (201, 200, 404, 200),
    "hansken_experiment": (403, 403, 403, 403),
    ANONYMOUS:            (401, 401, 401, 401),
}
# fmt: on


@pytest.fixture
def world(cast: Cast) -> Cast:
    dataset_register(
        case=cast.other_case,
        image_id=OTHER_IMAGE_ID,
        description="Phone",
        delivered_by="FIOD",
        imported_at=None,
        environments=["production"],
        by=Actor.command("tests"),
    )
    return cast


def test_the_table_covers_every_caller_and_every_hashtotals_route():
    assert_table_shape(EXPECTED, ENDPOINTS)
    assert {e.url_name for e in ENDPOINTS.values()} == route_names("hashtotals.api.views")


def _stored() -> tuple[int, int, int, int]:
    files = sum(1 for path in storage.root().rglob("*") if path.is_file()) if storage.root().exists() else 0
    return Manifest.objects.count(), Comparison.objects.count(), AuditEvent.objects.count(), files


@pytest.mark.parametrize(("caller", "endpoint", "expected"), cells(EXPECTED, ENDPOINTS))
def test_it_answers_each_caller_as_the_table_says(world: Cast, caller: str, endpoint: str, expected: int):
    spec = ENDPOINTS[endpoint]
    before = _stored()
    client = world.api(None if caller == ANONYMOUS else caller)
    path = spec.url(world)
    if spec.method == "post":  # multipart, as the contract has it (the harness's call sends JSON)
        response = client.post(path, {"side": "delivered", "file": _file()}, format="multipart")
    else:
        response = client.get(path)
    assert_status(response, expected)
    if expected >= 400:
        assert _stored() == before
        return
    body = response.json()
    if spec.method == "get":
        assert _stored() == before
        assert body["verdict"] == "waiting"
        assert body["delivered"] is None and body["imported"] is None
        assert body["counts"] == {"matched": 0, "changed": 0, "missing": 0, "extra": 0, "moved": 0}
        return
    manifests, comparisons, events, files = before
    assert _stored() == (manifests + 1, comparisons, events + 1, files + 1)
    manifest = Manifest.objects.get(pk=body["id"])
    assert body["side"] == "delivered" and body["format"] == "sha256sum"
    assert body["entries"] == 4 and body["algorithms"] == ["sha256"] and body["image_hashes"] == {}
    assert body["sha256"] == hashlib.sha256(DELIVERED).hexdigest() == manifest.sha256
    assert body["uploaded_at"].endswith("Z")
    event = AuditEvent.objects.order_by("-sequence").first()
    assert event is not None
    assert event.action == "hash_manifest.uploaded"
    assert event.actor == (f"client:{caller}" if caller.startswith("hansken_") else caller)
    assert event.image_id == IMAGE_ID and event.details["sha256"] == manifest.sha256


def test_the_comparison_as_the_api_gives_it(world: Cast):
    client = world.api("hansken_production")
    assert (
        client.post(_manifests(CASE_PROJECT_ID, IMAGE_ID), {"side": "delivered", "file": _file()}).status_code
        == 201
    )
    response = client.post(
        _manifests(CASE_PROJECT_ID, IMAGE_ID),
        {"side": "imported", "file": _file(IMPORTED, "hansken.txt"), "format": "sha256sum"},
    )
    assert response.status_code == 201, response.content
    assert response.json()["comparison"]["verdict"] == "differences"

    body = world.api("case_lead").get(_hashtotals(CASE_PROJECT_ID, IMAGE_ID)).json()
    assert body["verdict"] == "differences"
    assert body["counts"] == {"matched": 2, "changed": 1, "missing": 1, "extra": 1, "moved": 0}
    assert body["delivered"]["file_name"] == "delivered.sha256"
    assert body["imported"]["file_name"] == "hansken.txt"
    assert body["image"] is None and body["next_cursor"] is None
    assert [(d["kind"], d["path"]) for d in body["differences"]] == [
        ("changed", "c"),
        ("missing", "d"),
        ("extra", "e"),
    ]
    changed = body["differences"][0]
    assert changed["delivered"]["hashes"] == {"sha256": _sha("c")}
    assert changed["imported"]["hashes"] == {"sha256": _sha("c-changed")}
    assert changed["delivered"]["line"] == 3

    only_missing = (
        world.api("operator").get(_hashtotals(CASE_PROJECT_ID, IMAGE_ID), {"kind": "missing"}).json()
    )
    assert [d["path"] for d in only_missing["differences"]] == ["d"]
    first = world.api("operator").get(_hashtotals(CASE_PROJECT_ID, IMAGE_ID), {"limit": 2}).json()
    assert len(first["differences"]) == 2 and first["next_cursor"] is not None
    rest = (
        world.api("operator")
        .get(_hashtotals(CASE_PROJECT_ID, IMAGE_ID), {"limit": 2, "cursor": first["next_cursor"]})
        .json()
    )
    assert [d["path"] for d in first["differences"] + rest["differences"]] == ["c", "d", "e"]
    assert rest["next_cursor"] is None


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"side": "delivered", "file": "no file"}, "file"),
        ({"side": "elsewhere", "file": None}, "side"),
        ({"file": None}, "side"),
        ({"side": "delivered", "file": None, "format": "tar"}, "format"),
        ({"side": "delivered", "file": None, "colour": "red"}, "colour"),
        ({"side": "delivered", "file": b"this is not a hash list\n"}, "format could not be recognised"),
        ({"side": "delivered", "file": DELIVERED + b"0123  broken\n"}, "Line 5"),
        ({"side": "delivered", "file": DELIVERED, "format": "hashdeep"}, "Line 1"),
        ({"side": "delivered", "file": b""}, "file"),
        # Given twice: Django would take the last one silently.
        ({"side": ["imported", "delivered"], "file": None}, "side: The field side is given twice."),
        (
            {"side": "delivered", "file": None, "format": ["sha256sum", "hashdeep"]},
            "format: The field format is given twice.",
        ),
        # PostgreSQL's text holds no NUL byte: refused on upload, not a 500 at the next comparison.
        (
            {"side": "delivered", "file": b'{"files": [{"path": "a\\u0000b", "md5": "' + EMPTY_MD5 + b'"}]}'},
            "NUL",
        ),
        ({"side": "delivered", "file": DELIVERED[:-1]}, "Line 4: The file ends in the middle of this line"),
    ],
)
def test_bad_input_is_a_400_naming_the_problem_and_stores_nothing(
    world: Cast, data: dict[str, Any], words: str
):
    body = dict(data)
    if "file" in body and body["file"] is None:
        body["file"] = _file()
    elif isinstance(body.get("file"), bytes):
        body["file"] = _file(body["file"])
    before = _stored()
    response = world.api("operator").post(_manifests(CASE_PROJECT_ID, IMAGE_ID), body, format="multipart")
    assert response.status_code == 400, response.content
    messages = " ".join(f"{e['field']}: {e['message']}" for e in response.json()["errors"])
    assert words in messages
    assert _stored() == before


def test_a_refused_manifest_is_answered_in_english_whatever_language_is_asked(world: Cast):
    # The contract's error body keeps the English words, even for a client that asks for Dutch
    # (pages show the same refusal in the reader's language).
    broken = DELIVERED + b"zz  ./e\n"
    response = world.api("operator").post(
        _manifests(CASE_PROJECT_ID, IMAGE_ID),
        {"side": "delivered", "file": _file(broken)},
        format="multipart",
        HTTP_ACCEPT_LANGUAGE="nl",
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "field": "file",
            "message": "Line 5: This is not a line of a hash list (hash, two spaces, name). If the list is "
            "md5deep's or sha256deep's and a name holds a line break, name the format.",
        }
    ]


def test_json_bodies_are_refused_the_upload_is_multipart(world: Cast):
    before = _stored()
    response = world.api("operator").post(
        _manifests(CASE_PROJECT_ID, IMAGE_ID), {"side": "delivered", "file": "x"}, format="json"
    )
    assert response.status_code == 415
    assert _stored() == before


def test_a_refused_comparison_stores_neither_side_nor_file(world: Cast):
    client = world.api("operator")
    assert (
        client.post(_manifests(CASE_PROJECT_ID, IMAGE_ID), {"side": "delivered", "file": _file()}).status_code
        == 201
    )
    md5_list = b"d41d8cd98f00b204e9800998ecf8427e  ./a\n"
    before = _stored()
    response = client.post(
        _manifests(CASE_PROJECT_ID, IMAGE_ID), {"side": "imported", "file": _file(md5_list)}
    )
    assert response.status_code == 400
    assert "share no hash algorithm" in response.json()["errors"][0]["message"]
    assert _stored() == before
    assert Difference.objects.count() == 0


def test_two_files_in_one_upload_are_refused(world: Cast):
    before = _stored()
    response = world.api("operator").post(
        _manifests(CASE_PROJECT_ID, IMAGE_ID),
        {"side": "delivered", "file": [_file(), _file(IMPORTED, "other.sha256")]},
        format="multipart",
    )
    assert response.status_code == 400, response.content
    assert response.json()["errors"] == [{"field": "file", "message": "The field file is given twice."}]
    assert _stored() == before


def _json_manifest(files: list[str] | None, image_md5: str | None = None) -> bytes:
    body: dict[str, Any] = {}
    if image_md5 is not None:
        body["image"] = {"md5": image_md5}
    if files is not None:
        body["files"] = [{"path": name, "md5": hashlib.md5(name.encode()).hexdigest()} for name in files]  # noqa: S324
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("delivered", "imported", "verdict", "files_compared", "counts"),
    [
        # An import that lists no file at all lost every delivered one: not complete.
        (["a.txt", "b.txt"], [], "differences", True, {"matched": 0, "missing": 2, "extra": 0}),
        ([], ["a.txt"], "differences", True, {"matched": 0, "missing": 0, "extra": 1}),
        # Two lists of nothing agree.
        ([], [], "complete", True, {"matched": 0, "missing": 0, "extra": 0}),
        (["a.txt"], ["a.txt"], "complete", True, {"matched": 1, "missing": 0, "extra": 0}),
        # A manifest without "files" says nothing of files: only the image hashes are compared.
        (["a.txt", "b.txt"], None, "complete", False, {"matched": 0, "missing": 0, "extra": 0}),
    ],
)
def test_a_list_of_no_files_is_compared_not_passed_over(
    world: Cast,
    delivered: list[str],
    imported: list[str] | None,
    verdict: str,
    files_compared: bool,
    counts: dict[str, int],
):
    image = hashlib.md5(b"the image").hexdigest()  # noqa: S324
    client = world.api("hansken_production")
    url = _manifests(CASE_PROJECT_ID, IMAGE_ID)
    first = client.post(url, {"side": "delivered", "file": _file(_json_manifest(delivered, image), "d.json")})
    assert first.status_code == 201, first.content
    second = client.post(url, {"side": "imported", "file": _file(_json_manifest(imported, image), "i.json")})
    assert second.status_code == 201, second.content
    comparison = second.json()["comparison"]
    assert (comparison["verdict"], comparison["files_compared"]) == (verdict, files_compared)
    assert {kind: comparison["counts"][kind] for kind in counts} == counts
    body = world.api("operator").get(_hashtotals(CASE_PROJECT_ID, IMAGE_ID)).json()
    assert body["verdict"] == verdict
    assert sorted(d["path"] for d in body["differences"] if d["kind"] == "missing") == sorted(
        name for name in delivered if imported is not None and name not in imported
    )


def test_image_sizes_that_disagree_beside_matching_hashes_are_pointed_out(world: Cast):
    """The hashes decide (complete), but the page and the API say that one log misstates the size:
    FTK's sector count against dc3dd's bytes, found by a tester with the same MD5 on both sides."""
    image = hashlib.md5(b"the image").hexdigest()  # noqa: S324
    client = world.api("hansken_production")
    url = _manifests(CASE_PROJECT_ID, IMAGE_ID)
    for side, size in (("delivered", 4_193_792), ("imported", 4_194_304)):
        manifest = json.dumps({"image": {"size": size, "md5": image}}).encode()
        response = client.post(url, {"side": side, "file": _file(manifest, f"{side}.json")})
        assert response.status_code == 201, response.content
    body = world.api("operator").get(_hashtotals(CASE_PROJECT_ID, IMAGE_ID)).json()
    assert body["verdict"] == "complete"
    assert body["image"]["matched"] is True
    assert (
        body["image"]["delivered_size"],
        body["image"]["imported_size"],
        body["image"]["sizes_agree"],
    ) == (
        4_193_792,
        4_194_304,
        False,
    )
    page = Client()
    page.force_login(world["operator"])
    text = page.get(f"/hashtotals/{CASE_PROJECT_ID}/{IMAGE_ID}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "the sizes stated differ: 4193792 bytes delivered, 4194304 bytes imported" in text


def test_a_deleted_dataset_takes_no_manifest(world: Cast):
    Dataset.objects.filter(image_id=IMAGE_ID).update(status="deleted")
    before = _stored()
    response = world.api("operator").post(
        _manifests(CASE_PROJECT_ID, IMAGE_ID), {"side": "delivered", "file": _file()}
    )
    assert response.status_code == 400
    assert _stored() == before


def test_the_schema_describes_both_endpoints(world: Cast):
    schema = world.api("operator").get("/api/schema/", {"format": "json"}).json()
    assert "/api/v1/cases/{project_id}/datasets/{image_id}/manifests" in schema["paths"]
    assert "/api/v1/cases/{project_id}/datasets/{image_id}/hashtotals" in schema["paths"]
