"""Every manifest reader against what the real tools write, made in the test run over a tree of
awkward names (``tests.hashtotals_tools``): the reader must give back exactly the tree's names, as
bytes, and the hashes of their contents. No database needed."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hashtotals.readers import ReadError, detect, reader_for, scan
from tests.hashtotals_tools import LISTS, TREE, write_tree

EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
HASHDEEP_HEAD = b"%%%% HASHDEEP-1.0\n%%%% size,md5,filename\n## x\n"


def _read(fmt: str | None, data: bytes):
    reader = reader_for(fmt, data[:8192])
    summary = scan(reader, io.BytesIO(data))
    entries = list(reader_for(summary.format, b"").entries(io.BytesIO(data)))
    return summary, entries


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tree(tmp_path_factory.mktemp("delivered") / "tree", TREE)


@pytest.mark.parametrize("label", list(LISTS))
def test_it_reads_every_name_and_hash_the_tool_wrote(tree: Path, label: str):
    fmt, make = LISTS[label]
    output = make(tree)
    summary, entries = _read(fmt, output)
    assert summary.entries == len(TREE) == len(entries)
    assert {entry.path for entry in entries} == set(TREE)
    assert summary.algorithms
    for entry in entries:
        content = TREE[entry.path]
        for algorithm in summary.algorithms:
            assert entry.hashes[algorithm] == hashlib.new(algorithm, content).digest(), (
                entry.path,
                algorithm,
            )
        if entry.size is not None:
            assert entry.size == len(content)


def test_fiwalk_leaves_out_what_is_not_a_file_and_says_so(tree: Path):
    _, make = LISTS["fiwalk"]
    summary, _ = _read(None, make(tree))
    assert summary.format == "dfxml" and summary.tool == "fiwalk"
    # ".", ".." of the root, lost+found, sub dir and keep; lost+found's, sub dir's and keep's own
    # directories; the virtual $OrphanFiles.
    assert summary.not_files["dot_entry"] == 8
    assert summary.not_files["directory"] == 3
    assert summary.not_files["virtual"] == 1
    assert summary.algorithms == ["md5", "sha1"]


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (b"%%%% HASHDEEP-1.0\n%%%% size,md5,filename\n", "hashdeep"),
        (b"<?xml version='1.0'?>\n<dfxml version='1.0'>", "dfxml"),
        (b'{"files": []}', "json"),
        (b"ewfverify 20140813\n\n", "ewf"),
        (b"\ndc3dd 7.2.646 started at 2026-12-07 00:04:24 +0000\n", "dc3dd"),
        (b"Created By AccessData\xc2\xae FTK\xc2\xae Imager 4.7.1.2\n", "ftk"),
        (b"\xef\xbb\xbfd41d8cd98f00b204e9800998ecf8427e  empty\n", "sha256sum"),
        (b"SHA1 (x) = da39a3ee5e6b4b0d3255bfef95601890afd80709\n", "sha256sum"),
        (b"         0  d41d8cd98f00b204e9800998ecf8427e  ./empty\n", "md5deep"),
        (b"hello world\n", None),
    ],
)
def test_it_recognises_each_format_from_its_start(data: bytes, fmt: str | None):
    assert detect(data) == fmt


def test_a_list_with_bom_crlf_and_upper_case_hex_reads_as_the_plain_one():
    plain = b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  ./empty\n"
    windows = b"\xef\xbb\xbf" + plain.replace(
        b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        b"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
    ).replace(b"\n", b"\r\n")
    assert _read(None, windows)[1] == _read(None, plain)[1]


def test_a_utf16_list_reads_as_the_plain_one():
    plain = "SHA256 (a b.txt) = 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03\r\n"
    utf16 = b"\xff\xfe" + plain.encode("utf-16-le")
    _, entries = _read(None, utf16)
    assert [(e.path, e.hashes["sha256"].hex()) for e in entries] == [
        (b"a b.txt", "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03")
    ]


@pytest.mark.parametrize(
    ("fmt", "data", "line", "words"),
    [
        (
            None,
            b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  a\nnot a hash line\n",
            2,
            "not a line",
        ),
        (
            "sha256sum",
            b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  a\n\nxx\n",
            2,
            "empty",
        ),
        ("sha256sum", b"d41d8cd98f00b204e9800998ecf8427e  a\n", 1, "md5"),
        (
            "sha256sum",
            b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85z  a\n",
            1,
            "hexadecimal",
        ),
        (None, b"\\e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  a\\tb\n", 1, "escape"),
        (
            "hashdeep",
            b"%%%% HASHDEEP-1.0\n%%%% size,md5,filename\n## x\n"
            b"1,d41d8cd98f00b204e9800998ecf8427e,a\n2,zz,b\n",
            5,
            "hexadecimal",
        ),
        (
            "hashdeep",
            b"%%%% HASHDEEP-1.0\n%%%% size,md5,filename\n1,d41d8cd98f00b204e9800998ecf8427e,a\n7,d41d8c\n",
            4,
            "hashdeep",
        ),
        ("hashdeep", b"1,d41d8cd98f00b204e9800998ecf8427e,a\n", 1, "HASHDEEP-1.0"),
        (
            "dfxml",
            b"<dfxml><fileobject><filename>a</filename>\n<filesize>3</filesize></fileobject></dfxml>",
            1,
            "no hash",
        ),
        ("dfxml", b"<dfxml>\n<fileobject><filename>a</filename>\n</dfxml>", 3, "well-formed"),
        ("dfxml", b'<!DOCTYPE x [<!ENTITY a "b">]>\n<dfxml></dfxml>', 1, "Refused"),
        (
            "json",
            b'{"files": [{"path": "a", "md5": "d41d8cd98f00b204e9800998ecf8427e"}, '
            b'{"path": "b", "sha9": "x"}]}',
            1,
            "Unknown field",
        ),
        (
            "json",
            b'{"files": [{"path": "a", "md5": "d41d8cd98f00b204e9800998ecf8427e"}, '
            b'{"path": "b", "size": 3}]}',
            1,
            "no hash",
        ),
        ("json", b'{"files": [', None, "cannot be read"),
        # A field given twice: which one would count is the parser's choice, so neither does.
        (
            "json",
            b'{"files": [{"path": "a", "md5": "d41d8cd98f00b204e9800998ecf8427e"}], '
            b'"files": [{"path": "b", "md5": "d41d8cd98f00b204e9800998ecf8427e"}]}',
            None,
            "The field files is given twice",
        ),
        (
            "json",
            b'{"image": {"md5": "d41d8cd98f00b204e9800998ecf8427e"}, "image": null, "files": []}',
            None,
            "The field image is given twice",
        ),
        (
            "json",
            b'{"image": {"md5": "d41d8cd98f00b204e9800998ecf8427e", '
            b'"md5": "0cc175b9c0f1b6a831c399e269772661"}}',
            None,
            "The field image.md5 is given twice",
        ),
        (
            "json",
            b'{"files": [{"path": "a", "md5": "d41d8cd98f00b204e9800998ecf8427e"}, '
            b'{"path": "b", "md5": "d41d8cd98f00b204e9800998ecf8427e", '
            b'"md5": "0cc175b9c0f1b6a831c399e269772661"}]}',
            1,
            "The field md5 is given twice",
        ),
        ("json", b'{"files": 3}', None, "is a list"),
        # A JSON refusal names the entry, never a "Line": not even the whole-file check of algorithms.
        (
            "json",
            f'{{"files": [{{"path": "a", "md5": "{EMPTY_MD5}"}}, '
            f'{{"path": "b", "sha256": "{EMPTY_SHA256}"}}]}}'.encode(),
            1,
            "files[1]: This entry shares no hash algorithm",
        ),
        # Something after the object is not the last entry's fault.
        ("json", f'{{"files": [{{"path": "a", "md5": "{EMPTY_MD5}"}}]}} x'.encode(), None, "cannot be read"),
        # A copy cut off in its last line: every tool ends every line with a line feed. Without this
        # refusal a stray "6" was taken as the rest of the name before, and the entry was lost.
        ("sha256sum", f"{EMPTY_SHA256}  a\n{EMPTY_SHA256}  b".encode(), 2, "cut off"),
        ("hashdeep", HASHDEEP_HEAD + f"0,{EMPTY_MD5},a\n".encode() + b"6", 5, "cut off"),
        ("md5deep", f"{EMPTY_MD5}  a\n{EMPTY_MD5}  b".encode(), 2, "cut off"),
        # The tool's error output mixed in ("2>&1"): not the rest of a name.
        (
            "hashdeep",
            HASHDEEP_HEAD
            + f"0,{EMPTY_MD5},a\nhashdeep: /x/gone.txt: No such file or directory\n".encode()
            + f"0,{EMPTY_MD5},b\n".encode(),
            5,
            "message of the hash tool",
        ),
        (
            "hashdeep",
            HASHDEEP_HEAD + f"0,{EMPTY_MD5},a\ngone.txt: No such file or directory\n".encode(),
            5,
            "message of the hash tool",
        ),
        (
            "md5deep",
            f"{EMPTY_MD5}  a\nmd5deep: /x/b: Permission denied\n".encode(),
            2,
            "message of the hash tool",
        ),
        # A NUL byte is in no file name (PostgreSQL's text cannot hold one either).
        ("sha256sum", f"{EMPTY_SHA256}  a\n{EMPTY_SHA256}  b\x00c\n".encode(), 2, "NUL byte"),
        ("hashdeep", HASHDEEP_HEAD + f"0,{EMPTY_MD5},a\x00b\n".encode(), 4, "NUL byte"),
        ("json", f'{{"files": [{{"path": "a\\u0000b", "md5": "{EMPTY_MD5}"}}]}}'.encode(), 0, "NUL byte"),
        # Sizes beyond any disk.
        (
            "json",
            f'{{"files": [{{"path": "a", "size": 1e400, "md5": "{EMPTY_MD5}"}}]}}'.encode(),
            0,
            "not a size",
        ),
        (
            "json",
            b'{"image": {"size": 99999999999999999999999999, "md5": "' + EMPTY_MD5.encode() + b'"}}',
            None,
            "not a size",
        ),
        (
            "dc3dd",
            b"dc3dd 7 started at x\ninput results for file `a':\n   d41d8cd98f00b204e9800998ecf8427e (md5)\n",
            None,
            "did not finish",
        ),
        (
            "ewf",
            b"ewfverify 20140813\n\nMD5 hash calculated over data:\t\td41d8cd98f00b204e9800998ecf8427e\n",
            None,
            "no SUCCESS",
        ),
    ],
)
def test_an_unreadable_line_is_refused_with_its_line(fmt, data, line, words):
    with pytest.raises(ReadError) as caught:
        reader = reader_for(fmt, data[:8192])
        scan(reader, io.BytesIO(data))
    assert caught.value.line == line, str(caught.value)
    assert words in str(caught.value)
    if line is not None and fmt != "json":
        assert str(caught.value).startswith(f"Line {line}:")


def test_the_readers_run_outside_django_and_refuse_in_english():
    """benchmarks/hashtotals.py reads manifests in a plain Python process: the readers must not need
    the settings (marking their words for translation asks none), and still say what is wrong."""
    code = (
        "import io\n"
        "from hashtotals.readers import ReadError, reader_for, scan\n"
        "try:\n"
        "    scan(reader_for('hashdeep', b''), io.BytesIO(b'1,d41d8cd98f00b204e9800998ecf8427e,a\\n'))\n"
        "except ReadError as error:\n"
        "    print(error)\n"
    )
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run(  # nosec B603  # this interpreter, fixed code
        [sys.executable, "-c", code],
        env=env,
        cwd=Path(__file__).parent.parent,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Line 1: A hashdeep file starts with %%%% HASHDEEP-1.0 and its column line."
