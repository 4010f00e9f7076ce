"""The glyph check: every character a reader will see is in one of the edition's configured fonts.

WeasyPrint draws a character that none of the fonts asked for has with whatever font fontconfig
finds, or as an empty box, and goes on. This check runs before anything is rendered (``handbook
build``, ``handbook check``). When a font the stylesheets name is not installed and the text needs
it, it says so once, with the files that need it and how to get it::

    discipline-inspection: the font "Noto Serif CJK SC" is not installed, and 489 characters need it
    (纪, 检, 监, 察, 室, ...), first at departments/discipline-inspection/department.yaml:4, in 13 files:
    ...; install it (Debian/Ubuntu: apt install fonts-noto-cjk); or any of Source Han Serif SC,
    Songti SC (macOS), SimSun (Windows), ...; or put a font file that has them in fonts/ and ...

A character that no configured font has, installed or not, is named with every line it is on::

    content/03-gifts.md:12: the character '𓀀' (U+13000) is not in any configured font (Charis SIL,
    ...); also at content/03-gifts.md:15, content/04-x.md:3

**The configured fonts** of an edition are the families its stylesheets name: in ``font-family``
declarations (quoted or not), and the quoted names in ``font`` shorthands and in custom properties
(``--serif`` and ``--sans`` in theme.css; a custom property holding one quoted string counts only
when a font of that name is installed). Rules for another language (``:lang(zh-TW)`` in a ``zh-CN``
edition) do not count. Each family is the font its ``@font-face`` rule loads (a project file, or a
font that ships with the package: ``handbook:fonts/...``), else the font fontconfig has installed
under that name (its regular style; ``fc-list``). Generic families (``serif``, ``sans-serif``) do
not count: what they become depends on the machine. Each declaration is a *stack*: the first of its
families that is installed is used, so a stack naming Noto CJK, SimSun and Songti SC works on
Debian, Windows and macOS alike; a missing family is reported only when the text needs a character
no installed family has, and then the first family of the stack that would have it (by script:
the Chinese faces have Han characters and CJK punctuation; other faces the rest).

**The text checked** is the loaded edition's, each piece with the file and line it is written on
(:class:`handbook.model.SourceText`, kept by the loaders; no content file is read again): the string
values of handbook.yaml and department.yaml (``Edition.texts``), the chapters (front matter values,
and the Markdown as a reader sees it: after the typographer, character references decoded, alt
text, printed link addresses, code, the text of raw HTML without tags and comments;
``Chapter.texts``), the cards of the cards.yaml files (``Card.texts``); then the templates' literal
text and string literals, the strings of the stylesheets' ``content:`` declarations, and the labels
and the date format of the edition's language. Characters that draw nothing are not checked: controls, format characters
(soft hyphen, zero-width space), spaces and variation selectors.

A font's coverage is fontconfig's ``charset`` of it when fontconfig lists the font (``fc-list``),
else its ``cmap`` through fontTools' ``getBestCmap`` (package and project font files), read once
per font per process.
"""

from __future__ import annotations

import bisect
import functools
import logging
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from . import assets, packagefonts
from .errors import ContentError, Location, Problem, Severity, display_path
from .model import Edition, SourceText

log = logging.getLogger(__name__)

GENERIC = frozenset({"serif", "sans-serif", "monospace", "cursive", "fantasy", "system-ui", "ui-serif",
                     "ui-sans-serif", "ui-monospace", "ui-rounded", "math", "emoji", "fangsong",
                     "inherit", "initial", "unset", "revert", "revert-layer", "default"})
REGULAR_STYLES = ("regular", "book", "normal", "roman", "medium")
MAX_PROBLEMS = 30  # characters per edition; then one line says how many more characters are missing
MAX_FILES_SHOWN = 3  # in a missing family's message; then "and N more"
DOCTOR_HINT = "`handbook doctor` lists every font the project names, where it is found and how to get it"

FontFile = tuple[Path, int]  # a font file and the index of the face in it (collections: .ttc)


# --- where fonts come from --------------------------------------------------------------------

