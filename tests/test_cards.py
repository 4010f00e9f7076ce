"""Pocket reminder cards: the grid arithmetic, and what the built PDFs really contain.

Positions in the PDFs are measured, not trusted: every page's content stream is interpreted
(pypdf) with its transformation matrices, which gives the drawn geometry in millimetres from the
page's top-left corner:

* a card is the clip rectangle its ``overflow: hidden`` box leaves (exactly card-sized);
* a cut or crop mark is a thin black filled rectangle (a ``div`` with a background);
* which card a box holds is told by its "n/N" count label (``pdftotext -bbox``).

Each scratch project is built once per module (``tmp_path_factory``), cards only.
"""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import MINIMAL_SETTINGS, REPO, chapter, write_tree
from pypdf import PdfReader
from pypdf.generic import ContentStream

from handbook.builder import BuildOptions, build
from handbook.cards import BLEED, EDGE, GAP, MIN_MARK, Grid, Line, ShopPage, grid_for, sheets
from handbook.config import CARD_SIZES, SHEET_SIZES, card_size_mm

MM = 72 / 25.4
POS_TOL = 0.1  # mm: measured geometry against the computed grid
MIRROR_TOL = 0.2  # mm: a back against its front's mirrored place
PRIMARY = (0x7A / 255, 0x1F / 255, 0x1F / 255)  # the default colors.primary: card fronts


# --------------------------------------------------------------------------------------------
# Reading geometry out of a PDF
# --------------------------------------------------------------------------------------------

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in mm from the page's top-left corner


@dataclass(frozen=True)
class Shape:
    kind: str  # "fill" | "stroke" | "clip"
    box: Box
    color: tuple[float, ...] | None  # the fill colour when painted
    clip: Box | None  # the clip in force when drawn (the intersection of every clip so far)
    rotated: bool  # drawn under a 180° turn (relative to the page)


def _mul(m: tuple[float, ...], n: tuple[float, ...]) -> tuple[float, ...]:
    a, b, c, d, e, f = m
    A, B, C, D, E, F = n
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)


def _intersect(a: Box | None, b: Box) -> Box:
    if a is None:
        return b
    return max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])


_NUMERIC = {"cm", "re", "m", "l", "c", "v", "y", "rg", "g"}
_PAINT = {"n", "f", "F", "f*", "S", "s", "B", "B*", "b", "b*"}


def page_shapes(page: Any) -> list[Shape]:
    """Every painted or clipping path of a page: its bounding box after the CTM, in mm."""
    height = float(page.mediabox.top)
    base_ctm: tuple[float, ...] = (1, 0, 0, 1, 0, 0)
    ctm, fill, clip = base_ctm, (0.0, 0.0, 0.0), None
    stack: list[tuple[Any, Any, Any]] = []
    path: list[tuple[float, float]] = []
    clipping = False
    shapes: list[Shape] = []
    page_a: float | None = None  # the x scale of the page's own transformation

    def point(x: float, y: float) -> tuple[float, float]:
        a, b, c, d, e, f = ctm
        return a * x + c * y + e, b * x + d * y + f

    for operands, raw_op in ContentStream(page.get_contents(), page.pdf).operations:
        op = raw_op.decode() if isinstance(raw_op, bytes) else raw_op
        v = [float(x) for x in operands] if op in _NUMERIC else []
        if op == "q":
            stack.append((ctm, fill, clip))
        elif op == "Q":
            ctm, fill, clip = stack.pop()
        elif op == "cm":
            ctm = _mul(tuple(v), ctm)
        elif op == "rg":
            fill = tuple(v)
        elif op == "g":
            fill = (v[0],) * 3
        elif op == "re":
            x, y, w, h = v
            path += [point(x, y), point(x + w, y), point(x, y + h), point(x + w, y + h)]
        elif op in ("m", "l", "c", "v", "y"):
            path += [point(v[i], v[i + 1]) for i in range(0, len(v), 2)]
        elif op in ("W", "W*"):
            clipping = True
        elif op in _PAINT:
            if path:
                xs = [p[0] for p in path]
                ys = [p[1] for p in path]
                box = (min(xs) / MM, (height - max(ys)) / MM, max(xs) / MM, (height - min(ys)) / MM)
                if page_a is None:
                    page_a = ctm[0]
                rotated = ctm[0] * page_a < 0
                if op != "n":
                    kind = "stroke" if op in ("S", "s") else "fill"
                    shapes.append(Shape(kind, box, fill, clip, rotated))
                if clipping:
                    shapes.append(Shape("clip", box, None, clip, rotated))
                    clip = _intersect(clip, box)
            path, clipping = [], False
    return shapes


_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')


