"""Every string of the interface exists in Dutch, and the compiled catalogue says what the source says.

The .mo files are committed, because a fresh machine may lack gettext; these tests make sure they
are not stale (a), that nothing is left untranslated or fuzzy (b), that no string in the code was
forgotten in the catalogue (c, whenever gettext's tools are present; CI installs them), and that the
pages speak Dutch by default and English on request (d).
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, override_settings

from tests.personas import CASE_PROJECT_ID, Cast

ROOT = Path(settings.BASE_DIR)
LOCALE = ROOT / "locale"
NL_PO = LOCALE / "nl" / "LC_MESSAGES" / "django.po"
NL_MO = LOCALE / "nl" / "LC_MESSAGES" / "django.mo"
# Folders that are not ours or not source: never scanned for strings, never copied.
NOT_SOURCE = (
    ".venv",
    "data",
    ".git",
    "node_modules",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    "*.egg-info",
)


# --- a small reader of .po and .mo files (gettext's own formats), so no extra dependency is needed ---

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def _unquote(text: str) -> str:
    text = text.strip()
    assert text.startswith('"') and text.endswith('"'), f"not a quoted string: {text!r}"
    body, out, i = text[1:-1], [], 0
    while i < len(body):
        char = body[i]
        if char == "\\":
            out.append(_ESCAPES[body[i + 1]])
            i += 2
        else:
            out.append(char)
            i += 1
    return "".join(out)


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)  # index 0 only, unless plural
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags

    @property
    def translated(self) -> bool:
        return bool(self.msgstr) and all(self.msgstr.values())

    def mo_key(self) -> str:
        """The original string as msgfmt stores it: context, EOT, msgid, NUL, plural."""
        key = self.msgid if self.msgid_plural is None else f"{self.msgid}\x00{self.msgid_plural}"
        return key if self.msgctxt is None else f"{self.msgctxt}\x04{key}"

    def mo_value(self) -> str:
        return "\x00".join(self.msgstr[i] for i in sorted(self.msgstr))


def read_po(path: Path) -> list[Entry]:
    entries: list[Entry] = []
    entry = Entry()
    started = False
    target: tuple[str, int] | None = None

    def finish() -> None:
        nonlocal entry, started, target
        if started:
            entries.append(entry)
        entry, started, target = Entry(), False, None

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            entry.obsolete = True
            line = line[2:].strip()
            if not line or line.startswith(("#", "|")):  # "#~|" is an obsolete entry's previous msgid
                continue
        elif line.startswith("#,"):
            entry.flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        elif line.startswith("#"):
            continue
        if line.startswith('"'):
            assert target is not None, f"continuation without a keyword in {path}: {raw!r}"
            kind, index = target
            value = _unquote(line)
            if kind == "msgstr":
                entry.msgstr[index] += value
            else:
                setattr(entry, kind, getattr(entry, kind) + value)
            continue
        keyword, _, rest = line.partition(" ")
        started = True
        if keyword.startswith("msgstr"):
            index = int(keyword[7:-1]) if keyword.startswith("msgstr[") else 0
            entry.msgstr[index] = _unquote(rest)
            target = ("msgstr", index)
        elif keyword in ("msgid", "msgid_plural", "msgctxt"):
            # A new msgctxt or msgid after a msgstr starts the next entry even without a blank line.
            if keyword in ("msgid", "msgctxt") and entry.msgstr:
                finish()
                started = True
            setattr(entry, keyword, _unquote(rest))
            target = (keyword, 0)
        else:
            raise AssertionError(f"unknown keyword in {path}: {raw!r}")
    finish()
    return entries


def read_mo(path: Path) -> dict[str, str]:
    """Every (original → translation) pair of a compiled catalogue, as GNU gettext lays it out."""
    data = path.read_bytes()
    magic = struct.unpack("<I", data[:4])[0]
    order = "<" if magic == 0x950412DE else ">"
    assert struct.unpack(order + "I", data[:4])[0] == 0x950412DE, "not a .mo file"
    _revision, count, originals, translations = struct.unpack(order + "4I", data[4:20])
    pairs: dict[str, str] = {}
    for i in range(count):
        o_len, o_off = struct.unpack(order + "2I", data[originals + 8 * i : originals + 8 * i + 8])
        t_len, t_off = struct.unpack(order + "2I", data[translations + 8 * i : translations + 8 * i + 8])
        pairs[data[o_off : o_off + o_len].decode("utf-8")] = data[t_off : t_off + t_len].decode("utf-8")
    return pairs


def live(entries: list[Entry]) -> list[Entry]:
    """The entries that matter: not obsolete, and not the header."""
    return [e for e in entries if not e.obsolete and e.msgid != ""]


# --- (a) the compiled catalogue is up to date ---


def compiled(entries: list[Entry]) -> dict[str, str]:
    """What msgfmt makes of the entries: translated, current, checked ones only, and a header without
    its POT-Creation-Date (msgfmt leaves that line out)."""
    pairs = {e.mo_key(): e.mo_value() for e in entries if not e.obsolete and not e.fuzzy and e.translated}
    if "" in pairs:
        pairs[""] = "".join(
            line for line in pairs[""].splitlines(keepends=True) if not line.startswith("POT-Creation-Date:")
        )
    return pairs


def test_it_commits_a_compiled_catalogue_that_says_what_the_po_says():
    assert read_mo(NL_MO) == compiled(read_po(NL_PO)), "run: manage.py compilemessages --ignore=.venv"


def test_it_reads_po_escapes_and_plurals_the_way_msgfmt_does(tmp_path: Path):
    # The reader above is what (a) and (b) rest on, so it is checked against msgfmt's own output
    # when msgfmt is here, and against the format's rules in any case.
    po = tmp_path / "t.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
        '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\n'
        '#, python-format\nmsgid "a \\"quoted\\"\\n"\n"line"\nmsgstr "een \\"geciteerde\\"\\n"\n"regel"\n\n'
        'msgctxt "menu"\nmsgid "Open"\nmsgstr "Openen"\n\n'
        'msgid "one case"\nmsgid_plural "%(n)s cases"\nmsgstr[0] "één zaak"\nmsgstr[1] "%(n)s zaken"\n\n'
        '#, fuzzy\nmsgid "guess"\nmsgstr "gok"\n\n'
        '#~ msgid "gone"\n#~ msgstr "weg"\n',
        encoding="utf-8",
    )
    entries = read_po(po)
    by_id = {e.msgid: e for e in entries}
    assert by_id['a "quoted"\nline'].msgstr == {0: 'een "geciteerde"\nregel'}
    assert by_id["Open"].mo_key() == "menu\x04Open"
    assert by_id["one case"].mo_key() == "one case\x00%(n)s cases"
    assert by_id["one case"].mo_value() == "één zaak\x00%(n)s zaken"
    assert by_id["guess"].fuzzy
    assert by_id["gone"].obsolete
    assert len(live(entries)) == 4
    msgfmt = shutil.which("msgfmt")
    if msgfmt:
        mo = tmp_path / "t.mo"
        subprocess.run([msgfmt, "-o", str(mo), str(po)], check=True)
        assert read_mo(mo) == compiled(entries)


# --- (b) nothing untranslated or fuzzy ---


def test_it_translates_every_string_into_dutch():
    entries = live(read_po(NL_PO))
    assert len(entries) > 50  # the catalogue is the real one, not an empty shell
    untranslated = [e.msgid for e in entries if not e.translated]
    fuzzy = [e.msgid for e in entries if e.fuzzy]
    assert untranslated == [], "untranslated in locale/nl/LC_MESSAGES/django.po"
    assert fuzzy == [], "fuzzy (unchecked) in locale/nl/LC_MESSAGES/django.po"


def test_it_has_a_finished_header():
    header = next(e for e in read_po(NL_PO) if e.msgid == "")
    assert not header.fuzzy
    assert "Language: nl\n" in header.msgstr[0]
    assert "charset=UTF-8" in header.msgstr[0]


def test_it_keeps_the_placeholders_of_every_string():
    import re

    placeholder = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")
    for e in live(read_po(NL_PO)):
        wanted = sorted(placeholder.findall(e.msgid_plural or e.msgid))
        for text in e.msgstr.values():
            assert sorted(placeholder.findall(text)) == wanted, e.msgid


# --- (c) no string in the code is missing from the catalogue ---

GETTEXT_TOOLS = ("xgettext", "msgmerge", "msguniq", "msgattrib")


def test_it_has_every_string_of_the_code_in_the_catalogue(tmp_path: Path):
    missing_tools = [tool for tool in GETTEXT_TOOLS if shutil.which(tool) is None]
    if missing_tools:
        # CI installs gettext, so there this check must run; a developer's machine may lack it.
        if os.environ.get("CI"):
            pytest.fail(f"gettext tools missing on CI: {missing_tools}")
        pytest.skip(f"gettext tools not installed: {missing_tools}")
    copy = tmp_path / "project"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hansken_governance.settings.test",
        "HG_DATA_DIR": str(tmp_path / "data"),
        "PYTHONPATH": str(copy),
    }
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "nl", "--no-obsolete", "--no-location"]
        + [f"--ignore={name}" for name in NOT_SOURCE],
        cwd=copy,
        env=env,
        check=True,
        capture_output=True,
    )
    found = {e.mo_key() for e in live(read_po(copy / "locale" / "nl" / "LC_MESSAGES" / "django.po"))}
    committed = {e.mo_key() for e in live(read_po(NL_PO))}
    missing = sorted(found - committed)
    assert missing == [], (
        "strings in the code but not in locale/nl/LC_MESSAGES/django.po: run makemessages -l nl "
        "--ignore=.venv --ignore=data, translate them, then compilemessages"
    )
    assert len(found) > 50  # the scan really ran over the project


# --- (d) Dutch by default, English on request ---


def test_it_speaks_dutch_unless_told_otherwise():
    from hansken_governance.settings import base

    assert base.LANGUAGE_CODE == "nl"
    assert [code for code, _ in base.LANGUAGES] == ["nl", "en"]


@override_settings(LANGUAGE_CODE="nl")
def test_it_renders_the_sign_in_page_in_dutch_then_english_then_dutch(db: None):
    client = Client()
    dutch = client.get("/accounts/login/").content.decode()
    assert '<html lang="nl">' in dutch
    assert "Gebruikersnaam" in dutch and "Wachtwoord" in dutch and "Inloggen" in dutch

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    english = client.get("/accounts/login/").content.decode()
    assert '<html lang="en">' in english
    assert "Username" in english and "Sign in" in english
    assert "Gebruikersnaam" not in english

    client.post("/i18n/setlang/", {"language": "nl", "next": "/accounts/login/"})
    assert "Gebruikersnaam" in client.get("/accounts/login/").content.decode()


@override_settings(LANGUAGE_CODE="nl")
def test_it_translates_the_pages_of_a_signed_in_person(cast: Cast):
    client = Client()
    client.force_login(cast["case_lead"])
    home = client.get("/").content.decode()
    # Navigation, role labels (gettext_lazy in people.roles) and the start page's tasks.
    for text in ("Zaken", "Zaakverantwoordelijke", "Mijn zaken", "Uitloggen", "Direct naar de inhoud"):
        assert text in home, text
    detail = client.get(f"/cases/{CASE_PROJECT_ID}/").content.decode()
    # Field labels, the status choice (cases.models) and the environment label (environments.py).
    for text in ("Zaaknummer", "Plaatsvervangers", "Aangeleverd door", "Productie"):
        assert text in detail, text

    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    home = client.get("/").content.decode()
    for text in ("Cases", "Case lead", "My cases", "Sign out"):
        assert text in home, text
    assert "Mijn zaken" not in home