@dataclass(frozen=True)
class KnownFamily:
    """A family the theme names (or a common one): which script it is for and where it comes from."""

    name: str
    script: str  # "han": Chinese faces; "latin": everything else
    debian: str = ""  # the Debian/Ubuntu package that installs it
    system: str = ""  # the system it comes with: "Windows", "macOS"


KNOWN_FAMILIES: dict[str, KnownFamily] = {f.name.lower(): f for f in (
    KnownFamily("Charis SIL", "latin", "fonts-sil-charis"),
    KnownFamily("Lato", "latin", "fonts-lato"),
    KnownFamily("DejaVu Sans", "latin", "fonts-dejavu-core"),
    KnownFamily("DejaVu Serif", "latin", "fonts-dejavu-core"),
    KnownFamily("Noto Serif CJK SC", "han", "fonts-noto-cjk"),
    KnownFamily("Noto Sans CJK SC", "han", "fonts-noto-cjk"),
    KnownFamily("Noto Serif CJK TC", "han", "fonts-noto-cjk"),
    KnownFamily("Noto Sans CJK TC", "han", "fonts-noto-cjk"),
    KnownFamily("Source Han Serif SC", "han"),
    KnownFamily("Source Han Sans SC", "han"),
    KnownFamily("Source Han Serif TC", "han"),
    KnownFamily("Source Han Sans TC", "han"),
    KnownFamily("SimSun", "han", system="Windows"),
    KnownFamily("NSimSun", "han", system="Windows"),
    KnownFamily("SimHei", "han", system="Windows"),
    KnownFamily("KaiTi", "han", system="Windows"),
    KnownFamily("FangSong", "han", system="Windows"),
    KnownFamily("Microsoft YaHei", "han", system="Windows"),
    KnownFamily("PMingLiU", "han", system="Windows"),
    KnownFamily("MingLiU", "han", system="Windows"),
    KnownFamily("Microsoft JhengHei", "han", system="Windows"),
    KnownFamily("Songti SC", "han", system="macOS"),
    KnownFamily("Songti TC", "han", system="macOS"),
    KnownFamily("PingFang SC", "han", system="macOS"),
    KnownFamily("PingFang TC", "han", system="macOS"),
    KnownFamily("Heiti SC", "han", system="macOS"),
    KnownFamily("STSong", "han", system="macOS"),
    KnownFamily("Hiragino Sans GB", "han", system="macOS"),
    KnownFamily("WenQuanYi Zen Hei", "han", "fonts-wqy-zenhei"),
    KnownFamily("WenQuanYi Micro Hei", "han", "fonts-wqy-microhei"),
    KnownFamily("AR PL UMing CN", "han", "fonts-arphic-uming"),
    KnownFamily("AR PL UMing TW", "han", "fonts-arphic-uming"),
    KnownFamily("AR PL UKai CN", "han", "fonts-arphic-ukai"),
    KnownFamily("AR PL UKai TW", "han", "fonts-arphic-ukai"),
)}
_HAN_NAME = re.compile(r"CJK|Han\b|Song|Hei|Kai|Ming|Fang|宋|黑|楷|明", re.I)

# Han characters, CJK punctuation and symbols, kana, bopomofo, full-width forms: what Chinese faces are for.
HAN_RANGES = ((0x2E80, 0x2FDF), (0x2FF0, 0x303F), (0x3040, 0x31FF), (0x3200, 0x4DBF), (0x4E00, 0x9FFF),
              (0xF900, 0xFAFF), (0xFE10, 0xFE1F), (0xFE30, 0xFE4F), (0xFF00, 0xFFEF), (0x20000, 0x3134F))


def is_han(codepoint: int) -> bool:
    return any(start <= codepoint <= end for start, end in HAN_RANGES)


def family_script(name: str) -> str:
    """"han" for a Chinese face (known, or by its name), else "latin"."""
    known = KNOWN_FAMILIES.get(name.lower())
    if known is not None:
        return known.script
    return "han" if _HAN_NAME.search(name) else "latin"


