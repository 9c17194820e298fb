"""What a report may show to every signed-in person: messages and tracebacks without the build
machine in them. A report's ``<properties>``, ``<system-out>`` and ``<system-err>`` are never read
at all (the parsers skip them); everything that is kept (suite, class and test names, messages,
tracebacks, the tool's name, the file's name) is passed through ``publishable`` here:

- home folders never reach the page, and other absolute paths keep only their last two steps
  (``shorten_paths``; the exact rule is in docs/test-reports.md, "Safe to publish");
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

# One word of a path's step. Possessive (Python 3.11): a long run is never tried shorter again.
_WORD = r"[\w.@+,=~$%#!()-]++"
_WORD_START = r"[\w.@+,=~$%#!(-]"
# A step: one word, or up to three words with single spaces between them when another step follows
# ("my project/", "Program Files (x86)\"); a path's last step ends at the first space, so the prose
# after a path ("/tmp/x.py failed with ...") is never taken for part of it.
_POSIX_STEP = rf"(?:{_WORD}(?:[ ]{_WORD}){{1,2}}(?=/{_WORD_START})|{_WORD})"
_WINDOWS_SEPARATOR = r"(?:\\\\|[\\/])"  # "\\" as well: a Windows path as Python's repr() writes it
_WINDOWS_STEP = rf"(?:{_WORD}(?:[ ]{_WORD}){{1,2}}(?={_WINDOWS_SEPARATOR}{_WORD_START})|{_WORD})"
# A Windows user name may hold spaces; it ends only at a character Windows refuses in a user name
# (" / \ [ ] : ; | = , + * ? < >), a quote or the end of the line.
_WINDOWS_NAME = r"[^\\/\"'\[\]:;|=,+*?<>\r\n\t]++"

# An absolute POSIX path: "/" not inside a word, a relative path or a URL ("a/b", "x/y", "1/2",
# "http://host/x" are left alone), optionally as a file: URL, or starting at "~" or "~user";
# "./" and "../" are taken too, but only to find a home folder right after them. After ":" or ";"
# a path starts anew (class paths, "file:/home/...").
_POSIX = re.compile(
    rf"""(?<![\w./\\])
    (?P<prefix>file:(?://[\w.-]*)?)?
    (?P<root>~[\w.-]*+(?=/)|(?:\.\.?/)*\.\.?(?=/)|)
    (?P<steps>(?:/{_POSIX_STEP})+)""",
    re.VERBOSE,
)
# A Windows path: a drive letter or a UNC host (\\server), with "\" or "/" between steps. After a
# "Users" or "Documents and Settings" step comes a user name (as _WINDOWS_NAME).
_WINDOWS = re.compile(
    rf"""(?<![\w.])
    (?P<prefix>file:/{{1,3}})?
    (?P<root>[A-Za-z]:(?=[\\/])|(?:\\\\){{1,2}}[\w.$-]++(?=\\))
    (?P<steps>(?:
        {_WINDOWS_SEPARATOR}(?i:users|documents\ and\ settings){_WINDOWS_SEPARATOR}{_WINDOWS_NAME}
        |{_WINDOWS_SEPARATOR}{_WINDOWS_STEP}
    )+)""",
    re.VERBOSE,
)
_SPLIT = re.compile(r"(\\\\|[\\/])([^\\/]*)")
# A step named so is a folder of home folders; the step after it is a user's home folder (and its
# name). POSIX names are case-sensitive (/home, /Users on macOS, /mnt/c/Users under WSL); Windows'
# are not.
_POSIX_HOMES = ("home", "Users")
_WINDOWS_HOMES = ("users", "documents and settings")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _home_end(root: str, steps: list[str], *, windows: bool, after_ellipsis: bool) -> int:
    """How many leading steps belong to a home folder (0: none; -1: the root itself is one, "~")."""
    if root.startswith("~"):
        return -1
    if root.startswith("."):  # ./ or ../: only a home folder straight after the dots
        return 2 if len(steps) > 1 and steps[0] in _POSIX_HOMES else 0
    end = 0
    if not windows and steps[0] == "root" and not after_ellipsis:
        end = 1  # /root: the administrator's home (not so when it is the tail of a shortened path)
    for index, step in enumerate(steps[:-1]):
        if (step.lower() in _WINDOWS_HOMES) if windows else (step in _POSIX_HOMES):
            end = index + 2
    return end


def _shorten(match: re.Match[str], *, windows: bool) -> str:
    parts = _SPLIT.findall(match.group("steps"))
    steps = [step for _, step in parts]
    after_ellipsis = match.start() > 0 and match.string[match.start() - 1] == ELLIPSIS
    root = match.group("root")
    home = _home_end(root, steps, windows=windows, after_ellipsis=after_ellipsis)
    if home == 0 and (root.startswith(".") or len(steps) <= KEEP_STEPS):
        return match.group(0)  # relative, or short: nothing to hide
    rest = parts[max(home, 0) :]
    return ELLIPSIS + "".join(separator + step for separator, step in rest[-KEEP_STEPS:])


def shorten_paths(text: str) -> str:
    """``text`` with every home folder taken out of its paths and every other absolute path cut to
    its last two steps (docs/test-reports.md, "Safe to publish")."""
    text = _WINDOWS.sub(lambda match: _shorten(match, windows=True), text)
    return _POSIX.sub(lambda match: _shorten(match, windows=False), text)


def publishable(text: str | None, limit: int) -> str:
    """``text`` as it may be published: paths shortened, control characters dropped, cut at ``limit``."""
    if not text:
        return ""
    clean = shorten_paths(_CONTROL.sub("", text))
    if len(clean) > limit:
        cut = len(clean) - limit
        clean = f"{clean[:limit]}\n{ELLIPSIS} ({cut} more characters not shown)"
    return clean
