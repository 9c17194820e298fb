"""The contract's own JSON (what Hansken posts): ``{"image": {"size", "md5", "sha1", "sha256"},
"files": [{"path", "size", "md5", "sha1", "sha256"}]}``, read as a stream (ijson), so a list of a
million files is never a million dicts at once. An error names the entry's index in ``files``.

A field named twice (``"files"`` or ``"image"`` at the top, a hash in an entry) is refused: JSON
parsers disagree on which one wins (Python's keeps the last, others the first or both), so the
manifest would not say one thing."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any, BinaryIO

import ijson

from hansken_governance.json_keys import TWICE
from hashtotals.readers.base import (
    DIGEST_SIZES,
    EMPTY_DIGESTS,
    MAX_SIZE,
    Entry,
    Reader,
    ReadError,
    digest,
    gettext_noop,
    normalise,
)


def _where(index: int | None) -> str:
    return f"files[{index}]" if index is not None and index >= 0 else ""


def _error(index: int | None, message: str, **params: Any) -> ReadError:
    return ReadError(index, message, where=_where(index), **params)


def _size(value: Any, where: int | None) -> int:
    """A whole number of bytes, 0 to ``MAX_SIZE`` (ijson gives ``1e400`` as a Decimal: no file's size)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, Decimal))
        or value != int(value)
        or not 0 <= value <= MAX_SIZE
    ):
        raise _error(where, gettext_noop("%(value)s is not a size in bytes."), value=repr(value))
    return int(value)


class JsonReader(Reader):
    format = "json"

    def __init__(self) -> None:
        super().__init__()
        self.tool = "json"
        self.lists_files = False  # until "files" is seen

    def where(self, line: int) -> str:
        return _where(line)

    def _image(self, image: dict[str, Any]) -> None:
        for key, value in image.items():
            if key == "size":
                self.image_size = None if value is None else _size(value, None)
            elif key in DIGEST_SIZES:
                if value is not None:
                    self.image_hashes[key] = digest(key, _string(value, None), None).hex()
            else:
                raise _error(None, gettext_noop("Unknown field %(field)s."), field=f"image.{key}")

    def _file(self, item: dict[str, Any], index: int) -> Entry:
        try:
            return self._file_checked(item, index)
        except ReadError as error:
            raise _error(index, error.message, **error.params) from None

    def _file_checked(self, item: dict[str, Any], index: int) -> Entry:
        path = item.get("path")
        if not isinstance(path, str) or not path:
            raise _error(index, gettext_noop("Every file needs a path."))
        raw = path.encode("utf-8")
        if item.get("path_hex") is not None:
            # Our addition to the contract's fields: a name that is not UTF-8, as its exact bytes.
            try:
                raw = bytes.fromhex(item["path_hex"])
            except (TypeError, ValueError):
                raise _error(index, gettext_noop("path_hex is not hexadecimal.")) from None
        size = None if item.get("size") is None else _size(item["size"], index)
        hashes: dict[str, bytes] = {}
        for key, value in item.items():
            if key in DIGEST_SIZES:
                if value is not None:
                    hashes[key] = digest(key, _string(value, index), index)
            elif key not in ("path", "path_hex", "size"):
                raise _error(index, gettext_noop("Unknown field %(field)s."), field=key)
        if not hashes:
            if size != 0:
                raise _error(index, gettext_noop("The file %(name)s has no hash."), name=repr(path))
            hashes = dict(EMPTY_DIGESTS)
        return Entry(normalise(raw, index), size, hashes, index)

    def entries(self, stream: BinaryIO, only: set[int] | None = None) -> Iterator[Entry]:
        index = -1
        item: dict[str, Any] | None = None
        key = ""
        image: dict[str, Any] | None = None
        seen_files = False
        finished = False
        top_keys: set[str] = set()
        try:
            for prefix, event, value in ijson.parse(stream):
                if prefix == "files.item":
                    if event == "start_map":
                        index += 1
                        item = {}
                    elif event == "map_key":
                        key = value
                        if item is not None and key in item:
                            raise _error(index, TWICE, field=key)
                    elif event == "end_map":
                        assert item is not None
                        yield self._file(item, index)
                        item = None
                    else:
                        raise _error(index + 1, gettext_noop("Every entry of files is an object."))
                elif item is not None:
                    if event in ("start_map", "start_array"):
                        raise _error(
                            index, gettext_noop("The field %(field)s holds an object or list."), field=key
                        )
                    item[key] = value
                elif prefix == "image":
                    if event == "start_map":
                        image = {}
                    elif event == "map_key":
                        key = value
                        if image is not None and key in image:
                            raise _error(None, TWICE, field=f"image.{key}")
                    elif event == "end_map":
                        assert image is not None
                        self._image(image)
                    elif event != "null":
                        raise _error(None, gettext_noop('"image" is an object.'))
                elif prefix.startswith("image.") and image is not None:
                    if event in ("start_map", "start_array"):
                        raise _error(
                            None, gettext_noop("%(field)s holds an object or list."), field=f"image.{key}"
                        )
                    image[key] = value
                elif prefix == "files":
                    if event == "start_array":
                        seen_files = self.lists_files = True
                    elif event != "end_array":
                        raise _error(None, gettext_noop('"files" is a list.'))
                elif prefix == "" and event == "map_key":
                    if value not in ("image", "files"):
                        raise _error(None, gettext_noop("Unknown field %(field)s."), field=value)
                    if value in top_keys:
                        raise _error(None, TWICE, field=value)
                    top_keys.add(value)
                elif prefix == "" and event == "end_map":
                    finished = True  # anything after the object is no entry's fault
                elif prefix == "" and event not in ("start_map", "map_key"):
                    raise _error(
                        None, gettext_noop('The JSON is an object: {"image": {...}, "files": [...]}.')
                    )
        except (ijson.JSONError, UnicodeDecodeError) as error:
            raise _error(
                index if index >= 0 and not finished else None,
                gettext_noop("The JSON cannot be read: %(reason)s."),
                reason=str(error),
            ) from None
        if not seen_files and image is None:
            raise _error(None, gettext_noop('The JSON has neither "image" nor "files".'))


def _string(value: Any, where: int | None) -> str:
    if not isinstance(value, str):
        raise _error(where, gettext_noop("%(value)s is not a hash."), value=repr(value))
    return value