def where_to_get(name: str) -> str:
    """How to install one family, in a few words ('' when there is nothing to say beyond its name)."""
    known = KNOWN_FAMILIES.get(name.lower())
    if known is None:
        return ""
    if known.debian:
        return f"Debian/Ubuntu: apt install {known.debian}"
    if known.system:
        return f"comes with {known.system}"
    return ""


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

    @classmethod
    def from_charset(cls, charset: str) -> Coverage:
        """fontconfig's ``%{charset}``: hexadecimal code points and ranges, "20-7e a0 ..."."""
        ranges = []
        for item in charset.split():
            start, _, end = item.partition("-")
            try:
                ranges.append((int(start, 16), int(end or start, 16)))
            except ValueError:
                continue
        return cls.from_ranges(ranges)


_CHARSETS: dict[FontFile, str] = {}  # fontconfig's charset of each font it lists


@functools.cache
def coverage(path: Path, index: int = 0) -> Coverage:
    """The characters the font at ``path`` (face ``index`` of a collection) has a glyph for:
    fontconfig's charset when it lists the font, else the font's cmap (fontTools)."""
    charset = _CHARSETS.get((path, index))
    if charset is not None:
        return Coverage.from_charset(charset)
    from fontTools.ttLib import TTFont

    font = TTFont(str(path), fontNumber=index, lazy=True)
    try:
        return Coverage.from_ranges((c, c) for c in (font.getBestCmap() or {}))
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
    out = subprocess.run([fc_list, "--format", "%{family}\t%{style}\t%{file}\t%{index}\t%{charset}\n"],
                         capture_output=True, text=True, check=False).stdout
    best: dict[str, tuple[int, str, FontFile]] = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) != 5:
            continue
        families, styles, file, index, charset = parts
        style_names = [s.lower() for s in _split_list(styles)] or ["regular"]
        font = (Path(file), int(index) if index.isdigit() else 0)
        _CHARSETS[font] = charset
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
_DECLARATION = re.compile(r"(?<![\w-])(font-family|font|--[\w-]+|content)\s*:\s*([^;{}]*)", re.I)
_STRING = re.compile(r"\"((?:[^\"\\\n]|\\.)*)\"|'((?:[^'\\\n]|\\.)*)'")
_URL = re.compile(r"url\(\s*(?:\"([^\"]*)\"|'([^']*)'|([^)\s]*))\s*\)", re.I)
_LANG = re.compile(r"(?<!not\()(?<!not\(\s):lang\(\s*([^)]*?)\s*\)", re.I)


def _blank(match: re.Match[str]) -> str:
    """A comment replaced by spaces, its line breaks kept (so line numbers stay right)."""
    return re.sub(r"[^\n]", " ", match[0])


def _unescape_css(text: str) -> str:
    return re.sub(r"\\([0-9a-fA-F]{1,6}) ?|\\(.)",
                  lambda m: chr(int(m[1], 16)) if m[1] else m[2], text)


def _strings(value: str) -> list[str]:
    return [_unescape_css(m[1] if m[1] is not None else m[2]) for m in _STRING.finditer(value)]