def page_words(pdf: Path) -> list[list[tuple[str, Box]]]:
    """Every word of every page with its box in mm (poppler's ``pdftotext -bbox``)."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True,
                         text=True).stdout
    pages = []
    for chunk in out.split("<page ")[1:]:
        pages.append([(m[5], (float(m[1]) / MM, float(m[2]) / MM, float(m[3]) / MM, float(m[4]) / MM))
                      for m in _WORD.finditer(chunk)])
    return pages


def _centre(box: Box) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def _inside(point: tuple[float, float], box: Box) -> bool:
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


@dataclass(frozen=True)
class CardBox:
    number: int  # 1-based, from its "n/N" label
    box: Box
    rotated: bool
    label: Box  # where its "n/N" label is


@dataclass
class MeasuredPage:
    width: float
    height: float
    shapes: list[Shape]
    words: list[tuple[str, Box]]
    card_size: tuple[float, float]

    @property
    def marks(self) -> list[Box]:
        """Thin black filled rectangles: the cut or crop marks."""
        return [s.box for s in self.shapes if s.kind == "fill" and s.color == (0, 0, 0)
                and min(s.box[2] - s.box[0], s.box[3] - s.box[1]) < 0.2]

    def cards(self) -> dict[int, CardBox]:
        """The cards on the page by number: each clip box of card size holding an "n/N" label."""
        w, h = self.card_size
        boxes = [s for s in self.shapes if s.kind == "clip"
                 and abs(s.box[2] - s.box[0] - w) < 0.05 and abs(s.box[3] - s.box[1] - h) < 0.05]
        found: dict[int, CardBox] = {}
        for text, wbox in self.words:
            m = re.fullmatch(r"(\d+)/(\d+)", text)
            if not m:
                continue
            holders = {s.box: s for s in boxes if _inside(_centre(wbox), s.box)}
            assert len(holders) == 1, f"label {text} is in {len(holders)} card boxes"
            (shape,) = holders.values()
            number = int(m[1])
            assert number not in found, f"card {number} appears twice on one page"
            found[number] = CardBox(number, shape.box, shape.rotated, wbox)
        return found


@dataclass
class Measured:
    path: Path
    reader: PdfReader
    pages: list[MeasuredPage]

    @property
    def texts(self) -> list[str]:
        return [" ".join(t for t, _ in p.words) for p in self.pages]


def measure(pdf: Path, card_size: tuple[float, float]) -> Measured:
    reader = PdfReader(pdf)
    words = page_words(pdf)
    assert len(words) == len(reader.pages)
    pages = [MeasuredPage(float(p.mediabox.width) / MM, float(p.mediabox.height) / MM, page_shapes(p),
                          w, card_size) for p, w in zip(reader.pages, words, strict=True)]
    return Measured(pdf, reader, pages)


def close(a: float, b: float, tol: float = POS_TOL) -> bool:
    return abs(a - b) <= tol


# --------------------------------------------------------------------------------------------
# Scratch projects, built once per module
# --------------------------------------------------------------------------------------------

REMINDERS = 12  # numbered chapters in the default scenario: 1 title card + 12 = 13 cards


def chapters_spec(numbered: int) -> dict[str, str]:
    files = {"00-introduction.md": chapter("Introduction", "Opening words.", numbered="false",
                                           reminder="Unnumbered reminder.")}
    for i in range(1, numbered + 1):
        files[f"{i:02d}-point-{i}.md"] = chapter(f"Point {i}", "Text.", reminder=f"Reminder {i}.")
    return files


SENTENCE = "Report every gift, favour or invitation from a supplier to your line manager at once. "
MODERATE = SENTENCE * 6  # more than a card holds at full size, less than at 75 %
TOO_LONG = SENTENCE * 20  # more than a card holds at 75 %


def listed_cards_yaml(fronts: list[str], *, from_chapters: bool = False, **settings: str) -> str:
    lines = [f"{k}: {v}" for k, v in settings.items()]
    lines += [f"from_chapters: {'true' if from_chapters else 'false'}", "cards:"]
    for i, front in enumerate(fronts, start=1):
        lines += [f"  - front: \"{front}\"", f"    back: \"Back of listed card {i}\""]
    return "\n".join(lines) + "\n"


SCENARIOS: dict[str, dict[str, Any]] = {
    # name: cards.yaml text, numbered chapters, --save-html
    "id1-a4-long": {"cards": "size: id-1\nsheet: a4\nduplex: long-edge\n", "chapters": REMINDERS,
                    "save_html": True},
    "id1-a4-short": {"cards": "size: id-1\nsheet: a4\nduplex: short-edge\n", "chapters": REMINDERS},
    "id1-letter-long": {"cards": "size: id-1\nsheet: letter\nduplex: long-edge\n", "chapters": REMINDERS},
    "business-letter-short": {"cards": "size: business\nsheet: letter\nduplex: short-edge\n",
                              "chapters": 10},
    # 1 title card + 4 chapter cards + 1 listed card: a full sheet of four and a last sheet of two.
    "a7-a4-short": {"cards": listed_cards_yaml(["Extra front"], from_chapters=True, size="a7", sheet="a4",
                                               duplex="short-edge"), "chapters": 4},
    # No duplex given: long-edge is the default.
    "custom-a4-default": {"cards": 'size: "90 x 50 mm"\nsheet: a4\n', "chapters": 2},
    "listed": {"cards": listed_cards_yaml(["Alpha front", MODERATE, "Gamma front"]), "chapters": 2,
               "save_html": True},
}

SHEET_SCENARIOS = ["id1-a4-long", "id1-a4-short", "id1-letter-long", "business-letter-short",
                   "a7-a4-short", "custom-a4-default"]


def cards_project(root: Path, cards_yaml: str | None, numbered: int, settings: str = MINIMAL_SETTINGS) -> Path:
    root.mkdir(parents=True)
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copytree(REPO / "styles", root / "styles")
    (root / "handbook.yaml").write_text(settings, encoding="utf-8")
    content: dict[str, Any] = chapters_spec(numbered)
    if cards_yaml is not None:
        content["cards.yaml"] = cards_yaml
    write_tree(root, {"content": content})
    return root


@dataclass
class Built:
    root: Path
    out: Path
    size: tuple[float, float]
    sheet: str
    duplex: str
    count: int  # cards in the deck

    @property
    def grid(self) -> Grid:
        return grid_for(self.size, self.sheet)

    @property
    def sheets_pdf(self) -> Measured:
        return _measure_cached(self.out / "cards.pdf", self.size)

    @property
    def shop_pdf(self) -> Measured:
        return _measure_cached(self.out / "cards-print-shop.pdf", self.size)


@cache
def _measure_cached(pdf: Path, size: tuple[float, float]) -> Measured:
    return measure(pdf, size)


def cards_yaml_settings(text: str) -> dict[str, str]:
    values = dict(re.findall(r'^(size|sheet|duplex):\s*"?([^"\n#]+?)"?\s*(?:#.*)?$', text, re.M))
    return {"size": values.get("size", "id-1"), "sheet": values.get("sheet", "a4"),
            "duplex": values.get("duplex", "long-edge")}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Built]:
    """``built(name)``: the scenario's project, its cards built once for the module."""
    done: dict[str, Built] = {}

    def get(name: str) -> Built:
        if name not in done:
            spec = SCENARIOS[name]
            root = cards_project(tmp_path_factory.mktemp(name) / "project", spec["cards"], spec["chapters"])
            out = root / "dist"
            report = build(root, BuildOptions(out=out, only=("cards",), save_html=spec.get("save_html", False)))
            assert report.ok, "\n".join(str(p) for ps in report.failed.values() for p in ps)
            settings = cards_yaml_settings(spec["cards"])
            count = len(re.findall(r"^  - front:", spec["cards"], re.M))
            if "from_chapters: false" not in spec["cards"]:
                count += 1 + spec["chapters"]
            done[name] = Built(root, out, card_size_mm(settings["size"]), settings["sheet"],
                               settings["duplex"], count)
        return done[name]

    return get


# --------------------------------------------------------------------------------------------
# Pure geometry: the grid arithmetic
# --------------------------------------------------------------------------------------------

# (sheet, size) -> cols, rows, x0, y0: computed by hand from the sheet and card sizes, with
# every margin at least EDGE + MIN_MARK + GAP = 13.5 mm.
GRIDS = {
    ("a4", "id-1"): (2, 5, 19.4, 13.55),
    ("a4", "business"): (2, 4, 20.0, 38.5),
    ("a4", "a7"): (2, 2, 31.0, 43.5),
    ("a4", "90 x 50 mm"): (2, 5, 15.0, 23.5),
    ("letter", "id-1"): (2, 4, 22.35, 31.74),
    ("letter", "business"): (2, 4, 22.95, 29.7),
    ("letter", "a7"): (2, 2, 33.95, 34.7),
    ("letter", "90 x 50 mm"): (2, 5, 17.95, 14.7),
}


