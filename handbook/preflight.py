"""`handbook preflight PDF`: what a print shop checks before it prints.

Boxes in mm, fonts not embedded, images under 300 dpi at their printed size (poppler's
``pdfimages -list``), RGB content in a PDF/X file, figures without alt text in a tagged PDF.
"""

from __future__ import annotations

import html
import io
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from .errors import HandbookError

MM = 72 / 25.4


class Verdict(StrEnum):
    """How bad a preflight finding is: a failure stops the file going to the printer."""

    FAIL = "fail"
    WARN = "warn"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    severity: Verdict
    message: str
    page: int | None = None

    def __str__(self) -> str:
        where = f"page {self.page}: " if self.page else ""
        return f"{self.severity.upper():4}  {where}{self.message}"


@dataclass
class PreflightReport:
    path: Path
    findings: list[Finding] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(f.severity is Verdict.FAIL for f in self.findings)


def _box_mm(box: Any) -> str:
    x0, y0, x1, y1 = (float(v) for v in box)
    return f"{(x1 - x0) / MM:.1f} x {(y1 - y0) / MM:.1f} mm at ({x0 / MM:.1f}, {y0 / MM:.1f})"


def _fonts(resources: Any, seen: set[int], found: dict[str, bool]) -> None:
    """Every font reachable from a resource dictionary: name -> embedded?"""
    if not resources:
        return
    resources = resources.get_object()
    for font in (resources.get("/Font") or {}).values():
        ref = getattr(font, "idnum", None)
        if ref is not None:
            if ref in seen:
                continue
            seen.add(ref)
        font = font.get_object()
        subtype = font.get("/Subtype")
        name = str(font.get("/BaseFont", "(unnamed)")).lstrip("/")
        if subtype == "/Type3":
            found[name] = True
            _fonts(font.get("/Resources"), seen, found)
            continue
        descriptor = None
        if subtype == "/Type0":
            descendants = font.get("/DescendantFonts")
            if descendants:
                descriptor = descendants[0].get_object().get("/FontDescriptor")
        else:
            descriptor = font.get("/FontDescriptor")
        descriptor = descriptor.get_object() if descriptor is not None else {}
        found[name] = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    for xobject in (resources.get("/XObject") or {}).values():
        ref = getattr(xobject, "idnum", None)
        if ref is not None and ref in seen:
            continue
        if ref is not None:
            seen.add(ref)
        xobject = xobject.get_object()
        if xobject.get("/Subtype") == "/Form":
            _fonts(xobject.get("/Resources"), seen, found)


def _images(path: Path) -> list[dict[str, str]]:
    """``pdfimages -list``: page, type, color, x-ppi, y-ppi of every image placement."""
    done = subprocess.run(["pdfimages", "-list", str(path)], check=False, capture_output=True, text=True)
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1][:200]
        raise HandbookError(f"{path}: not a readable PDF (poppler: {why})")
    out = done.stdout
    rows = []
    for line in out.splitlines()[2:]:
        parts = line.split()
        if len(parts) >= 14:
            rows.append({"page": parts[0], "type": parts[2], "color": parts[5], "x-ppi": parts[12],
                         "y-ppi": parts[13], "size": f"{parts[3]} x {parts[4]}"})
    return rows


_RGB_OPERATOR = re.compile(rb"(?:^|\s)(?:[-\d.]+\s+){3}(rg|RG)(?=\s|$)")


def _is_pdfx(reader: Any) -> bool:
    info = reader.metadata or {}
    if "/GTS_PDFXVersion" in info:
        return True
    try:
        xmp = reader.trailer["/Root"].get("/Metadata")
        return bool(xmp) and b"GTS_PDFXVersion" in xmp.get_object().get_data()
    except Exception:
        return False


