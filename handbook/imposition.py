"""Saddle-stitch booklets: the A5 (or half-letter) handbook two pages up on A4 (or Letter) sheets.

Pages are padded to a multiple of 4 with blanks placed before the back cover. Sheet k (from 0)
carries pages (N-2k, 2k+1) on its front and (2k+2, N-2k-1) on its back, for a duplex printer
flipping on the short edge; printed, folded and stapled, it reads in order.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

MM = 72 / 25.4
SHEETS: dict[str, tuple[float, float]] = {"a4": (297, 210), "letter": (279.4, 215.9)}  # landscape, mm
BOOKLET_SHEET = {"a5": "a4", "half-letter": "letter"}


def booklet_order(pages: int) -> tuple[int, list[tuple[int | None, int | None]]]:
    """(padded page count, sheet sides as (left, right) 1-based page numbers, None for a blank).

    ``pages`` includes the back cover as its last page; blanks go before it.
    """
    if pages < 1:
        raise ValueError("nothing to impose")
    n = -(-pages // 4) * 4

    def real(position: int) -> int | None:
        """Padded position -> page: the pages before the back cover, blanks, the back cover last."""
        if position < pages:
            return position
        return None if position < n else pages

    sides: list[tuple[int | None, int | None]] = []
    for k in range(n // 4):
        sides.append((real(n - 2 * k), real(2 * k + 1)))  # front
        sides.append((real(2 * k + 2), real(n - 2 * k - 1)))  # back
    return n, sides


def impose(pdf: bytes, sheet: str) -> tuple[bytes, int]:
    """The booklet PDF and its number of sheets (each printed on both sides)."""
    from pypdf import PageObject, PdfReader, PdfWriter, Transformation
    from pypdf.generic import NameObject

    reader = PdfReader(BytesIO(pdf))
    sheet_w, sheet_h = (v * MM for v in SHEETS[sheet])
    first = reader.pages[0]
    page_w, page_h = float(first.mediabox.width), float(first.mediabox.height)
    if page_w * 2 > sheet_w + 0.5 or page_h > sheet_h + 0.5:
        raise ValueError(f"{page_w / MM:.0f} x {page_h / MM:.0f} mm pages do not fit two up on {sheet}")
    x0 = (sheet_w - 2 * page_w) / 2
    y0 = (sheet_h - page_h) / 2
    _, sides = booklet_order(len(reader.pages))
    writer = PdfWriter()
    for left, right in sides:
        side = PageObject.create_blank_page(width=sheet_w, height=sheet_h)
        for number, x in ((left, x0), (right, x0 + page_w)):
            if number is not None:
                side.merge_transformed_page(reader.pages[number - 1], Transformation().translate(x, y0))
        writer.add_page(side).compress_content_streams()
    writer._root_object[NameObject("/ViewerPreferences")] = _preferences()
    for key in ("/Title", "/Author", "/Subject", "/Keywords", "/Creator", "/CreationDate", "/ModDate"):
        if reader.metadata and key in reader.metadata:
            writer.add_metadata({key: reader.metadata[key]})
    writer.compress_identical_objects(remove_duplicates=True, remove_unreferenced=True)
    out = BytesIO()
    writer.write(out)
    return out.getvalue(), len(sides) // 2


def _preferences() -> Any:
    from pypdf.generic import BooleanObject, DictionaryObject, NameObject

    return DictionaryObject({
        NameObject("/PrintScaling"): NameObject("/None"),
        NameObject("/Duplex"): NameObject("/DuplexFlipShortEdge"),
        NameObject("/DisplayDocTitle"): BooleanObject(True),
    })
