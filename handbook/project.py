"""Find a project and gather every edition from its files: settings, chapters, cards, departments.

Everything is read and validated here, before anything is rendered; all problems are collected
and reported together (MkDocs' "gather all data, then write files").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .assets import AssetRules, inside, resolve_asset, stylesheet_problems
from .config import (
    DEPARTMENT_ONLY,
    SLUG,
    CardsFile,
    Department,
    DepartmentCardsFile,
    Settings,
    card_size_mm,
    merged_settings,
    validate,
)
from .content import chapter_files, load_cards_file, load_chapter, resolve_links
from .errors import ConfigError, Location, Problem, display_path
from .model import Card, Chapter, Deck, DepartmentInfo, Edition, SourceText
from .yamlfile import read_yaml

PROJECT_FILE = "handbook.yaml"
DEPARTMENT_FILE = "department.yaml"


def find_project(start: Path | None = None) -> Path:
    """The folder holding handbook.yaml: ``start`` or one of its parents (like mkdocs.yml)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / PROJECT_FILE).is_file():
            return folder
    raise ConfigError(f"no {PROJECT_FILE} found in {here} or its parents; "
                      "run inside a handbook project or pass --project DIR "
                      "(`handbook init DIR` creates one)")


@dataclass
class Loaded:
    """The result of loading a project: its editions and every problem found on the way."""

    root: Path
    editions: list[Edition] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    failed: dict[str, list[Problem]] = field(default_factory=dict)  # edition name -> its errors
    edition_warnings: dict[str | None, list[Problem]] = field(default_factory=dict)  # slug -> its warnings

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]


def list_departments(root: Path) -> list[Path]:
    folder = root / "departments"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def require_departments(wanted: Iterable[str], known: Sequence[str]) -> None:
    """A ConfigError naming the first of ``wanted`` that is none of the project's ``known`` slugs."""
    for slug in wanted:
        if slug not in known:
            raise ConfigError(f"no department '{slug}' (departments/{slug}/ does not exist); "
                              f"known: {', '.join(known) or 'none'}")