def _figures_without_alt(node: Any, missing: list[str], depth: int = 0) -> None:
    if depth > 200:
        return
    node = node.get_object()
    if not hasattr(node, "get"):
        return
    if node.get("/S") == "/Figure" and not str(node.get("/Alt", "")).strip():
        missing.append("Figure")
    kids = node.get("/K")
    if kids is None:
        return
    kids = kids if isinstance(kids, list) else [kids]
    for kid in kids:
        if hasattr(kid, "get_object"):
            _figures_without_alt(kid, missing, depth + 1)


MAGIC = {b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"GIF8": "a GIF image",
         b"PK\x03\x04": "a ZIP file (a .docx?)", b"<svg": "an SVG image", b"<?xml": "an XML file",
         b"<!DOCTYPE": "an HTML file", b"<html": "an HTML file"}


def open_pdf(path: Path) -> Any:
    """A pypdf reader over ``path`` with every page parsed, or a HandbookError saying why not."""
    from pypdf import PdfReader

    shown = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise HandbookError(f"{shown}: cannot be read ({exc.strerror or exc})") from None
    if not data:
        raise HandbookError(f"{shown}: not a readable PDF (the file is empty)")
    if data.lstrip()[:5] != b"%PDF-":
        kind = next((what for magic, what in MAGIC.items() if data.lstrip()[:len(magic)] == magic), None)
        raise HandbookError(f"{shown}: not a readable PDF (" + (f"it is {kind}" if kind else
                            "it does not start with %PDF-") + ")")
    if b"startxref" not in data[-2048:]:
        raise HandbookError(f"{shown}: not a readable PDF (no startxref at the end: the file is truncated "
                            "or damaged)")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise HandbookError(f"{shown}: encrypted; preflight needs the password-free file")
        for page in reader.pages:
            page.get_contents()
            _ = page.mediabox
    except HandbookError:
        raise
    except Exception as exc:  # pypdf raises many kinds on a damaged file; each is "not readable"
        why = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise HandbookError(f"{shown}: not a readable PDF ({why})") from None
    return reader


def _word_boxes(reader: Any) -> list[list[tuple[float, float, float, float, str]]]:
    """Every word's box per page, in PDF points (origin bottom left), even words outside the
    MediaBox: poppler reads a copy whose MediaBox is widened on every side."""
    from pypdf import PdfWriter
    from pypdf.generic import RectangleObject

    if not shutil.which("pdftotext"):
        return []
    widen = 2000.0
    writer = PdfWriter(clone_from=reader)
    origins = []
    for page in writer.pages:
        box = page.mediabox
        left, bottom, right, top = (float(box.left) - widen, float(box.bottom) - widen,
                                    float(box.right) + widen, float(box.top) + widen)
        page.mediabox = RectangleObject((left, bottom, right, top))
        for name in ("/CropBox",):
            if name in page:
                del page[name]
        origins.append((left, top))
    with tempfile.TemporaryDirectory() as tmp:
        wide = Path(tmp) / "wide.pdf"
        writer.write(wide)
        out = subprocess.run(["pdftotext", "-bbox", str(wide), "-"], capture_output=True, text=True,
                             check=False).stdout
    pages: list[list[tuple[float, float, float, float, str]]] = []
    for chunk in out.split("<page ")[1:]:
        left, top = origins[len(pages)] if len(pages) < len(origins) else (0.0, 0.0)
        words = []
        for m in _WORD.finditer(chunk):
            x0, y0, x1, y1 = (float(m[i]) for i in range(1, 5))
            words.append((left + x0, top - y1, left + x1, top - y0, html.unescape(m[5])))
        pages.append(words)
    return pages


_WORD = re.compile(r'<word xMin="([-\d.]+)" yMin="([-\d.]+)" xMax="([-\d.]+)" yMax="([-\d.]+)">([^<]*)</word>')
TOLERANCE = 0.5  # points a glyph's box may pass the edge (rounding)


