"""Print-ready outputs: the print-shop handbook, office booklets, PDF variants and preflight.

Everything is read back from the files: boxes in mm, pixels in the bleed and the slug, the page
on each half of each booklet side, XMP identification, structure trees, preflight's verdict.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import MINIMAL_SETTINGS, MM, build_ok, chapter, make_project
from pypdf import PdfReader

from handbook.cli import main
from handbook.imposition import booklet_order

PARAGRAPH = ("Integrity is built from small choices made the same way whether or not anyone is "
             "watching, and a leading cadre keeps the rules he asks of others. ") * 6


def box_mm(box: Any) -> tuple[float, float, float, float]:
    return tuple(round(float(v) / MM, 2) for v in box)  # type: ignore[return-value]


def size_mm(box: Any) -> tuple[float, float]:
    x0, y0, x1, y1 = box_mm(box)
    return round(x1 - x0, 1), round(y1 - y0, 1)


# -- fixtures ---------------------------------------------------------------------------------


def long_chapters(n: int) -> dict[str, str]:
    """Chapters long enough to run over several pages (left and right pages with body text)."""
    body = "\n\n".join(f"Paragraph {i}. {PARAGRAPH}" for i in range(8))
    return {f"0{i + 4}-point-{i}.md": chapter(f"Point {i}", body, summary=f"Summary {i}.", reminder=f"Reminder {i}.")
            for i in range(1, n + 1)}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_project(tmp_path_factory.mktemp("shop") / "p", {"content": long_chapters(2)})
    build_ok(root, root / "dist", only=("handbook",), print_shop=True, booklet=True)
    return root / "dist"


def gray_pixels(pdf: Path, page: int, dpi: int = 72) -> tuple[int, int, bytes]:
    """Page ``page`` rendered to 8-bit gray (PGM): width, height, pixels."""
    out = subprocess.run(["pdftoppm", "-gray", "-r", str(dpi), "-f", str(page), "-l", str(page), str(pdf)],
                         check=True, capture_output=True).stdout
    header, _, rest = out.partition(b"\n")
    assert header == b"P5"
    dims, _, rest = rest.partition(b"\n")
    _, _, pixels = rest.partition(b"\n")  # maxval line
    w, h = (int(v) for v in dims.split())
    return w, h, pixels


def pixel(img: tuple[int, int, bytes], x_mm: float, y_mm: float, dpi: int = 72) -> int:
    w, _h, data = img
    return data[int(y_mm / 25.4 * dpi) * w + int(x_mm / 25.4 * dpi)]


# -- the print-shop handbook ------------------------------------------------------------------


def test_print_shop_boxes_in_mm(shop: Path) -> None:
    reader = PdfReader(shop / "handbook-print-shop.pdf")
    plain = PdfReader(shop / "handbook.pdf")
    assert len(reader.pages) == len(plain.pages)
    for page in reader.pages:
        trim = box_mm(page.trimbox)
        bleed = box_mm(page.bleedbox)
        media = box_mm(page.mediabox)
        assert size_mm(page.trimbox) == (148.0, 210.0)
        # Bleed box: the trim grown by exactly 3 mm on every side.
        assert [round(b - t, 2) for b, t in zip(bleed, trim, strict=True)] == [-3.0, -3.0, 3.0, 3.0]
        # Media: room outside the bleed for the crop marks.
        assert media[0] < bleed[0] and media[1] < bleed[1] and media[2] > bleed[2] and media[3] > bleed[3]
    # The office PDF has no bleed: all boxes are the page.
    assert size_mm(plain.pages[0].mediabox) == (148.0, 210.0)


def test_cover_colour_runs_into_the_bleed_and_the_slug_stays_white(shop: Path) -> None:
    pdf = shop / "handbook-print-shop.pdf"
    page = PdfReader(pdf).pages[0]
    left, bottom, _, top = box_mm(page.mediabox)
    trim_left = box_mm(page.trimbox)[0]
    off = trim_left - left  # media edge -> trim edge, mm
    img = gray_pixels(pdf, 1)
    mid_y = (top - bottom) / 2
    inside = pixel(img, off + 10, mid_y)
    in_bleed = pixel(img, off - 1.5, mid_y)  # 1.5 mm outside the trim: still the cover colour
    in_slug = pixel(img, off - 5, mid_y)  # outside the bleed, beside the page: white
    assert inside < 120 and in_bleed < 120, (inside, in_bleed)
    assert in_slug > 240, in_slug
    # A crop mark: on the trim line's extension, outside the bleed, near the top-left corner.
    column = [pixel(img, off - 0.0, y) for y in (1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0)]
    assert min(column) < 160, column


def test_print_shop_fonts_all_embedded(shop: Path) -> None:
    out = subprocess.run(["pdffonts", str(shop / "handbook-print-shop.pdf")], check=True, capture_output=True,
                         text=True).stdout.splitlines()[2:]
    assert out and all(line.split()[-5] == "yes" for line in out)


def text_left_mm(pdf: Path, page: int) -> float:
    """The left edge of the body text on a page (pdftotext -bbox), in mm from the page's left."""
    xml = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"], check=True,
                         capture_output=True, text=True).stdout
    xs = [float(m[1]) for m in re.finditer(r'<word xMin="([\d.]+)" yMin="([\d.]+)"', xml)
          if 150 < float(m[2]) < 450]  # body, not header or footer
    return min(xs) / MM


