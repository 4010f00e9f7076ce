"""`handbook check`: validate every edition and render its HTML, without making PDFs."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import contrast, deadline, outputs
from .errors import HandbookError, Problem, Severity, display_path
from .glyphs import check_edition as glyph_problems
from .model import Edition
from .project import PROJECT_FILE, load_project

CHECK_SECONDS = 120.0  # per edition: rendering its HTML, templates included


@dataclass
class CheckResult:
    editions: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def check_project(root: Path) -> CheckResult:
    loaded = load_project(root)
    result = CheckResult(problems=list(loaded.problems))
    result.editions += list(loaded.failed)
    out = Path(tempfile.gettempdir())
    stylesheets: set[Path] = set()
    for edition in loaded.editions:
        result.editions.append(edition.name)
        # web*.css is read by browsers only (media queries, color-mix): not WeasyPrint's to judge.
        stylesheets.update(p for p in edition.stylesheets if not p.name.startswith("web"))
        result.problems += glyph_problems(edition)
        result.problems += contrast_problems(edition)
        try:
            with deadline.edition_limit(CHECK_SECONDS, edition.name, f"{CHECK_SECONDS:g} s for `handbook check`"):
                for document in outputs.REGISTRY.values():
                    document.render_html(edition, out)
        except HandbookError as exc:
            result.problems += exc.problems or [Problem(edition.name, None, exc.message)]
    result.problems += css_warnings(sorted(stylesheets), loaded.root)
    reported = {p.location for p in result.problems}
    result.problems += [p for p in template_syntax(loaded.root) if p.location not in reported]
    seen: set[Problem] = set()
    unique = []
    for p in result.problems:
        if p not in seen:
            seen.add(p)
            unique.append(p)
    result.problems = unique
    return result


def contrast_problems(edition: Edition) -> list[Problem]:
    """Text colour pairs of the theme under WCAG AA (4.5:1) with this edition's ``colors``: a
    warning at the line of the setting to change (the department's, else the project's)."""
    colors = edition.settings.colors.model_dump()
    found = contrast.failures(colors)
    if not found:
        return []
    problems = []
    for failure in found:
        where = edition.settings_at.get(("colors", failure.key))
        if where is not None:
            problems.append(Problem(where.path, where.line, failure.message(colors), Severity.WARNING))
        else:  # the theme's default, not set anywhere: say where to set it
            problems.append(Problem(PROJECT_FILE, None, failure.message(colors)
                                    + f" (the default; set colors.{failure.key} in {PROJECT_FILE})", Severity.WARNING))
    return problems


def template_syntax(root: Path) -> list[Problem]:
    """Every template file's syntax errors, even those of an edition that cannot be loaded."""
    import jinja2

    from .assets import inside
    from .theme import environment

    problems = []
    folders = [root / "templates", *sorted(root.glob("departments/*/templates"))]
    for folder in folders:
        if not folder.is_dir():
            continue
        env = environment((folder,), root)
        for path in sorted(folder.rglob("*.j2")):
            if not inside(path, root):
                continue  # a symbolic link out: reported by the loader, never read
            try:
                env.parse(path.read_text(encoding="utf-8"), path.name, str(path))
            except jinja2.TemplateSyntaxError as exc:
                problems.append(Problem(display_path(path, root), exc.lineno, f"template error: {exc.message}"))
            except (OSError, UnicodeDecodeError) as exc:
                problems.append(Problem(display_path(path, root), None, f"cannot be read: {exc}"))
    return problems


def css_warnings(paths: list[Path], root: Path) -> list[Problem]:
    """What WeasyPrint says of each stylesheet (unknown properties, invalid values), by file and line."""
    from .pdf import stylesheet_warnings

    problems = []
    for path in paths:
        problems += stylesheet_warnings(path, root)
    return problems
