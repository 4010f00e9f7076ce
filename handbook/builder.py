"""Orchestration: decide what is out of date, load and validate it, then render each edition.

A build is a list of independent jobs, one per edition, run in worker processes (``jobs``)
since WeasyPrint is CPU-bound. A failure in one edition is recorded and the others go on;
outputs are written atomically, and an output whose inputs did not change is not rebuilt.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import re
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from . import cache, deadline, glyphs
from .config import PAGE_SIZES
from .errors import HandbookError, Problem, RenderError
from .model import Edition
from .options import BuildOptions, RenderOptions
from .output import atomic_write
from .project import Loaded, department_slug, list_departments, load_project, require_departments
from .results import BuildReport, EditionResult, Output

if TYPE_CHECKING:
    from concurrent.futures import Future

log = logging.getLogger(__name__)

__all__ = ["BuildOptions", "BuildReport", "EditionResult", "Output", "RenderOptions", "build", "build_edition"]


def edition_out_dir(out: Path, slug: str | None) -> Path:
    return out if slug is None else out / slug


def _extra_inputs(edition: Edition, fetched: list[Path]) -> list[str]:
    """Fetched files that the key does not already cover (images elsewhere in the project)."""
    root = edition.root.resolve()
    covered = [root / name for name in cache.SHARED]
    if edition.slug:
        covered.append(root / "departments" / edition.slug)
    extra = set()
    for path in fetched:
        if path.is_relative_to(root) and not any(path == c or path.is_relative_to(c) for c in covered):
            extra.add(path.relative_to(root).as_posix())
    return sorted(extra)


CHARS_PER_A5_PAGE = 12_000  # far more than a page of any sane theme holds (this one: about 2,500)


_CHAPTER_BREAK = re.compile(r"\.chapter\s*\{[^}]*break-before\s*:\s*(?:page|right|left|recto|verso)")


def _chapters_start_pages(edition: Edition) -> bool:
    for path in edition.stylesheets:
        try:
            if _CHAPTER_BREAK.search(path.read_text(encoding="utf-8", errors="replace")):
                return True
        except OSError:
            continue
    return False


def too_long(edition: Edition, limit: int) -> None:
    """Stop before layout when the text alone needs more pages than the limit allows (a lower
    bound: the densest page imaginable), naming the longest chapters."""
    w, h = PAGE_SIZES[edition.settings.page_size]
    per_page = CHARS_PER_A5_PAGE * (w * h) / (148 * 210)
    total = sum(len(ch.text) for ch in edition.chapters)
    least = int(total / per_page)
    if least <= limit < len(edition.chapters) and _chapters_start_pages(edition):
        raise RenderError(f"the handbook has {len(edition.chapters):,} chapters and each starts a new page (the "
                          f"stylesheet's .chapter {{ break-before }}); the limit is {limit:,} pages "
                          "(limits.pages in handbook.yaml: raise it to build this on purpose)")
    if least <= limit:
        return
    longest = sorted(edition.chapters, key=lambda ch: len(ch.text), reverse=True)[:3]
    why = (f"the handbook's {total:,} characters of text need at least {least:,} pages; the limit is {limit:,} "
           "(limits.pages in handbook.yaml: raise it to build this on purpose)")
    raise RenderError(why, [
        Problem(ch.source, None, f"{len(ch.text):,} characters: at least {len(ch.text) / per_page:,.0f} pages")
        for ch in longest if len(ch.text) >= per_page])


def build_edition(edition: Edition, out: Path, options: RenderOptions | BuildOptions, keys: dict[str, str],
                  warnings: tuple[Problem, ...] = ()) -> EditionResult:
    """Render and write the documents in ``keys`` (document -> base key, taken before the build).

    ``warnings``: what loading found for this edition; stored with each output, with the job's own."""
    from . import documents  # imports WeasyPrint: only when something is rendered

    if not isinstance(options, RenderOptions):
        options = options.render
    result = EditionResult(edition.name)
    out_dir = edition_out_dir(out, edition.slug)
    state = cache.State.read(out_dir)
    try:
        if "handbook" in keys:
            too_long(edition, options.max_pages or edition.settings.limits.pages)
        glyphs.require(edition)  # a character no configured font has: named, before WeasyPrint draws a box
        for job in documents.jobs(tuple(keys)):
            start = time.perf_counter()
            with deadline.edition_limit(options.max_seconds or edition.settings.limits.seconds, edition.name):
                job_result = job.run(edition, out_dir, options)
            if options.strict and job_result.warnings:
                raise RenderError(f"{edition.name}: warnings are errors (--strict)", job_result.warnings)
            result.warnings += job_result.warnings
            state.forget(job.document)
            for name, data in job_result.files.items():
                atomic_write(out_dir / name, data)
            elapsed = time.perf_counter() - start
            for name, pages in job_result.reported.items():
                result.outputs.append(Output(out_dir / name, pages, len(job_result.files[name]), elapsed,
                                             edition.name))
            if job_result.files:
                extra = _extra_inputs(edition, job_result.fetched)
                state.record(job.document, cache.edition_key(edition.root, keys[job.document], extra),
                             job_result.files, extra, [*warnings, *job_result.warnings])
    except HandbookError as exc:
        message = exc.message.removeprefix(f"{edition.name}: ")  # the problem names the edition
        result.errors = list(exc.problems) or [Problem(edition.name, None, message)]
        if exc.problems and message:
            result.errors.append(Problem(edition.name, None, message))
    finally:
        try:
            state.write()
        except HandbookError as exc:  # the output folder cannot be written
            result.errors += list(exc.problems) or [Problem(edition.name, None, exc.message)]
    return result


