"""The documents of an edition, each a job: HTML -> WeasyPrint -> files to write.

Imports WeasyPrint (through :mod:`handbook.pdf`); the CLI imports this module only to render.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from . import cache, outputs, partwise, pdf
from .errors import Problem, RenderError, ResourceError, display_path
from .model import Edition
from .render import PrintOptions, cards_html, handbook_html

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from .options import RenderOptions  # a job sees only what renders a document, nothing that schedules


@dataclass
class JobResult:
    files: dict[str, bytes | str] = field(default_factory=dict)  # name in the edition's folder -> data
    reported: dict[str, int | None] = field(default_factory=dict)  # name -> pages, in report order
    warnings: list[Problem] = field(default_factory=list)
    fetched: list[Path] = field(default_factory=list)  # files WeasyPrint read

    def add_pdf(self, name: str, data: bytes, rendered: pdf.Rendered | partwise.ByParts, html: str,
                save_html: bool) -> None:
        """A rendered PDF, and (``--save-html``) the exact HTML it was made from."""
        self.files[f"{name}.pdf"] = data
        self.reported[f"{name}.pdf"] = rendered.pages
        if save_html:
            self.files[f"{name}.print.html"] = html
            self.reported[f"{name}.print.html"] = None
        self.warnings += rendered.warnings
        self.fetched += rendered.fetched


class Job(Protocol):
    document: str

    def run(self, edition: Edition, out_dir: Path, options: RenderOptions) -> JobResult: ...


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


SYSTEM_CMYK_PROFILE = Path("/usr/share/color/icc/ghostscript/default_cmyk.icc")  # Debian's libgs-common


def variant_for(edition: Edition, options: RenderOptions) -> str | None:
    """The PDF variant: the command line's, else the edition's setting."""
    return options.pdf_variant or edition.settings.pdf_variant


def print_options(edition: Edition, options: RenderOptions, *, print_shop: bool = False) -> PrintOptions:
    """How to make the print HTML: bleed for the print shop, CMYK colours and profile for PDF/X."""
    cmyk = variant_for(edition, options) == "pdf/x-4"
    profile = None
    if cmyk:
        own = edition.root / "styles" / "cmyk.icc"
        path = own if own.is_file() else SYSTEM_CMYK_PROFILE
        if not path.is_file():
            raise RenderError(f"{edition.name}: PDF/X needs a CMYK profile: put one at styles/cmyk.icc "
                              f"or install {SYSTEM_CMYK_PROFILE} (Debian's libgs-common)")
        profile = pdf.file_url(path.resolve())
    return PrintOptions(print_shop=print_shop, bleed=edition.settings.bleed, cmyk=cmyk, cmyk_profile=profile)


def render_pdf(html: str, edition: Edition, out_dir: Path, name: str, options: RenderOptions,
               finishers: FinishersFor = lambda r: ()) -> tuple[bytes, pdf.Rendered]:
    """Lay out ``html`` as ``out_dir/<name>.print.html`` would be, through the project-only fetcher."""
    rendered = layout(html, edition, out_dir, name, options)
    return write(rendered, edition, options, finishers(rendered)), rendered


def layout(html: str, edition: Edition, out_dir: Path, name: str, options: RenderOptions,
           css_filter: Callable[[str], str] | None = None) -> pdf.Rendered:
    """HTML -> pages through the project-only fetcher; refused resources and page limits checked.
    ``css_filter``: what the stylesheets are read through (a part of a long edition)."""
    allowed: tuple[Path, ...] = ()
    if variant_for(edition, options) == "pdf/x-4" and SYSTEM_CMYK_PROFILE.is_file():
        allowed = (SYSTEM_CMYK_PROFILE,)  # the output intent: opted in with pdf/x-4
    limits = edition.settings.limits
    fetcher = pdf.ProjectFetcher(roots(edition), options.allow_remote, allowed_files=allowed,
                                 max_bytes=int(limits.image_megabytes * 1024 * 1024),
                                 max_pixels=int(limits.image_megapixels * 1_000_000), css_filter=css_filter)
    base_url = pdf.file_url(out_dir.resolve() / f"{name}.print.html")
    rendered = pdf.layout(html, base_url, fetcher, f"{edition.name}: {name}", edition.stylesheets,
                          edition.template_dirs)
    check_blocked(rendered, edition, f"{name}.print.html")
    check_pages(rendered, edition, name, options.max_pages or edition.settings.limits.pages)
    check_overflow(rendered, edition, name)
    return rendered


_WHAT = {"table": "a table", "img": "an image", "pre": "a code block", "figure": "a figure"}


def check_overflow(rendered: pdf.Rendered, edition: Edition, name: str) -> None:
    """Nothing runs off the page: a block of content wider than the text block (or its card) after
    layout is an error naming its file and line, with what to do."""
    over = pdf.overflows(rendered)
    if not over:
        return
    problems = []
    for o in over:
        what = _WHAT.get(o.tag, "text")
        advice = {"table": "use fewer or narrower columns, or split the table",
                  "img": "make the image narrower",
                  "pre": "break its long lines"}.get(o.tag, "break the long word or address")
        problems.append(Problem(o.source, o.line, f"{what} runs {o.excess:.1f} mm past the edge of the "
                                                  f"{'card' if name.startswith('cards') else 'text block'} "
                                                  f"({o.width:.1f} mm wide, {o.available:.1f} mm available, "
                                                  f"page {o.page} of {name}.pdf); {advice}"))
    raise RenderError(f"{edition.name}: content runs off the page in {name}.pdf", problems)


def write(rendered: pdf.Rendered, edition: Edition, options: RenderOptions,
          finishers: tuple[pdf.Finisher, ...]) -> bytes:
    variant = variant_for(edition, options)
    return pdf.write_pdf(rendered, finishers, **({"pdf_variant": variant} if variant else {}))


def check_pages(rendered: pdf.Rendered, edition: Edition, name: str, limit: int) -> None:
    if rendered.pages > limit:
        raise RenderError(f"{edition.name}: {name} has {rendered.pages} pages; the limit is {limit} "
                          "(is some content repeated by mistake? limits.pages in handbook.yaml raises it)")


def first_page_with(rendered: pdf.Rendered, anchor: str | None) -> int:
    """The index of the page holding ``anchor`` (0 when absent)."""
    for i, page in enumerate(rendered.document.pages):
        if anchor and anchor in page.anchors:
            return i
    return 0


class HandbookJob:
    """handbook.pdf and handbook.html; handbook-print-shop.pdf and booklet.pdf when asked for."""

    document = "handbook"

    def run(self, edition: Edition, out_dir: Path, options: RenderOptions) -> JobResult:
        result = JobResult()
        first = edition.chapters[0].anchor if edition.chapters else None
        bleed = edition.settings.bleed
        variants = [("handbook", False)]
        if options.print_shop or edition.settings.print:
            variants.append(("handbook-print-shop", True))
        for name, print_shop in variants:
            html = handbook_html(edition, target="print", out_dir=out_dir,
                                 options=print_options(edition, options, print_shop=print_shop))

            def finishers(r: pdf.Rendered, shop: bool = print_shop) -> tuple[pdf.Finisher, ...]:
                base = (pdf.viewer_preferences(), pdf.page_labels(first_page_with(r, first)))
                return (*base, pdf.bleed_box(bleed)) if shop else base

            rendered: pdf.Rendered | partwise.ByParts
            by_parts = partwise.render(html, edition, out_dir, name, options, bleed if print_shop else None)
            if by_parts is not None:  # a long edition: by parts, in the worker pool, only what changed
                data, rendered = by_parts
            else:
                data, rendered = render_pdf(html, edition, out_dir, name, options, finishers)
                partwise.remember(html, edition, out_dir, name, options,
                                  [set(page.anchors) for page in rendered.document.pages])
            result.add_pdf(name, data, rendered, html, options.save_html)
            if name == "handbook":
                result.files["handbook.html"] = handbook_html(edition, target="web", out_dir=out_dir)
                result.reported["handbook.html"] = None
                if options.booklet:
                    booklet(edition, data, result)
        return result


def booklet(edition: Edition, handbook_pdf: bytes, result: JobResult) -> None:
    """booklet.pdf: the handbook imposed two up on sheets, in saddle-stitch order."""
    from .imposition import BOOKLET_SHEET, impose

    size = edition.settings.page_size
    if size not in BOOKLET_SHEET:
        raise RenderError(f"{edition.name}: a booklet needs a5 or half-letter pages (page_size is {size}); "
                          "they are printed two up on a4 or letter sheets")
    data, sheets = impose(handbook_pdf, BOOKLET_SHEET[size])
    result.files["booklet.pdf"] = data
    result.reported["booklet.pdf"] = 2 * sheets


SHRINK_STEPS = (1.0, 0.93, 0.86, 0.8, 0.75)  # the limit: text is never set smaller than 75 %
FIT_TOLERANCE = 0.05  # mm


class CardsJob:
    """cards.pdf (office duplex sheets) and cards-print-shop.pdf (one side per page, bleed, crop marks)."""

    document = "cards"

    def run(self, edition: Edition, out_dir: Path, options: RenderOptions) -> JobResult:
        result = JobResult()
        for layout in ("sheets", "shop"):
            CardLayout(layout).render(edition, out_dir, options, result)
        return result


class CardLayout:
    """One layout of the cards: "sheets" (cards.pdf) or "shop" (cards-print-shop.pdf)."""

    def __init__(self, layout: str) -> None:
        self.layout = layout
        self.name = "cards" if layout == "sheets" else "cards-print-shop"

    def render(self, edition: Edition, out_dir: Path, options: RenderOptions, result: JobResult) -> None:
        """Lay the cards out, shrinking text that does not fit, and add the PDF to ``result``."""
        if not edition.deck.cards:
            return
        printing = print_options(edition, options)
        first = cards_html(edition, layout=self.layout, out_dir=out_dir, scale={}, options=printing)
        store = partwise.Store(partwise.store_folder(edition, out_dir, self.name), options.fresh_parts)
        key = partwise.document_key(first, edition, options)
        made = None if options.save_html else store.get(key)
        if made is not None:  # the same cards from the same files: the PDF the last build made of them
            log.info("%s: %s.pdf as the last build made it", edition.name, self.name)
            kept = partwise.ByParts(made.pages, made.warnings, [Path(p) for p in made.fetched], [], 1)
            result.add_pdf(self.name, made.data, kept, first, False)
            return
        scale: dict[tuple[int, str], float] = {}
        html = first  # at full size; the cards that overflow are set smaller, one step a pass
        while True:
            rendered = layout(html, edition, out_dir, self.name, options)
            over = overflowing(rendered)
            if not over:
                break
            problems = []
            for (number, side), excess in sorted(over.items()):
                current = scale.get((number, side), 1.0)
                smaller = [s for s in SHRINK_STEPS if s < current - 1e-9]
                if smaller:
                    scale[(number, side)] = smaller[0]
                else:
                    card = edition.deck.cards[number - 1]
                    problems.append(Problem(card.path, card.line,
                                            f"card {number} of {len(edition.deck.cards)} ({side}): the text "
                                            f"overflows by {excess:.1f} mm even at {int(SHRINK_STEPS[-1] * 100)} % "
                                            "type size; shorten it"))
            if problems:
                raise RenderError(f"{edition.name}: card text does not fit", problems)
            html = cards_html(edition, layout=self.layout, out_dir=out_dir, scale=scale, options=printing)
        for (number, side), factor in sorted(scale.items()):
            log.info("%s: card %d %s set at %d %%", edition.name, number, side, factor * 100)
        finishers: tuple[pdf.Finisher, ...]
        if self.layout == "sheets":
            finishers = (pdf.viewer_preferences(edition.deck.duplex),)
        else:
            from .cards import ShopPage

            shop = ShopPage(*edition.deck.size)
            finishers = (pdf.viewer_preferences(), pdf.page_boxes(shop.trim_box, shop.bleed))
        data = write(rendered, edition, options, finishers)
        store.put(key, partwise.PartResult(data, rendered.pages, {}, list(rendered.warnings),
                                           {str(p): cache.file_digest(p) for p in dict.fromkeys(rendered.fetched)}))
        store.keep_only({key})
        result.add_pdf(self.name, data, rendered, html, options.save_html)


def overflowing(rendered: pdf.Rendered) -> dict[tuple[int, str], float]:
    """Card sides whose text is taller than its box: (card number, side) -> excess in mm."""
    over = {}
    for element_id, (content, available) in pdf.box_heights(rendered, "fit-").items():
        if content - available > FIT_TOLERANCE:
            _, number, side = element_id.split("-")
            over[(int(number), side)] = content - available
    return over


def jobs(only: tuple[str, ...]) -> Iterator[Job]:
    """The jobs of the registered documents among ``only`` (:mod:`handbook.outputs`)."""
    for document in outputs.documents(only):
        job: Job = document.load_job()
        yield job