def _outside(words: list[tuple[float, float, float, float, str]], box: Any) -> tuple[str, float] | None:
    """The first word (and by how many mm) that lies outside ``box``, or None."""
    left, bottom, right, top = float(box.left), float(box.bottom), float(box.right), float(box.top)
    for x0, y0, x1, y1, text in words:
        over = max(left - x0, bottom - y0, x1 - right, y1 - top)
        if over > TOLERANCE:
            return text, over / MM
    return None


def preflight(path: Path, min_dpi: float = 300) -> PreflightReport:
    """Read ``path`` and report what a print shop would check."""
    report = PreflightReport(path)
    add = report.findings.append
    reader = open_pdf(path)
    pages = reader.pages
    add(Finding(Verdict.INFO, f"{len(pages)} pages"))
    seen_boxes: set[tuple[str, str, str]] = set()
    fonts: dict[str, bool] = {}
    seen: set[int] = set()
    for number, page in enumerate(pages, start=1):
        media = _box_mm(page.mediabox)
        trim = _box_mm(page.trimbox) if "/TrimBox" in page else None
        bleed = _box_mm(page.bleedbox) if "/BleedBox" in page else None
        key = (media, trim or "", bleed or "")
        if key not in seen_boxes:
            seen_boxes.add(key)
            add(Finding(Verdict.INFO, f"MediaBox {media}; TrimBox {trim or 'not set'}; BleedBox {bleed or 'not set'}",
                        number))
        _fonts(page.get("/Resources"), seen, fonts)
    for number, (page, words) in enumerate(zip(pages, _word_boxes(reader), strict=False), start=1):
        for name, box in (("MediaBox", page.mediabox), ("TrimBox", page.trimbox if "/TrimBox" in page else None)):
            found = _outside(words, box) if box is not None else None
            if found:
                text, mm = found
                add(Finding(Verdict.FAIL, f"text {text[:40]!r} lies {mm:.1f} mm outside the {name}: it will be cut",
                            number))
                break
    if not any("/TrimBox" in p for p in pages):
        add(Finding(Verdict.WARN, "no TrimBox: the printer cannot tell the finished size (build with --print)"))
    for name, embedded in sorted(fonts.items()):
        if not embedded:
            add(Finding(Verdict.FAIL, f"font {name} is not embedded"))
    add(Finding(Verdict.INFO, f"{len(fonts)} fonts, {sum(fonts.values())} embedded"))
    pdfx = _is_pdfx(reader)
    if shutil.which("pdfimages"):
        for img in _images(path):
            if img["type"] != "image":
                continue
            try:
                dpi = min(float(img["x-ppi"]), float(img["y-ppi"]))
            except ValueError:
                continue
            if dpi < min_dpi:
                add(Finding(Verdict.FAIL, f"image ({img['size']} px) is {dpi:.0f} dpi at its printed size; "
                                    f"{min_dpi:.0f} dpi is needed", int(img["page"])))
            if pdfx and img["color"] == "rgb":
                add(Finding(Verdict.FAIL, "RGB image in a PDF/X file", int(img["page"])))
    else:
        add(Finding(Verdict.WARN, "pdfimages (poppler-utils) is not installed: image resolution not checked"))
    if pdfx:
        for number, page in enumerate(pages, start=1):
            data = page.get_contents()
            if data is not None and _RGB_OPERATOR.search(data.get_data()):
                add(Finding(Verdict.FAIL, "RGB colour in a PDF/X file (use device-cmyk colours)", number))
                break
    root: Any = reader.trailer["/Root"]
    if "/StructTreeRoot" in root:
        missing: list[str] = []
        _figures_without_alt(root["/StructTreeRoot"], missing)
        for _ in missing:
            add(Finding(Verdict.FAIL, "a figure has no alt text"))
        if not missing:
            add(Finding(Verdict.INFO, "tagged PDF: every figure has alt text"))
    else:
        add(Finding(Verdict.INFO, "untagged PDF: alt text not checked (build with --pdf-variant pdf/ua-1)"))
    return report
