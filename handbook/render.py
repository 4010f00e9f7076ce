"""Model + templates -> HTML: the print HTML handed to WeasyPrint, and the self-contained web page.

Print HTML carries ``<base href>`` pointing at the project root (relative to the output folder),
so the saved ``*.print.html`` resolves its assets exactly as WeasyPrint did. Stylesheets are
linked, never inlined, so they too go through the project-only fetcher.

The ``preview`` target is that print HTML for a browser (``handbook serve``): templates see
``target == "print"``, but there is no ``<base>``, its stylesheets and images are inlined as
``data:`` URLs, and a screen stylesheet draws every part of the book as a sheet of its page size.
"""

from __future__ import annotations

import base64
import html as html_lib
import mimetypes
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from . import __version__, css, outputs
from .assets import local_file  # the asset policy: what a URL in the project names
from .config import PAGE_SIZES
from .model import Edition
from .plain import to_data
from .theme import TemplateLimits, render_template

# Words the templates print. ``space`` joins a label and a value ("Published by X", "编印：X");
# ``comma`` separates the edition from the date.
LABELS: dict[str, dict[str, str]] = {
    "en": {"contents": "Contents", "remember": "Remember", "published_by": "Published by",
           "report": "To report a problem", "reminders": "Reminders", "card": "Card",
           "hotline": "Hotline", "space": " ", "comma": ", ", "summary": "In brief", "email": "E-mail",
           "pdf": "The handbook as a PDF, with page numbers for printing"},
    "zh": {"contents": "目录", "remember": "牢记", "published_by": "编印：", "report": "监督举报",
           "reminders": "廉洁提醒", "card": "卡片", "hotline": "举报电话", "space": "", "comma": "，",
           "summary": "要点", "email": "电子邮箱", "pdf": "PDF 版（可打印，带页码）"},
    "zh-Hant": {"contents": "目錄", "remember": "牢記", "published_by": "編印：", "report": "監督舉報",
                "reminders": "廉潔提醒", "card": "卡片", "hotline": "舉報電話", "space": "", "comma": "，",
                "summary": "要點", "email": "電子郵箱", "pdf": "PDF 版（可列印，帶頁碼）"},
}
TRADITIONAL = ("hant", "tw", "hk", "mo")  # zh-Hant, zh-TW, zh-HK, zh-MO: traditional characters


def labels_for(language: str) -> dict[str, str]:
    parts = language.lower().split("-")
    if parts[0] == "zh" and any(p in TRADITIONAL for p in parts[1:]) and "hans" not in parts:
        return LABELS["zh-Hant"]
    return LABELS.get(parts[0], LABELS["en"])


def stylesheets_for(edition: Edition, document: str, target: str = "print") -> list[Path]:
    """The stylesheets of one document, project's first, then the department's.

    A stylesheet named after a document's prefix (:mod:`handbook.outputs`: ``handbook*.css``,
    ``cards*.css``; ``web*.css`` for the handbook's web page only) applies to that document alone;
    any other name (``theme.css``) applies to every document.
    """
    chosen = []
    for path in edition.stylesheets:
        owner = outputs.stylesheet_owner(path.name)
        if owner is None or (owner[0].name == document and (owner[1] == "print" or target == "web")):
            chosen.append(path)
    return chosen


def device_cmyk(hex_color: str) -> str:
    """#rrggbb -> device-cmyk(c m y k), the naive conversion (for PDF/X, where RGB is not allowed)."""
    value = hex_color.lstrip("#")
    if len(value) == 3:
        value = "".join(ch * 2 for ch in value)
    r, g, b = (int(value[i:i + 2], 16) / 255 for i in (0, 2, 4))
    k = 1 - max(r, g, b)
    if k >= 1:
        return "device-cmyk(0 0 0 1)"
    c, m, y = ((1 - x - k) / (1 - k) for x in (r, g, b))
    return f"device-cmyk({c:.3f} {m:.3f} {y:.3f} {k:.3f})"


@dataclass(frozen=True)
class PrintOptions:
    """How the print HTML is made: plain, for the print shop (bleed, marks), as PDF/X (CMYK)."""

    print_shop: bool = False
    bleed: float = 3.0  # mm
    cmyk: bool = False
    cmyk_profile: str | None = None  # URL of the CMYK ICC profile (PDF/X output intent)


