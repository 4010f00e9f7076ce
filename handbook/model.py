"""The domain, after loading and validation: frozen, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import Settings


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
    text: str = ""  # the plain text of the body, for checks

    @property
    def number(self) -> str | None:
        """The label printed before the title: "5", "8a"; None for unnumbered parts."""
        if not self.numbered:
            return None
        return f"{self.order[0]}{self.order[1]}"

    @property
    def anchor(self) -> str:
        return f"ch-{self.stem}"


@dataclass(frozen=True)
class Card:
    """One pocket card: a front and a back, as HTML."""

    front: str
    back: str
    source: str  # where it comes from: "content/cards.yaml:12" or a chapter file
    kind: str = "extra"  # "title" | "chapter" | "extra"
    number: str | None = None  # the chapter number it belongs to
    title: str = ""


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
    sources: tuple[Path, ...] = ()  # every file this edition depends on

    @property
    def name(self) -> str:
        return self.slug or "organisation-wide"
