"""The browser pages of hashtotals (Django's test client): who sees what, the operator's upload (plain
form and the XMLHttpRequest the progress bar uses), the differences filter and the CSV download."""

from __future__ import annotations

import csv
import hashlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from hashtotals.models import Manifest
from tests.personas import CASE_PROJECT_ID, IMAGE_ID, PASSWORD, Cast

PAGE = f"/hashtotals/{CASE_PROJECT_ID}/{IMAGE_ID}/"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


DELIVERED = f"{_sha('a')}  ./a\n{_sha('b')}  ./b\n{_sha('=cmd')}  ./=cmd\n".encode()
IMPORTED = f"{_sha('a')}  ./a\n{_sha('b2')}  ./b\n".encode()


def _signed_in(username: str, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    assert client.login(username=username, password=PASSWORD)
    return client


def _post(client: Client, side: str, data: bytes, **headers: str):
    return client.post(
        PAGE, {"side": side, "format": "", "file": SimpleUploadedFile(f"{side}.txt", data)}, headers=headers
    )


@pytest.mark.parametrize(
    ("username", "status", "upload_form"),
    [
        ("operator", 200, True),
        ("case_lead", 200, False),
        ("deputy", 200, False),
        ("privacy_officer", 200, False),
        ("security_manager", 200, False),
        ("other_case_lead", 404, False),
        ("investigator", 404, False),
        ("administrator", 404, False),
    ],
)
def test_who_sees_the_page_and_who_may_upload(cast: Cast, username: str, status: int, upload_form: bool):
    client = _signed_in(username)
    response = client.get(PAGE)
    assert response.status_code == status
    if status == 200:
        assert "Waiting for both manifests" in response.text
        assert ('id="manifest-upload"' in response.text) is upload_form
        if not upload_form:
            before = Manifest.objects.count()
            assert _post(client, "delivered", DELIVERED).status_code == 403
            assert Manifest.objects.count() == before


def test_the_list_shows_each_visible_dataset_with_its_verdict(cast: Cast):
    response = _signed_in("case_lead").get("/hashtotals/")
    assert response.status_code == 200
    assert "Laptop image" in response.text and "Waiting for both manifests" in response.text
    assert "Laptop image" not in _signed_in("other_case_lead").get("/hashtotals/").text


def test_the_operator_uploads_both_sides_and_sees_the_differences(cast: Cast):
    client = _signed_in("operator")
    response = _post(client, "delivered", DELIVERED)
    assert response.status_code == 302 and response["Location"] == PAGE
    # The progress bar's way: the same form through XMLHttpRequest, answered in JSON.
    response = _post(client, "imported", IMPORTED, X_Requested_With="XMLHttpRequest")
    assert response.status_code == 200 and response.json() == {"redirect": PAGE}
    page = client.get(PAGE).text
    assert "Differences: the import does not agree with the delivery" in page
    assert "verdict-differences" in page
    assert "./b" not in page and ">b</code>" in page
    only_missing = client.get(PAGE, {"kind": "missing"}).text
    assert "=cmd" in only_missing and ">b</code>" not in only_missing

    download = client.get(f"{PAGE}csv")
    assert download["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.getvalue().decode())))
    assert rows[0][:2] == ["kind", "path"]
    assert [row[:2] for row in rows[1:]] == [["missing", "'=cmd"], ["changed", "b"]]
    assert rows[2][rows[0].index("delivered_sha256")] == _sha("b")
    assert rows[2][rows[0].index("imported_sha256")] == _sha("b2")

    dutch = _signed_in("case_lead", "nl").get(PAGE, headers={"Accept-Language": "nl"})
    assert "Verschillen: de import komt niet overeen met de aanlevering" in dutch.text


def test_a_refused_upload_names_the_line_and_stores_nothing(cast: Cast):
    client = _signed_in("operator")
    broken = DELIVERED + b"not a hash line\n"
    response = _post(client, "delivered", broken)
    assert response.status_code == 400
    assert "Line 4" in response.text
    response = _post(client, "delivered", broken, X_Requested_With="XMLHttpRequest")
    assert response.status_code == 400
    assert any("Line 4" in message for message in response.json()["errors"])
    assert Manifest.objects.count() == 0