SLUG_MM = 6.0  # room for crop marks outside the bleed


def css_string(text: str) -> str:
    """``text`` as a quoted CSS string, safe inside ``<style>`` ("" for no text)."""
    if not text:
        return ""
    escaped = "".join(ch if ch.isprintable() and ch not in '\\"<>&' else f"\\{ord(ch):x} " for ch in text)
    return f'"{escaped}"'


def variables_css(edition: Edition, document: str, options: PrintOptions = PrintOptions()) -> str:
    """The settings a stylesheet needs: colours, the page size, bleed and marks, the CMYK profile."""
    s = edition.settings
    convert = device_cmyk if options.cmyk else (lambda c: c)
    css = [":root {"] + [f"  --{name}: {convert(value)};" for name, value in s.colors.model_dump().items()]
    if document == "handbook":
        w, h = PAGE_SIZES[s.page_size]
        css += [f"  --page-width: {w}mm;", f"  --page-height: {h}mm;", "}",
                f"@page {{ size: {w}mm {h}mm; }}"]
        if "{n}" in s.page_label and s.page_label != "{n}":
            # "第 {n} 页": the footer of chapter pages (front matter keeps i, ii; blank pages none).
            before, after = s.page_label.split("{n}", 1)
            label = " ".join(p for p in (css_string(before), "counter(page)", css_string(after)) if p)
            css += [f"@page body {{ @bottom-center {{ content: {label}; }} }}",
                    "@page body:blank { @bottom-center { content: none; } }"]
        if options.print_shop:
            css += [f"@page {{ bleed: {options.bleed + SLUG_MM:g}mm; marks: crop; }}",
                    # The colour runs into the bleed: a border of the same colour, the box moved out by it.
                    f":root .cover {{ box-sizing: border-box; border: {options.bleed:g}mm solid var(--primary); "
                    f"margin: -{options.bleed:g}mm; height: {h + 2 * options.bleed:g}mm; }}",
                    f":root .back-band {{ border: solid var(--primary); border-width: {options.bleed:g}mm "
                    f"{options.bleed:g}mm 0; top: -{options.bleed:g}mm; left: -{options.bleed:g}mm; "
                    f"right: -{options.bleed:g}mm; }}"]
    else:
        css.append("}")
    if options.cmyk and options.cmyk_profile:
        css.append(f'@color-profile device-cmyk {{ src: url("{options.cmyk_profile}"); '
                   "components: cyan magenta yellow black; }")
    return "\n".join(css) + "\n"


def base_href(root: Path, out_dir: Path) -> str:
    """The project root as seen from the output folder, for ``<base href>``."""
    rel = os.path.relpath(root.resolve(), out_dir.resolve())
    return "./" if rel == "." else Path(rel).as_posix() + "/"


def _styles_markup(edition: Edition, document: str, target: str, options: PrintOptions) -> Markup:
    root = edition.root.resolve()
    parts = [f"<style>\n{variables_css(edition, document, options)}</style>"]
    for path in stylesheets_for(edition, document, target):
        if target == "print":
            href = path.resolve().relative_to(root).as_posix()
            parts.append(f'<link rel="stylesheet" href="{escape(href)}">')
        elif target == "preview":
            parts.append(f"<style>\n{preview_css(path, root)}\n</style>")
        else:
            parts.append(f"<style>\n{web_css(path.read_text(encoding='utf-8'))}\n</style>")
    if target == "preview":
        sheets = (resources.files("handbook") / "static" / "sheets.css").read_text(encoding="utf-8")
        parts.append(f'<style id="handbook-serve-sheets">\n{sheets}</style>')
    return Markup("\n".join(parts))


def preview_css(path: Path, root: Path) -> str:
    """A stylesheet for the preview: what its ``url()``s name in the project, inlined as ``data:`` URLs."""

    def inline(url: str) -> str | None:
        found = local_file(url.strip(), path.parent, root)
        return data_url(found) if found else None

    return css.with_urls(path.read_text(encoding="utf-8", errors="replace"), inline)


