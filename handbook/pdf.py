"""The one module that talks to WeasyPrint (imported only when something is rendered).

Every resource goes through :class:`ProjectFetcher`, which asks the one asset policy
(:mod:`handbook.assets`): files inside the project, ``data:`` URLs and the fonts that ship with the
package (``handbook:fonts/...``), nothing else (no https unless the user opts in, no other file
outside the project, no redirects).
The HTML is handed over as a string with an explicit ``base_url``; stylesheets are linked from
it and fetched through the same fetcher.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pydyf
from weasyprint import HTML, Document
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse, path2url

from . import assets, cjk, deadline, hyphenation, tagging
from .assets import MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, AssetRules
from .errors import HandbookError, Problem, RenderError, ResourceError, Severity

log = logging.getLogger(__name__)


def _unambiguous_stream_ends() -> None:
    """pydyf writes ``stream LF <data> LF endstream``; data that happens to end in a carriage return
    (a compressed stream whose checksum's last byte is 13: one in 256) then reads as ending in a
    CR LF end-of-line, one byte shorter than its /Length, which PDF/A checkers reject. Such a
    stream gets CR LF before ``endstream`` instead: its data ends where /Length says."""
    original = pydyf.Stream.data
    getter = original.fget if isinstance(original, property) else None
    if getter is None:  # pragma: no cover
        return

    def data(self: Any) -> bytes:
        out: bytes = getter(self)
        if out.endswith(b"\r\nendstream"):
            return out[:-len(b"\nendstream")] + b"\r\nendstream"
        return out

    pydyf.Stream.data = property(data)


_FONT_CONFIG: FontConfiguration | None = None
MM = 72 / 25.4  # PDF points per millimetre
PX_PER_MM = 96 / 25.4  # CSS px per millimetre (WeasyPrint's layout unit)


def font_config() -> FontConfiguration:
    """One font configuration per process, reused by every edition."""
    global _FONT_CONFIG
    if _FONT_CONFIG is None:
        # The WeasyPrint adapters, installed with the fonts (not on import):
        cjk.install()  # justified lines of Chinese text: WeasyPrint alone widens spaces only
        tagging.install()  # tagged PDFs: roles, artifacts (running heads, page numbers, leaders), /Lang, /Scope
        _unambiguous_stream_ends()  # PDF/A: a stream's data ends where its /Length says
        hyphenation.install()  # pyphen's dictionaries kept parsed in the user's cache (0.5 s for German)
        deadline.watch_logger("weasyprint.progress")  # each stage and page laid out: a time-limit checkpoint
        _FONT_CONFIG = FontConfiguration()
    return _FONT_CONFIG


def libraries() -> dict[str, str]:
    """What WeasyPrint runs on: its version, Pango's, and whether HarfBuzz subsets fonts ("yes"/"no";
    without it WeasyPrint subsets with fontTools, which is slower)."""
    import weasyprint
    from weasyprint.text.ffi import harfbuzz, harfbuzz_subset, pango

    version = int(pango.pango_version())
    subset = bool(harfbuzz_subset) and bool(harfbuzz.hb_version_atleast(4, 1, 0))
    return {"weasyprint": str(weasyprint.__version__),
            "pango": f"{version // 10000}.{version // 100 % 100}.{version % 100}",
            "harfbuzz_subset": "yes" if subset else "no"}


def file_url(path: Path) -> str:
    return str(path2url(str(path)))


class ProjectFetcher(URLFetcher):  # type: ignore[misc]
    """WeasyPrint's fetcher, asking the asset policy (:func:`handbook.assets.locate`) about every
    URL: files inside the project, ``data:`` URLs, the package's fonts (``handbook:fonts/...``),
    https only when opted in; everything else is refused and recorded.

    Every image it serves is held to the limits of :class:`handbook.assets.AssetRules` (bytes and
    pixels), and no file larger than the image limit (a font file: ``assets.FONT_MAX_BYTES``) is read at all.
    """

    def __init__(self, roots: tuple[Path, ...], allow_remote: bool = False,
                 max_bytes: int = MAX_IMAGE_BYTES, max_pixels: int = MAX_IMAGE_PIXELS,
                 allowed_files: tuple[Path, ...] = (), css_filter: Callable[[str], str] | None = None) -> None:
        super().__init__(timeout=10, allow_redirects=False, allowed_protocols=assets.protocols(allow_remote))
        self.roots = tuple(r.resolve() for r in roots)
        self.rules = AssetRules(self.roots[0] if self.roots else Path("/nonexistent"), allow_remote,
                                max_bytes, max_pixels, tuple(p.resolve() for p in allowed_files))
        self.blocked: list[tuple[str, str]] = []  # (url, why)
        self.fetched: list[Path] = []
        self.css_filter = css_filter  # stylesheets read through it (a part of a long edition: handbook.parts)

    def _refuse(self, url: str, why: str) -> NoReturn:
        shown = url if len(url) <= 120 else url[:100] + "..."
        self.blocked.append((shown, why))
        raise ValueError(f"refused {shown}: {why}")

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        try:
            target = assets.locate(url, self.rules.root, self.rules, fetching=True)
            if target.kind == "data":
                why = (assets.data_url_refused(url, self.rules) if url[5:].lstrip().lower().startswith("image/")
                       else None)
                if why:
                    raise assets.Refused(assets.Reason.CONTENT, why)
                return super().fetch(url, headers)
            if target.kind == "remote":
                return self._remote(url, headers)
            body = assets.read_file(target, self.rules)
        except assets.Refused as exc:
            self._refuse(url, exc.why)
        path = target.path
        assert path is not None
        if target.kind == "package":
            mime = {".otf": "font/otf", ".woff": "font/woff", ".woff2": "font/woff2"}.get(path.suffix.lower(),
                                                                                       "font/ttf")
            return URLFetcherResponse(url, body=body, headers={"Content-Type": mime}, status=200)
        self.fetched.append(path)
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if path.suffix == ".css":
            mime = "text/css"
            if self.css_filter is not None:
                body = self.css_filter(body.decode("utf-8", errors="replace")).encode()
        return URLFetcherResponse(file_url(path), body=body, headers={"Content-Type": mime}, status=200)

    def _remote(self, url: str, headers: Any) -> URLFetcherResponse:
        """An https resource (``--allow-remote``), read whole and held to the same limits."""
        response = super().fetch(url, headers)
        try:
            body = response.read(self.rules.max_image_bytes + 1)
        finally:
            response.close()
        why = assets.remote_body_refused(body, response.content_type, url.rsplit("/", 1)[-1], self.rules)
        if why:
            self._refuse(url, why)
        return URLFetcherResponse(response.url, body=body, headers=response.headers, status=response.status)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def _weasyprint_warnings() -> Iterator[list[logging.LogRecord]]:
    handler = _Collect()
    wp = logging.getLogger("weasyprint")
    wp.addHandler(handler)
    old = wp.propagate
    wp.propagate = False
    try:
        yield handler.records
    finally:
        wp.removeHandler(handler)
        wp.propagate = old


@contextmanager
def _weasyprint_failures(source: str) -> Iterator[None]:
    """WeasyPrint failing on some input (a CSS feature it cannot draw in this mode) is a render
    error for the user, with the cause; ``--debug`` shows the traceback."""
    try:
        yield
    except (HandbookError, RecursionError, MemoryError, KeyboardInterrupt):
        raise
    except Exception as exc:
        log.debug("WeasyPrint failed", exc_info=exc)
        raise RenderError(f"{source}: WeasyPrint could not render this: {type(exc).__name__}: {exc}".rstrip(": ")
                          + " (a stylesheet may use something this PDF variant cannot draw, e.g. a gradient "
                          "in device-cmyk; --debug shows where)") from exc


@dataclass
class Rendered:
    """A laid-out document: pages, what went wrong on the way."""

    document: Document
    warnings: list[Problem] = field(default_factory=list)
    blocked: list[tuple[str, str]] = field(default_factory=list)
    key: str = ""  # a digest of the HTML: the PDF's identifier
    fetched: list[Path] = field(default_factory=list)  # the files WeasyPrint read

    @property
    def pages(self) -> int:
        return len(self.document.pages)


_BASE_HREF = re.compile(r"<base\b[^>]*>", re.I)


def layout(html: str, base_url: str, fetcher: ProjectFetcher, source: str,
           stylesheets: tuple[Path, ...] = (), template_dirs: tuple[Path, ...] | None = None) -> Rendered:
    """HTML -> laid-out pages. WeasyPrint's warnings become problems named after the stylesheet or
    the template (a ``<style>`` block, a ``style`` attribute) they come from, when it can be found,
    else ``source``. ``template_dirs``: the edition's; by default every templates/ folder of the
    project."""
    with _weasyprint_warnings() as records, _weasyprint_failures(source):
        document = HTML(string=html, base_url=base_url, url_fetcher=fetcher).render(
            font_config=font_config())
    warnings = []
    dropped = [record.getMessage().splitlines()[0] for record in records
               if record.getMessage().startswith(("Failed to load image", "Unknown image mode"))
               and "refused " not in record.getMessage()]
    if dropped:  # a figure WeasyPrint would leave out: never a PDF without it
        raise ResourceError(f"{source}: an image could not be drawn", [
            Problem(source, None, f"image not drawn: {_AT.sub('', message)}") for message in dropped])
    for record in records:
        message = record.getMessage().splitlines()[0]
        if "refused " in message:
            continue
        problem = Problem(source, None, f"WeasyPrint: {message}", Severity.WARNING)
        if fetcher.roots:
            root = fetcher.roots[0]
            if stylesheets:
                problem = locate_css_warning(problem, stylesheets, root)
            if problem.path == source:
                dirs = template_dirs if template_dirs is not None else (
                    root / "templates", *sorted(root.glob("departments/*/templates")))
                problem = locate_template_warning(problem, dirs, root)
        warnings.append(problem)
    # The PDF's identifier: the HTML without its <base href>, which only says where the output
    # folder is (two builds into folders at different depths give the same bytes).
    key = hashlib.sha256(_BASE_HREF.sub("", html).encode()).hexdigest()[:32]
    # The fetcher's own lists: SVG images fetch what they refer to only when the PDF is drawn.
    return Rendered(document, warnings, fetcher.blocked, key, fetcher.fetched)


def box_heights(rendered: Rendered, id_prefix: str) -> dict[str, tuple[float, float]]:
    """For every element whose id starts with ``id_prefix``: (content height, available height) in mm.

    The available height is the element's own (fixed) height, down to the top of its highest
    absolutely positioned child (a footer placed at the bottom); the content height is the bottom
    of its last child in the flow, relative to its content box top.
    """
    found: dict[str, tuple[float, float]] = {}

    def walk(box: Any) -> None:
        element_id = box.element.get("id") if getattr(box, "element", None) is not None else None
        if (element_id and element_id.startswith(id_prefix) and element_id not in found
                and getattr(box, "element_tag", None) is not None and hasattr(box, "children")):
            top = box.content_box_y()
            bottom, floor = top, top + box.height
            for child in box.children:
                if getattr(child, "style", None) is not None and child.style["position"] in ("absolute", "fixed"):
                    floor = min(floor, child.position_y)
                else:
                    bottom = max(bottom, child.position_y + child.margin_height())
            found[element_id] = ((bottom - top) / PX_PER_MM, (floor - top) / PX_PER_MM)
        for child in getattr(box, "children", ()):
            walk(child)

    for page in rendered.document.pages:
        walk(page._page_box)
    return found


@dataclass(frozen=True)
class Overflow:
    """A box of the content that reaches past the area it must stay in (the page's text block,
    or a card), after layout."""

    source: str  # "content/03-x.md" (the data-source of the chapter or card)
    line: int | None  # the line of the block it belongs to (data-line), else of its card (data-source-line)
    tag: str  # the element: "table", "img", "pre", "p"...
    excess: float  # mm past the edge
    width: float  # mm, the box's width
    available: float  # mm, the width of the area
    page: int  # 1-based


OVERFLOW_TOLERANCE = 0.3  # px (a rounding of layout, not an overflow)


def overflows(rendered: Rendered) -> list[Overflow]:
    """Every block of the user's content (an element under ``data-source``) whose box extends past
    the left or right edge of the page's content area, or of the card it is on (``data-card``).
    One finding per source line: the outermost box that overflows."""
    found: dict[tuple[str, int | None], Overflow] = {}

    def walk(box: Any, source: str | None, line: int | None, tag: str, bounds: tuple[float, float],
             page: int) -> None:
        element = getattr(box, "element", None)
        if element is not None and getattr(box, "element_tag", None) is not None:
            source = element.get("data-source") or source
            if element.get("data-line", "").isdigit():
                line = int(element.get("data-line"))
                tag = box.element_tag
            elif element.get("data-source-line", "").isdigit():  # a card's line in cards.yaml
                line, tag = int(element.get("data-source-line")), ""
            if element.get("data-card") is not None and hasattr(box, "border_box_x"):
                bounds = (box.border_box_x(), box.border_box_x() + box.border_width())
        if source is not None and hasattr(box, "border_box_x") and box.width is not None:
            left = box.border_box_x()
            right = left + box.border_width()
            excess = max(right - bounds[1], bounds[0] - left)
            key = (source, line)
            if excess > OVERFLOW_TOLERANCE and key not in found:
                found[key] = Overflow(source, line, tag or getattr(box, "element_tag", "") or "",
                                      excess / PX_PER_MM, box.border_width() / PX_PER_MM,
                                      (bounds[1] - bounds[0]) / PX_PER_MM, page)
        for child in getattr(box, "children", ()):
            walk(child, source, line, tag, bounds, page)

    for number, page in enumerate(rendered.document.pages, start=1):
        page_box = page._page_box
        x0 = page_box.content_box_x()
        for child in page_box.children:
            walk(child, None, None, "", (x0, x0 + page_box.width), number)
    return list(found.values())


Finisher = Callable[[Any, Any], None]


def viewer_preferences(duplex: str | None = None, actual_size: bool = True) -> Finisher:
    """A finisher asking viewers to print at actual size and (optionally) duplex."""

    def finish(document: Any, pdf: Any) -> None:
        prefs = pydyf.Dictionary({"DisplayDocTitle": "true"})
        if actual_size:
            prefs["PrintScaling"] = "/None"
        if duplex == "long-edge":
            prefs["Duplex"] = "/DuplexFlipLongEdge"
        elif duplex == "short-edge":
            prefs["Duplex"] = "/DuplexFlipShortEdge"
        pdf.catalog["ViewerPreferences"] = prefs

    return finish


def page_boxes(trim: tuple[float, float, float, float], bleed: float) -> Finisher:
    """A finisher setting TrimBox and BleedBox (mm from the page's top-left corner) on every page.

    ``trim`` is (left, top, width, height) in mm; the bleed box is the trim box grown by ``bleed``.
    """

    def finish(document: Any, pdf: Any) -> None:
        for number in pdf.pages["Kids"][::3]:
            page = pdf.objects[number]
            _, _, _w, h = page["MediaBox"]
            left, top, width, height = (v * MM for v in trim)
            b = bleed * MM
            page["TrimBox"] = pydyf.Array([left, h - top - height, left + width, h - top])
            page["BleedBox"] = pydyf.Array([left - b, h - top - height - b, left + width + b, h - top + b])

    return finish


def bleed_box(bleed: float) -> Finisher:
    """A finisher setting each page's BleedBox to its TrimBox grown by ``bleed`` mm.

    WeasyPrint sets the TrimBox from the CSS page box, but caps the BleedBox at 10 pt; with room for
    crop marks the CSS bleed is larger than the real bleed, so the box is set here.
    """

    def finish(document: Any, pdf: Any) -> None:
        b = bleed * MM
        for number in pdf.pages["Kids"][::3]:
            page = pdf.objects[number]
            x0, y0, x1, y1 = (float(v) for v in page["TrimBox"])
            page["BleedBox"] = pydyf.Array([x0 - b, y0 - b, x1 + b, y1 + b])

    return finish


def page_labels(front_pages: int) -> Finisher:
    """A finisher giving viewers the printed page labels: i, ii, iii for the front matter, then 1, 2..."""

    def finish(document: Any, pdf: Any) -> None:
        if front_pages <= 0:
            return
        nums = pydyf.Array([0, pydyf.Dictionary({"S": "/r"}), front_pages, pydyf.Dictionary({"S": "/D"})])
        pdf.catalog["PageLabels"] = pydyf.Dictionary({"Nums": nums})

    return finish


def write_pdf(rendered: Rendered, finishers: tuple[Finisher, ...] = (), **options: Any) -> bytes:
    """Lay-out -> PDF bytes: fonts subset, streams compressed, the same input gives the same bytes."""

    variant = options.get("pdf_variant")

    def finish(document: Any, pdf: Any) -> None:
        tagging.finish(document, pdf)
        for f in finishers:
            f(document, pdf)
        if variant:
            archival_metadata(pdf, variant)

    identifier = hashlib.sha256((rendered.key + repr(sorted(options.items()))).encode()).hexdigest()[:32]
    blocked_before = len(rendered.blocked)
    with _weasyprint_warnings() as records, _weasyprint_failures("PDF"):
        data = rendered.document.write_pdf(finisher=finish, pdf_identifier=identifier.encode(),
                                           optimize_images=True, **options)
    late = rendered.blocked[blocked_before:]
    if late:  # fetched while drawing: what an SVG image refers to
        raise ResourceError("resources outside the project are not used", [
            Problem("an SVG image", None, f"resource refused: {url} ({why})") for url, why in late])
    for record in records:
        message = record.getMessage()
        if "refused " in message:
            continue
        rendered.warnings.append(Problem("PDF", None, f"WeasyPrint: {message}", Severity.WARNING))
    return bytes(data)


PDFUA_IN_PDFA = b"""<rdf:Description rdf:about="" xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/" \
pdfuaid:part="1"/>
<rdf:Description rdf:about="" xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/" \
xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#" xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">
<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">
<pdfaSchema:schema>PDF/UA Universal Accessibility Schema</pdfaSchema:schema>
<pdfaSchema:namespaceURI>http://www.aiim.org/pdfua/ns/id/</pdfaSchema:namespaceURI>
<pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>
<pdfaSchema:property><rdf:Seq><rdf:li rdf:parseType="Resource">
<pdfaProperty:name>part</pdfaProperty:name>
<pdfaProperty:valueType>Integer</pdfaProperty:valueType>
<pdfaProperty:category>internal</pdfaProperty:category>
<pdfaProperty:description>Indicates, which part of ISO 14289 standard is followed</pdfaProperty:description>
</rdf:li></rdf:Seq></pdfaSchema:property>
</rdf:li></rdf:Bag></pdfaExtension:schemas>
</rdf:Description>
"""


def archival_metadata(pdf: Any, variant: str) -> None:
    """The XMP metadata stream as PDF/A asks: never compressed (WeasyPrint compresses it for
    PDF/A-2 and 3). A tagged PDF/A (``pdf/a-3a``) also claims PDF/UA-1, with the extension schema
    PDF/A requires for the ``pdfuaid`` namespace."""
    reference = pdf.catalog.get("Metadata")
    if reference is None or not variant.startswith("pdf/a"):
        return
    stream = pdf.objects[_number(reference)]
    stream.compress = False
    if variant.endswith("a") and stream.stream and b"pdfuaid" not in stream.stream[0]:
        stream.stream[0] = stream.stream[0].replace(b"</rdf:RDF>", PDFUA_IN_PDFA + b"</rdf:RDF>", 1)


_AT = re.compile(r" at (\d+):(\d+)")


def stylesheet_warnings(path: Path, root: Path) -> list[Problem]:
    """Parse one stylesheet as WeasyPrint does; its warnings as problems with file and line."""
    from weasyprint import CSS

    from .errors import display_path

    shown = display_path(path, root)
    fetcher = ProjectFetcher((root,))
    with _weasyprint_warnings() as records:
        CSS(url=file_url(path.resolve()), url_fetcher=fetcher, font_config=font_config())
    problems = []
    for record in records:
        message = record.getMessage().splitlines()[0]
        m = _AT.search(message)
        line = int(m[1]) if m else None
        problems.append(Problem(shown, line, f"WeasyPrint: {_AT.sub('', message)}", Severity.WARNING))
    return problems


def locate_template_warning(problem: Problem, template_dirs: tuple[Path, ...], root: Path) -> Problem:
    """A layout warning about CSS written in a template ("Ignored `colr: red` at 3:3", the line
    counted in its ``<style>`` block) -> the template and the line that holds the declaration."""
    from .errors import display_path

    quoted = re.search(r"`([^`]+)`", problem.message)
    if not quoted or ":" not in quoted[1]:
        return problem
    name, _, value = quoted[1].partition(":")
    declaration = re.compile(rf"{re.escape(name.strip())}\s*:\s*{re.escape(value.strip())}")
    for folder in template_dirs:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*.j2")):
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            m = declaration.search(text)
            if m:
                return Problem(display_path(path, root), text.count("\n", 0, m.start()) + 1,
                               _AT.sub("", problem.message), problem.severity)
    return problem


def locate_css_warning(problem: Problem, stylesheets: tuple[Path, ...], root: Path) -> Problem:
    """A layout warning such as "Ignored `x: y` at 4:3" -> the stylesheet and line it comes from."""
    from .errors import display_path

    m = _AT.search(problem.message)
    quoted = re.search(r"`([^`]+)`", problem.message)
    if not m or not quoted:
        return problem
    line = int(m[1])
    needle = quoted[1].split(":")[0].strip()
    for path in reversed(stylesheets):
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError:
            continue
        if 0 < line <= len(lines) and needle in lines[line - 1]:
            return Problem(display_path(path, root), line, _AT.sub("", problem.message), problem.severity)
    return problem


def _number(reference: Any) -> int:
    """The object number of a pydyf reference (``b"12 0 R"``)."""
    text = reference.decode() if isinstance(reference, bytes) else str(reference)
    return int(text.split()[0])
