"""pyphen's dictionaries kept parsed in the user's cache (handbook/hyphenation.py): the same break
points as parsing the dictionary, a damaged entry parsed again, an unwritable cache no error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyphen
import pytest

from handbook import hyphenation

WORDS = ["Bundesverfassungsgericht", "Datenschutzbeauftragte", "Geschäftsordnung", "Verwaltungsvorschrift",
         "Ordnungswidrigkeiten", "Abschnitt", "Haushaltsgrundsätze", "Mitteilungspflichten", "unverzüglich"]

# A page of German text, hyphenated, written by WeasyPrint in a fresh process (pyphen parses or reads
# the dictionary there); prints the lines as WeasyPrint broke them.
RENDER = r"""
import sys
from weasyprint import HTML
from handbook import pdf
pdf.font_config()
words = " ".join(sys.argv[1:] * 6)
html = (f'<html lang="de"><style>@page {{ size: 60mm 200mm; margin: 5mm }} '
        f'p {{ hyphens: auto; font-size: 11pt }}</style><p>{words}</p>')
doc = HTML(string=html).render(font_config=pdf.font_config())
lines = []
for page in doc.pages:
    def walk(box):
        if type(box).__name__ == "LineBox":
            lines.append("".join(getattr(c, "text", "") or "" for c in box.descendants()))
            return
        for child in getattr(box, "children", ()):
            walk(child)
    walk(page._page_box)
import pyphen
print(type(pyphen.hdcache).__name__)
print("\n".join(lines))
"""


def render(cache: Path) -> list[str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    out = subprocess.run([sys.executable, "-c", RENDER, *WORDS], env=env, capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out[0] == "Dictionaries"  # installed with the fonts
    return out[1:]


def entries(cache: Path) -> list[Path]:
    return sorted((cache / "handbook" / "hyphenation").glob("hyph_de_*.json"))


def test_lines_break_where_they_did_when_the_dictionary_comes_from_the_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    parsed = render(cache)
    assert any(line.endswith("\u2010") or line.endswith("-") for line in parsed), parsed  # it hyphenated
    [entry] = entries(cache)
    assert entry.stat().st_size > 1_000_000  # the German patterns
    kept = entry.read_bytes()
    assert render(cache) == parsed  # read from the cache: the same lines
    assert entry.read_bytes() == kept  # read, not written again


def test_a_damaged_entry_is_parsed_again_and_written_anew(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    parsed = render(cache)
    [entry] = entries(cache)
    text = entry.read_text(encoding="utf-8")
    digest, _, body = text.partition("\n")
    edited = json.loads(body)
    edited[next(iter(edited))][0] += 1  # one pattern moved: valid JSON, another digest
    entry.write_text(f"{digest}\n{json.dumps(edited)}", encoding="utf-8")
    assert hyphenation._load(entry) is None
    assert render(cache) == parsed
    assert entry.read_text(encoding="utf-8") == text
    entry.write_text("not json", encoding="utf-8")
    assert render(cache) == parsed


def test_a_cache_folder_that_is_a_file_is_no_error(tmp_path: Path) -> None:
    (tmp_path / "cache").write_text("a file where the cache would be")
    assert render(tmp_path / "cache")


def test_the_kept_patterns_give_the_same_break_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the cache relies on in pyphen: a parsed dictionary's patterns, cache and maxlen."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = pyphen.LANGUAGES["de_DE"]
    parsed = pyphen.HyphDict(path)
    assert {"patterns", "cache", "maxlen"} <= set(vars(parsed))
    entry = hyphenation.entry_path(path)
    assert entry is not None
    dictionaries = hyphenation.Dictionaries()
    dictionaries[path] = parsed  # written
    assert len(json.loads(entry.read_text(encoding="utf-8").partition("\n")[2])) == len(parsed.patterns)
    loaded = hyphenation._load(entry)
    assert loaded is not None and loaded.maxlen == parsed.maxlen and len(loaded.patterns) == len(parsed.patterns)
    for word in WORDS:
        assert loaded.positions(word) == parsed.positions(word), word
    fresh = hyphenation.Dictionaries()
    assert path in fresh  # found in the user's cache
    monkeypatch.setattr(pyphen, "hdcache", fresh)
    assert pyphen.Pyphen(lang="de_DE").hd is fresh[path]  # pyphen looks in hdcache by name


def test_no_cache_without_an_absolute_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A relative XDG_CACHE_HOME is ignored (the XDG rule); with no home either, nothing is kept —
    never a folder under where the command runs (a project)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert hyphenation.cache_folder() == tmp_path / "home" / ".cache" / "handbook" / "hyphenation"
    monkeypatch.setenv("HOME", "")
    monkeypatch.setattr(os.path, "expanduser", lambda path: path)  # no home at all: "~" stays "~"
    assert hyphenation.cache_folder() is None
    assert hyphenation.entry_path(pyphen.LANGUAGES["de_DE"]) is None
    dictionaries = hyphenation.Dictionaries()
    dictionaries[pyphen.LANGUAGES["de_DE"]] = pyphen.HyphDict(pyphen.LANGUAGES["de_DE"])
    assert not any(tmp_path.rglob("*.json"))