def _blocks(css: str) -> list[tuple[int, int, str]]:
    """Every ``{ }`` block of ``css`` (comments blanked): (start, end, its selector or at-rule)."""
    blocks: list[tuple[int, int, str]] = []
    stack: list[tuple[int, str]] = []
    segment, quote, i = 0, "", 0
    while i < len(css):
        c = css[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == "{":
            stack.append((i, " ".join(css[segment:i].split())))
            segment = i + 1
        elif c == "}":
            if stack:
                start, selector = stack.pop()
                blocks.append((start, i, selector))
            segment = i + 1
        elif c == ";":
            segment = i + 1
        i += 1
    return blocks


def lang_matches(lang_range: str, language: str) -> bool:
    """CSS ``:lang()``: ``zh`` matches ``zh-CN``; ``zh-Hant`` matches ``zh-Hant-TW``; any case."""
    wanted = lang_range.strip().strip("\"'").lower()
    language = language.lower()
    return bool(wanted) and (language == wanted or language.startswith(wanted + "-"))


def selector_applies(selector: str, language: str | None) -> bool:
    """Whether a rule can apply to an edition in ``language``: one of its selectors has no ``:lang()``,
    or only ``:lang()`` ranges that match (``:not(:lang(x))`` is taken to apply)."""
    if language is None or ":lang(" not in selector.lower():
        return True
    for part in re.split(r",(?![^(]*\))", selector):
        ranges = _LANG.findall(part)
        if not ranges or all(any(lang_matches(r, language) for r in item.split(",")) for item in ranges):
            return True
    return False


@dataclass
class Stylesheets:
    """What an edition's stylesheets say about fonts and printed text."""

    families: list[str] = field(default_factory=list)  # in the order they first appear
    maybe: set[str] = field(default_factory=set)  # named only in custom properties: fonts if installed
    font_faces: dict[str, FontFile] = field(default_factory=dict)  # @font-face family -> font file
    content: list[SourceText] = field(default_factory=list)  # the strings of content: declarations
    stacks: list[tuple[str, ...]] = field(default_factory=list)  # each declaration's families, in order

    def add_family(self, name: str, maybe: bool = False) -> str | None:
        name = name.strip()
        key = name.lower()
        if not name or key in GENERIC or key.startswith("var("):
            return None
        if key not in (f.lower() for f in self.families):
            self.families.append(name)
            if maybe:
                self.maybe.add(key)
        elif not maybe:
            self.maybe.discard(key)
        return name

    def add_stack(self, names: Iterable[str | None]) -> None:
        stack = tuple(n for n in names if n)
        if stack and stack not in self.stacks:
            self.stacks.append(stack)


def _face_file(url: str, stylesheet: Path, root: Path) -> FontFile | None:
    """The font file an ``@font-face`` ``url()`` names: a package font or a file inside the project."""
    try:
        target = assets.locate(url, stylesheet.parent, assets.AssetRules(root))
    except assets.Refused:
        return None
    ok = target.kind in ("file", "package") and target.path is not None and target.path.is_file()
    return (target.path, 0) if ok and target.path is not None else None


def read_stylesheets(paths: Iterable[Path], root: Path, language: str | None = None) -> Stylesheets:
    """The fonts and printed strings of ``paths``; with ``language``, rules for other languages
    (``:lang()``) are left out."""
    found = Stylesheets()
    custom: dict[str, str] = {}  # custom property -> its value
    for path in paths:
        try:
            css = _COMMENT.sub(_blank, path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            continue  # the project's checks report unreadable stylesheets
        shown = display_path(path, root)
        blocks = _blocks(css)
        for start, end, selector in blocks:
            if not selector.lower().startswith("@font-face"):
                continue
            body = css[start + 1:end]
            family = next((v for d in _DECLARATION.finditer(body) if d[1].lower() == "font-family"
                           for v in (_strings(d[2]) or [d[2].strip()])), None)
            for url in _URL.finditer(body):
                font = _face_file(url[1] or url[2] or url[3] or "", path, root)
                if family and font is not None:
                    found.font_faces.setdefault(family.lower(), font)
                    break
        for decl in _DECLARATION.finditer(css):
            enclosing = [sel for s, e, sel in blocks if s < decl.start() < e]
            if any(sel.lower().startswith("@font-face") for sel in enclosing):
                continue
            if not all(selector_applies(sel, language) for sel in enclosing):
                continue
            prop, value = decl[1].lower(), decl[2]
            if prop == "content":
                line = css.count("\n", 0, decl.start(2)) + 1
                found.content += [SourceText(shown, line, text) for text in _strings(value)]
            elif prop == "font-family":
                names = []
                for item in value.split(","):
                    item = item.strip()
                    quoted = _strings(item)
                    names.append(found.add_family(quoted[0] if quoted else " ".join(item.split())))
                found.add_stack(names)
            elif prop.startswith("--"):  # the last one counts, as in the cascade (:root:lang(zh-TW) after :root)
                custom[prop] = value
            else:  # font shorthand: the quoted names only
                found.add_stack(found.add_family(name) for name in _strings(value))
    for value in custom.values():
        # A custom property's quoted names; one that is no list ('--label: "x"') names a font only
        # if one is installed by that name.
        maybe = "," not in value
        names = [found.add_family(name, maybe=maybe) for name in _strings(value)]
        if not maybe:
            found.add_stack(names)
    return found


@dataclass
class Fonts:
    """The configured fonts of an edition, resolved to files."""

    families: list[str]  # configured, in order
    files: dict[str, FontFile]  # family -> file, for those that are installed or loaded by @font-face
    missing: list[str]  # configured but not found
    available: bool = True  # False: fontconfig's fc-list is not installed
    stacks: list[tuple[str, ...]] = field(default_factory=list)  # the declarations' families, in order

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
                 system is not None, [s for s in stylesheets.stacks if any(f in files or f in missing for f in s)])


# --- the text of an edition -------------------------------------------------------------------

def _template_texts(folder: Path, root: Path) -> Iterator[SourceText]:
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
                yield SourceText(shown, line, value)


def edition_texts(edition: Edition, stylesheets: Stylesheets) -> Iterator[SourceText]:
    """Every text of ``edition`` a reader may see, with the file and line it comes from: the loaded
    model's (settings, chapters, cards), the templates' and the stylesheets' ``content:`` strings,
    the labels and the date."""
    from .render import labels_for
    from .theme import format_date

    yield from edition.texts
    for chapter in edition.chapters:
        yield from chapter.texts
    for card in edition.deck.cards:
        yield from card.texts
    for folder in edition.template_dirs:
        yield from _template_texts(folder, edition.root)
    yield from stylesheets.content
    language = edition.settings.language
    for value in labels_for(language).values():
        yield SourceText(f"labels ({language})", None, value)
    yield SourceText(f"the date ({language})", None, format_date(edition.settings.date, language))


# --- the check -------------------------------------------------------------------------------

def drawn(ch: str) -> bool:
    """Whether ``ch`` needs a glyph: not a control, format character, space or variation selector."""
    if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zs", "Zl", "Zp"):
        return False
    cp = ord(ch)
    return not (0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF)


def uncovered_characters(texts: Iterable[SourceText], fonts: Fonts) -> dict[str, list[Location]]:
    """Each character that no configured (installed) font has -> every place it is, in order
    (one entry per line)."""
    covered: dict[str, bool] = {}
    found: dict[str, list[Location]] = {}
    for shown, line, text in texts:
        for i, ch in enumerate(text):
            ok = covered.get(ch)
            if ok is None:
                ok = covered[ch] = not drawn(ch) or fonts.covers(ord(ch))
            if ok:
                continue
            where = Location(shown, None if line is None else line + text.count("\n", 0, i))
            places = found.setdefault(ch, [])
            if where not in places:
                places.append(where)
    return found


def missing_family_for(codepoint: int, fonts: Fonts) -> list[str]:
    """The families that would draw ``codepoint`` if they were installed: in each stack, the first
    configured family that is missing and is for the character's script (Chinese faces for Han
    characters and CJK punctuation; other faces for the rest)."""
    script = "han" if is_han(codepoint) else "latin"
    missing = {f.lower() for f in fonts.missing}
    wanted: list[str] = []
    for stack in fonts.stacks:
        for family in stack:
            if family.lower() in missing and family_script(family) == script:
                if family not in wanted:
                    wanted.append(family)
                break
    return wanted


def _install_hint(family: str, fonts: Fonts) -> str:
    """How to get ``family``, or one of the families that stand in for it in its stacks."""
    own = where_to_get(family)
    script = family_script(family)
    others: list[str] = []
    for stack in fonts.stacks:
        if family in stack:
            for other in stack:
                if other != family and other not in others and family_script(other) == script:
                    others.append(other)
    hints = []
    bundled = packagefonts.BUNDLED.get(family.lower())
    if bundled:
        hints.append(f'load the copy that ships with the handbook: @font-face {{ font-family: "{family}"; '
                     f'src: url("handbook:fonts/{bundled}") }} (see styles/theme.css of `handbook init`)')
    hints.append(f"install it ({own})" if own else "install it")
    if others:
        described = []
        for other in others:
            how = where_to_get(other)
            described.append(f"{other} ({how.replace('comes with ', '').replace('Debian/Ubuntu: apt install ', '')})"
                             if how else other)
        hints.append("or any of " + ", ".join(described))
    hints.append(f'or put a font file that has them in fonts/ and load it as "{family}" with an @font-face rule '
                 "in styles/")
    return "; ".join(hints)


def _family_problem(edition_name: str, family: str, chars: list[str], places: dict[str, list[Location]],
                    fonts: Fonts) -> Problem:
    files: list[str] = []
    for ch in chars:
        for shown, _ in places[ch]:
            if shown not in files:
                files.append(shown)
    first = min((places[ch][0] for ch in chars), key=lambda w: (files.index(w.path), w.line or 0))
    sample = ", ".join(chars[:5]) + (", ..." if len(chars) > 5 else "")
    shown_files = ", ".join(files[:MAX_FILES_SHOWN]) + (
        f" and {len(files) - MAX_FILES_SHOWN} more" if len(files) > MAX_FILES_SHOWN else "")
    count = f"{len(chars)} character{'s' if len(chars) != 1 else ''}"
    return Problem(edition_name, None,
                   f'the font "{family}" is not installed, and {count} need{"s" if len(chars) == 1 else ""} it '
                   f"({sample}), first at {first}, in {len(files)} file{'s' if len(files) != 1 else ''}: "
                   f"{shown_files}; {_install_hint(family, fonts)}")


def check_texts(texts: Iterable[SourceText], fonts: Fonts, edition_name: str = "") -> list[Problem]:
    """One problem per missing family the text needs, then one per character that no configured
    font has (installed or not), with every line it is on."""
    places = uncovered_characters(texts, fonts)
    by_family: dict[str, list[str]] = {}
    alone: list[str] = []
    for ch in places:
        families = missing_family_for(ord(ch), fonts)
        for family in families:
            by_family.setdefault(family, []).append(ch)
        if not families:
            alone.append(ch)
    problems = [_family_problem(edition_name, family, chars, places, fonts) for family, chars in by_family.items()]
    names = ", ".join(fonts.files) or "none installed"
    suffix = f"; not installed: {', '.join(fonts.missing)}" if fonts.missing else ""
    for ch in alone:
        first, *more = places[ch]
        also = f"; also at {', '.join(str(w) for w in more)}" if more else ""
        problems.append(Problem(first.path, first.line, f"the character '{ch}' (U+{ord(ch):04X}) is not in any "
                                             f"configured font ({names}){suffix}{also}"))
    return problems


def check_edition(edition: Edition) -> list[Problem]:
    """The missing fonts an edition's text needs, and every character of it that none of its
    configured fonts has (errors); a warning when the check cannot run (no fontconfig)."""
    stylesheets = read_stylesheets(edition.stylesheets, edition.root, edition.settings.language)
    fonts = configured_fonts(stylesheets)
    if not fonts.available:
        return [Problem(edition.name, None, "the glyph check did not run: fontconfig's fc-list is not "
                                            "installed (Debian's fontconfig package)", Severity.WARNING)]
    texts = list(edition_texts(edition, stylesheets))
    problems = check_texts(texts, fonts, edition.name)
    characters = [p for p in problems if p.path != edition.name]
    if len(characters) > MAX_PROBLEMS:
        more = len(characters) - MAX_PROBLEMS
        problems = [*problems[:len(problems) - len(characters) + MAX_PROBLEMS],
                    Problem(edition.name, None, f"and {more} more characters that no configured font has")]
    return problems


def require(edition: Edition) -> None:
    """Raise when the text of ``edition`` needs a font that is not installed, or has a character
    that none of its configured fonts has."""
    errors = [p for p in check_edition(edition) if p.is_error]
    if errors:
        if any(p.message.startswith('the font "') for p in errors):
            raise ContentError(f"fonts are missing; {DOCTOR_HINT}", errors)
        raise ContentError("characters that no configured font has; use a font that has them (the font-family "
                           f"lists in styles/) or remove them; {DOCTOR_HINT}", errors)
