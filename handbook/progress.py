"""What a build tells the user: one line per output, and progress for long builds.

On a terminal, a progress bar (done/total, elapsed, remaining) for builds of several editions;
in a log (not a terminal), a plain line per finished edition.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any

import click

from .output import human_size
from .results import Output


def output_line(o: Output, cwd_relative: str) -> str:
    if o.status != "written":
        return f"{cwd_relative:<44} {'up to date':>9}"
    pages = f"{o.pages:>3} pages" if o.pages is not None else " " * 9
    return f"{cwd_relative:<44} {pages}  {human_size(o.size):>7}  {o.seconds:5.1f} s"


def _rel(path: Any) -> str:
    from pathlib import Path

    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class Reporter:
    def __init__(self, quiet: bool = False, verbose: bool = False) -> None:
        self.quiet = quiet
        self.verbose = verbose
        self.tty = sys.stderr.isatty()
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> Reporter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._progress is not None:
            self._progress.stop()

    def output(self, o: Output) -> None:
        if self.quiet or (o.status != "written" and not self.verbose):
            return
        line = output_line(o, _rel(o.path))
        fresh = o.status != "written"  # dimmed on a terminal: what was done stands out
        if self._progress is not None:
            self._progress.console.print(line, highlight=False, markup=False, style="dim" if fresh else None)
        else:
            click.echo(click.style(line, dim=True) if fresh else line)

    def progress(self, done: int, total: int, name: str) -> None:
        if total < 2:
            return
        if not self.tty:
            if not self.quiet:
                click.echo(f"[{done}/{total}] {name}", err=True)
            return
        if self._progress is None:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn, TimeRemainingColumn

            self._progress = Progress("editions", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                      TimeRemainingColumn(), transient=True)
            self._progress.start()
            self._task = self._progress.add_task("build", total=total)
        self._progress.update(self._task, completed=done)
