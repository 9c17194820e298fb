"""The browser pages of hashtotals (Django's test client): who sees what, the operator's upload (plain
form and the XMLHttpRequest the progress bar uses), the differences filter and the CSV download."""

from __future__ import annotations

import csv
import hashlib
import html
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


def _post(client: Client, side: str, data: bytes, fmt: str = "", **headers: str):
    return client.post(
        PAGE, {"side": side, "format": fmt, "file": SimpleUploadedFile(f"{side}.txt", data)}, headers=headers
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


# A sha256sum list whose fourth line's hash is not hexadecimal, and hashdeep files broken on their
# fifth line, without their header line, and (JSON) with a field the contract does not know.
NOT_HEX = "zzzz" + _sha("c")[4:]
BROKEN_SUMS = DELIVERED + f"{NOT_HEX}  ./c\n".encode()
BROKEN_HASHDEEP = (
    b"%%%% HASHDEEP-1.0\n%%%% size,md5,filename\n## x\n1,d41d8cd98f00b204e9800998ecf8427e,./a\n2,zz,./b\n"
)
HEADLESS_HASHDEEP = b"1,d41d8cd98f00b204e9800998ecf8427e,./a\n"
UNKNOWN_JSON_FIELD = b'{"files": [{"path": "a", "md5": "d41d8cd98f00b204e9800998ecf8427e", "sha9": "x"}]}'


def _refused_upload(client: Client, data: bytes, **headers: str) -> str:
    # A hashdeep file without its header line is not recognised as one: it is named.
    fmt = "hashdeep" if data == HEADLESS_HASHDEEP else ""
    response = _post(client, "delivered", data, fmt, **headers)
    assert response.status_code == 400
    if headers:
        return " ".join(response.json()["errors"])
    return html.unescape(response.text)


@pytest.mark.parametrize(
    ("language", "data", "words"),
    [
        ("nl", BROKEN_SUMS, f"Regel 4: '{NOT_HEX}' is geen hexadecimale sha256-hash."),
        ("nl", BROKEN_HASHDEEP, "Regel 5: 'zz' is geen hexadecimale md5-hash."),
        (
            "nl",
            HEADLESS_HASHDEEP,
            "Regel 1: Een hashdeep-bestand begint met %%%% HASHDEEP-1.0 en de kolomregel.",
        ),
        ("nl", UNKNOWN_JSON_FIELD, "files[0]: Onbekend veld sha9."),
        ("nl", b"this is not a hash list\n", "Het formaat is niet herkend: geef het formaat op."),
        ("en", BROKEN_SUMS, f"Line 4: '{NOT_HEX}' is not a hexadecimal sha256 hash."),
        ("en", BROKEN_HASHDEEP, "Line 5: 'zz' is not a hexadecimal md5 hash."),
        (
            "en",
            HEADLESS_HASHDEEP,
            "Line 1: A hashdeep file starts with %%%% HASHDEEP-1.0 and its column line.",
        ),
        ("en", UNKNOWN_JSON_FIELD, "files[0]: Unknown field sha9."),
        ("en", b"this is not a hash list\n", "The format could not be recognised: name it with format."),
    ],
)
def test_a_refused_manifest_is_told_in_the_readers_language(
    cast: Cast, language: str, data: bytes, words: str
):
    client = _signed_in("operator", language)
    assert words in _refused_upload(client, data)
    # The progress bar's way says the same.
    assert words in _refused_upload(client, data, X_Requested_With="XMLHttpRequest")
    assert Manifest.objects.count() == 0


def test_a_comparison_that_cannot_be_made_is_refused_in_dutch(cast: Cast):
    client = _signed_in("operator", "nl")
    assert _post(client, "delivered", DELIVERED).status_code == 302
    md5_list = b"d41d8cd98f00b204e9800998ecf8427e  ./a\n"
    response = _post(client, "imported", md5_list)
    assert response.status_code == 400
    assert (
        "De aangeleverde hashlijst heeft sha256 en de geïmporteerde md5: ze hebben geen hashalgoritme "
        "gemeen" in html.unescape(response.text)
    )
    assert Manifest.objects.count() == 1