def test_inner_and_outer_margins_are_mirrored(shop: Path) -> None:
    pdf = shop / "handbook.pdf"
    texts = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    pages = texts.split("\f")
    # A right-hand (odd) and a left-hand (even) page, both full of body text.
    right = next(i + 1 for i, t in enumerate(pages) if "Paragraph" in t and (i + 1) % 2 == 1)
    left = next(i + 1 for i, t in enumerate(pages) if "Paragraph" in t and (i + 1) % 2 == 0)
    inner_right = text_left_mm(pdf, right)  # inner margin is on the left of a right-hand page
    outer_left = text_left_mm(pdf, left)  # outer margin is on the left of a left-hand page
    assert inner_right == pytest.approx(20, abs=0.6)
    assert outer_left == pytest.approx(16, abs=0.6)


# -- the booklet --------------------------------------------------------------------------------


def test_booklet_order_arithmetic() -> None:
    n, sides = booklet_order(8)
    assert n == 8 and sides == [(8, 1), (2, 7), (6, 3), (4, 5)]
    # 6 pages: padded to 8, the two blanks before the back cover (page 6).
    n, sides = booklet_order(6)
    assert n == 8 and sides == [(6, 1), (2, None), (None, 3), (4, 5)]
    for pages in range(1, 41):
        n, sides = booklet_order(pages)
        assert n % 4 == 0 and n - pages < 4 and len(sides) == n // 2
        seen = [p for side in sides for p in side if p is not None]
        assert sorted(seen) == list(range(1, pages + 1))
        assert sides[0][0] == pages  # the back cover is on the outside of the first sheet


def halves(pdf: Path, page: int, width_pt: float, height_pt: float) -> tuple[str, str]:
    def crop(x: float) -> str:
        return subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-x", str(int(x)), "-y", "0",
                               "-W", str(int(width_pt / 2)), "-H", str(int(height_pt)), "-r", "72", str(pdf), "-"],
                              check=True, capture_output=True, text=True).stdout.strip()

    return crop(0), crop(width_pt / 2)


