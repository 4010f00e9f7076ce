"""The glyph check: every character a reader will see is in one of the edition's configured fonts.

WeasyPrint draws a character that none of the fonts asked for has with whatever font fontconfig
finds, or as an empty box, and goes on. This check runs before anything is rendered (``handbook
build``, ``handbook check``) and names the file, the line and the character instead::

    content/03-gifts.md:12: the character '𓀀' (U+13000) is not in any configured font (Charis SIL, ...)

**The configured fonts** of an edition are the families its stylesheets name: in ``font-family``
declarations (quoted or not), and the quoted names in ``font`` shorthands and in custom properties
(``--serif`` and ``--sans`` in theme.css; a custom property holding one quoted string counts only
when a font of that name is installed). Each is the font fontconfig has installed under that
family name (its regular style; ``fc-list``), or for an ``@font-face`` family the project file its
``src: url()`` names. Generic families (``serif``, ``sans-serif``) do not count: what they become
depends on the machine. A named family that is not installed covers nothing; the message says so.

**The text checked** is read from the files it comes from, so every problem has a file and a line:
the string values of handbook.yaml and department.yaml, the chapters (front matter values and the
Markdown body, HTML comments left out), the cards.yaml files, the templates' literal text and
string literals, the strings of the stylesheets' ``content:`` declarations, and the labels and the
date format of the edition's language. Characters that draw nothing are not checked: controls,
format characters (soft hyphen, zero-width space), spaces and variation selectors. What Markdown's
typographer makes (curly quotes, dashes) and numeric character references are not seen.

A font's coverage is its ``cmap``, read with fontTools once per font file per process (format 12
tables, the large CJK ones, are read directly: milliseconds instead of a fifth of a second).
"""

from __future__ import annotations

import bisect
import functools
import logging
import re
import shutil
import struct
import subprocess
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ContentError, Problem, display_path
from .model import Edition

log = logging.getLogger(__name__)

GENERIC = frozenset({"serif", "sans-serif", "monospace", "cursive", "fantasy", "system-ui", "ui-serif",
                     "ui-sans-serif", "ui-monospace", "ui-rounded", "math", "emoji", "fangsong",
                     "inherit", "initial", "unset", "revert", "revert-layer", "default"})
REGULAR_STYLES = ("regular", "book", "normal", "roman", "medium")
MAX_PROBLEMS = 30  # per edition; then one line says how many more characters are missing

FontFile = tuple[Path, int]  # a font file and the index of the face in it (collections: .ttc)


# --- fonts -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Coverage:
    """The characters of one font: sorted, non-overlapping (start, end) ranges."""

    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def __contains__(self, codepoint: object) -> bool:
        if not isinstance(codepoint, int):
            return False
        i = bisect.bisect_right(self.starts, codepoint) - 1
        return i >= 0 and codepoint <= self.ends[i]

    @classmethod
    def from_ranges(cls, ranges: Iterable[tuple[int, int]]) -> Coverage:
        merged: list[list[int]] = []
        for start, end in sorted(ranges):
            if merged and start <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        return cls(tuple(r[0] for r in merged), tuple(r[1] for r in merged))


def _format12(data: bytes, offset: int) -> list[tuple[int, int]] | None:
    """The ranges of a format 12 (or 13) cmap subtable at ``offset``; None if it is not one."""
    if len(data) < offset + 16:
        return None
    fmt = struct.unpack_from(">H", data, offset)[0]
    if fmt not in (12, 13):
        return None
    groups = struct.unpack_from(">I", data, offset + 12)[0]
    if len(data) < offset + 16 + 12 * groups:
        return None
    values = struct.unpack_from(f">{3 * groups}I", data, offset + 16)
    return [(values[i], values[i + 1]) for i in range(0, len(values), 3)
            if fmt == 13 or values[i + 2] or values[i] != values[i + 1]]


