"""The command line: thin Click callbacks over the plain functions in :mod:`handbook.builder`.

WeasyPrint is imported only when something is rendered, so ``--help`` and ``--version`` are fast.
"""

from __future__ import annotations

import logging
import traceback
from pathlib import Path
from typing import Any

import click

from . import __version__
from .errors import HandbookError, Problem


class Context:
    def __init__(self, project: Path | None, debug: bool) -> None:
        self.project_arg = project
        self.debug = debug

    @property
    def root(self) -> Path:
        from .project import find_project

        return find_project(self.project_arg)


def _problem_lines(problems: list[Problem]) -> None:
    for p in problems:
        color = "yellow" if not p.is_error else "red"
        click.secho(str(p), fg=color, err=True)


class HandbookGroup(click.Group):
    """User errors (HandbookError) are shown as messages; ``--debug`` adds their traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HandbookError:
            if isinstance(ctx.obj, Context) and ctx.obj.debug:
                traceback.print_exc()
            raise


@click.group(cls=HandbookGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="handbook")
@click.option("--project", "-p", type=click.Path(file_okay=False, path_type=Path),
              help="The project folder (default: the one holding handbook.yaml, here or above).")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logging.")
@click.pass_context
def main(ctx: click.Context, project: Path | None, debug: bool) -> None:
    """Printable integrity handbooks, pocket cards and department editions.

    \b
    Examples:
      handbook build                      # every edition into dist/
      handbook build --department finance --only cards
      handbook check --strict
    """
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="%(name)s: %(message)s")
    ctx.obj = Context(project, debug)


@main.command()
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (default: dist/ in the project).")
@click.option("--save-html", is_flag=True, help="Also save the exact HTML given to WeasyPrint (*.print.html).")
@click.option("--only", type=click.Choice(["handbook", "cards"]), multiple=True,
              help="Build only these documents (repeatable).")
@click.option("--department", "-d", "departments", multiple=True, metavar="SLUG",
              help="Build only this department's edition (repeatable).")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--allow-remote", is_flag=True, help="Allow https images (nothing remote is fetched otherwise).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: the number of CPUs).")
@click.option("--force", "-f", is_flag=True, help="Rebuild everything, even what is up to date.")
@click.option("--quiet", "-q", is_flag=True, help="Print only problems and the summary.")
@click.option("--verbose", "-v", is_flag=True, help="Also list the outputs that are up to date.")
@click.pass_obj
def build(obj: Context, out: Path | None, save_html: bool, only: tuple[str, ...],
          departments: tuple[str, ...], strict: bool, allow_remote: bool, jobs: int | None,
          force: bool, quiet: bool, verbose: bool) -> None:
    """Build the handbook and cards of every edition.

    \b
    Examples:
      handbook build
      handbook build --out public --save-html
      handbook build -d finance -d procurement
    """
    import os

    from .builder import DOCUMENTS, BuildOptions
    from .builder import build as run_build
    from .progress import Reporter

    options = BuildOptions(out=out, save_html=save_html, only=only or DOCUMENTS,
                           departments=departments or None, strict=strict, allow_remote=allow_remote,
                           jobs=jobs or os.cpu_count() or 1, force=force)
    with Reporter(quiet=quiet, verbose=verbose) as reporter:
        report = run_build(obj.root, options, reporter.output, reporter.progress)
    _problem_lines(list(dict.fromkeys(report.warnings)))
    for _name, problems in report.failed.items():
        _problem_lines(problems)
    written, fresh = len(report.written), len(report.outputs) - len(report.written)
    summary = f"{written} file{'s' if written != 1 else ''} written" + (f", {fresh} up to date" if fresh else "")
    if not report.ok:
        raise HandbookError(f"build failed for: {', '.join(report.failed)} ({summary})")
    click.secho(summary, fg="green", err=True)


@main.command()
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.pass_obj
def check(obj: Context, strict: bool) -> None:
    """Validate the project and every department and render their HTML (no PDF).

    \b
    Examples:
      handbook check
      handbook check --strict
    """
    from .checks import check_project

    result = check_project(obj.root, strict=strict)
    _problem_lines(result.problems)
    errors = [p for p in result.problems if p.is_error or strict]
    if errors:
        raise HandbookError(f"check failed: {len(errors)} problem{'s' if len(errors) != 1 else ''} "
                            f"in {len(result.editions)} edition{'s' if len(result.editions) != 1 else ''}")
    warnings = len(result.problems)
    click.secho(f"{len(result.editions)} edition{'s' if len(result.editions) != 1 else ''} checked: no errors"
                + (f", {warnings} warning{'s' if warnings != 1 else ''}" if warnings else ""), fg="green")


@main.command("departments")
@click.pass_obj
def departments_command(obj: Context) -> None:
    """List the departments: slug, name, and what each overrides.

    \b
    Example:
      handbook departments
    """
    from .departments import overview
    from .project import load_project

    loaded = load_project(obj.root, organisation=False)
    for edition in loaded.editions:
        o = overview(edition)
        click.echo(f"{click.style(o.slug, bold=True):<30} {o.name}")
        click.echo(f"  {'; '.join(o.overrides) or 'no overrides'}")
    for slug, problems in loaded.failed.items():
        click.secho(f"{slug:<21} (broken)", fg="red")
        _problem_lines(problems)
    if not loaded.editions and not loaded.failed:
        click.echo("no departments (create one with: handbook new-department SLUG --name \"...\")")


@main.command("new-department")
@click.argument("slug")
@click.option("--name", required=True, help="The department's name, as printed on the cover.")
@click.pass_obj
def new_department(obj: Context, slug: str, name: str) -> None:
    """Create departments/SLUG/ with a commented department.yaml that builds at once.

    \b
    Example:
      handbook new-department audit-office --name "Audit Office"
    """
    from .departments import create

    folder = create(obj.root, slug, name)
    click.echo(f"created {_rel(folder / 'department.yaml')}; build it with: handbook build -d {slug}")


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


if __name__ == "__main__":  # pragma: no cover
    main()