def test_booklet_pages_in_saddle_stitch_order(shop: Path) -> None:
    handbook = shop / "handbook.pdf"
    booklet = shop / "booklet.pdf"
    source = subprocess.run(["pdftotext", str(handbook), "-"], check=True, capture_output=True,
                            text=True).stdout.split("\f")[:-1]
    pages = len(source)
    reader = PdfReader(booklet)
    n, sides = booklet_order(pages)
    assert len(reader.pages) == n // 2  # sheets x 2 sides
    w, h = (float(v) for v in reader.pages[0].mediabox[2:])
    assert size_mm(reader.pages[0].mediabox) == (297.0, 210.0)  # A4 landscape

    def which(text: str) -> int | None:
        if not text.strip():
            return None
        words = text.split()
        matches = [i + 1 for i, t in enumerate(source) if t.split() == words]
        assert len(matches) == 1, (text[:80], matches)
        return matches[0]

    for index, (left, right) in enumerate(sides, start=1):
        got = tuple(which(t) for t in halves(booklet, index, w, h))
        # A blank source page and a padding blank both read as empty.
        expected = tuple(None if p is None or not source[p - 1].strip() else p for p in (left, right))
        assert got == expected, f"sheet side {index}"


def test_booklet_viewer_preferences(shop: Path) -> None:
    prefs = PdfReader(shop / "booklet.pdf").trailer["/Root"]["/ViewerPreferences"]
    assert prefs["/Duplex"] == "/DuplexFlipShortEdge" and prefs["/PrintScaling"] == "/None"


