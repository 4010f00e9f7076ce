"""The documents of an edition, each a job: HTML -> WeasyPrint -> files to write.

Imports WeasyPrint (through :mod:`handbook.pdf`); the CLI imports this module only to render.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from . import pdf
from .errors import Problem, ResourceError, display_path
from .model import Edition
from .render import handbook_html

if TYPE_CHECKING:
    from .builder import BuildOptions


@dataclass
class JobResult:
    files: dict[str, bytes | str] = field(default_factory=dict)  # name in the edition's folder -> data
    reported: dict[str, int | None] = field(default_factory=dict)  # name -> pages, in report order
    warnings: list[Problem] = field(default_factory=list)


class Job(Protocol):
    def run(self, edition: Edition, out_dir: Path, options: BuildOptions) -> JobResult: ...


def roots(edition: Edition) -> tuple[Path, ...]:
    """Where the fetcher may read: the project (the department folder is inside it)."""
    return (edition.root,)


def check_blocked(rendered: pdf.Rendered, edition: Edition, html_name: str) -> None:
    """A refused resource is an error naming the file that referenced it."""
    if not rendered.blocked:
        return
    candidates = [*edition.stylesheets, *(p for d in edition.template_dirs if d.is_dir()
                                          for p in sorted(d.rglob("*.j2")))]
    problems = []
    for url, why in rendered.blocked:
        tail = url.rstrip("/").rsplit("/", 1)[-1]
        source = html_name
        for path in candidates:
            try:
                if tail and tail in path.read_text(encoding="utf-8", errors="replace"):
                    source = display_path(path, edition.root)
                    break
            except OSError:
                continue
        problems.append(Problem(source, None, f"resource refused: {url} ({why})"))
    raise ResourceError(f"{edition.name}: resources outside the project are not used", problems)


FinishersFor = Callable[[pdf.Rendered], tuple[pdf.Finisher, ...]]


def render_pdf(html: str, edition: Edition, out_dir: Path, name: str, options: BuildOptions,
               finishers: FinishersFor = lambda r: ()) -> tuple[bytes, pdf.Rendered]:
    """Lay out ``html`` as ``out_dir/<name>.print.html`` would be, through the project-only fetcher."""
    fetcher = pdf.ProjectFetcher(roots(edition), options.allow_remote)
    base_url = pdf.file_url(out_dir.resolve() / f"{name}.print.html")
    rendered = pdf.layout(html, base_url, fetcher, f"{edition.name}: {name}")
    check_blocked(rendered, edition, f"{name}.print.html")
    return pdf.write_pdf(rendered, finishers(rendered)), rendered


def first_page_with(rendered: pdf.Rendered, anchor: str | None) -> int:
    """The index of the page holding ``anchor`` (0 when absent)."""
    for i, page in enumerate(rendered.document.pages):
        if anchor and anchor in page.anchors:
            return i
    return 0


class HandbookJob:
    """handbook.pdf and handbook.html."""

    def run(self, edition: Edition, out_dir: Path, options: BuildOptions) -> JobResult:
        result = JobResult()
        html = handbook_html(edition, target="print", out_dir=out_dir)
        first = edition.chapters[0].anchor if edition.chapters else None
        data, rendered = render_pdf(html, edition, out_dir, "handbook", options, lambda r: (
            pdf.viewer_preferences(), pdf.page_labels(first_page_with(r, first))))
        result.files["handbook.pdf"] = data
        result.reported["handbook.pdf"] = rendered.pages
        result.files["handbook.html"] = handbook_html(edition, target="web", out_dir=out_dir)
        result.reported["handbook.html"] = None
        if options.save_html:
            result.files["handbook.print.html"] = html
            result.reported["handbook.print.html"] = None
        result.warnings += rendered.warnings
        return result


def jobs(edition: Edition, only: tuple[str, ...]) -> Iterator[Job]:
    if "handbook" in only:
        yield HandbookJob()