def test_card_sizes() -> None:
    assert card_size_mm("id-1") == (85.6, 53.98)
    assert card_size_mm("business") == (85, 55)
    assert card_size_mm("a7") == (74, 105)
    assert card_size_mm("90 x 50 mm") == (90, 50)
    assert SHEET_SIZES == {"a4": (210, 297), "letter": (215.9, 279.4)}


@pytest.mark.parametrize(("sheet", "size"), list(GRIDS), ids=[f"{s}-{c}" for s, c in GRIDS])
def test_grid_arithmetic(sheet: str, size: str) -> None:
    cols, rows, x0, y0 = GRIDS[(sheet, size)]
    card = card_size_mm(size)
    grid = grid_for(card, sheet)
    assert (grid.cols, grid.rows, grid.per_sheet) == (cols, rows, cols * rows)
    assert (grid.sheet_w, grid.sheet_h) == SHEET_SIZES[sheet]
    assert grid.x0 == pytest.approx(x0, abs=1e-9)
    assert grid.y0 == pytest.approx(y0, abs=1e-9)
    # Centred: equal margins on both sides.
    assert grid.x0 == pytest.approx(grid.sheet_w - grid.x0 - cols * card[0], abs=1e-9)
    assert grid.y0 == pytest.approx(grid.sheet_h - grid.y0 - rows * card[1], abs=1e-9)
    # As many as fit: one more column or row would leave no room for a printable mark.
    room = EDGE + MIN_MARK + GAP
    assert min(grid.x0, grid.y0) >= room - 1e-9
    assert (grid.sheet_w - (cols + 1) * card[0]) / 2 < room
    assert (grid.sheet_h - (rows + 1) * card[1]) / 2 < room


def test_grid_headline_numbers() -> None:
    assert grid_for(CARD_SIZES["id-1"], "a4").per_sheet == 10
    assert (grid_for(CARD_SIZES["id-1"], "a4").cols, grid_for(CARD_SIZES["id-1"], "a4").rows) == (2, 5)
    assert grid_for(CARD_SIZES["a7"], "a4").per_sheet == 4


def test_grid_accepts_a_sheet_size_in_mm() -> None:
    assert grid_for((85.6, 53.98), (210, 297)) == grid_for((85.6, 53.98), "a4")


@pytest.mark.parametrize(("sheet", "size"), list(GRIDS), ids=[f"{s}-{c}" for s, c in GRIDS])
def test_cut_marks_are_printable_and_at_every_cut(sheet: str, size: str) -> None:
    grid = grid_for(card_size_mm(size), sheet)
    marks = grid.cut_marks()
    assert len(marks) == 2 * (grid.cols + 1) + 2 * (grid.rows + 1)
    cuts_x = {round(grid.x0 + c * grid.card_w, 6) for c in range(grid.cols + 1)}
    cuts_y = {round(grid.y0 + r * grid.card_h, 6) for r in range(grid.rows + 1)}
    left, right = grid.x0, grid.x0 + grid.cols * grid.card_w
    top, bottom = grid.y0, grid.y0 + grid.rows * grid.card_h
    vertical = [m for m in marks if m.x1 == m.x2]
    horizontal = [m for m in marks if m.y1 == m.y2]
    assert len(vertical) + len(horizontal) == len(marks)
    assert {round(m.x1, 6) for m in vertical} == cuts_x
    assert {round(m.y1, 6) for m in horizontal} == cuts_y
    for m in marks:
        x0, x1 = sorted((m.x1, m.x2))
        y0, y1 = sorted((m.y1, m.y2))
        assert min(x0, y0) >= EDGE - 1e-9
        assert x1 <= grid.sheet_w - EDGE + 1e-9 and y1 <= grid.sheet_h - EDGE + 1e-9
        assert max(x1 - x0, y1 - y0) >= MIN_MARK - 1e-9
        # In the margin, outside the cards (at least GAP away from them).
        if m in vertical:
            assert y1 <= top - GAP + 1e-9 or y0 >= bottom + GAP - 1e-9
        else:
            assert x1 <= left - GAP + 1e-9 or x0 >= right + GAP - 1e-9


@pytest.mark.parametrize("duplex", ["long-edge", "short-edge"])
@pytest.mark.parametrize(("sheet", "size"), list(GRIDS), ids=[f"{s}-{c}" for s, c in GRIDS])
def test_backs_mirror_fronts(sheet: str, size: str, duplex: str) -> None:
    grid = grid_for(card_size_mm(size), sheet)
    count = grid.per_sheet * 2 + 3  # a last sheet with three cards
    result = sheets(count, grid, duplex)
    assert [len(s.fronts) for s in result] == [grid.per_sheet, grid.per_sheet, 3]
    assert [p.index for s in result for p in s.fronts] == list(range(count))
    for s in result:
        assert [p.index for p in s.backs] == [p.index for p in s.fronts]
        for front, back in zip(s.fronts, s.backs, strict=True):
            assert (front.x, front.y) == pytest.approx(grid.cell(front.row, front.col))
            if duplex == "long-edge":
                assert (back.row, back.col, back.rotate) == (front.row, grid.cols - 1 - front.col, False)
                assert back.x + grid.card_w == pytest.approx(grid.sheet_w - front.x)
                assert back.y == pytest.approx(front.y)
            else:
                assert (back.row, back.col, back.rotate) == (grid.rows - 1 - front.row, front.col, True)
                assert back.y + grid.card_h == pytest.approx(grid.sheet_h - front.y)
                assert back.x == pytest.approx(front.x)


def test_fronts_fill_row_by_row() -> None:
    grid = grid_for(CARD_SIZES["id-1"], "a4")
    (first, second) = sheets(13, grid, "long-edge")
    assert [(p.row, p.col) for p in first.fronts] == [(r, c) for r in range(5) for c in range(2)]
    assert [(p.index, p.row, p.col) for p in second.fronts] == [(10, 0, 0), (11, 0, 1), (12, 1, 0)]
    assert [(p.index, p.row, p.col) for p in second.backs] == [(10, 0, 1), (11, 0, 0), (12, 1, 1)]
    (_, second) = sheets(13, grid, "short-edge")
    assert [(p.index, p.row, p.col, p.rotate) for p in second.backs] == [
        (10, 4, 0, True), (11, 4, 1, True), (12, 3, 0, True)]