def test_half_letter_booklet_on_letter(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", settings=MINIMAL_SETTINGS + "page_size: half-letter\n")
    build_ok(root, root / "dist", only=("handbook",), booklet=True)
    assert size_mm(PdfReader(root / "dist" / "handbook.pdf").pages[0].mediabox) == (139.7, 215.9)
    assert size_mm(PdfReader(root / "dist" / "booklet.pdf").pages[0].mediabox) == (279.4, 215.9)


def test_booklet_refuses_a4_pages(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    (root / "handbook.yaml").write_text((root / "handbook.yaml").read_text() + "page_size: a4\n")
    result = CliRunner().invoke(main, ["--project", str(root), "build", "--booklet", "--only", "handbook"])
    assert result.exit_code == 1
    assert "a booklet needs a5 or half-letter pages" in result.output


# -- PDF variants -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("variants")
    png = _png(600, 400)
    root = make_project(base / "p", {"content": {
        "03-with-figure.md": chapter("With a figure", "![A clean desk](desk.png)\n\nText after."),
        "desk.png": png}})
    out = {}
    for variant in ("pdf/a-3b", "pdf/ua-1", "pdf/x-4"):
        dest = base / variant.replace("/", "-")
        build_ok(root, dest, only=("handbook",), pdf_variant=variant)
        out[variant] = dest / "handbook.pdf"
    return out


def _png(w: int, h: int) -> bytes:
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (w, h), (120, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def xmp(pdf: Path) -> str:
    return PdfReader(pdf).trailer["/Root"]["/Metadata"].get_object().get_data().decode()


def test_pdf_a3b_identification_and_output_intent(variants: dict[str, Path]) -> None:
    meta = xmp(variants["pdf/a-3b"])
    assert re.search(r'pdfaid:part(?:="|>)3', meta) and re.search(r'pdfaid:conformance(?:="|>)B', meta)
    intents = PdfReader(variants["pdf/a-3b"]).trailer["/Root"]["/OutputIntents"]
    assert intents[0]["/S"] == "/GTS_PDFA1"


def test_pdf_ua1_is_tagged_with_title_language_and_alt_text(variants: dict[str, Path]) -> None:
    reader = PdfReader(variants["pdf/ua-1"])
    root = reader.trailer["/Root"]
    assert re.search(r'pdfuaid:part(?:="|>)1', xmp(variants["pdf/ua-1"]))
    assert root["/MarkInfo"]["/Marked"] is True or str(root["/MarkInfo"]["/Marked"]) == "True"
    assert "/StructTreeRoot" in root
    assert root["/Lang"] == "en" and root["/ViewerPreferences"]["/DisplayDocTitle"]
    assert reader.metadata.title == "Scratch Handbook"
    assert [o.title for o in reader.outline][-1] == "With a figure"
    figures: list[str] = []

    def walk(node: Any) -> None:
        node = node.get_object()
        if not hasattr(node, "get"):
            return
        if node.get("/S") == "/Figure":
            figures.append(str(node.get("/Alt", "")))
        kids = node.get("/K")
        for kid in (kids if isinstance(kids, list) else [kids]) if kids is not None else []:
            if hasattr(kid, "get_object"):
                walk(kid)

    walk(root["/StructTreeRoot"])
    assert figures == ["A clean desk"]


def test_pdf_x4_has_a_cmyk_output_intent_and_no_rgb(variants: dict[str, Path]) -> None:
    pdf = variants["pdf/x-4"]
    reader = PdfReader(pdf)
    intent = reader.trailer["/Root"]["/OutputIntents"][0]
    assert intent["/S"] == "/GTS_PDFX" and "/DestOutputProfile" in intent
    assert "PDF/X-4" in xmp(pdf)
    content = b"".join(p.get_contents().get_data() for p in reader.pages)
    assert b"/DeviceCMYK cs" in content
    assert not re.search(rb"(?:^|\s)(?:[-\d.]+\s+){3}rg(?=\s)", content)
    result = CliRunner().invoke(main, ["preflight", str(pdf), "--min-dpi", "10"])
    # The RGB PNG in the chapter is reported; the vector colours are all CMYK.
    assert "RGB image in a PDF/X file" in result.output
    assert "RGB colour in a PDF/X file" not in result.output


def test_variant_from_settings(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    (root / "handbook.yaml").write_text((root / "handbook.yaml").read_text() + "pdf_variant: pdf/ua-1\n")
    build_ok(root, root / "dist", only=("handbook",))
    assert "/StructTreeRoot" in PdfReader(root / "dist" / "handbook.pdf").trailer["/Root"]


# -- preflight ----------------------------------------------------------------------------------


def test_preflight_passes_the_print_shop_pdf_and_reports_boxes(shop: Path) -> None:
    result = CliRunner().invoke(main, ["preflight", str(shop / "handbook-print-shop.pdf")])
    assert result.exit_code == 0, result.output
    assert "TrimBox 148.0 x 210.0 mm" in result.output and "BleedBox 154.0 x 216.0 mm" in result.output


def test_preflight_catches_a_low_resolution_image(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", {"content": {
        "03-photo.md": chapter("Photo", '<img src="small.png" alt="A small photo" width="400">'),
        "small.png": _png(100, 80)}})
    build_ok(root, root / "dist", only=("handbook",))
    result = CliRunner().invoke(main, ["preflight", str(root / "dist" / "handbook.pdf")])
    assert result.exit_code == 1
    assert re.search(r"FAIL\s+page \d+: image \(100 x 80 px\) is \d+ dpi at its printed size", result.output)


def unembedded_pdf(path: Path) -> None:
    """A one-page PDF whose text uses Helvetica without embedding it (as old office tools do)."""
    from pypdf import PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, StreamObject

    writer = PdfWriter()
    page = writer.add_blank_page(419.53, 595.28)
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject(
        {NameObject("/F1"): writer._add_object(font)})})
    stream = StreamObject()
    stream.set_data(b"BT /F1 12 Tf 72 500 Td (Not embedded) Tj ET")
    page[NameObject("/Contents")] = writer._add_object(stream)
    writer.write(path)


def test_preflight_catches_an_unembedded_font(tmp_path: Path) -> None:
    pdf = tmp_path / "unembedded.pdf"
    unembedded_pdf(pdf)
    result = CliRunner().invoke(main, ["preflight", str(pdf)])
    assert result.exit_code == 1
    assert "font Helvetica is not embedded" in result.output
    assert "no TrimBox" in result.output
