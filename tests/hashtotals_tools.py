"""Real hash tool output for the hashtotals tests, made in the test run: a tree of awkward names, the
same tree after an import that went wrong in four ways, and what each Debian tool writes over them
(coreutils, hashdeep/md5deep, fiwalk over an ext4 image made by mkfs.ext4, ewf-tools, dc3dd).

A tool that is missing skips the test with its name; under CI (``CI`` set) it fails instead, because
``.ci/run`` installs every one of them.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

# name -> content. Spaces at both ends, a comma, a backslash, a line feed, a byte that is not UTF-8,
# an empty file and two files with the same content (one in a folder with a space).
TREE: dict[bytes, bytes] = {
    b"a b.txt": b"hello\n",
    b"sub dir/dup.txt": b"hello\n",
    b" lead and trail ": b"spaces\n",
    b"comma,name.txt": b"comma\n",
    b"back\\slash.txt": b"backslash\n",
    b"new\nline.txt": b"newline\n",
    b"caf\xe9.txt": b"latin-1 name\n",
    b"empty": b"",
    b"keep/report.doc": b"report " * 200,
}

# After the import: one changed, one renamed, one removed, one added; everything else as delivered.
CHANGED = b"a b.txt"
RENAMED = (b"comma,name.txt", b"comma,renamed.txt")
REMOVED = b" lead and trail "
ADDED = b"added file.txt"


def after_tree() -> dict[bytes, bytes]:
    tree = dict(TREE)
    tree[CHANGED] = b"hello, changed\n"
    tree[RENAMED[1]] = tree.pop(RENAMED[0])
    del tree[REMOVED]
    tree[ADDED] = b"new content\n"
    return tree


def expected_differences() -> set[tuple[str, bytes, bytes | None]]:
    """(kind, delivered or only path, imported path for a move)."""
    return {
        ("changed", CHANGED, None),
        ("moved", RENAMED[0], RENAMED[1]),
        ("missing", REMOVED, None),
        ("extra", ADDED, None),
    }


def need(*tools: str) -> None:
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if not missing:
        return
    if os.environ.get("CI"):
        pytest.fail(f"hash tools missing on CI: {missing} (.ci/run installs them)")
    pytest.skip(f"hash tools not installed: {missing}")


def write_tree(root: Path, tree: dict[bytes, bytes]) -> Path:
    base = os.fsencode(root)
    os.makedirs(base, exist_ok=True)
    for name, content in tree.items():
        path = os.path.join(base, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as out:
            out.write(content)
    return root


def _run(args: list[str], cwd: Path | None = None, ok: tuple[int, ...] = (0,)) -> bytes:
    done = subprocess.run(args, cwd=cwd, capture_output=True, check=False)
    assert done.returncode in ok, (args, done.returncode, done.stderr)
    return done.stdout


def _files_of(root: Path) -> list[bytes]:
    base = os.fsencode(root)
    found = []
    for folder, _, names in os.walk(base):
        for name in names:
            found.append(os.path.relpath(os.path.join(folder, name), base))
    return sorted(found)


def coreutils(tool: str, *flags: str) -> Callable[[Path], bytes]:
    def make(root: Path) -> bytes:
        need(tool)
        # As an operator would run it: relative names, every file (find . -type f | xargs sum).
        names = [b"./" + name for name in _files_of(root)]
        return _run([tool, *flags, "--", *names], cwd=root)  # type: ignore[list-item]

    return make


def hashdeep(*flags: str, tool: str = "hashdeep") -> Callable[[Path], bytes]:
    def make(root: Path) -> bytes:
        need(tool)
        return _run([tool, *flags, "-r", "-l", "."], cwd=root)

    return make


def ext4_image(root: Path, image: Path) -> Path:
    need("mkfs.ext4")
    _run(["mkfs.ext4", "-q", "-F", "-L", "EVIDENCE", "-d", str(root), str(image), "4M"])
    return image


def fiwalk(root: Path) -> bytes:
    need("fiwalk", "mkfs.ext4")
    image = ext4_image(root, root.parent / f"{root.name}.raw")
    return _run(["fiwalk", "-x", str(image)])


def contract_json(root: Path) -> bytes:
    """What Hansken posts (the contract's JSON), computed here over the same tree."""
    files = []
    for name in _files_of(root):
        with open(os.path.join(os.fsencode(root), name), "rb") as source:
            data = source.read()
        item: dict[str, object] = {
            "path": name.decode("utf-8", "replace"),
            "size": len(data),
            "md5": hashlib.md5(data).hexdigest(),  # noqa: S324 - a hashtotal, not a security use
            "sha1": hashlib.sha1(data).hexdigest(),  # noqa: S324
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        try:
            name.decode("utf-8")
        except UnicodeDecodeError:
            item["path_hex"] = name.hex()
        files.append(item)
    return json.dumps({"image": None, "files": files}).encode()


# Every file-listing format: (label, the contract's format value or None to detect it, maker).
LISTS: dict[str, tuple[str | None, Callable[[Path], bytes]]] = {
    "sha256sum": (None, coreutils("sha256sum")),
    "sha256sum --tag": (None, coreutils("sha256sum", "--tag")),
    "md5sum -b": ("md5sum", coreutils("md5sum", "-b")),
    "sha1sum": (None, coreutils("sha1sum")),
    "hashdeep": (None, hashdeep("-c", "md5,sha1,sha256")),
    "md5deep": ("md5deep", hashdeep(tool="md5deep")),
    "sha256deep -z": ("sha256deep", hashdeep("-z", tool="sha256deep")),
    "hashdeep -d": (None, hashdeep("-c", "md5,sha256", "-d")),
    "fiwalk": (None, fiwalk),
    "json": (None, contract_json),
}
