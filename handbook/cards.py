"""Card geometry, in millimetres: the grid on a duplex sheet, mirrored backs, cut marks, and the
print-shop page. Pure functions; the templates only place what is computed here.

Conventions: origin at the sheet's top-left corner, x to the right, y down. Cells abut (one cut
between neighbours). Cut marks lie in the sheet margin, outside the cards and at least
``EDGE`` mm from the paper edge (office printers cannot print there).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .config import SHEET_SIZES

EDGE = 10.0  # no mark closer than this to the paper edge
GAP = 1.5  # between a mark's inner end and the card edge
MIN_MARK = 2.0  # a mark shorter than this is not usable
BLEED = 3.0  # print-shop bleed
SLUG = 6.0  # print-shop: room around the bleed for crop marks
MARK_OFFSET = 3.0  # print-shop: crop marks start this far from the trim edge (outside the bleed)


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class Placement:
    """One card side on a sheet: the card's index in the deck, its cell and position."""

    index: int
    row: int
    col: int
    x: float
    y: float
    rotate: bool = False  # 180°: short-edge backs


@dataclass(frozen=True)
class Grid:
    sheet_w: float
    sheet_h: float
    card_w: float
    card_h: float
    cols: int
    rows: int

    @property
    def per_sheet(self) -> int:
        return self.cols * self.rows

    @property
    def x0(self) -> float:
        return (self.sheet_w - self.cols * self.card_w) / 2

    @property
    def y0(self) -> float:
        return (self.sheet_h - self.rows * self.card_h) / 2

    def cell(self, row: int, col: int) -> tuple[float, float]:
        """The top-left corner of a cell."""
        return self.x0 + col * self.card_w, self.y0 + row * self.card_h

    def back_cell(self, row: int, col: int, duplex: str) -> tuple[int, int, bool]:
        """Where the back of the card in (row, col) goes on the backs sheet, and whether it turns.

        Long-edge flip (a portrait sheet turned like a book page): mirrored left-right.
        Short-edge flip (turned over its top edge): mirrored top-bottom and rotated 180°.
        """
        if duplex == "long-edge":
            return row, self.cols - 1 - col, False
        if duplex == "short-edge":
            return self.rows - 1 - row, col, True
        raise ValueError(f"unknown duplex {duplex!r}")

    def cut_marks(self) -> list[Line]:
        """A mark at every cut position, in all four margins, from EDGE to GAP before the cards."""
        marks: list[Line] = []
        top, bottom = self.y0, self.y0 + self.rows * self.card_h
        left, right = self.x0, self.x0 + self.cols * self.card_w
        for c in range(self.cols + 1):
            x = self.x0 + c * self.card_w
            marks.append(Line(x, EDGE, x, top - GAP))
            marks.append(Line(x, bottom + GAP, x, self.sheet_h - EDGE))
        for r in range(self.rows + 1):
            y = self.y0 + r * self.card_h
            marks.append(Line(EDGE, y, left - GAP, y))
            marks.append(Line(right + GAP, y, self.sheet_w - EDGE, y))
        return marks


def grid_for(card: tuple[float, float], sheet: str | tuple[float, float]) -> Grid:
    """As many cards as fit with printable cut marks in every margin (no rotation)."""
    sheet_w, sheet_h = SHEET_SIZES[sheet] if isinstance(sheet, str) else sheet
    card_w, card_h = card
    margin = EDGE + MIN_MARK + GAP
    cols = math.floor((sheet_w - 2 * margin) / card_w + 1e-9)
    rows = math.floor((sheet_h - 2 * margin) / card_h + 1e-9)
    if cols < 1 or rows < 1:
        raise ValueError(f"a {card_w:g} x {card_h:g} mm card does not fit on the sheet with cut marks")
    return Grid(sheet_w, sheet_h, card_w, card_h, cols, rows)


@dataclass(frozen=True)
class Sheet:
    """One sheet of the duplex file: its fronts page and its backs page."""

    fronts: tuple[Placement, ...]
    backs: tuple[Placement, ...]


def sheets(count: int, grid: Grid, duplex: str) -> list[Sheet]:
    """The cards in deck order, row by row; each backs page mirrors its fronts page."""
    result = []
    for start in range(0, count, grid.per_sheet):
        fronts, backs = [], []
        for index in range(start, min(start + grid.per_sheet, count)):
            slot = index - start
            row, col = divmod(slot, grid.cols)
            x, y = grid.cell(row, col)
            fronts.append(Placement(index, row, col, x, y))
            brow, bcol, turn = grid.back_cell(row, col, duplex)
            bx, by = grid.cell(brow, bcol)
            backs.append(Placement(index, brow, bcol, bx, by, turn))
        result.append(Sheet(tuple(fronts), tuple(backs)))
    return result


@dataclass(frozen=True)
class ShopPage:
    """The print-shop page of one card side: media = trim + 2 x (bleed + slug)."""

    trim_w: float
    trim_h: float
    bleed: float = BLEED
    slug: float = SLUG

    @property
    def offset(self) -> float:
        """Distance from the media edge to the trim edge."""
        return self.bleed + self.slug

    @property
    def width(self) -> float:
        return self.trim_w + 2 * self.offset

    @property
    def height(self) -> float:
        return self.trim_h + 2 * self.offset

    @property
    def trim_box(self) -> tuple[float, float, float, float]:
        """(left, top, width, height) from the media's top-left corner."""
        return self.offset, self.offset, self.trim_w, self.trim_h

    def crop_marks(self) -> list[Line]:
        """Two marks at each corner, on the trim lines, outside the bleed."""
        o, w, h = self.offset, self.trim_w, self.trim_h
        start, end = MARK_OFFSET, self.offset  # from the trim edge outwards
        near, far = o - end, o - start  # coordinates of the mark from the media edge
        marks = []
        for x in (o, o + w):
            marks.append(Line(x, near, x, far))
            marks.append(Line(x, o + h + start, x, o + h + end))
        for y in (o, o + h):
            marks.append(Line(near, y, far, y))
            marks.append(Line(o + w + start, y, o + w + end, y))
        return marks
