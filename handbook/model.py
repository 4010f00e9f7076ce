"""The domain, after loading and validation: frozen, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from .errors import Location

if TYPE_CHECKING:  # config reads YAML, and the YAML reader makes SourceText
    from .config import Settings


class SourceText(NamedTuple):
    """Text a reader sees, with where it is written: the glyph check walks these, so a character no
    font has is named at its file and line without reading any file again."""

    path: str  # the file as the user reads it ("content/03-x.md"), or what the text is ("labels (en)")
    line: int | None  # the line of its first character (None: not from a line of a file)
    text: str  # a line break in it is the next line of the file

    @property
    def location(self) -> Location:
        return Location(self.path, self.line)


@dataclass(frozen=True)
class Link:
    """A link from a chapter to another chapter or a section: resolved per edition."""

    target: str | None  # the file, relative to the project root (None: this chapter)
    fragment: str  # the #section, without "#" ("" for the chapter itself)
    line: int  # where it is written
    href: str  # as written


CHINESE_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 -> 一, 10 -> 十, 12 -> 十二, 20 -> 二十, 105 -> 一百零五 (up to 9999)."""
    if n < 10:
        return CHINESE_DIGITS[n]
    if n < 20:
        return "十" + (CHINESE_DIGITS[n % 10] if n % 10 else "")
    out = ""
    zero = False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = (n // value) % 10
        if digit:
            if zero and out:
                out += "零"
            out += CHINESE_DIGITS[digit] + unit
            zero = False
        elif out:
            zero = True
    return out


def number_label(number: int, letter: str, style: str) -> str:
    """The number printed before a chapter's title in one of the numbering styles:
    ``1`` -> "5" / "8a"; ``第一章`` -> "第五章" / "第八章之一"; ``一、`` -> "五、"; ``none`` -> ""."""
    sub = f"之{chinese_number(ord(letter) - ord('a') + 1)}" if letter else ""
    if style == "第一章":
        return f"第{chinese_number(number)}章{sub}"
    if style == "一、":
        return f"{chinese_number(number)}{sub}、"
    if style == "none":
        return ""
    return f"{number}{letter}"


@dataclass(frozen=True)
class Chapter:
    """One Markdown file of content."""

    stem: str  # file name without .md, e.g. "05-serving-the-overall-situation"
    order: tuple[int, str]  # from the number prefix: "08a" -> (8, "a")
    title: str
    short_title: str
    summary: str  # inline HTML (sanitised)
    reminder: str  # inline HTML (sanitised)
    numbered: bool
    html: str  # the body, sanitised; asset URLs relative to the project root
    source: str  # the file as the user reads it
    texts: tuple[SourceText, ...] = ()  # what a reader sees (front matter, body), where it is written
    anchor: str = ""  # its id in the documents: "ch-" + the slug of its file name
    headings: tuple[str, ...] = ()  # the ids of its headings, in order
    links: tuple[Link, ...] = ()  # its links to chapters and sections, resolved per edition
    number_style: str = "1"  # how its number is printed (handbook.yaml chapter_numbers)

    def __post_init__(self) -> None:
        if not self.anchor:
            from .content import chapter_anchor

            object.__setattr__(self, "anchor", chapter_anchor(self.stem))

    @property
    def text(self) -> str:
        """All its text, for estimates (the characters a reader sees)."""
        return "".join(t.text for t in self.texts)

    @property
    def number(self) -> str | None:
        """The label printed before the title: "5", "8a"; None for unnumbered parts."""
        if not self.numbered:
            return None
        return f"{self.order[0]}{self.order[1]}"

    @property
    def label(self) -> str:
        """The number as printed ("5", "第五章", "五、"; "" when unnumbered or numbers are not shown)."""
        if not self.numbered:
            return ""
        return number_label(self.order[0], self.order[1], self.number_style)


@dataclass(frozen=True)
class Card:
    """One pocket card: a front and a back, as HTML."""

    front: str
    back: str
    path: str  # the file it comes from: "content/cards.yaml" or a chapter file
    kind: str = "extra"  # "title" | "chapter" | "extra"
    number: str | None = None  # the chapter number it belongs to
    title: str = ""
    label: str = ""  # the chapter number as printed
    line: int | None = None  # its line in ``path`` (cards.yaml's cards)
    texts: tuple[SourceText, ...] = ()  # its own text (cards.yaml's cards), where it is written

    @property
    def source(self) -> str:
        """The file it comes from, as the user reads it (templates' ``data-source``, as a chapter's)."""
        return self.path

    @property
    def location(self) -> Location:
        return Location(self.path, self.line)


@dataclass(frozen=True)
class Deck:
    size: tuple[float, float]  # card width, height in mm
    sheet: str  # "a4" | "letter"
    duplex: str  # "long-edge" | "short-edge"
    cards: tuple[Card, ...]


@dataclass(frozen=True)
class DepartmentInfo:
    """What templates see as ``department``."""

    slug: str
    name: str
    folder: Path
    logo: str | None  # project-relative URL of the logo
    colors: dict[str, str]
    contact: dict[str, Any]
    raw: dict[str, Any] = field(default_factory=dict)  # the rest of department.yaml

    def __getattr__(self, name: str) -> Any:  # department.anything_else in templates
        raw = object.__getattribute__(self, "raw")
        if name in raw:
            return raw[name]
        raise AttributeError(name)


@dataclass(frozen=True)
class Edition:
    """Everything needed to render one edition, gathered and validated."""

    slug: str | None  # None: the organisation-wide edition
    root: Path  # the project root
    settings: Settings
    department: DepartmentInfo | None
    chapters: tuple[Chapter, ...]
    deck: Deck
    template_dirs: tuple[Path, ...]  # first match wins: department, then project
    stylesheets: tuple[Path, ...]  # project's, then department's
    texts: tuple[SourceText, ...] = ()  # the settings' text (handbook.yaml, department.yaml), where written
    # Where each setting is written (("colors", "primary") -> department.yaml:4): the department's over the project's.
    settings_at: dict[tuple[str | int, ...], Location] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.slug or "organisation-wide"
