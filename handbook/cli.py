"""The command line: thin Click callbacks over the plain functions in :mod:`handbook.builder`.

WeasyPrint is imported only when something is rendered, so ``--help`` and ``--version`` are fast.
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Any

import click

from . import __version__, outputs
from .errors import HandbookError, Problem


class Context:
    def __init__(self, project: Path | None, debug: bool, quiet: bool = False, verbose: bool = False) -> None:
        self.project_arg = project
        self.debug = debug
        self.quiet = quiet
        self.verbose = verbose

    @property
    def root(self) -> Path:
        from .project import find_project

        return find_project(self.project_arg)


def _problem_lines(problems: list[Problem]) -> None:
    for p in problems:
        color = "yellow" if not p.is_error else "red"
        click.secho(str(p), fg=color, err=True)


def _complete_departments(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """Shell completion for --department: the project's department folders."""
    from .project import find_project, list_departments

    try:
        root = find_project(ctx.find_root().params.get("project"))
        return [f.name for f in list_departments(root) if f.name.startswith(incomplete)]
    except Exception:  # completion must never fail loudly
        return []


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread like Ctrl+C (so no ``except Exception`` swallows it)."""


def _terminated(signum: int, frame: object) -> None:
    raise Terminated


class HandbookGroup(click.Group):
    """User errors (HandbookError) are shown as messages; ``--debug`` adds their traceback.

    Ctrl+C exits 130 and SIGTERM 143 (128 + the signal), with one line: outputs are written
    atomically, so whatever was built before is intact.
    """

    def invoke(self, ctx: click.Context) -> Any:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _terminated)
        try:
            return super().invoke(ctx)
        except HandbookError:
            if isinstance(ctx.obj, Context) and ctx.obj.debug:
                import traceback

                traceback.print_exc()
            raise
        except KeyboardInterrupt as exc:
            if isinstance(ctx.obj, Context) and ctx.obj.debug:
                import traceback

                traceback.print_exc()
            code = 143 if isinstance(exc, Terminated) else 130
            what = "terminated" if code == 143 else "interrupted"
            click.echo(f"handbook: build {what}; previous outputs are intact (a file is replaced only when finished)",
                       err=True)
            raise click.exceptions.Exit(code) from None


@click.group(cls=HandbookGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="handbook")
@click.option("--project", "-p", type=click.Path(file_okay=False, path_type=Path),
              help="The project folder (default: the one holding handbook.yaml, here or above).")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logging.")
@click.option("--quiet", "-q", is_flag=True, help="Print only problems and summaries.")
@click.option("--verbose", "-v", is_flag=True, help="Say more: outputs that are up to date, and what each step did.")
@click.pass_context
def main(ctx: click.Context, project: Path | None, debug: bool, quiet: bool, verbose: bool) -> None:
    """Printable integrity handbooks, pocket cards and department editions.

    \b
    Examples:
      handbook init my-handbook           # a new project that builds at once
      handbook build                      # every edition into dist/
      handbook build --department finance --only cards --png
      handbook serve -d finance           # live preview on http://127.0.0.1:8000
      handbook check --strict
      handbook departments
      handbook new-department audit-office --name "Audit Office"
      handbook preflight dist/handbook-print-shop.pdf
      handbook doctor                     # what this machine has, and what is missing
      handbook import 廉洁从业手册.docx    # a Word document becomes chapters
    """
    import logging  # here, not for --help and --version

    level = logging.DEBUG if debug else logging.INFO if verbose and not quiet else logging.WARNING
    logging.basicConfig(level=level, format="%(name)s: %(message)s")
    ctx.obj = Context(project, debug, quiet, verbose)


@main.command()
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (default: dist/ in the project).")
@click.option("--save-html", is_flag=True, help="Also save the exact HTML given to WeasyPrint (*.print.html).")
@click.option("--only", type=click.Choice(outputs.names()), multiple=True,
              help="Build only these documents (repeatable).")
@click.option("--department", "-d", "departments", multiple=True, metavar="SLUG",
              shell_complete=_complete_departments, help="Build only this department's edition (repeatable).")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--allow-remote", is_flag=True, help="Allow https images (nothing remote is fetched otherwise).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: the number of CPUs).")
@click.option("--force", "-f", is_flag=True, help="Rebuild everything, even what is up to date.")
@click.option("--print", "print_shop", is_flag=True,
              help="Also write handbook-print-shop.pdf: bleed, crop marks, TrimBox/BleedBox.")
@click.option("--booklet", is_flag=True, help="Also write booklet.pdf: two pages up, saddle-stitch order.")
@click.option("--pdf-variant", type=click.Choice(["pdf/a-3b", "pdf/a-3a", "pdf/ua-1", "pdf/x-4"]),
              help="Archive (pdf/a-3b), accessible (pdf/ua-1), both (pdf/a-3a: PDF/A-3a and PDF/UA-1) "
                   "or print-shop (pdf/x-4) PDFs.")
@click.option("--parts", type=click.Choice(["auto", "on", "off"]), default="auto", show_default=True,
              help="A long edition (12 chapters or more) by parts from its second build: rendered in the "
                   "workers and again only where it changed; on/off force it.")
@click.option("--png", is_flag=True,
              help="Also write page pictures: handbook-1.png... (first pages), cards-1.png, cards-2.png.")
@click.option("--quiet", "-q", is_flag=True, help="Print only problems and the summary.")
@click.option("--verbose", "-v", is_flag=True, help="Also list the outputs that are up to date.")
@click.pass_obj
def build(obj: Context, out: Path | None, save_html: bool, only: tuple[str, ...],
          departments: tuple[str, ...], strict: bool, allow_remote: bool, jobs: int | None,
          force: bool, print_shop: bool, booklet: bool, pdf_variant: str | None, quiet: bool,
          verbose: bool, png: bool = False, parts: str = "auto") -> None:
    """Build the handbook and cards of every edition.

    \b
    Examples:
      handbook build
      handbook build --out public --save-html
      handbook build -d finance -d procurement
      handbook build --png                # and PNG pictures of the first pages
    """
    import os

    from .builder import BuildOptions
    from .builder import build as run_build
    from .progress import Reporter

    options = BuildOptions(out=out, save_html=save_html, only=only or outputs.names(),
                           departments=departments or None, strict=strict, allow_remote=allow_remote,
                           jobs=jobs or os.cpu_count() or 1, force=force, print_shop=print_shop,
                           booklet=booklet, pdf_variant=pdf_variant, parts=parts)
    with Reporter(quiet=quiet or obj.quiet, verbose=verbose or obj.verbose) as reporter:
        report = run_build(obj.root, options, reporter.output, reporter.progress)
        if png:
            from .pictures import pictures_for

            for picture in pictures_for(report.outputs, force=force):
                report.outputs.append(picture)
                reporter.output(picture)
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

    result = check_project(obj.root)
    _problem_lines(result.problems)
    errors = [p for p in result.problems if p.is_error or strict]
    if errors:
        raise HandbookError(f"check failed: {len(errors)} problem{'s' if len(errors) != 1 else ''} "
                            f"in {len(result.editions)} edition{'s' if len(result.editions) != 1 else ''}")
    warnings = len(result.problems)
    click.secho(f"{len(result.editions)} edition{'s' if len(result.editions) != 1 else ''} checked: no errors"
                + (f", {warnings} warning{'s' if warnings != 1 else ''}" if warnings else ""), fg="green")


@main.command()
@click.argument("pdf_file", metavar="PDF", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--min-dpi", type=float, default=300, show_default=True, help="Lowest image resolution allowed.")
def preflight(pdf_file: Path, min_dpi: float) -> None:
    """Check a PDF as a print shop would: boxes, fonts, image resolution, RGB in PDF/X, alt text.

    \b
    Example:
      handbook preflight dist/handbook-print-shop.pdf
    """
    from .preflight import preflight as run_preflight

    report = run_preflight(pdf_file, min_dpi=min_dpi)
    colors = {"fail": "red", "warn": "yellow", "info": None}
    for finding in report.findings:
        click.secho(str(finding), fg=colors[finding.severity])
    if report.failed:
        raise HandbookError(f"{pdf_file}: preflight failed")
    click.secho(f"{pdf_file}: preflight passed", fg="green")


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
    from .departments import create, slug_problem

    root = obj.root
    why = slug_problem(slug, root / "departments")
    if why:
        raise click.BadParameter(why, param_hint="SLUG")
    folder = create(root, slug, name)
    click.echo(f"created {_rel(folder / 'department.yaml')}; build it with: handbook build -d {slug}")


@main.command()
@click.argument("folder", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
@click.option("--from", "document", metavar="FILE", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Start from this document (.docx, .odt, .doc, .wps, .html, .md, .txt): its headings become "
                   "the chapters, its title the handbook's.")
@click.option("--split-level", type=click.IntRange(1, 2), default=1, show_default=True,
              help="With --from: a chapter starts at every heading of this level or above.")
@click.pass_obj
def init(obj: Context, folder: Path, document: Path | None, split_level: int) -> None:
    """Create a new project in DIR: settings, three chapters, cards, the theme, one department.

    It builds into PDFs at once. With --from, the chapters are those of a document instead.

    \b
    Examples:
      handbook init my-handbook
      handbook init .                     # here (an empty folder, or one without these files)
      handbook init --from 廉洁手册.docx my-handbook
    """
    from .newproject import create_project

    if document is not None:
        from .newproject import create_from_document

        files, report = create_from_document(folder, document, split_level=split_level)
        _import_report(report, folder.resolve(), obj.quiet)
        click.secho(f"created {len(files)} files in {_rel(folder)}/", fg="green")
        if not obj.quiet:
            cd = "" if folder.resolve() == Path.cwd().resolve() else f"  cd {_rel(folder)}\n"
            click.echo(f"next:\n{cd}  edit handbook.yaml   # organisation, edition, contact\n"
                       "  handbook build       # PDFs into dist/")
        return
    files = create_project(folder)
    click.secho(f"created {len(files)} files in {_rel(folder)}/", fg="green")
    if not obj.quiet:
        cd = "" if folder.resolve() == Path.cwd().resolve() else f"  cd {_rel(folder)}\n"
        click.echo(f"next:\n{cd}  handbook build       # PDFs into dist/\n"
                   "  handbook serve       # live preview in your browser")


@main.command("import")
@click.argument("files", metavar="FILE...", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--department", "-d", metavar="SLUG", shell_complete=_complete_departments,
              help="Into departments/SLUG/content/ instead of content/.")
@click.option("--split-level", type=click.IntRange(1, 2), default=1, show_default=True,
              help="A chapter starts at every heading of this level or above.")
@click.option("--force", "-f", is_flag=True, help="Overwrite chapter files that exist (edits in them are lost).")
@click.option("--encoding", metavar="ENC", help="The encoding of .txt, .html and .md files (default: detected).")
@click.pass_obj
def import_command(obj: Context, files: tuple[Path, ...], department: str | None, split_level: int, force: bool,
                   encoding: str | None) -> None:
    """Turn documents into chapters: .docx, .odt, .doc, .wps, .html, .md, .txt.

    One chapter per heading (or per level-2 heading), numbered after the project's last chapter.
    A chapter file that exists is kept unless --force; the same document imported again writes to the
    same files. .odt, .doc and .wps need LibreOffice.

    \b
    Examples:
      handbook import 廉洁从业手册.docx
      handbook import rules.odt notes.txt --split-level 2
      handbook import 通知.txt --encoding gb18030 -d finance
    """
    from .importer import import_files

    root = obj.root
    report = import_files(root, list(files), department=department, split_level=split_level, force=force,
                          encoding=encoding)
    _import_report(report, root, obj.quiet)


def _import_report(report: Any, root: Path, quiet: bool) -> None:
    from .errors import display_path

    for path, what in report.written:
        if not quiet:
            click.echo(f"wrote {display_path(path, root)}  {what}")
    for path in report.unchanged:
        if not quiet:
            click.echo(f"unchanged {display_path(path, root)}")
    for path, why in report.skipped:
        click.secho(f"kept {display_path(path, root)}: {why}", fg="yellow")
    for notice in report.notices:
        click.secho(notice, fg="yellow", err=True)
    chapters = sum(1 for path, _ in report.written if path.suffix == ".md")
    pictures = len(report.written) - chapters
    summary = (f"{chapters} chapter{'s' if chapters != 1 else ''} written"
               + (f", {pictures} picture{'s' if pictures != 1 else ''}" if pictures else "")
               + (f", {len(report.skipped)} kept" if report.skipped else "")
               + (f", {len(report.unchanged)} unchanged" if report.unchanged else ""))
    click.secho(summary, fg="green" if not report.skipped else "yellow", err=True)


@main.command()
@click.pass_obj
def doctor(obj: Context) -> None:
    """Check this machine: Python, WeasyPrint, Pango, the fonts the project names, poppler...

    One line each; exit 1 when something a plain build needs is missing.

    \b
    Examples:
      handbook doctor
      handbook --project my-handbook doctor
    """
    from .doctor import diagnose

    try:
        root: Path | None = obj.root
    except HandbookError:
        root = None
    findings = diagnose(root)
    colors = {"ok": "green", "MISSING": "red", "warning": "yellow"}
    for finding in findings:
        click.secho(str(finding), fg=colors.get(finding.status))
    missing = [f.what for f in findings if f.blocks_build]
    if missing:
        raise HandbookError(f"missing for a build: {', '.join(missing)}")
    click.secho("everything a build needs is here", fg="green")


@main.command()
@click.option("--department", "-d", metavar="SLUG", shell_complete=_complete_departments,
              help="Preview this department's edition.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="The port (0: any free one).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The address to listen on; 0.0.0.0 shows the preview to your network.")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (default: dist/ in the project).")
@click.option("--open", "open_browser", is_flag=True, help="Open the preview in your web browser.")
@click.pass_obj
def serve(obj: Context, department: str | None, port: int, host: str, out: Path | None,
          open_browser: bool) -> None:
    """Preview an edition in the browser; it rebuilds and reloads on every save.

    \b
    Examples:
      handbook serve                      # http://127.0.0.1:8000
      handbook serve -d finance --port 8080 --open
    """
    from .serve import serve as run_serve

    colors = {"start": "green", "ok": "green", "warn": "yellow", "error": "red"}

    def say(message: str, kind: str) -> None:
        if obj.quiet and kind in ("info", "ok"):
            return
        stamp = click.style(time.strftime("%H:%M:%S"), dim=True)
        click.echo(f"{stamp} {click.style(message, fg=colors.get(kind))}", err=kind == "error")

    try:
        run_serve(obj.root, slug=department, host=host, port=port, out=out, open_browser=open_browser, say=say)
    except KeyboardInterrupt:
        click.echo("stopped")


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def run() -> None:
    """The ``handbook`` command: :func:`main`, then an exit without the interpreter's teardown.

    When a command has finished, every output is written, renamed into place and closed; what is
    left in memory (WeasyPrint's caches and fonts, the settings models, the imported modules) would
    only be freed object by object, about a tenth of a second of CPU after every build. Standard
    output, standard error and the log handlers are flushed first; the exit code is click's.
    An exception other than an exit (a bug) leaves the normal way, with its traceback.
    """
    import os
    import sys

    try:
        main()
    except SystemExit as exc:
        code = exc.code
        if code is not None and not isinstance(code, int):  # sys.exit("message")
            print(code, file=sys.stderr)
            code = 1
        try:
            if "logging" in sys.modules:
                sys.modules["logging"].shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):  # a closed pipe (`handbook ... | head`): nothing more to say
            code = code or 1
        os._exit(code or 0)


if __name__ == "__main__":  # pragma: no cover
    run()
