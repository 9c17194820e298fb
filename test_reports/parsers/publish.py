"""What a report may show to every signed-in person: messages and tracebacks without the build
machine in them. A report's ``<properties>``, ``<system-out>`` and ``<system-err>`` are never read
at all (the parsers skip them); what is read is passed through ``publishable`` here:

- an absolute path keeps only its last two steps (``/home/alice/ci/hansken/tests/test_x.py`` becomes
  ``…/tests/test_x.py``; ``C:\\Users\\alice\\src\\Foo.java`` becomes ``…\\src\\Foo.java``), so a user
  name, a home folder or a workspace layout does not reach the page;
- control characters other than tab and line breaks are dropped;
- a message is cut at ``MESSAGE_LIMIT`` and a traceback at ``DETAILS_LIMIT`` characters, with a note.

Escaping is the page's job (Django's autoescape) and the API's (JSON): the text is kept as text.
"""

from __future__ import annotations

import re

MESSAGE_LIMIT = 2_000
DETAILS_LIMIT = 20_000
NAME_LIMIT = 1_000
KEEP_STEPS = 2
ELLIPSIS = "…"

# A POSIX absolute path of at least three steps: "/" not preceded by a word character, a dot, a
# slash or a colon (so "a/b", "./x", "http://host/x" and "1/2" are left alone), then steps.
_POSIX = re.compile(r"(?<![\w./:\\~-])(?:file://)?((?:/[\w.@+,=~-]+){3,})/?")
# A Windows path with a drive letter, or a UNC path (\\server\share\...).
_WINDOWS = re.compile(r"(?<![\w\\])((?:[A-Za-z]:|\\\\[\w.$-]+)(?:\\[\w.@+,=~ $-]+?){2,})(?=[\\\s\"'),:;]|$)")
_HOME = re.compile(r"~[\w.-]*(?:/[\w.@+,=~-]+)+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _short_posix(match: re.Match[str]) -> str:
    steps = match.group(1).split("/")[1:]
    return ELLIPSIS + "/" + "/".join(steps[-KEEP_STEPS:])


def _short_windows(match: re.Match[str]) -> str:
    steps = match.group(1).split("\\")
    return ELLIPSIS + "\\" + "\\".join(steps[-KEEP_STEPS:])


def _short_home(match: re.Match[str]) -> str:
    steps = match.group(0).split("/")[1:]
    return ELLIPSIS + "/" + "/".join(steps[-KEEP_STEPS:])


def shorten_paths(text: str) -> str:
    text = _POSIX.sub(_short_posix, text)
    text = _WINDOWS.sub(_short_windows, text)
    return _HOME.sub(_short_home, text)


def publishable(text: str | None, limit: int) -> str:
    """``text`` as it may be published: paths shortened, control characters dropped, cut at ``limit``."""
    if not text:
        return ""
    clean = shorten_paths(_CONTROL.sub("", text))
    if len(clean) > limit:
        cut = len(clean) - limit
        clean = f"{clean[:limit]}\n{ELLIPSIS} ({cut} more characters not shown)"
    return clean