def _slugs(root: Path, options: BuildOptions) -> list[str | None]:
    """The editions a build asks for (None: the organisation-wide one)."""
    folders = [department_slug(f) for f in list_departments(root)]
    if options.departments is not None:
        require_departments(options.departments, folders)
        slugs: list[str | None] = list(dict.fromkeys(options.departments))
        if options.organisation:
            slugs.insert(0, None)
    else:
        slugs = [None, *folders]
    return slugs


@dataclass(frozen=True)
class Snapshot:
    """The project read once: the keys of its inputs (document -> base key, per edition), then the
    model loaded from those files.

    The keys are taken first, so a file saved while the project loads makes the next build's keys
    differ (a key never claims files newer than the model built under it). ``handbook serve``
    renders its preview from ``loaded`` and builds the PDFs from the same snapshot: one read per save.
    """

    keys: dict[tuple[str | None, str], str]
    loaded: Loaded


def snapshot(root: Path, options: BuildOptions) -> Snapshot:
    """Take the keys of the editions ``options`` asks for, then load them."""
    root = root.resolve()
    slugs = _slugs(root, options)
    env = cache.environment_key(options.output_key())
    keys = {(slug, document): cache.base_key(root, slug, document, env) for slug in slugs for document in options.only}
    return Snapshot(keys, load_project(root, only=[s for s in slugs if s is not None],
                                       allow_remote=options.allow_remote, organisation=None in slugs))


def _plan(root: Path, out: Path, options: BuildOptions, keys: dict[tuple[str | None, str], str] | None = None
          ) -> tuple[dict[str | None, dict[str, str]], list[Output], list[Problem]]:
    """For each edition, the documents to build with their keys (``keys``: those of a snapshot), the
    outputs that are up to date and the warnings of the builds that wrote them."""
    slugs = _slugs(root, options)
    env = cache.environment_key(options.output_key())
    todo: dict[str | None, dict[str, str]] = {}
    fresh: list[Output] = []
    replayed: list[Problem] = []
    for slug in slugs:
        out_dir = edition_out_dir(out, slug)
        state = cache.State.read(out_dir)
        for document in options.only:
            base = keys[slug, document] if keys is not None else cache.base_key(root, slug, document, env)
            if not options.force and state.up_to_date(document, cache.edition_key(root, base, state.extra(document))):
                for name in state.outputs(document):
                    path = out_dir / name
                    fresh.append(Output(path, None, path.stat().st_size, 0.0, slug or "organisation-wide",
                                        "up to date"))
                replayed += state.warnings(document)
            else:
                todo.setdefault(slug, {})[document] = base
    return todo, fresh, replayed


Progress = Callable[[int, int, str], None]