@functools.cache
def coverage(path: Path, index: int = 0) -> Coverage:
    """The characters the font at ``path`` (face ``index`` of a collection) has a glyph for."""
    from fontTools.ttLib import TTFont

    font = TTFont(str(path), fontNumber=index, lazy=True)
    try:
        raw = font.reader["cmap"]
        tables = struct.unpack_from(">HH", raw, 0)[1]
        for i in range(tables):
            platform, encoding, offset = struct.unpack_from(">HHI", raw, 4 + 8 * i)
            if (platform, encoding) in ((3, 10), (0, 4), (0, 6)):
                ranges = _format12(raw, offset)
                if ranges is not None:
                    return Coverage.from_ranges(ranges)
        best = font.getBestCmap() or {}
        return Coverage.from_ranges((c, c) for c in best)
    finally:
        font.close()


def _split_list(value: str) -> list[str]:
    """fontconfig's comma-separated values ('\\,' is a comma inside a name)."""
    return [v.replace("\\,", ",").strip() for v in re.split(r"(?<!\\),", value) if v.strip()]


@functools.lru_cache(maxsize=1)
def installed_fonts() -> dict[str, FontFile] | None:
    """Family name (lower case) -> the file of its regular style, as fontconfig lists them;
    None when fontconfig's ``fc-list`` is not installed."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    out = subprocess.run([fc_list, "--format", "%{family}\t%{style}\t%{file}\t%{index}\n"],
                         capture_output=True, text=True, check=False).stdout
    best: dict[str, tuple[int, str, FontFile]] = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) != 4:
            continue
        families, styles, file, index = parts
        style_names = [s.lower() for s in _split_list(styles)] or ["regular"]
        font = (Path(file), int(index) if index.isdigit() else 0)
        # fontconfig pairs the lists: "Lato,Lato Black" with "Black,Regular" is Lato's black.
        for i, family in enumerate(_split_list(families)):
            style = style_names[i] if i < len(style_names) else style_names[0]
            rank = REGULAR_STYLES.index(style) if style in REGULAR_STYLES else len(REGULAR_STYLES)
            key = family.lower()
            candidate = (rank, file, font)
            if key not in best or candidate[:2] < best[key][:2]:
                best[key] = candidate
    return {family: font for family, (_, _, font) in best.items()}


# --- stylesheets -----------------------------------------------------------------------------

_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_FONT_FACE = re.compile(r"@font-face\s*\{([^}]*)\}", re.I)
_DECLARATION = re.compile(r"(?<![\w-])(font-family|font|--[\w-]+|content)\s*:\s*([^;{}]*)", re.I)
_STRING = re.compile(r"\"((?:[^\"\\\n]|\\.)*)\"|'((?:[^'\\\n]|\\.)*)'")
_URL = re.compile(r"url\(\s*(?:\"([^\"]*)\"|'([^']*)'|([^)\s]*))\s*\)", re.I)


def _blank(match: re.Match[str]) -> str:
    """A comment replaced by spaces, its line breaks kept (so line numbers stay right)."""
    return re.sub(r"[^\n]", " ", match[0])


def _unescape_css(text: str) -> str:
    return re.sub(r"\\([0-9a-fA-F]{1,6}) ?|\\(.)",
                  lambda m: chr(int(m[1], 16)) if m[1] else m[2], text)


def _strings(value: str) -> list[str]:
    return [_unescape_css(m[1] if m[1] is not None else m[2]) for m in _STRING.finditer(value)]


@dataclass
class Stylesheets:
    """What an edition's stylesheets say about fonts and printed text."""

    families: list[str] = field(default_factory=list)  # in the order they first appear
    maybe: set[str] = field(default_factory=set)  # named only in custom properties: fonts if installed
    font_faces: dict[str, FontFile] = field(default_factory=dict)  # @font-face family -> project file
    content: list[tuple[str, int, str]] = field(default_factory=list)  # (file, line, text) of content: strings

    def add_family(self, name: str, maybe: bool = False) -> None:
        name = name.strip()
        key = name.lower()
        if not name or key in GENERIC or key.startswith("var("):
            return
        if key not in (f.lower() for f in self.families):
            self.families.append(name)
            if maybe:
                self.maybe.add(key)
        elif not maybe:
            self.maybe.discard(key)