def department_slug(folder: Path) -> str:
    """The name of a department's edition (output folder, ``--department``): the ``slug:`` of its
    department.yaml, else the folder's name (any script: 财务部 is a fine folder name)."""
    import unicodedata

    import yaml

    try:
        data = yaml.safe_load((folder / DEPARTMENT_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        data = None
    slug = data.get("slug") if isinstance(data, dict) else None
    if isinstance(slug, str) and SLUG.match(slug):
        return slug
    return unicodedata.normalize("NFC", folder.name)


def _folder_name_problem(name: str) -> str | None:
    """Why a department folder's name cannot name an edition (it is free text otherwise)."""
    if any(not ch.isprintable() for ch in name):
        return f"the department folder name {name!r} holds a control character; rename the folder"
    if name != name.strip():
        return f"the department folder name {name!r} starts or ends with a space; rename the folder"
    return None


def _for_edition(chapters: list[Chapter], settings: Settings, root: Path) -> tuple[list[Chapter], list[Problem]]:
    """An edition's chapters: numbered in its style, links resolved among its chapters."""
    import dataclasses

    styled = [dataclasses.replace(ch, number_style=settings.chapter_numbers)
              if ch.number_style != settings.chapter_numbers else ch for ch in chapters]
    return resolve_links(styled, root)


def _chapters(folder: Path, rules: AssetRules) -> tuple[list[Chapter], list[Problem]]:
    files, problems = chapter_files(folder, rules.root)
    chapters = []
    for path in files:
        chapter, more = load_chapter(path, rules)
        problems += more
        if chapter:
            chapters.append(chapter)
    return chapters, problems


def _styles(folder: Path, rules: AssetRules) -> tuple[list[Path], list[Problem]]:
    """The stylesheets in ``folder``, each checked: inside the project, UTF-8, no reference outside."""
    if not folder.is_dir():
        return [], []
    paths = sorted(folder.glob("*.css"))
    problems = [p for path in paths for p in stylesheet_problems(path, rules)]
    return paths, problems


def _templates(folder: Path, rules: AssetRules) -> list[Problem]:
    """Template files that point outside the project (symbolic links) are refused."""
    if not folder.is_dir():
        return []
    return [Problem(display_path(path, rules.root), None,
                    "points outside the project (a symbolic link?); templates must be files inside it")
            for path in sorted(folder.rglob("*")) if not inside(path, rules.root)]


def _theme_present(root: Path) -> list[Problem]:
    """The project's theme (templates/, styles/) is there: without it every character would be
    reported as missing from a font and nothing rendered, so say what is missing at once."""
    missing = [part for part in ("templates", "styles") if not (root / part).is_dir()]
    if not missing:
        return []
    return [Problem(f"{' and '.join(f'{part}/' for part in missing)}", None,
                    "missing: the project's theme is its templates/ and styles/ folders; run `handbook init "
                    "SOMEWHERE` and copy that new project's templates/ and styles/ into this one")]


def _ordered(chapters: list[Chapter], own: frozenset[str] = frozenset()) -> tuple[list[Chapter], list[Problem]]:
    """Chapters by number; two with one number is an error on the second (on a department's own
    chapter, ``own``, rather than the project's, which the department cannot change)."""
    by_order: dict[tuple[int, str], Chapter] = {}
    problems = []
    for ch in sorted(chapters, key=lambda c: (c.order, c.source in own, c.stem)):
        other = by_order.get(ch.order)
        if other is not None:
            problems.append(Problem(ch.source, 1, f"chapter number {ch.order[0]}{ch.order[1]} is also "
                                                  f"used by {other.source}; give each chapter its own number"))
        else:
            by_order[ch.order] = ch
    return [by_order[k] for k in sorted(by_order)], problems


def _deck(settings: CardsFile, extra: list[Card], chapters: list[Chapter], dept_extra: list[Card],
          dept_cards: DepartmentCardsFile | None, cards_source: str) -> Deck:
    cards: list[Card] = []
    if settings.from_chapters:
        cards.append(Card("", "", cards_source, kind="title"))
        for ch in chapters:
            if ch.numbered:
                cards.append(Card("", "", ch.source, kind="chapter", number=ch.number, title=ch.title,
                                  label=ch.label))
    cards += [*extra, *dept_extra]
    size, sheet, duplex = settings.size, settings.sheet, settings.duplex
    if dept_cards is not None:
        size = dept_cards.size or size
        sheet = dept_cards.sheet or sheet
        duplex = dept_cards.duplex or duplex
    return Deck(card_size_mm(size), sheet, duplex, tuple(cards))


@dataclass(frozen=True)
class Shared:
    """What every edition takes from the project, for a department to build on."""

    settings: Settings
    chapters: list[Chapter]
    cards_settings: CardsFile
    cards: list[Card]  # content/cards.yaml's cards
    templates: Path
    stylesheets: list[Path]
    texts: tuple[SourceText, ...]  # handbook.yaml's text
    settings_at: dict[tuple[str | int, ...], Location]  # where handbook.yaml's settings are written


def load_project(root: Path, *, only: list[str] | None = None, allow_remote: bool = False,
                 organisation: bool = True) -> Loaded:
    """Read and validate the project and its departments (``only``: these slugs)."""
    root = root.resolve()
    rules = AssetRules(root, allow_remote)
    loaded = Loaded(root)
    doc, problems = read_yaml(root / PROJECT_FILE, PROJECT_FILE)
    settings = None
    texts = tuple(doc.texts()) if doc is not None else ()
    settings_at = doc.locations() if doc is not None else {}
    if doc is not None:
        settings, more = validate(doc, Settings)
        problems += more
        if settings is not None:
            rules = AssetRules(root, allow_remote, int(settings.limits.image_megabytes * 1024 * 1024),
                               int(settings.limits.image_megapixels * 1_000_000))
    chapters, more = _chapters(root / "content", rules)
    problems += more
    chapters, more = _ordered(chapters)
    problems += more
    if not chapters and not any(p.is_error for p in problems):
        problems.append(Problem("content", None, "no chapters: add Markdown files named with their number, "
                                                  "e.g. content/01-introduction.md"))
    cards_path = root / "content" / "cards.yaml"
    cards_settings: Any = CardsFile()
    extra: list[Card] = []
    if cards_path.is_file():
        deck_file, extra, more = load_cards_file(cards_path, rules, CardsFile)
        problems += more
        cards_settings = deck_file or CardsFile()
    project_styles, more = _styles(root / "styles", rules)
    problems += more
    problems += _templates(root / "templates", rules)
    problems += _theme_present(root)
    loaded.problems += problems
    if settings is None or any(p.is_error for p in problems):
        # The project itself is broken: no edition can be built. Its departments are read all the
        # same (over stand-in settings), so one run reports the problems of every file at once.
        loaded.failed["organisation-wide"] = [p for p in problems if p.is_error]
        base = Shared(settings or Settings.model_construct(title="-", date=dt.date(2000, 1, 1)), chapters,
                      cards_settings, extra, root / "templates", project_styles, texts, settings_at)
        for folder in list_departments(root):
            if only is None or folder.name in only:
                _, more = load_department(folder, rules, base)
                loaded.problems += more
                if any(p.is_error for p in more):
                    loaded.failed[folder.name] = [p for p in more if p.is_error]
        return loaded

    project_templates = root / "templates"
    cards_source = display_path(cards_path, root)
    shared = Shared(settings, chapters, cards_settings, extra, project_templates, project_styles, texts,
                    settings_at)
    shared_warnings = [p for p in problems if not p.is_error]
    if organisation:
        org_chapters, more = _for_edition(chapters, settings, root)
        loaded.problems += more
        loaded.edition_warnings[None] = shared_warnings + more
        loaded.editions.append(Edition(
            slug=None, root=root, settings=settings, department=None, chapters=tuple(org_chapters),
            deck=_deck(cards_settings, extra, org_chapters, [], None, cards_source),
            template_dirs=(project_templates,), stylesheets=tuple(project_styles), texts=texts,
            settings_at=settings_at))

    folders = list_departments(root)
    slugs = {f: department_slug(f) for f in folders}
    if only is not None:
        require_departments(only, sorted(set(slugs.values())))
        folders = [f for f in folders if slugs[f] in only]
    seen: dict[str, Path] = {}
    for folder in folders:
        slug = slugs[folder]
        if slug in seen:
            loaded.failed[folder.name] = [Problem(display_path(folder, root), None,
                                                  f"the edition name '{slug}' is also used by "
                                                  f"{display_path(seen[slug], root)}; give each its own slug:")]
            loaded.problems += loaded.failed[folder.name]
            continue
        seen[slug] = folder
        edition, problems = load_department(folder, rules, shared)
        loaded.problems += problems
        if edition is None:
            loaded.failed[slug] = [p for p in problems if p.is_error]
        else:
            loaded.edition_warnings[slug] = shared_warnings + [p for p in problems if not p.is_error]
            loaded.editions.append(edition)
    return loaded


def load_department(folder: Path, rules: AssetRules, project: Shared) -> tuple[Edition | None, list[Problem]]:
    """One department's edition: its settings over the project's, its chapters and cards."""
    root = rules.root
    slug = department_slug(folder)
    shown_folder = display_path(folder, root)
    problems: list[Problem] = []
    why = _folder_name_problem(folder.name)
    if why:
        return None, [Problem(shown_folder, None, why)]
    if folder.resolve().parent != (root / "departments").resolve():
        return None, [Problem(shown_folder, None, "the department folder points outside the project")]
    path = folder / DEPARTMENT_FILE
    if not inside(path, root):
        return None, [Problem(display_path(path, root), None, "points outside the project (a symbolic link?)")]
    if not path.is_file():
        return None, [Problem(shown_folder, None, f"no {DEPARTMENT_FILE}; create one with "
                                                  f"`handbook new-department {slug} --name \"...\"`")]
    doc, problems = read_yaml(path, display_path(path, root))
    if doc is None:
        return None, problems
    dept, more = validate(doc, Department)
    if more:
        # Suggestions for unknown keys should include the settings keys a department may override.
        problems += more
    if dept is None:
        return None, problems
    logo_url = None
    if dept.logo:
        logo_url, why = resolve_asset(dept.logo, folder, rules)
        if why:
            problems.append(doc.problem(("logo",), f"logo: {why}"))
    known = {ch.stem for ch in project.chapters}
    for i, stem in enumerate(dept.chapters.exclude):
        if stem not in known:
            import difflib

            close = difflib.get_close_matches(stem, sorted(known), n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            problems.append(doc.problem(("chapters", "exclude", i),
                                        f"chapters.exclude: no chapter '{stem}'{hint}"))
    own, more = _chapters(folder / "content", rules)
    problems += more
    own_stems = {ch.stem for ch in own}
    chapters = [ch for ch in project.chapters
                if ch.stem not in dept.chapters.exclude and ch.stem not in own_stems]
    chapters, more = _ordered([*chapters, *own], frozenset(ch.source for ch in own))
    problems += more
    dept_cards = None
    dept_extra: list[Card] = []
    cards_path = folder / "content" / "cards.yaml"
    if cards_path.is_file():
        dc, dept_extra, more = load_cards_file(cards_path, rules, DepartmentCardsFile, project.cards_settings)
        problems += more
        dept_cards = dc if isinstance(dc, DepartmentCardsFile) else None
    styles, more = _styles(folder / "styles", rules)
    problems += more
    templates = folder / "templates"
    problems += _templates(templates, rules)
    if any(p.is_error for p in problems):
        return None, problems

    settings = merged_settings(project.settings, dept)
    chapters, more = _for_edition(chapters, settings, root)
    problems += more
    raw = {k: v for k, v in (doc.data or {}).items() if k not in Settings.model_fields}
    info = DepartmentInfo(
        slug=slug, name=dept.name, folder=folder, logo=logo_url,
        colors=settings.colors.model_dump(), contact=settings.contact.model_dump(exclude_none=True),
        raw={k: v for k, v in raw.items() if k not in DEPARTMENT_ONLY} | {"chapters": dept.chapters})
    edition = Edition(
        slug=slug, root=root, settings=settings, department=info, chapters=tuple(chapters),
        deck=_deck(project.cards_settings, project.cards, chapters, dept_extra, dept_cards,
                   display_path(root / "content" / "cards.yaml", root)),
        template_dirs=((templates,) if templates.is_dir() else ()) + (project.templates,),
        stylesheets=(*project.stylesheets, *styles), texts=(*project.texts, *doc.texts()),
        settings_at={**project.settings_at, **doc.locations()})
    return edition, problems