LAYOUT_GC_THRESHOLD = 50_000  # young objects between collections while laying out (Python's default: 700)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Layout makes millions of short-lived objects, most of them without cycles; with Python's
    default threshold the collector walks the whole heap (settings, templates, WeasyPrint's own
    modules) thousands of times per book. Collect less often while rendering (a few % of a build)."""
    old = gc.get_threshold()
    gc.set_threshold(LAYOUT_GC_THRESHOLD, old[1], old[2])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def _die_with_parent(parent: int | None) -> None:
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    if parent is not None and os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def build(root: Path, options: BuildOptions | None = None,
          report: Callable[[Output], None] = lambda o: None,
          progress: Progress = lambda done, total, name: None, read: Snapshot | None = None) -> BuildReport:
    """Build the project at ``root``; one edition's failure never stops the others.

    ``read``: the project as already read (:func:`snapshot`, with the same options), not read again."""
    options = options or BuildOptions()
    root = root.resolve()
    out = (options.out or root / "dist").resolve()
    todo, fresh, replayed = _plan(root, out, options, read.keys if read else None)
    result = BuildReport()
    result.warnings += replayed
    for o in fresh:
        result.outputs.append(o)
        report(o)
    if not todo:
        return result
    loaded = read.loaded if read else load_project(root, only=[s for s in todo if s is not None],
                                                   allow_remote=options.allow_remote, organisation=None in todo)
    result.warnings += loaded.warnings
    result.failed.update(loaded.failed)
    if options.strict and loaded.warnings:
        result.failed.setdefault("project", []).extend(
            Problem(p.path, p.line, p.message) for p in loaded.warnings)
        return result
    editions = [e for e in loaded.editions if e.slug in todo]
    total = len(editions)
    done = 0

    def collect(r: EditionResult) -> None:
        nonlocal done
        done += 1
        for o in r.outputs:
            result.outputs.append(o)
            report(o)
        result.warnings += r.warnings
        if r.errors:
            result.failed[r.name] = r.errors
        progress(done, total, r.name)

    workers = min(max(1, options.jobs), total)
    with fewer_collections():
        if workers <= 1:  # one job: no pool (nor its imports) at all
            for edition in editions:
                collect(build_edition(edition, out, options.render, todo[edition.slug],
                                      tuple(loaded.edition_warnings.get(edition.slug, ()))))
        else:
            _build_in_pool(editions, out, options, todo, loaded.edition_warnings, workers, collect)
    return result


def _build_in_pool(editions: list[Edition], out: Path, options: BuildOptions, todo: dict[str | None, dict[str, str]],
                   edition_warnings: dict[str | None, list[Problem]], workers: int,
                   collect: Callable[[EditionResult], None]) -> None:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker,
                               initargs=(os.getpid(),))
    try:
        pending: dict[Future[EditionResult], Edition] = {
            pool.submit(build_edition, e, out, replace(options.render, part_workers=1), todo[e.slug],
                        tuple(edition_warnings.get(e.slug, ()))): e for e in editions}
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                edition = pending.pop(future)
                try:
                    collect(future.result())
                except HandbookError as exc:  # a user error raised outside build_edition's own handling
                    collect(EditionResult(edition.name, errors=list(exc.problems) or [
                        Problem(edition.name, None, exc.message)]))
                except Exception as exc:  # a bug in a worker: report it, keep the others going
                    log.error("%s: internal error", edition.name, exc_info=exc)
                    collect(EditionResult(edition.name, errors=[Problem(
                        edition.name, None, f"internal error: {type(exc).__name__}: {exc} (run with --debug)")]))
    except BaseException:  # Ctrl+C, SIGTERM: stop the workers now (their outputs are written atomically)
        pool.shutdown(wait=False, cancel_futures=True)
        for child in multiprocessing.active_children():
            child.kill()
        raise
    pool.shutdown(wait=True)


def _init_worker(parent: int | None = None) -> None:
    """Workers import WeasyPrint once and keep its font configuration for every edition.

    A worker dies with the build that started it: killed mid-build, the build leaves no worker
    behind to overwrite outputs later.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent(parent)
    from . import pdf

    pdf.font_config()
