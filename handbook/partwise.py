"""One long edition rendered by parts in the worker pool, and again only where it changed.

:mod:`handbook.parts` cuts the print HTML at its chapters; each part is rendered as its own
WeasyPrint document (in worker processes when there are workers), with its first page number and
the page numbers it shows of other parts taken from a page map; the parts' page counts and anchors
give the next page map, and a part is rendered again only if its HTML changed with it (its first
page moved, or a page it names): until nothing changes. :mod:`handbook.assemble` joins the PDFs.

Part PDFs are kept in the project, beside its outputs (``.handbook-cache/parts/<edition>/<name>/``;
the output folder's ``.handbook-parts/<name>/`` when the project cannot be written), so that what is
handed to a print shop holds only the outputs. They are named by a digest of what
they are made of: the part's HTML (its numbers included), the stylesheets, the environment (tool,
WeasyPrint and fonts) and the render options; with each, the files WeasyPrint read for it and their
digests. The next build renders only the parts whose digest is new: after an edit inside one
chapter, that chapter's part (and a part whose numbers moved with it: the contents, a part that
refers to it). ``layout.json`` there keeps the last page map (the first guess of the next build)
and which parts the last build rendered.

Used (``--parts auto``) for an edition of at least ``parts.MIN_CHAPTERS`` chapters from its second
build: the first is one document, whose page map is kept (:func:`remember`), so the second renders
every part once and later ones only what changed; ``on``/``off`` force it. A first build with two
workers or more goes by parts too when few parts name pages after them (:func:`first_by_parts`):
the parts are sent in book order, each with the pages of those finished before it (:class:`InOrder`). Never for a PDF
variant (PDF/A, PDF/UA, PDF/X: one structure tree, one set of output intents and metadata, written
by WeasyPrint for one document), nor when the stylesheets ask for something a part cannot know
(:func:`handbook.parts.unsupported`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import cache, parts
from .errors import Problem, RenderError, Severity, display_path
from .estimate import Done, Estimate
from .output import atomic_write
from .render import stylesheets_for

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    from .model import Edition
    from .options import RenderOptions

log = logging.getLogger(__name__)

CACHE = ".handbook-cache"  # in the project: what a build keeps to go faster next time
FOLDER = ".handbook-parts"  # in the output folder, when the project cannot be written
LAYOUT = "layout.json"
MAX_ROUNDS = 5  # passes until the page numbers settle; else the edition is rendered as one document


@dataclass(frozen=True)
class Task:
    """One part to render (picklable: sent to a worker)."""

    edition: Edition
    out_dir: Path
    name: str
    options: RenderOptions
    html: str
    bleed: float | None  # the print-shop variant: its BleedBox


@dataclass
class PartResult:
    data: bytes
    pages: int  # the part's pages in the book (its part end excluded)
    anchors: dict[str, int]  # anchor -> page of the part (0-based)
    warnings: list[Problem] = field(default_factory=list)
    fetched: dict[str, str] = field(default_factory=dict)  # file WeasyPrint read -> its digest

    def meta(self) -> dict[str, Any]:
        return {"pages": self.pages, "anchors": self.anchors, "fetched": self.fetched,
                "warnings": [[p.path, p.line, p.message] for p in self.warnings]}


@dataclass
class ByParts:
    """What :func:`render` made, as a job reports it."""

    pages: int
    warnings: list[Problem]
    fetched: list[Path]
    rendered: list[int]  # the parts rendered by this build (the others were the last build's)
    count: int
    again: list[int] = field(default_factory=list)  # the parts this build rendered more than once


def render_part(task: Task) -> PartResult:
    """Lay out and write one part (in a worker, or in the build's own process)."""
    from . import documents, pdf

    rendered = documents.layout(task.html, task.edition, task.out_dir, task.name, task.options,
                                css_filter=parts.rewrite_css)
    pages = rendered.document.pages
    end = next((i for i, page in enumerate(pages) if parts.PART_END in page.anchors), None)
    if end is None:
        raise RenderError(f"{task.edition.name}: {task.name}: a part did not end where it should "
                          "(render it as one document: parts: off)")
    anchors: dict[str, int] = {}
    for i, page in enumerate(pages[:end]):
        for anchor in page.anchors:
            anchors.setdefault(anchor, i)
    finishers = (pdf.bleed_box(task.bleed),) if task.bleed is not None else ()
    data = documents.write(rendered, task.edition, task.options, finishers)
    fetched = {str(p): cache.file_digest(p) for p in dict.fromkeys(rendered.fetched)}
    return PartResult(data, end, anchors, list(rendered.warnings), fetched)


def eligible(edition: Edition, options: RenderOptions) -> bool:
    """Whether this output may be rendered by parts (before looking at its stylesheets)."""
    from .documents import variant_for

    if options.parts == "off" or variant_for(edition, options) or not edition.chapters:
        return False
    return len(edition.chapters) >= (2 if options.parts == "on" else parts.MIN_CHAPTERS)


def store_folder(edition: Edition, out_dir: Path, name: str) -> Path:
    """Where the parts of an output are kept: the project's cache, not the output folder (a copy
    of dist/ for a print shop carries only the outputs); the output folder if the project is read-only."""
    if os.access(edition.root, os.W_OK):
        return edition.root / CACHE / "parts" / edition.name / name
    return out_dir / FOLDER / name


def wanted(edition: Edition, name: str, options: RenderOptions, out_dir: Path) -> bool:
    """Whether this output may be rendered by parts now: forced, a long edition built before (its
    page map is kept), or a first build with two workers or more (:func:`render` then looks at
    what the parts name: :func:`first_by_parts`). A first build in one worker (``handbook serve``)
    is one document: the parts whose numbers were estimated wrong would be rendered again after
    the others, with no second CPU to render them meanwhile."""
    if not eligible(edition, options):
        return False
    return (options.parts == "on" or options.part_workers >= 2
            or (store_folder(edition, out_dir, name) / LAYOUT).is_file())


AHEAD_SHARE = 0.25  # a first build by parts (--parts auto) when at most this share of parts name later pages


def first_by_parts(estimate: Estimate, options: RenderOptions) -> str | None:
    """Why a first build (no page map kept) is one document, or None: by parts. A part that names
    pages of a part after it is rendered before they are known (:class:`InOrder`), and again if an
    estimate was wrong: with most parts doing so (the 40-chapter benchmark book, a cross-reference
    from every chapter to any other: 13 of 14 parts), 8 or 9 of them were rendered twice and the
    build by parts was no faster than one document for 1.6 times its CPU; with cross-references to
    earlier chapters only, 3 (benchmarks/README.md)."""
    if options.parts == "on":
        return None
    ahead = estimate.ahead()
    if len(ahead) > AHEAD_SHARE * (estimate.made.count - 1):
        return f"a first build, and {len(ahead)} of {estimate.made.count - 1} parts name pages after them"
    return None


def remember(html: str, edition: Edition, out_dir: Path, name: str, options: RenderOptions,
             pages: Sequence[set[str]]) -> None:
    """After a long edition was rendered as one document (its first build): keep its page map, so
    the next build renders it by parts from the right numbers, in one pass (``handbook serve``
    too: after a save, only the edited chapter's part)."""
    if not eligible(edition, options):
        return
    css = [p.read_text(encoding="utf-8", errors="replace") for p in stylesheets_for(edition, "handbook")]
    if parts.unsupported(css, edition.settings.external_links == "footnote"):
        return
    store = Store(store_folder(edition, out_dir, name), False)
    made = parts.make(html, [c.anchor for c in edition.chapters], css, store.layout.get("groups", ()))
    if made is None:
        return
    anchors: dict[str, int] = {}
    for number, names in enumerate(pages):
        for anchor in names:
            anchors.setdefault(anchor, number)
    starts = [0, *(anchors.get(made.chapters(i)[0], 0) for i in range(1, made.count))]
    store.folder.mkdir(parents=True, exist_ok=True)
    atomic_write(store.folder / LAYOUT, json.dumps({
        "groups": [list(made.chapters(i)) for i in range(1, made.count)], "starts": starts,
        "anchors": anchors, "rendered": [], "parts": made.count, "one_document": True}))


def _page_map(made: parts.Parts, results: Sequence[PartResult]) -> parts.PageMap:
    starts, anchors = [0], dict[str, int]()
    for result in results[:-1]:
        starts.append(starts[-1] + result.pages)
    for start, result in zip(starts, results, strict=True):
        for anchor, page in result.anchors.items():
            anchors.setdefault(anchor, start + page)
    first = made.split.anchors[0]
    return parts.PageMap(starts, anchors, anchors.get(first, starts[1] if len(starts) > 1 else 0))


class Store:
    """The part PDFs of one output, by digest, and the last build's page map (the cards keep their
    whole PDFs the same way, by the HTML they were made from: :func:`document_key`)."""

    def __init__(self, folder: Path, fresh: bool) -> None:
        self.folder = folder
        self.fresh = fresh
        try:
            self.layout: dict[str, Any] = json.loads((folder / LAYOUT).read_text(encoding="utf-8"))
            if not isinstance(self.layout, dict):
                self.layout = {}
        except (OSError, ValueError):
            self.layout = {}

    def get(self, key: str) -> PartResult | None:
        if self.fresh:
            return None
        try:  # anything damaged or hand-edited in the cache is rendered again, never an error
            meta = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
            data = (self.folder / f"{key}.pdf").read_bytes()
            if not data.startswith(b"%PDF-") or any(cache.file_digest(Path(p)) != d
                                                    for p, d in meta["fetched"].items()):
                return None
            warnings = [Problem(str(p), line if isinstance(line, int) else None, str(m), Severity.WARNING)
                        for p, line, m in meta["warnings"]]
            return PartResult(data, int(meta["pages"]), dict(meta["anchors"]), warnings, dict(meta["fetched"]))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def put(self, key: str, result: PartResult) -> None:
        atomic_write(self.folder / f"{key}.pdf", result.data)
        atomic_write(self.folder / f"{key}.json", json.dumps(result.meta()))

    def keep_only(self, keys: set[str], layout: dict[str, Any] | None = None) -> None:
        if layout is not None:
            atomic_write(self.folder / LAYOUT, json.dumps(layout))
        for path in self.folder.iterdir():
            if path.suffix in (".pdf", ".json") and path.name != LAYOUT and path.stem not in keys:
                path.unlink(missing_ok=True)


def _environment(edition: Edition, options: RenderOptions, bleed: float | None) -> str:
    h = hashlib.sha256(cache.environment_key(options.output_key()).encode())
    h.update(f"{bleed}\n".encode())
    for path in edition.stylesheets:  # by their place in the project: a copied project keeps its PDFs
        h.update(f"{display_path(path, edition.root)}\0{cache.file_digest(path)}\n".encode())
    return h.hexdigest()


def part_key(environment: str, html: str) -> str:
    """A part PDF's name in the store: its HTML (numbers included) in its environment (:func:`_environment`)."""
    return hashlib.sha256(f"{environment}\n{html}".encode()).hexdigest()[:40]


def document_key(html: str, edition: Edition, options: RenderOptions) -> str:
    """What a whole document's PDF depends on besides the files WeasyPrint reads (checked by
    :meth:`Store.get`): its HTML, the stylesheets, the options and the environment."""
    return hashlib.sha256(f"{_environment(edition, options, None)}\n{html}".encode()).hexdigest()


def render(html: str, edition: Edition, out_dir: Path, name: str, options: RenderOptions,
           bleed: float | None = None) -> tuple[bytes, ByParts] | None:
    """The PDF of ``html`` rendered by parts and joined; None: render it as one document."""
    if not wanted(edition, name, options, out_dir):
        return None
    css = [p.read_text(encoding="utf-8", errors="replace") for p in stylesheets_for(edition, "handbook")]
    why = parts.unsupported(css, edition.settings.external_links == "footnote")
    if why:
        log.info("%s: %s as one document: %s", edition.name, name, why)
        return None
    store = Store(store_folder(edition, out_dir, name), options.fresh_parts)
    made = parts.make(html, [c.anchor for c in edition.chapters], css, store.layout.get("groups", ()))
    if made is None:
        log.info("%s: %s as one document: the template does not place the chapters in <main>", edition.name, name)
        return None
    env = _environment(edition, options, bleed)
    results: dict[str, PartResult] = {}
    rendered: list[int] = []
    passes = 0
    known = store.layout.get("anchors")
    if known:
        pages = parts.guess(made, known)
    else:  # no page map: the parts in book order, each with the pages of those finished before it
        estimate = Estimate(made)
        why = first_by_parts(estimate, options)
        if why:
            log.info("%s: %s as one document: %s", edition.name, name, why)
            return None
        try:
            first = InOrder(estimate, Task(edition, out_dir, name, options, "", bleed), env, store).run()
        except RenderError as exc:  # said again by one document, with the book's page numbers
            log.info("%s: %s as one document: a part failed: %s", edition.name, name, exc.message)
            return None
        if first is None:
            log.warning("%s: %s: the page numbers of the parts did not settle; rendered as one document",
                        edition.name, name)
            return None
        results, rendered, pages = first
        passes = max(Counter(rendered).values())
    for _round in range(MAX_ROUNDS):
        htmls = [made.html(i, pages) for i in range(made.count)]
        keys = [part_key(env, h) for h in htmls]
        for key in keys:
            if key not in results:
                found = store.get(key)
                if found is not None:
                    results[key] = found
        todo = [i for i, key in enumerate(keys) if key not in results]
        if todo:
            tasks = [Task(edition, out_dir, name, options, htmls[i], bleed) for i in todo]
            try:
                results_now = _run(tasks, options.part_workers)
            except RenderError as exc:  # said again by one document, with the book's page numbers
                log.info("%s: %s as one document: a part failed: %s", edition.name, name, exc.message)
                return None
            for i, result in zip(todo, results_now, strict=True):
                results[keys[i]] = result
                store.put(keys[i], result)
            rendered += todo
            passes += 1
        current = [results[k] for k in keys]
        pages = _page_map(made, current)
        if [made.html(i, pages) for i in range(made.count)] == htmls:
            break
    else:
        log.warning("%s: %s: the page numbers of the parts did not settle; rendered as one document",
                    edition.name, name)
        return None
    from . import assemble

    again = sorted(i for i, n in Counter(rendered).items() if n > 1)
    data = assemble.join([assemble.PartPdf(r.data, r.pages) for r in current], front_pages=pages.front)
    store.keep_only(set(keys), {"groups": [list(made.chapters(i)) for i in range(1, made.count)],
                                "starts": pages.starts, "anchors": pages.anchors,
                                "rendered": sorted(set(rendered)), "passes": passes, "parts": made.count,
                                "again": again})
    total = sum(r.pages for r in current)
    limit = options.max_pages or edition.settings.limits.pages
    if total > limit:
        raise RenderError(f"{edition.name}: {name} has {total} pages; the limit is {limit} "
                          "(is some content repeated by mistake? limits.pages in handbook.yaml raises it)")
    warnings = list(dict.fromkeys(w for r in current for w in r.warnings))
    fetched = [Path(p) for p in dict.fromkeys(p for r in current for p in r.fetched)]
    log.info("%s: %s by parts: %d of %d rendered, %d of them twice or more", edition.name, name,
             len(set(rendered)), made.count, len(again))
    return data, ByParts(total, warnings, fetched, sorted(set(rendered)), made.count, again)


def _run(tasks: list[Task], workers: int) -> list[PartResult]:
    """Render the parts: in the worker pool when there are two or more of both, else here."""
    workers = min(workers, len(tasks) - 1)
    if workers <= 1:
        return [render_part(task) for task in tasks]
    # The shortest part here first: the workers are forked warm (fonts loaded, hyphenation
    # dictionaries read), which saves each of them about a second of a cold start.
    order = sorted(range(len(tasks)), key=lambda i: -len(tasks[i].html))  # the longest first
    done = {order[-1]: render_part(tasks[order[-1]])}
    with _workers(workers) as pool:
        futures = {i: pool.submit(render_part, tasks[i]) for i in order[:-1]}
        return [done[i] if i in done else futures[i].result() for i in range(len(tasks))]


@contextmanager
def _workers(count: int) -> Iterator[ProcessPoolExecutor]:
    """A pool of ``count`` worker processes forked from this one (warm); on any exception (Ctrl+C,
    the time limit, a part that failed) the others are stopped at once."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from .builder import _init_worker

    context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    pool = ProcessPoolExecutor(max_workers=count, mp_context=context, initializer=_init_worker,
                               initargs=(os.getpid(),))
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        for child in multiprocessing.active_children():
            child.kill()
        raise
    finally:
        pool.shutdown(wait=True)


class InOrder:
    """The first build by parts, without a page map: the parts in book order (the contents last), as
    workers free up. When a part is sent, the parts finished so far give their exact pages; only
    those still running or not yet sent are estimated (:class:`handbook.estimate.Estimate`). A part
    whose numbers turn out wrong is rendered again as soon as they are all known, before the next
    part in order: meanwhile the part running before that one finishes, so fewer are sent on a guess.
    The first part is rendered here, before the workers are forked (they start warm: fonts loaded,
    hyphenation dictionaries read), and gives the first characters per page."""

    def __init__(self, estimate: Estimate, task: Task, env: str, store: Store) -> None:
        self.made, self.task, self.env, self.store = estimate.made, task, env, store
        self.estimate = estimate
        self.done: dict[int, Done] = {}
        self.shown: dict[int, str] = {}  # the HTML each part's latest rendering was made from
        self.results: dict[str, PartResult] = {}
        self.rendered: list[int] = []
        self.order = [*range(1, self.made.count), 0]

    def next(self, running: set[int]) -> tuple[int, str] | None:
        """What to render now: a part rendered before whose numbers are now all known and changed,
        else the next part in order never rendered (on estimates); None: wait for a running part."""
        pages = self.estimate.page_map(self.done)
        for i in sorted(self.done):
            if i not in running and self.estimate.exact(i, self.done):
                html = self.made.html(i, pages)
                if html != self.shown[i]:
                    return i, html
        for i in self.order:
            if i not in self.done and i not in running:
                return i, self.made.html(i, pages)
        return None

    def why(self, index: int) -> str:
        """For the debug log: whether the part's numbers are all known, else whose pages are estimated."""
        missing = sorted(self.estimate.depends[index] - set(self.done))
        again = "again, " if index in self.done else ""
        return f"{again}estimated: parts {missing}" if missing else f"{again}exact"

    def finish(self, index: int, html: str, result: PartResult, rendered: bool) -> None:
        key = part_key(self.env, html)
        self.done[index] = Done(result.pages, result.anchors)
        self.shown[index] = html
        self.results[key] = result
        if rendered:
            self.store.put(key, result)
            self.rendered.append(index)

    def kept(self, index: int, html: str) -> bool:
        """Whether the store has this part's PDF already (then it is taken, not rendered)."""
        found = self.store.get(part_key(self.env, html))
        if found is not None:
            self.finish(index, html, found, False)
        return found is not None

    def run(self) -> tuple[dict[str, PartResult], list[int], parts.PageMap] | None:
        """Every part rendered with the numbers of the others; None: they did not settle."""
        workers = min(self.task.options.part_workers, self.made.count - 1)
        while not self.rendered or workers <= 1:  # the first part here, or all of them with one worker
            picked = self.next(set())
            if picked is None:
                return self.results, self.rendered, self.estimate.page_map(self.done)
            index, html = picked
            if not self.kept(index, html):
                if self.rendered.count(index) >= MAX_ROUNDS:
                    return None
                log.debug("part %d here (%s)", index, self.why(index))
                self.finish(index, html, render_part(replace(self.task, html=html)), True)
        return self._pool(workers)

    def _pool(self, workers: int) -> tuple[dict[str, PartResult], list[int], parts.PageMap] | None:
        from concurrent.futures import FIRST_COMPLETED, Future, wait

        running: dict[Future[PartResult], tuple[int, str]] = {}
        with _workers(workers) as pool:
            while True:
                while len(running) < workers:
                    picked = self.next({i for i, _ in running.values()})
                    if picked is None:
                        break
                    index, html = picked
                    if self.kept(index, html):
                        continue
                    if self.rendered.count(index) >= MAX_ROUNDS:  # (a part is never sent twice at once)
                        return None
                    log.debug("part %d sent (%s); %s running", index, self.why(index),
                              sorted(i for i, _ in running.values()))
                    running[pool.submit(render_part, replace(self.task, html=html))] = (index, html)
                if not running:
                    return self.results, self.rendered, self.estimate.page_map(self.done)
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in sorted(finished, key=lambda f: running[f][0]):
                    index, html = running.pop(future)
                    self.finish(index, html, future.result(), True)