def test_unknown_duplex_is_refused() -> None:
    with pytest.raises(ValueError, match="duplex"):
        grid_for(CARD_SIZES["id-1"], "a4").back_cell(0, 0, "sideways")


def test_print_shop_page_geometry() -> None:
    shop = ShopPage(*CARD_SIZES["id-1"])
    assert shop.trim_box == pytest.approx((9.0, 9.0, 85.6, 53.98))
    assert (shop.width, shop.height) == pytest.approx((85.6 + 18, 53.98 + 18))
    left, top, w, h = shop.trim_box
    bleed = (left - BLEED, top - BLEED, left + w + BLEED, top + h + BLEED)
    marks = shop.crop_marks()
    assert len(marks) == 8
    for m in marks:
        x0, x1 = sorted((m.x1, m.x2))
        y0, y1 = sorted((m.y1, m.y2))
        assert x0 >= 0 and y0 >= 0 and x1 <= shop.width and y1 <= shop.height
        # On a trim line, outside the bleed.
        if m.x1 == m.x2:
            assert m.x1 in (left, left + w)
            assert y1 <= bleed[1] + 1e-9 or y0 >= bleed[3] - 1e-9
        else:
            assert m.y1 in (top, top + h)
            assert x1 <= bleed[0] + 1e-9 or x0 >= bleed[2] - 1e-9