def read_stylesheets(paths: Iterable[Path], root: Path) -> Stylesheets:
    found = Stylesheets()
    for path in paths:
        try:
            css = _COMMENT.sub(_blank, path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            continue  # the project's checks report unreadable stylesheets
        shown = display_path(path, root)
        for face in _FONT_FACE.finditer(css):
            body = face[1]
            family = next((v for d in _DECLARATION.finditer(body) if d[1].lower() == "font-family"
                           for v in (_strings(d[2]) or [d[2].strip()])), None)
            for url in _URL.finditer(body):
                target = (path.parent / (url[1] or url[2] or url[3] or "")).resolve()
                if family and target.is_file() and target.is_relative_to(root.resolve()):
                    found.font_faces.setdefault(family.lower(), (target, 0))
                    break
        for decl in _DECLARATION.finditer(css):
            prop, value = decl[1].lower(), decl[2]
            if prop == "content":
                line = css.count("\n", 0, decl.start(2)) + 1
                found.content += [(shown, line, text) for text in _strings(value)]
            elif prop == "font-family":
                for item in value.split(","):
                    item = item.strip()
                    quoted = _strings(item)
                    found.add_family(quoted[0] if quoted else " ".join(item.split()))
            else:  # font shorthand, custom property: the quoted names only; a custom property
                # that is no list ('--label: "x"') names a font only if one is installed by that name
                for name in _strings(value):
                    found.add_family(name, maybe=prop.startswith("--") and "," not in value)
    return found


@dataclass
class Fonts:
    """The configured fonts of an edition, resolved to files."""

    families: list[str]  # configured, in order
    files: dict[str, FontFile]  # family -> file, for those that are installed or in the project
    missing: list[str]  # configured but not found
    available: bool = True  # False: fontconfig's fc-list is not installed

    def covers(self, codepoint: int) -> bool:
        return any(codepoint in coverage(*font) for font in self.files.values())


def configured_fonts(stylesheets: Stylesheets) -> Fonts:
    system = installed_fonts()
    files: dict[str, FontFile] = {}
    missing: list[str] = []
    for family in stylesheets.families:
        font = stylesheets.font_faces.get(family.lower()) or (system or {}).get(family.lower())
        if font is not None:
            files[family] = font
        elif family.lower() not in stylesheets.maybe:
            missing.append(family)
    return Fonts([f for f in stylesheets.families if f in files or f in missing], files, missing,
                 system is not None)


# --- the text of an edition -------------------------------------------------------------------

Text = tuple[str, int | None, str]  # (file as shown, line of the text's first character, text)


def _yaml_strings(data: Any, loc: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if isinstance(data, str):
        yield loc, data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from _yaml_strings(value, (*loc, str(key)))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _yaml_strings(value, (*loc, i))


def _yaml_texts(path: Path, root: Path, text: str | None = None, offset: int = 0) -> Iterator[Text]:
    """The string values of a YAML file (or of front matter ``text`` starting after ``offset`` lines)."""
    from .yamlfile import parse_yaml

    shown = display_path(path, root)
    try:
        source = path.read_text(encoding="utf-8") if text is None else text
    except (OSError, UnicodeDecodeError):
        return
    doc, _ = parse_yaml(source, path, shown, offset=offset)
    if doc is None:
        return
    lines = source.splitlines()
    for loc, value in _yaml_strings(doc.data):
        line = doc.line_of(loc)
        if "\n" not in value.strip():
            yield shown, line, value
            continue
        # A value written over several lines (a block scalar): each line where it is written.
        n = line - offset - 1
        for part in value.split("\n"):
            if part.strip():
                at = next((i for i in range(max(n, 0), len(lines)) if part.strip() in lines[i]), None)
                if at is not None:
                    n = at
                yield shown, (at + offset + 1) if at is not None else line, part


def _markdown_texts(path: Path, root: Path) -> Iterator[Text]:
    from .content import split_front_matter

    shown = display_path(path, root)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return
    front, body, offset = split_front_matter(text)
    if front is not None and offset > 0:
        yield from _yaml_texts(path, root, front, offset=1)
    else:
        offset = 0
    yield shown, offset + 1, re.sub(r"<!--.*?-->", _blank, body, flags=re.S)


def _template_texts(folder: Path, root: Path) -> Iterator[Text]:
    import jinja2

    env = jinja2.Environment()
    for path in sorted(folder.rglob("*.j2")) if folder.is_dir() else ():
        try:
            source = path.read_text(encoding="utf-8")
            tokens = list(env.lex(source))
        except (OSError, UnicodeDecodeError, jinja2.TemplateSyntaxError):
            continue  # rendering reports it
        shown = display_path(path, root)
        for line, kind, value in tokens:
            if kind in ("data", "string"):
                yield shown, line, value


def edition_texts(edition: Edition, stylesheets: Stylesheets) -> Iterator[Text]:
    """Every text of ``edition`` a reader may see, with the file and line it comes from."""
    from .render import labels_for
    from .theme import format_date

    root = edition.root
    yield from _yaml_texts(root / "handbook.yaml", root)
    if edition.department is not None:
        folder = edition.department.folder
        yield from _yaml_texts(folder / "department.yaml", root)
    for chapter in edition.chapters:
        yield from _markdown_texts(root / chapter.source, root)
    cards = [root / "content" / "cards.yaml"]
    if edition.department is not None:
        cards.append(edition.department.folder / "content" / "cards.yaml")
    for path in cards:
        if path.is_file():
            yield from _yaml_texts(path, root)
    for folder in edition.template_dirs:
        yield from _template_texts(folder, root)
    yield from stylesheets.content
    language = edition.settings.language
    for value in labels_for(language).values():
        yield f"labels ({language})", None, value
    yield f"the date ({language})", None, format_date(edition.settings.date, language)


# --- the check -------------------------------------------------------------------------------

def drawn(ch: str) -> bool:
    """Whether ``ch`` needs a glyph: not a control, format character, space or variation selector."""
    if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zs", "Zl", "Zp"):
        return False
    cp = ord(ch)
    return not (0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF)


def check_texts(texts: Iterable[Text], fonts: Fonts) -> list[Problem]:
    """A problem for each character (the first time in each file) that no configured font has."""
    covered: dict[str, bool] = {}
    seen: set[tuple[str, str]] = set()
    problems: list[Problem] = []
    names = ", ".join(fonts.files) or "none installed"
    suffix = f"; not installed: {', '.join(fonts.missing)}" if fonts.missing else ""
    for shown, line, text in texts:
        for i, ch in enumerate(text):
            ok = covered.get(ch)
            if ok is None:
                ok = covered[ch] = not drawn(ch) or fonts.covers(ord(ch))
            if ok or (shown, ch) in seen:
                continue
            seen.add((shown, ch))
            where = None if line is None else line + text.count("\n", 0, i)
            problems.append(Problem(shown, where, f"the character '{ch}' (U+{ord(ch):04X}) is not in any "
                                                  f"configured font ({names}){suffix}"))
    return problems


def check_edition(edition: Edition) -> list[Problem]:
    """Every character of ``edition`` that none of its configured fonts has (errors), or a warning
    when the check cannot run (no fontconfig)."""
    stylesheets = read_stylesheets(edition.stylesheets, edition.root)
    fonts = configured_fonts(stylesheets)
    if not fonts.available:
        return [Problem(edition.name, None, "the glyph check did not run: fontconfig's fc-list is not "
                                            "installed (Debian's fontconfig package)", "warning")]
    texts = list(edition_texts(edition, stylesheets))
    problems = check_texts(texts, fonts)
    if len(problems) > MAX_PROBLEMS:
        more = len(problems) - MAX_PROBLEMS
        problems = [*problems[:MAX_PROBLEMS],
                    Problem(edition.name, None, f"and {more} more characters that no configured font has")]
    return problems


def require(edition: Edition) -> None:
    """Raise when a character of ``edition`` is in none of its configured fonts."""
    errors = [p for p in check_edition(edition) if p.is_error]
    if errors:
        raise ContentError("characters that no configured font has; use a font that has "
                           "them (the font-family lists in styles/) or remove them", errors)