def web_css(text: str) -> str:
    """A stylesheet for the self-contained web page: the fonts that ship with the package
    (``handbook:fonts/...``, for print) are left out of ``src``, so browsers use ``local()`` faces."""
    return css.without_font_sources(text, lambda url: url.lower().startswith("handbook:"))


def context(edition: Edition, *, target: str, out_dir: Path, document: str,
            extra: Mapping[str, Any] | None = None, options: PrintOptions = PrintOptions()) -> dict[str, Any]:
    """What every template sees: plain, immutable data (:func:`handbook.plain.to_data`)."""
    values = {
        "handbook": edition.settings,
        "chapters": edition.chapters,
        "cards": edition.deck,
        "department": edition.department,
        "target": "print" if target == "preview" else target,  # the preview is the print HTML, in a browser
        "labels": labels_for(edition.settings.language),
        "styles": _styles_markup(edition, document, target, options),
        "print_shop": options.print_shop,
        "base_href": base_href(edition.root, out_dir) if target == "print" else None,
        "version": __version__,
        **(extra or {}),
    }
    return {name: to_data(value, name) for name, value in values.items()}


def template_limits(edition: Edition) -> TemplateLimits:
    """The edition's limits for one render of a template (``limits`` in handbook.yaml)."""
    limits = edition.settings.limits
    return TemplateLimits(limits.template_seconds, limits.template_characters, limits.template_steps)


def document_html(edition: Edition, document: str, *, target: str, out_dir: Path,
                  extra: Mapping[str, Any] | None = None, options: PrintOptions = PrintOptions()) -> str:
    """A registered document's template (:mod:`handbook.outputs`) rendered for ``target``."""
    return render_template(edition.template_dirs, edition.root, outputs.get(document).template,
                           context(edition, target=target, out_dir=out_dir, document=document, extra=extra,
                                   options=options), template_limits(edition))


def handbook_html(edition: Edition, *, target: str, out_dir: Path, options: PrintOptions = PrintOptions()) -> str:
    """The handbook: ``target="print"`` for WeasyPrint, ``"web"`` for the self-contained page,
    ``"preview"`` for ``handbook serve`` (the print HTML standing alone, drawn as sheets)."""
    html = document_html(edition, "handbook", target=target, out_dir=out_dir, options=options)
    if target in ("web", "preview"):
        html = inline_images(html, edition.root)
    return html


def handbook_pages(edition: Edition, out_dir: Path) -> dict[str, str]:
    """The handbook's HTML without PDFs (``handbook check``): print and web."""
    return {"handbook.print.html": handbook_html(edition, target="print", out_dir=out_dir),
            "handbook.html": handbook_html(edition, target="web", out_dir=out_dir)}


_SRC = re.compile(r'(<img\b[^>]*?\bsrc=")([^"]+)(")')


def data_url(path: Path) -> str:
    """A file as a ``data:`` URL."""
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def inline_images(html: str, root: Path) -> str:
    """Project images -> data: URLs, so the web page stands alone."""

    def repl(m: re.Match[str]) -> str:
        path = local_file(html_lib.unescape(m[2]), root, root)
        return f"{m[1]}{data_url(path)}{m[3]}" if path else m[0]

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
               scale: Mapping[tuple[int, str], float] | None = None, options: PrintOptions = PrintOptions()) -> str:
    """The cards: ``layout="sheets"`` (office duplex sheets) or ``"shop"`` (one side per page)."""
    pages, (page_w, page_h) = card_pages(edition, layout)
    extra = {"layout": layout, "pages": pages, "page_w": f"{page_w:.3f}", "page_h": f"{page_h:.3f}",
             "card_w": f"{edition.deck.size[0]:.3f}", "card_h": f"{edition.deck.size[1]:.3f}",
             "scale": dict(scale or {})}
    return document_html(edition, "cards", target="print", out_dir=out_dir, extra=extra, options=options)


def cards_pages(edition: Edition, out_dir: Path) -> dict[str, str]:
    """The cards' HTML without PDFs (``handbook check``): both layouts, when there are cards."""
    if not edition.deck.cards:
        return {}
    return {"cards.print.html": cards_html(edition, layout="sheets", out_dir=out_dir),
            "cards-print-shop.print.html": cards_html(edition, layout="shop", out_dir=out_dir)}