# --------------------------------------------------------------------------------------------
# cards.pdf: the office duplex sheets, measured
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SHEET_SCENARIOS)
def test_sheet_pages_have_the_exact_paper_size(built: Callable[[str], Built], name: str) -> None:
    b = built(name)
    pdf = b.sheets_pdf
    sheet_w, sheet_h = SHEET_SIZES[b.sheet]
    expected_sheets = -(-b.count // b.grid.per_sheet)
    assert len(pdf.pages) == 2 * expected_sheets
    for page in pdf.pages:
        assert close(page.width, sheet_w) and close(page.height, sheet_h), (page.width, page.height)
    for p in pdf.reader.pages:  # no box of another size either
        for box in (p.cropbox, p.trimbox, p.bleedbox):
            assert close(float(box.width) / MM, sheet_w) and close(float(box.height) / MM, sheet_h)


@pytest.mark.parametrize("name", SHEET_SCENARIOS)
def test_fronts_page_then_backs_page_per_sheet(built: Callable[[str], Built], name: str) -> None:
    b = built(name)
    pdf = b.sheets_pdf
    expected = sheets(b.count, b.grid, b.duplex)
    for n, sheet in enumerate(expected):
        fronts, backs = pdf.pages[2 * n].cards(), pdf.pages[2 * n + 1].cards()
        numbers = [p.index + 1 for p in sheet.fronts]
        assert sorted(fronts) == numbers, f"sheet {n + 1}: fronts"
        assert sorted(backs) == numbers, f"sheet {n + 1}: backs"
        # The fronts page carries the fronts (the coloured panel), the backs page does not.
        assert any(s.kind == "fill" and s.color == pytest.approx(PRIMARY, abs=0.01)
                   and s.box[2] - s.box[0] > 50 for s in pdf.pages[2 * n].shapes)
        for c in backs.values():
            panel = [s for s in pdf.pages[2 * n + 1].shapes if s.kind == "fill" and s.box[2] - s.box[0] > 50
                     and _inside(_centre(s.box), c.box)]
            assert all(s.color != pytest.approx(PRIMARY, abs=0.01) for s in panel)


@pytest.mark.parametrize("name", SHEET_SCENARIOS)
def test_cards_sit_in_the_computed_cells(built: Callable[[str], Built], name: str) -> None:
    b = built(name)
    pdf = b.sheets_pdf
    grid = b.grid
    for n, sheet in enumerate(sheets(b.count, grid, b.duplex)):
        for page, places in ((pdf.pages[2 * n], sheet.fronts), (pdf.pages[2 * n + 1], sheet.backs)):
            measured = page.cards()
            for place in places:
                c = measured[place.index + 1]
                assert close(c.box[0], place.x) and close(c.box[1], place.y), (place, c.box)
                assert close(c.box[2] - c.box[0], grid.card_w) and close(c.box[3] - c.box[1], grid.card_h)
                assert c.rotated == place.rotate


def mirror_deviations(b: Built) -> list[float]:
    """For every card: how far (mm) its back is from its front's mirrored place on the sheet."""
    pdf = b.sheets_pdf
    deviations = []
    for n in range(len(pdf.pages) // 2):
        fronts, backs = pdf.pages[2 * n].cards(), pdf.pages[2 * n + 1].cards()
        assert fronts and sorted(fronts) == sorted(backs)
        W, H = pdf.pages[2 * n].width, pdf.pages[2 * n].height
        for number, f in fronts.items():
            k = backs[number]
            fx0, fy0, fx1, fy1 = f.box
            # Long-edge: turned over the long (vertical) edge, left-right; short-edge: top-bottom.
            want = (W - fx1, fy0, W - fx0, fy1) if b.duplex == "long-edge" else (fx0, H - fy1, fx1, H - fy0)
            deviations.append(max(abs(a - w) for a, w in zip(k.box, want, strict=True)))
    return deviations


@pytest.mark.parametrize("name", SHEET_SCENARIOS)
def test_every_back_is_at_its_fronts_mirrored_place(built: Callable[[str], Built], name: str) -> None:
    b = built(name)
    deviations = mirror_deviations(b)
    assert len(deviations) == b.count
    assert max(deviations) <= MIRROR_TOL, deviations


@pytest.mark.parametrize("name", ["id1-a4-long", "id1-a4-short"])
def test_a_last_sheet_not_full_keeps_its_backs_mirrored(built: Callable[[str], Built], name: str) -> None:
    """13 ID-1 cards on A4: the second sheet holds 11-13; their backs are not packed to the start."""
    b = built(name)
    pdf = b.sheets_pdf
    assert len(pdf.pages) == 4
    fronts, backs = pdf.pages[2].cards(), pdf.pages[3].cards()
    assert sorted(fronts) == sorted(backs) == [11, 12, 13]
    grid = b.grid
    cell = {number: (round((c.box[1] - grid.y0) / grid.card_h), round((c.box[0] - grid.x0) / grid.card_w))
            for number, c in fronts.items()}
    back_cell = {number: (round((c.box[1] - grid.y0) / grid.card_h), round((c.box[0] - grid.x0) / grid.card_w))
                 for number, c in backs.items()}
    assert cell == {11: (0, 0), 12: (0, 1), 13: (1, 0)}
    if b.duplex == "long-edge":
        assert back_cell == {11: (0, 1), 12: (0, 0), 13: (1, 1)}
    else:
        assert back_cell == {11: (4, 0), 12: (4, 1), 13: (3, 0)}


def test_short_edge_backs_are_turned(built: Callable[[str], Built]) -> None:
    """Rotated 180°: the back's "n/N" label is at the top left of its cell, the front's at the bottom
    right, each the other's point reflection through the card's centre."""
    b = built("id1-a4-short")
    pdf = b.sheets_pdf
    for n in range(len(pdf.pages) // 2):
        fronts, backs = pdf.pages[2 * n].cards(), pdf.pages[2 * n + 1].cards()
        for number, f in fronts.items():
            k = backs[number]
            assert not f.rotated and k.rotated
            fx, fy = _centre(f.label)
            kx, ky = _centre(k.label)
            assert close(fx - f.box[0], k.box[2] - kx, 0.3) and close(fy - f.box[1], k.box[3] - ky, 0.3)
            assert kx - k.box[0] < b.size[0] / 2 < fx - f.box[0]
            assert ky - k.box[1] < b.size[1] / 2 < fy - f.box[1]
    long = built("id1-a4-long").sheets_pdf
    assert not any(c.rotated for page in long.pages for c in page.cards().values())


def measured_cut_marks(page: MeasuredPage) -> list[Line]:
    """The marks of a page as lines through their middle (vertical when taller than wide)."""
    lines = []
    for x0, y0, x1, y1 in page.marks:
        if y1 - y0 > x1 - x0:
            lines.append(Line((x0 + x1) / 2, y0, (x0 + x1) / 2, y1))
        else:
            lines.append(Line(x0, (y0 + y1) / 2, x1, (y0 + y1) / 2))
    return lines


@pytest.mark.parametrize("name", SHEET_SCENARIOS)
def test_measured_cut_marks_match_the_grid(built: Callable[[str], Built], name: str) -> None:
    b = built(name)
    grid = b.grid
    expected = grid.cut_marks()
    for number, page in enumerate(b.sheets_pdf.pages, start=1):
        measured = measured_cut_marks(page)
        assert len(measured) == len(expected), f"page {number}"
        unmatched = list(measured)
        for line in expected:
            want = (line.x1, line.y1, line.x2, line.y2)
            match = [m for m in unmatched
                     if all(close(a, e) for a, e in zip((m.x1, m.y1, m.x2, m.y2), want, strict=True))]
            assert len(match) == 1, f"page {number}: no measured mark for {line}"
            unmatched.remove(match[0])
        # Cell positions and sizes, from the marks alone.
        xs = sorted({round(m.x1, 3) for m in measured if m.x1 == m.x2})
        ys = sorted({round(m.y1, 3) for m in measured if m.y1 == m.y2})
        assert len(xs) == grid.cols + 1 and len(ys) == grid.rows + 1
        for c, x in enumerate(xs):
            assert close(x, grid.x0 + c * grid.card_w)
        for r, y in enumerate(ys):
            assert close(y, grid.y0 + r * grid.card_h)
        assert all(close(b2 - a2, grid.card_w) for a2, b2 in itertools.pairwise(xs))
        assert all(close(b2 - a2, grid.card_h) for a2, b2 in itertools.pairwise(ys))
        # Centred on the sheet.
        assert close(xs[0], page.width - xs[-1]) and close(ys[0], page.height - ys[-1])


@pytest.mark.parametrize("name", SHEET_SCENARIOS)
def test_cut_marks_are_thin_in_the_margins_and_printable(built: Callable[[str], Built], name: str) -> None:
    b = built(name)
    grid = b.grid
    cards_area = (grid.x0, grid.y0, grid.x0 + grid.cols * grid.card_w, grid.y0 + grid.rows * grid.card_h)
    for page in b.sheets_pdf.pages:
        assert page.marks
        for x0, y0, x1, y1 in page.marks:
            assert min(x1 - x0, y1 - y0) <= 0.15  # a hairline (0.25 pt = 0.09 mm)
            assert min(x0, y0, page.width - x1, page.height - y1) >= EDGE - 0.01
            # Outside the cards: no overlap with the block of cells.
            overlap_w = min(x1, cards_area[2]) - max(x0, cards_area[0])
            overlap_h = min(y1, cards_area[3]) - max(y0, cards_area[1])
            assert overlap_w <= 0.01 or overlap_h <= 0.01, (x0, y0, x1, y1)


def test_grid_counts_from_the_pdf(built: Callable[[str], Built]) -> None:
    """ID-1 on A4: 2 x 5 = 10 on a full sheet; on Letter 2 x 4; A7 on A4: 4."""
    assert len(built("id1-a4-long").sheets_pdf.pages[0].cards()) == 10
    assert len(built("id1-letter-long").sheets_pdf.pages[0].cards()) == 8
    assert len(built("a7-a4-short").sheets_pdf.pages[0].cards()) == 4
    assert len(built("a7-a4-short").sheets_pdf.pages[2].cards()) == 2  # 6 cards: 4 + 2


@pytest.mark.parametrize(("name", "duplex"), [("id1-a4-long", "/DuplexFlipLongEdge"),
                                              ("id1-a4-short", "/DuplexFlipShortEdge"),
                                              ("business-letter-short", "/DuplexFlipShortEdge"),
                                              ("custom-a4-default", "/DuplexFlipLongEdge")])
def test_viewer_preferences(built: Callable[[str], Built], name: str, duplex: str) -> None:
    prefs = built(name).sheets_pdf.reader.trailer["/Root"]["/ViewerPreferences"]
    assert prefs["/PrintScaling"] == "/None"
    assert prefs["/Duplex"] == duplex
    shop = built(name).shop_pdf.reader.trailer["/Root"]["/ViewerPreferences"]
    assert shop["/PrintScaling"] == "/None"


# --------------------------------------------------------------------------------------------
# cards-print-shop.pdf: one card side per page, trim, bleed and crop marks
# --------------------------------------------------------------------------------------------


def _box_mm(box: Any, page_h: float) -> Box:
    """A PDF box (points, origin bottom-left) -> mm from the top-left corner."""
    return (float(box.left) / MM, page_h - float(box.top) / MM, float(box.right) / MM,
            page_h - float(box.bottom) / MM)


@pytest.mark.parametrize("name", ["id1-a4-long", "custom-a4-default", "a7-a4-short"])
def test_print_shop_boxes(built: Callable[[str], Built], name: str) -> None:
    b = built(name)
    pdf = b.shop_pdf
    w, h = b.size
    assert len(pdf.pages) == 2 * b.count
    for number, (p, page) in enumerate(zip(pdf.reader.pages, pdf.pages, strict=True), start=1):
        media = _box_mm(p.mediabox, page.height)
        trim = _box_mm(p.trimbox, page.height)
        bleed = _box_mm(p.bleedbox, page.height)
        assert close(trim[2] - trim[0], w, 0.01) and close(trim[3] - trim[1], h, 0.01), (number, trim)
        assert all(close(bv, tv + d, 0.01) for bv, tv, d in
                   zip(bleed, trim, (-BLEED, -BLEED, BLEED, BLEED), strict=True)), (number, bleed, trim)
        assert media[0] < bleed[0] and media[1] < bleed[1] and media[2] > bleed[2] and media[3] > bleed[3]
        # Centred on the media, which is the page size.
        assert close(trim[0], media[2] - trim[2], 0.01) and close(trim[1], media[3] - trim[3], 0.01)
        assert close(media[2] - media[0], page.width, 0.01)


@pytest.mark.parametrize("name", ["id1-a4-long", "custom-a4-default"])
def test_print_shop_crop_marks_outside_the_bleed(built: Callable[[str], Built], name: str) -> None:
    b = built(name)
    for p, page in zip(b.shop_pdf.reader.pages, b.shop_pdf.pages, strict=True):
        trim = _box_mm(p.trimbox, page.height)
        bleed = _box_mm(p.bleedbox, page.height)
        marks = measured_cut_marks(page)
        assert len(marks) == 8
        at = {"v": set(), "h": set()}
        for m in marks:
            if m.x1 == m.x2:
                at["v"].add(min((abs(m.x1 - trim[0]), "L"), (abs(m.x1 - trim[2]), "R"))[1])
                assert close(m.x1, trim[0]) or close(m.x1, trim[2])  # on a trim line
                assert m.y2 <= bleed[1] + 0.01 or m.y1 >= bleed[3] - 0.01  # outside the bleed
            else:
                at["h"].add(min((abs(m.y1 - trim[1]), "T"), (abs(m.y1 - trim[3]), "B"))[1])
                assert close(m.y1, trim[1]) or close(m.y1, trim[3])
                assert m.x2 <= bleed[0] + 0.01 or m.x1 >= bleed[2] - 0.01
            assert min(m.x1, m.y1) >= -0.01 and m.x2 <= page.width + 0.01 and m.y2 <= page.height + 0.01
        assert at == {"v": {"L", "R"}, "h": {"T", "B"}}


def test_print_shop_front_background_runs_into_the_bleed(built: Callable[[str], Built]) -> None:
    b = built("id1-a4-long")
    pdf = b.shop_pdf
    for index, (p, page) in enumerate(zip(pdf.reader.pages, pdf.pages, strict=True)):
        bleed = _box_mm(p.bleedbox, page.height)
        primary = [s for s in page.shapes if s.kind == "fill" and s.color == pytest.approx(PRIMARY, abs=0.01)
                   and s.box[2] - s.box[0] > 50]
        if index % 2 == 0:  # a front
            assert primary, f"page {index + 1}: no background"
            painted = [_intersect(s.clip, s.box) for s in primary]
            assert any(x0 <= bleed[0] + 0.01 and y0 <= bleed[1] + 0.01 and x1 >= bleed[2] - 0.01
                       and y1 >= bleed[3] - 0.01 for x0, y0, x1, y1 in painted), (painted, bleed)
        else:
            assert not primary, f"page {index + 1}: a back with the front's background"


def test_print_shop_one_side_per_page_front_then_back(built: Callable[[str], Built]) -> None:
    b = built("id1-a4-long")
    pdf = b.shop_pdf
    total = b.count
    for index, page in enumerate(pdf.pages):
        labels = [t for t, _ in page.words if re.fullmatch(r"\d+/\d+", t)]
        assert labels == [f"{index // 2 + 1}/{total}"], f"page {index + 1}"


# --------------------------------------------------------------------------------------------
# The deck
# --------------------------------------------------------------------------------------------


def test_default_deck_title_card_then_one_card_per_numbered_chapter(built: Callable[[str], Built]) -> None:
    b = built("id1-a4-long")
    texts = b.shop_pdf.texts  # one side per page: front, back, front, back...
    total = REMINDERS + 1
    assert b.count == total and len(texts) == 2 * total
    title_front, title_back = texts[0], texts[1]
    assert "TEST OFFICE" in title_front  # the organisation, set in capitals
    for words in ("Reminders", "Scratch Handbook", "Hotline 12345 · test@example.org",
                  f"1/{total}"):
        assert words in title_front, words
    assert "Reminder 1." not in title_front
    for i in range(1, REMINDERS + 1):
        assert f"{i} Reminder {i}." in title_back, i
    assert "Unnumbered" not in " ".join(texts)  # the introduction is not a numbered chapter
    assert "Hotline" not in title_back
    for i in range(1, REMINDERS + 1):
        front, back = texts[2 * i], texts[2 * i + 1]
        assert f"Point {i}" in front and f"{i + 1}/{total}" in front, (i, front)
        assert "Reminder" not in front
        assert f"Reminder {i}." in back and "REMEMBER" in back and f"{i + 1}/{total}" in back, (i, back)


def test_every_card_carries_n_of_N_on_both_sides(built: Callable[[str], Built]) -> None:
    b = built("id1-a4-long")
    pdf = b.sheets_pdf
    labels = [sorted(page.cards()) for page in pdf.pages]
    assert labels == [list(range(1, 11))] * 2 + [[11, 12, 13]] * 2
    all_words = [t for page in pdf.pages for t, _ in page.words if re.fullmatch(r"\d+/\d+", t)]
    assert all(t.endswith("/13") for t in all_words)


def test_from_chapters_false_gives_exactly_the_listed_cards(built: Callable[[str], Built]) -> None:
    b = built("listed")
    texts = b.shop_pdf.texts
    assert len(texts) == 6
    assert "Alpha front" in texts[0] and "1/3" in texts[0]
    assert "Back of listed card 1" in texts[1] and "1/3" in texts[1]
    assert "Report every gift" in texts[2] and "2/3" in texts[2]
    assert "Back of listed card 2" in texts[3]
    assert "Gamma front" in texts[4] and "Back of listed card 3" in texts[5] and "3/3" in texts[5]
    everything = " ".join(texts)
    assert "Point 1" not in everything and "Reminders" not in everything and "Reminder 1." not in everything
    assert sorted(b.sheets_pdf.pages[0].cards()) == [1, 2, 3] and len(b.sheets_pdf.pages) == 2


def test_listed_cards_follow_the_chapter_cards(built: Callable[[str], Built]) -> None:
    b = built("a7-a4-short")
    texts = b.shop_pdf.texts
    assert b.count == 6 and len(texts) == 12
    assert "Reminders" in texts[0] and "Point 1" in texts[2] and "Point 4" in texts[8]
    assert "Extra front" in texts[10] and "6/6" in texts[10] and "Back of listed card 1" in texts[11]


def test_the_repository_deck_builds(tmp_path: Path) -> None:
    """The shipped content (without departments): a title card and one card per numbered chapter."""
    root = tmp_path / "project"
    root.mkdir()
    for part in ("content", "templates", "styles"):
        shutil.copytree(REPO / part, root / part)
    shutil.copy(REPO / "handbook.yaml", root / "handbook.yaml")
    report = build(root, BuildOptions(out=root / "dist", only=("cards",)))
    assert report.ok, report.failed
    numbered = len([p for p in (REPO / "content").glob("*.md")
                    if "numbered: false" not in p.read_text(encoding="utf-8")])
    total = numbered + 1
    pdf = measure(root / "dist" / "cards.pdf", CARD_SIZES["id-1"])
    assert len(pdf.pages) == 2 * -(-total // 10)
    assert sorted(n for page in pdf.pages[::2] for n in page.cards()) == list(range(1, total + 1))


# --------------------------------------------------------------------------------------------
# Text that does not fit
# --------------------------------------------------------------------------------------------


def _fit_scales(html: str) -> dict[str, float]:
    return {m[1]: float(m[2]) for m in re.finditer(r'id="fit-(\d+-\w+)" style="font-size: ([\d.]+)em"', html)}


def test_a_moderately_long_card_is_shrunk_and_builds(built: Callable[[str], Built]) -> None:
    b = built("listed")
    for name in ("cards.print.html", "cards-print-shop.print.html"):
        scales = _fit_scales((b.out / name).read_text(encoding="utf-8"))
        assert set(scales) == {f"{n}-{s}" for n in (1, 2, 3) for s in ("front", "back")}
        assert 0.75 <= scales["2-front"] < 1.0, (name, scales)
        assert all(v == 1.0 for k, v in scales.items() if k != "2-front"), (name, scales)
    # It had to shrink: at full size the same card overflows.
    from handbook import documents, pdf
    from handbook.project import load_project
    from handbook.render import cards_html

    edition = load_project(b.root).editions[0]
    html = cards_html(edition, layout="sheets", out_dir=b.out)
    rendered = pdf.layout(html, pdf.file_url(b.out / "cards.print.html"),
                          pdf.ProjectFetcher((b.root,)), "test")
    assert set(documents.overflowing(rendered)) == {(2, "front")}
    # And the shrunk text is all there.
    assert b.shop_pdf.texts[2].count("Report every gift") == 6


def _overflow_project(tmp_path: Path, text: str) -> tuple[Path, int]:
    """Title card, one chapter card, then three listed cards; the first listed (card 3 of 5) is
    too long. Returns the project and the line of that card in cards.yaml."""
    yaml_text = listed_cards_yaml(["Short one", "Short two"], from_chapters=True, size="id-1")
    lines = yaml_text.splitlines()
    at = lines.index("cards:") + 1
    lines[at:at] = [f'  - front: "{text}"', '    back: "The long card\'s back"']
    root = cards_project(tmp_path / "project", "\n".join(lines) + "\n", 1)
    return root, at + 1


def test_text_beyond_the_shrink_limit_fails_the_build_naming_the_card(tmp_path: Path) -> None:
    from handbook.cli import main

    root, line = _overflow_project(tmp_path / "once", TOO_LONG)
    result = CliRunner().invoke(main, ["--project", str(root), "build", "--only", "cards"])
    output = result.output  # stdout and stderr, interleaved
    assert result.exit_code == 1, output
    assert isinstance(result.exception, SystemExit), result.exception  # a user error, no traceback
    m = re.search(rf"content/cards\.yaml:{line}: card 3 of 5 \(front\): the text overflows by "
                  r"(\d+(?:\.\d+)?) mm", output)
    assert m, output
    assert "75 %" in output
    assert "build failed" in output
    assert "Traceback" not in output
    assert not (root / "dist" / "cards.pdf").exists()
    assert "card 4 of 5" not in output and "card 5 of 5" not in output
    # By how much, in mm: twice the text overflows by more, by at least ten lines at 75 % type
    # (about 3.2 mm a line) for the twenty sentences added.
    once = float(m[1])
    root, _ = _overflow_project(tmp_path / "twice", TOO_LONG * 2)
    report = build(root, BuildOptions(out=root / "dist", only=("cards",)))
    assert not report.ok
    (problem,) = [p for p in report.failed["organisation-wide"] if "card 3 of 5" in p.message]
    assert (problem.path, problem.line) == ("content/cards.yaml", line)
    twice = float(re.search(r"overflows by (\d+\.\d) mm", problem.message)[1])
    assert once > 0 and twice - once > 30, (once, twice)


def test_an_overflowing_chapter_card_names_its_chapter_file(tmp_path: Path) -> None:
    root = cards_project(tmp_path / "project", "size: id-1\n", 0)
    write_tree(root, {"content": {"01-long.md": chapter("Long", "Text.", reminder=f"\"{SENTENCE * 15}\"")}})
    report = build(root, BuildOptions(out=root / "dist", only=("cards",)))
    assert not report.ok
    messages = [str(p) for p in report.failed["organisation-wide"]]
    assert any(m.startswith("content/01-long.md") and "card 2 of 2 (back)" in m and "mm" in m
               for m in messages), messages


def test_a_line_too_wide_for_its_card_is_named_by_file_and_line(tmp_path: Path) -> None:
    """The card's place is a (file, line) location, never "cards.yaml:4" as a file name; what runs
    off is said by its element (a code block), and the edition is named once."""
    code = " ".join(["wordy"] * 30)  # a code block keeps its line: no break opportunity
    root = cards_project(tmp_path / "project", f"cards:\n  - front: Short\n    back: |\n      Text.\n\n"
                                                f"          {code}\n", 0)
    report = build(root, BuildOptions(out=root / "dist", only=("cards",)))
    assert not report.ok
    problem, summary = report.failed["organisation-wide"]
    assert problem.location == ("content/cards.yaml", 2), str(problem)
    assert str(problem).startswith("content/cards.yaml:2: a code block runs "), str(problem)
    assert str(summary) == "organisation-wide: content runs off the page in cards.pdf"


# --------------------------------------------------------------------------------------------
# --save-html
# --------------------------------------------------------------------------------------------


def test_save_html_writes_both_print_html_files(built: Callable[[str], Built]) -> None:
    b = built("id1-a4-long")
    for name in ("cards.print.html", "cards-print-shop.print.html"):
        html = (b.out / name).read_text(encoding="utf-8")
        assert html.startswith("<!DOCTYPE html>")
        base = re.search(r'<base href="([^"]*)">', html)
        assert base and (b.out / base[1]).resolve() == b.root.resolve()
        for href in re.findall(r'<link rel="stylesheet" href="([^"]+)">', html):
            assert (b.root / href).is_file()
    assert 'class="sheet front"' in (b.out / "cards.print.html").read_text(encoding="utf-8")
    assert not (built("id1-a4-short").out / "cards.print.html").exists()  # only when asked


def test_save_html_via_the_cli(tmp_path: Path) -> None:
    from handbook.cli import main

    root = cards_project(tmp_path / "project", "size: a7\n", 1)
    result = CliRunner().invoke(main, ["--project", str(root), "build", "--only", "cards", "--save-html"])
    assert result.exit_code == 0, result.output
    names = {p.name for p in (root / "dist").iterdir()}
    assert {"cards-print-shop.pdf", "cards-print-shop.print.html", "cards.pdf", "cards.print.html"} <= names
    assert not any(n.startswith("handbook") for n in names)  # --only cards


# --------------------------------------------------------------------------------------------
# Text that overlaps or is clipped: found bugs
# --------------------------------------------------------------------------------------------


def test_a_card_too_big_for_the_sheet_is_a_user_error(tmp_path: Path) -> None:
    """The schema accepts up to 200 mm a side; a card no sheet holds is refused, naming cards.yaml."""
    from handbook.cli import main

    root = cards_project(tmp_path / "project", 'size: "190 x 50 mm"\n', 1)
    result = CliRunner().invoke(main, ["--project", str(root), "build", "--only", "cards"])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "content/cards.yaml" in result.output and "does not fit" in result.output


def _fit_box(page: MeasuredPage, card: CardBox, start: tuple[float, float]) -> Box:
    """The text area of a card: the smallest clip box inside the card holding ``start`` (where its
    first word begins)."""
    inner = [s.box for s in page.shapes if s.kind == "clip" and s.box != card.box
             and _inside((s.box[0], s.box[1]), card.box) and _inside((s.box[2], s.box[3]), card.box)
             and _inside(start, s.box)]
    assert inner, f"card {card.number}: no text box"
    return min(inner, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]))


def _card_words(page: MeasuredPage, card: CardBox) -> list[tuple[str, Box]]:
    return [(t, b) for t, b in page.words if _inside(_centre(b), card.box) and not re.fullmatch(r"\d+/\d+", t)]


def text_problems(page: MeasuredPage, card: CardBox) -> list[str]:
    """What is wrong with a card's text as printed: words outside the text box (clipped) and, on
    the title card's front, words running under the contact line."""
    words = _card_words(page, card)
    if not words:
        return []
    first = min(words, key=lambda w: (w[1][1], w[1][0]))[1]
    fit = _fit_box(page, card, (first[0] + 0.1, _centre(first)[1]))
    problems = [f"{t!r} runs {max(fit[0] - b[0], b[2] - fit[2], fit[1] - b[1], b[3] - fit[3]):.1f} mm "
                "out of the text box" for t, b in words if b[0] < fit[0] - 0.05 or b[2] > fit[2] + 0.05
                or b[1] < fit[1] - 0.5 or b[3] > fit[3] + 0.5]
    hotline = [b for t, b in words if t == "Hotline"]
    if hotline:
        blocks = [s.box for s in page.shapes if s.kind == "fill" and _inside(_centre(hotline[0]), s.box)
                  and s.box[2] - s.box[0] < fit[2] - fit[0] + 0.1]
        top = min(b[1] for b in blocks)
        problems += [f"{t!r} runs {b[3] - top:.1f} mm into the contact line" for t, b in words
                     if b[1] < top - 0.01 and b[3] > top + 0.5]
    return problems


@pytest.mark.parametrize("name", ["id1-a4-long", "id1-a4-short", "listed", "a7-a4-short"])
def test_card_text_stays_in_its_text_box(built: Callable[[str], Built], name: str) -> None:
    """The control for the two bug reports below: on ordinary cards the same measurements pass."""
    pdf = built(name).sheets_pdf
    checked = 0
    for number, page in enumerate(pdf.pages, start=1):
        for card in page.cards().values():
            assert text_problems(page, card) == [], f"page {number}, card {card.number}"
            checked += 1
    assert checked == 2 * built(name).count


LONG_TITLE = ("A Very Long Handbook Title About Integrity, Honesty, Clean Government, Self-Discipline and "
              "Supervision, and about the Rules That Govern Every Public Servant Every Single Day of the "
              "Year, at Home and at Work, in Public and Alone, Today and Tomorrow, and for Every Year to "
              "Come After That, Whatever Happens and Wherever We Are Posted, in Any Office of Any "
              "Department, Large or Small, Near or Far, Old or New, with Colleagues")


def test_title_card_text_does_not_run_under_the_contact_line(tmp_path: Path) -> None:
    settings = MINIMAL_SETTINGS.replace("title: Scratch Handbook", f"title: {LONG_TITLE}")
    root = cards_project(tmp_path / "project", "size: id-1\n", 1, settings=settings)
    report = build(root, BuildOptions(out=root / "dist", only=("cards",)))
    if not report.ok:  # refusing the card is an acceptable answer too, if it names the card
        assert any("card 1 of 2 (front)" in p.message for ps in report.failed.values() for p in ps)
        return
    page = measure(root / "dist" / "cards.pdf", CARD_SIZES["id-1"]).pages[0]
    problems = text_problems(page, page.cards()[1])
    assert any("Hotline" in t for t, _ in page.words)
    assert problems == []


def test_a_word_wider_than_the_card_is_not_clipped(tmp_path: Path) -> None:
    email = "integrity.reporting.office.of.the.whole.department@example.org"
    root = cards_project(tmp_path / "project", listed_cards_yaml([f"Write to {email}"]), 1)
    report = build(root, BuildOptions(out=root / "dist", only=("cards",)))
    if not report.ok:
        assert any("card 1 of 1 (front)" in p.message for ps in report.failed.values() for p in ps)
        return
    page = measure(root / "dist" / "cards.pdf", CARD_SIZES["id-1"]).pages[0]
    card = page.cards()[1]
    # Broken across lines where it must be, but all there.
    assert email in "".join(t for t, _ in _card_words(page, card))
    assert text_problems(page, card) == []
