"""Department folders: what each one overrides, and a new one from a commented template."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from .config import SLUG
from .errors import ConfigError, display_path
from .model import Edition

NEW_DEPARTMENT = """\
# The {name} edition of the handbook.
# Every handbook.yaml setting can be overridden here (title, subtitle, edition, date, language,
# page_size, colors, contact...). Paths are relative to this folder.
name: {name}

# colors: {{primary: "#1f3a5f", accent: "#c9a227"}}
# logo: logo.svg
# contact:
#   hotline: "12388"
#   email: someone@example.org
# chapters:
#   exclude: [05-serving-the-overall-situation]   # chapter file stems

# Also possible, all optional:
#   content/NNx-title.md   extra chapters, placed by their number prefix
#   content/cards.yaml     extra cards (appended), and size / sheet / duplex
#   templates/handbook.html.j2  {{% extends "base/handbook.html.j2" %}} then override a block
#   styles/*.css           applied after the project's stylesheets
"""


@dataclass(frozen=True)
class Overview:
    slug: str
    name: str
    overrides: tuple[str, ...]


def overview(edition: Edition) -> Overview:
    """What a department changes, in words, for `handbook departments`."""
    assert edition.department is not None
    dept = edition.department
    folder = dept.folder
    parts: list[str] = []
    # What department.yaml sets, as the loader saw it (no second reading of the file).
    shown = display_path(folder / "department.yaml", edition.root)
    written = {str(key[0]) for key, where in edition.settings_at.items() if len(key) == 1 and where.path == shown}
    settings = sorted(written - {"name", "chapters", "logo"})
    if settings:
        parts.append("settings: " + ", ".join(settings))
    if dept.logo:
        parts.append("logo")
    excluded = dept.raw["chapters"].exclude
    if excluded:
        parts.append(f"excludes {len(excluded)} chapter{'s' if len(excluded) != 1 else ''}")
    own = sorted((folder / "content").glob("*.md")) if (folder / "content").is_dir() else []
    project = {p.stem for p in (edition.root / "content").glob("*.md")}
    replaced = sum(p.stem in project for p in own)  # a chapter with a project chapter's file name replaces it
    if len(own) > replaced:
        parts.append(f"{len(own) - replaced} extra chapter{'s' if len(own) - replaced != 1 else ''}")
    if replaced:
        parts.append(f"replaces {replaced} chapter{'s' if replaced != 1 else ''}")
    if (folder / "content" / "cards.yaml").is_file():
        parts.append("cards")
    if (folder / "templates").is_dir():
        names = sorted(p.relative_to(folder / "templates").as_posix()
                       for p in (folder / "templates").rglob("*.j2"))
        if names:
            parts.append("templates: " + ", ".join(names))
    if (folder / "styles").is_dir():
        names = sorted(p.name for p in (folder / "styles").glob("*.css"))
        if names:
            parts.append("styles: " + ", ".join(names))
    return Overview(dept.slug, dept.name, tuple(parts))


def name_max(folder: Path) -> int:
    """The longest file name the file system holding ``folder`` (or its nearest parent) allows."""
    for candidate in (folder, *folder.parents):
        if candidate.is_dir():
            try:
                return int(os.pathconf(candidate, "PC_NAME_MAX"))
            except (OSError, ValueError):
                return 255
    return 255


def slug_problem(slug: str, departments: Path) -> str | None:
    """The rule ``slug`` breaks as a department folder name, or None."""
    shown = slug if len(slug) <= 40 else slug[:37] + "..."
    if not SLUG.match(slug):
        return (f"'{shown}' is not a valid department slug: use lowercase letters, digits and single hyphens "
                "between them, e.g. finance or audit-office")
    limit = name_max(departments)
    if len(slug.encode()) > limit:
        return (f"'{shown}' is {len(slug)} characters long; a department slug is a folder name, and this "
                f"file system allows at most {limit}")
    return None


def create(root: Path, slug: str, name: str) -> Path:
    """Create departments/<slug>/department.yaml; it builds at once."""
    why = slug_problem(slug, root / "departments")
    if why:
        raise ConfigError(why)
    if not name.strip():
        raise ConfigError("--name must not be empty")
    folder = root / "departments" / slug
    if folder.exists():
        raise ConfigError(f"departments/{slug}/ already exists")
    try:
        folder.mkdir(parents=True)
    except OSError as exc:
        raise ConfigError(f"departments/{slug}/ cannot be created: {exc.strerror or exc}") from None
    # A JSON string is a YAML scalar: quotes, colons, "Yes" or "2030" stay the name, as written.
    text = NEW_DEPARTMENT.format(name=json.dumps(name.strip(), ensure_ascii=False))
    (folder / "department.yaml").write_text(text, encoding="utf-8")
    return folder
