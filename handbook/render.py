"""Model + templates -> HTML: the print HTML handed to WeasyPrint, and the self-contained web page.

Print HTML carries ``<base href>`` pointing at the project root (relative to the output folder),
so the saved ``*.print.html`` resolves its assets exactly as WeasyPrint did. Stylesheets are
linked, never inlined, so they too go through the project-only fetcher.
"""

from __future__ import annotations

import base64
import mimetypes
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from . import __version__
from .config import PAGE_SIZES
from .model import Edition
from .theme import render_template

LABELS: dict[str, dict[str, str]] = {
    "en": {"contents": "Contents", "remember": "Remember", "published_by": "Published by",
           "report": "To report a problem", "reminders": "Reminders", "card": "Card"},
    "zh": {"contents": "目录", "remember": "牢记", "published_by": "编印：", "report": "举报与监督",
           "reminders": "廉洁提醒", "card": "卡片"},
}


def labels_for(language: str) -> dict[str, str]:
    return LABELS.get(language.split("-")[0].lower(), LABELS["en"])


def stylesheets_for(edition: Edition, document: str, target: str = "print") -> list[Path]:
    """The stylesheets of one document, project's first, then the department's.

    ``handbook*.css`` apply to the handbook, ``cards*.css`` to the cards, ``web*.css`` to the web
    page only; any other name (``theme.css``) applies to every document.
    """
    chosen = []
    for path in edition.stylesheets:
        name = path.name
        if name.startswith("web"):
            if target == "web" and document == "handbook":
                chosen.append(path)
        elif name.startswith("handbook"):
            if document == "handbook":
                chosen.append(path)
        elif name.startswith("cards"):
            if document == "cards":
                chosen.append(path)
        else:
            chosen.append(path)
    return chosen


def variables_css(edition: Edition, document: str) -> str:
    """The settings a stylesheet needs: colours and, for the handbook, the page size."""
    s = edition.settings
    css = [":root {", f"  --primary: {s.colors.primary};", f"  --accent: {s.colors.accent};"]
    if document == "handbook":
        w, h = PAGE_SIZES[s.page_size]
        css += [f"  --page-width: {w}mm;", f"  --page-height: {h}mm;", "}",
                f"@page {{ size: {w}mm {h}mm; }}"]
    else:
        css.append("}")
    return "\n".join(css) + "\n"


def base_href(root: Path, out_dir: Path) -> str:
    """The project root as seen from the output folder, for ``<base href>``."""
    rel = os.path.relpath(root.resolve(), out_dir.resolve())
    return "./" if rel == "." else Path(rel).as_posix() + "/"


def _styles_markup(edition: Edition, document: str, target: str) -> Markup:
    root = edition.root.resolve()
    parts = [f"<style>\n{variables_css(edition, document)}</style>"]
    for path in stylesheets_for(edition, document, target):
        if target == "print":
            href = path.resolve().relative_to(root).as_posix()
            parts.append(f'<link rel="stylesheet" href="{escape(href)}">')
        else:
            parts.append(f"<style>\n{path.read_text(encoding='utf-8')}\n</style>")
    return Markup("\n".join(parts))


def context(edition: Edition, *, target: str, out_dir: Path, document: str,
            extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What every template sees."""
    return {
        "handbook": edition.settings,
        "chapters": edition.chapters,
        "cards": edition.deck,
        "department": edition.department,
        "target": target,
        "labels": labels_for(edition.settings.language),
        "styles": _styles_markup(edition, document, target),
        "base_href": base_href(edition.root, out_dir) if target == "print" else None,
        "version": __version__,
        **(extra or {}),
    }


def handbook_html(edition: Edition, *, target: str, out_dir: Path) -> str:
    """The handbook: ``target="print"`` for WeasyPrint, ``"web"`` for the self-contained page."""
    html = render_template(edition.template_dirs, edition.root, "handbook.html.j2",
                           context(edition, target=target, out_dir=out_dir, document="handbook"))
    if target == "web":
        html = inline_images(html, edition.root)
    return html


_SRC = re.compile(r'(<img\b[^>]*?\bsrc=")([^"]+)(")')


def inline_images(html: str, root: Path) -> str:
    """Project images -> data: URLs, so the web page stands alone."""

    def repl(m: re.Match[str]) -> str:
        url = m[2]
        if ":" in url.split("/")[0]:
            return m[0]
        path = (root / url).resolve()
        if not path.is_relative_to(root.resolve()) or not path.is_file():
            return m[0]
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        data = base64.b64encode(path.read_bytes()).decode()
        return f"{m[1]}data:{mime};base64,{data}{m[3]}"

    return _SRC.sub(repl, html)


def card_pages(edition: Edition, layout: str) -> tuple[list[dict[str, Any]], tuple[float, float]]:
    """What the cards template places, page by page, and the page size in mm."""
    from .cards import ShopPage, grid_for, sheets

    deck = edition.deck
    pages: list[dict[str, Any]] = []
    if layout == "sheets":
        grid = grid_for(deck.size, deck.sheet)
        marks = grid.cut_marks()
        for n, sheet in enumerate(sheets(len(deck.cards), grid, deck.duplex), start=1):
            pages.append({"side": "front", "sheet": n, "places": sheet.fronts, "marks": marks})
            pages.append({"side": "back", "sheet": n, "places": sheet.backs, "marks": marks})
        return pages, (grid.sheet_w, grid.sheet_h)
    shop = ShopPage(*deck.size)
    from .cards import Placement

    for i in range(len(deck.cards)):
        for side in ("front", "back"):
            place = Placement(i, 0, 0, shop.offset, shop.offset)
            pages.append({"side": side, "sheet": i + 1, "places": (place,), "marks": shop.crop_marks()})
    return pages, (shop.width, shop.height)


def cards_html(edition: Edition, *, layout: str, out_dir: Path,
               scale: Mapping[tuple[int, str], float] | None = None) -> str:
    """The cards: ``layout="sheets"`` (office duplex sheets) or ``"shop"`` (one side per page)."""
    pages, (page_w, page_h) = card_pages(edition, layout)
    extra = {"layout": layout, "pages": pages, "page_w": f"{page_w:.3f}", "page_h": f"{page_h:.3f}",
             "card_w": f"{edition.deck.size[0]:.3f}", "card_h": f"{edition.deck.size[1]:.3f}",
             "scale": dict(scale or {})}
    return render_template(edition.template_dirs, edition.root, "cards.html.j2",
                           context(edition, target="print", out_dir=out_dir, document="cards",
                                   extra=extra))
