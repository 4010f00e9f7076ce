"""Orchestration: load and validate everything, then render each edition's outputs.

A build is a list of independent jobs (one per edition). A failure in one edition is recorded
and the others go on; outputs are written atomically.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .errors import HandbookError, Problem, RenderError
from .model import Edition
from .output import atomic_write
from .project import load_project

log = logging.getLogger(__name__)

DOCUMENTS = ("handbook", "cards")


@dataclass(frozen=True)
class BuildOptions:
    out: Path | None = None  # default: <project>/dist
    save_html: bool = False  # also write <name>.print.html, the exact HTML given to WeasyPrint
    only: tuple[str, ...] = DOCUMENTS  # which documents
    departments: tuple[str, ...] | None = None  # None: the organisation-wide edition and every department
    strict: bool = False  # warnings are errors
    allow_remote: bool = False  # https images
    max_pages: int = 500  # per document
    max_seconds: float = 300.0  # per edition: templates and layout


@dataclass
class Output:
    """One written file."""

    path: Path
    pages: int | None
    size: int
    seconds: float
    edition: str


@dataclass
class BuildReport:
    outputs: list[Output] = field(default_factory=list)
    failed: dict[str, list[Problem]] = field(default_factory=dict)  # edition -> errors
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed


def edition_out_dir(out: Path, edition: Edition) -> Path:
    return out if edition.slug is None else out / edition.slug


def build_edition(edition: Edition, out: Path, options: BuildOptions,
                  report: Callable[[Output], None] = lambda o: None) -> tuple[list[Output], list[Problem]]:
    """Render and write one edition's outputs. Raises HandbookError on a user error."""
    from . import documents  # imports WeasyPrint: only when something is rendered

    out_dir = edition_out_dir(out, edition)
    outputs: list[Output] = []
    warnings: list[Problem] = []
    for job in documents.jobs(edition, options.only):
        start = time.perf_counter()
        with time_limit(options.max_seconds, edition.name):
            result = job.run(edition, out_dir, options)
        warnings += result.warnings
        if options.strict and result.warnings:
            raise RenderError("warnings are errors (--strict)", result.warnings)
        for name, data in result.files.items():
            atomic_write(out_dir / name, data)
        elapsed = time.perf_counter() - start
        for name, pages in result.reported.items():
            o = Output(out_dir / name, pages, len(result.files[name]), elapsed, edition.name)
            outputs.append(o)
            report(o)
    return outputs, warnings


@contextmanager
def time_limit(seconds: float, what: str) -> Iterator[None]:
    """Stop runaway work (a template that loops for ever, a huge layout) after ``seconds``.

    Uses a real-time timer signal, so only in the main thread (worker processes included).
    """
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise RenderError(f"{what}: stopped after {seconds:g} s (the limit per edition); "
                          "a template may loop for ever, or the content is far too long")

    old = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def build(root: Path, options: BuildOptions = BuildOptions(),
          report: Callable[[Output], None] = lambda o: None) -> BuildReport:
    """Build every edition of the project at ``root``; never raises for one edition's failure."""
    loaded = load_project(root, only=list(options.departments) if options.departments else None,
                          allow_remote=options.allow_remote,
                          organisation=options.departments is None)
    result = BuildReport(warnings=list(loaded.warnings), failed=dict(loaded.failed))
    if options.strict and loaded.warnings:
        for p in loaded.warnings:
            result.failed.setdefault("project", []).append(Problem(p.path, p.line, p.message))
        return result
    out = (options.out or loaded.root / "dist").resolve()
    for edition in loaded.editions:
        try:
            outputs, warnings = build_edition(edition, out, options, report)
        except HandbookError as exc:
            result.failed[edition.name] = list(exc.problems) or [Problem(edition.name, None, exc.message)]
            continue
        result.outputs += outputs
        result.warnings += warnings
    return result
