"""``handbook init DIR``: a new project from the starter files shipped inside the package.

The starter (``handbook/starter/``, package data) is a small complete project: handbook.yaml, three
chapters, a deck of cards, one department; its theme is the repository's ``templates/`` and
``styles/``: a wheel carries them in ``handbook/starter/`` (setup.py copies them at build time), a
checkout reads them where they are.
"""

from __future__ import annotations

import datetime
import re
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ConfigError

if TYPE_CHECKING:
    from .importer import ImportReport

THEME = ("templates", "styles")  # in the wheel's starter; in a checkout, the repository's own
RENAMED = {"gitignore": ".gitignore"}  # dotfiles are not package data; they are renamed on the way out


def starter_files() -> list[tuple[str, Traversable]]:
    """(relative path in the new project, starter file), sorted."""
    found: list[tuple[str, Traversable]] = []

    def walk(folder: Traversable, prefix: str) -> None:
        for entry in folder.iterdir():
            if entry.name.startswith((".", "__")):
                continue
            if entry.is_dir():
                walk(entry, f"{prefix}{entry.name}/")
            else:
                found.append((prefix + RENAMED.get(entry.name, entry.name), entry))

    starter = resources.files("handbook") / "starter"
    walk(starter, "")
    checkout = Path(__file__).resolve().parent.parent
    for part in THEME:
        if not (starter / part).is_dir() and (checkout / part).is_dir():  # a checkout, not a wheel
            walk(checkout / part, f"{part}/")
    return sorted(found, key=lambda item: item[0])


def create_project(target: Path, today: datetime.date | None = None) -> list[Path]:
    """Write the starter project into ``target`` (new, or without any of the starter's files)."""
    if target.exists() and not target.is_dir():
        raise ConfigError(f"{target} exists and is not a folder")
    if (target / "handbook.yaml").exists():
        raise ConfigError(f"{target} already holds a handbook project (handbook.yaml exists)")
    files = starter_files()
    if not files:
        raise ConfigError("the starter project is missing from this installation of handbook")
    clashes = [name for name, _ in files if (target / name).exists()]
    if clashes:
        raise ConfigError(f"{target} already has {', '.join(clashes[:3])}"
                          f"{' and more' if len(clashes) > 3 else ''}; choose a new or empty folder")
    date = (today or datetime.date.today()).isoformat()
    written = []
    for name, source in files:
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        data = source.read_bytes()
        if name == "handbook.yaml":
            data = re.sub(rb"(?m)^date: \S+", f"date: {date}".encode(), data, count=1)
        path.write_bytes(data)
        written.append(path)
    return written


STARTER_EXAMPLES = ("content/0", "departments/")  # the starter's sample chapters and department
PLAIN_CARDS = """\
# Pocket reminder cards, printed double-sided and cut out.
size: id-1            # id-1 (85.6 x 53.98 mm) | business (85 x 55 mm) | a7 (74 x 105 mm) | "90 x 50 mm"
sheet: a4             # a4 | letter
duplex: long-edge     # long-edge | short-edge
from_chapters: true   # a title card, then one card per numbered chapter (its front matter's reminder)
cards: []             # extra cards, appended: [{front: "## Title", back: "Markdown"}]
"""


def _yaml_scalar(value: str) -> str:
    import yaml

    return yaml.safe_dump(value, allow_unicode=True, width=1000).removesuffix("\n...\n").strip()


def create_from_document(target: Path, document: Path, *, split_level: int = 1,
                         today: datetime.date | None = None) -> tuple[list[Path], ImportReport]:
    """A new project whose chapters are those of ``document``: the starter's settings and theme, no samples.

    The handbook's title is the document's (Word's Title style, its properties, or its first level-1
    heading with --split-level 2); a document mostly in Chinese makes a ``zh-CN`` edition.
    """
    from .importer import chapter_number_style, cjk_share, read_document, write_chapters

    imported = read_document(document, split_level)  # a document that cannot be read leaves no project behind
    if not imported.chapters:
        raise ConfigError(f"{document}: no text to make chapters from")
    numbers = chapter_number_style(imported)  # "第一章 总则": the handbook prints 第一章, the title is 总则
    written = create_project(target, today)
    for path in written:
        rel = path.relative_to(target).as_posix()
        if rel.startswith(STARTER_EXAMPLES) and rel != "content/cards.yaml":
            path.unlink()
    folders = {parent for p in written for parent in p.relative_to(target).parents if parent.parts}
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        if (target / folder).is_dir() and not any((target / folder).iterdir()):
            (target / folder).rmdir()
    (target / "content" / "cards.yaml").write_text(PLAIN_CARDS, encoding="utf-8")
    settings = target / "handbook.yaml"
    text = settings.read_text(encoding="utf-8")
    title = imported.title or document.stem.replace("_", " ")
    text = re.sub(r"(?m)^title: .*$", lambda m: f"title: {_yaml_scalar(title)}", text, count=1)
    text = re.sub(r"(?m)^subtitle: .*$", lambda m: f"subtitle: {_yaml_scalar(imported.subtitle)}", text, count=1)
    words = " ".join(c.title + " " + c.markdown for c in imported.chapters)
    if cjk_share(words) > 0.5:
        text = re.sub(r"(?m)^language: en\b", "language: zh-CN", text, count=1)
    if numbers:
        text = text.rstrip("\n") + f"\nchapter_numbers: {numbers}       # as the document numbered its chapters\n"
    settings.write_text(text, encoding="utf-8")
    report = write_chapters(target, [imported])
    files = sorted(p for p in target.rglob("*") if p.is_file())
    return files, report
