"""The hyphenation dictionaries WeasyPrint reads, kept parsed between runs.

WeasyPrint hyphenates with pyphen, which parses a language's ``hyph_*.dic`` the first time a
process meets that language: the German dictionary (66,000 patterns) takes about 0.5 s of every
cold build of a German text, as long as the whole layout of a twenty-page part of a long edition.
:func:`install` keeps each dictionary pyphen parses as JSON in the user's cache
(``$XDG_CACHE_HOME/handbook/hyphenation``, else ``~/.cache/...``) and reads it from there in the next
process (about 0.06 s). The patterns are the same, so the lines break where they did.

A cache entry is named by the dictionary file (its path, size and time) and pyphen's version, and
carries a digest of its own text: an entry that is damaged, edited or from another pyphen is parsed
from the dictionary again, never an error. When the cache cannot be written, nothing is kept.

This relies on pyphen's module dictionary ``hdcache`` (path -> parsed dictionary), which
``pyphen.Pyphen`` consults by name, and on a parsed dictionary's ``patterns``, ``cache`` and
``maxlen`` (pinned ``pyphen`` in constraints.txt; ``tests/test_hyphenation.py`` fails by name when
they change). :func:`handbook.pdf.font_config` installs it with the other WeasyPrint adapters.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from .errors import OutputError
from .output import atomic_write

log = logging.getLogger(__name__)

FORMAT = 1  # of a cache entry: bump when what is written changes


def cache_folder() -> Path | None:
    """The user's cache for the dictionaries; None without one (no home, a relative path: as the XDG
    specification says, ignored — never a folder relative to where the command runs)."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "handbook" / "hyphenation" if os.path.isabs(base) else None


def entry_path(dictionary: Path) -> Path | None:
    """Where the parsed ``dictionary`` is kept (None: no cache, or the file cannot be read)."""
    import pyphen

    folder = cache_folder()
    try:
        stat = dictionary.stat()
    except OSError:
        return None
    if folder is None:
        return None
    key = f"{FORMAT}\0{pyphen.VERSION}\0{dictionary.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}"
    return folder / f"{dictionary.stem}-{hashlib.sha256(key.encode()).hexdigest()[:20]}.json"


def _dump(parsed: Any) -> str | None:
    """The patterns as JSON, or None when they hold more than numbers (a dictionary with
    nonstandard hyphenation keeps objects there: it is parsed every time, as before)."""
    patterns = {}
    for key, (start, values) in parsed.patterns.items():
        if not all(type(v) is int for v in values):
            return None
        patterns[key] = [start, list(values)]
    body = json.dumps(patterns, ensure_ascii=False, separators=(",", ":"))
    return f"{hashlib.sha256(body.encode()).hexdigest()}\n{body}"


def _load(path: Path) -> Any | None:
    """The parsed dictionary kept at ``path``, or None (missing, damaged, edited)."""
    import pyphen

    try:
        digest, _, body = path.read_text(encoding="utf-8").partition("\n")
        if hashlib.sha256(body.encode()).hexdigest() != digest:
            return None
        patterns = json.loads(body)
        if not isinstance(patterns, dict) or not patterns:
            return None
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    parsed = pyphen.HyphDict.__new__(pyphen.HyphDict)  # what HyphDict.__init__ leaves, without parsing
    parsed.patterns = patterns  # values stay lists: pyphen only indexes and zips them
    parsed.cache = {}
    parsed.maxlen = max(len(key) for key in patterns)
    return parsed


class Dictionaries(dict[Path, Any]):
    """pyphen's ``hdcache`` that also looks in, and writes to, the user's cache."""

    def __contains__(self, path: object) -> bool:
        if super().__contains__(path):
            return True
        if isinstance(path, Path) and (entry := entry_path(path)) is not None:
            parsed = _load(entry)
            if parsed is not None:
                super().__setitem__(path, parsed)
                return True
        return False

    def __setitem__(self, path: Path, parsed: Any) -> None:
        super().__setitem__(path, parsed)
        entry = entry_path(path)
        text = _dump(parsed) if entry is not None else None
        if entry is None or text is None:
            return
        try:
            atomic_write(entry, text)
        except (OSError, OutputError) as exc:
            log.debug("hyphenation: %s not kept: %s", entry, exc)


def install() -> None:
    """Put :class:`Dictionaries` in the place of pyphen's ``hdcache`` (once per process)."""
    import pyphen

    if not isinstance(pyphen.hdcache, Dictionaries):
        pyphen.hdcache = Dictionaries(pyphen.hdcache)
