"""Justified lines of Chinese (and Japanese, Korean) text.

WeasyPrint justifies a line by widening its spaces, and nothing else. A line of Chinese has no
spaces: ``text-align: justify`` leaves it as it is, and every line ends where its last character
happens to end — a ragged right edge, most visibly on the lines that Pango's line breaking (UAX #14)
shortened to keep a closing mark (，。、」）) off the start of the next line. :func:`install` teaches
WeasyPrint the CSS Text rule for these scripts (``text-justify: auto`` is inter-character there):
a justified line that holds a CJK character gets its extra width spread evenly between all its
characters, as letter spacing; every other line is justified at its spaces as before.

The layout itself is unchanged (line breaks, kinsoku, page breaks): only the lines' final
positions are. This module patches one function of WeasyPrint's inline layout
(``weasyprint.layout.inline.justify_line``, pinned ``weasyprint>=70,<71`` in pyproject.toml).
:data:`RELIES_ON` lists the exact signatures it relies on; when one differs, :func:`install` does
nothing (the lines stay ragged) and ``tests/test_chinese.py`` fails, naming the function.
:func:`handbook.pdf.font_config` installs it, where WeasyPrint's fonts are configured.
"""

from __future__ import annotations

import functools
import logging
import re
from typing import Any

from . import patching

log = logging.getLogger(__name__)

# Han (with its radicals, punctuation and extensions), kana, Bopomofo, Hangul, full-width forms.
CJK = re.compile("[\u2e80-\u9fff\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\ufe10-\ufe1f\ufe30-\ufe4f"
                 "\uff00-\uffef\U00020000-\U0003ffff]")

# WeasyPrint's functions this patch replaces or calls, with their parameters as it uses them.
RELIES_ON: dict[str, tuple[str, ...]] = {
    "weasyprint.layout.inline:justify_line": ("context", "line", "extra_width"),
    "weasyprint.layout.inline:add_word_spacing": ("context", "box", "justification_spacing", "x_advance"),
    "weasyprint.text.line_break:create_layout": ("text", "style", "context", "max_width", "justification_spacing"),
    "weasyprint.formatting_structure.boxes:Box.translate": ("self", "dx", "dy", "ignore_floats"),
}


def signature_problems() -> list[str]:
    """What differs between :data:`RELIES_ON` and the installed WeasyPrint (empty: the patch fits)."""
    return patching.signature_problems(RELIES_ON)


def _text_boxes(box: Any, boxes: Any) -> list[Any]:
    if isinstance(box, boxes.TextBox):
        return [box]
    if isinstance(box, (boxes.LineBox, boxes.InlineBox)):
        return [t for child in box.children if child.is_in_normal_flow() for t in _text_boxes(child, boxes)]
    return []


def install() -> None:
    """Justify lines holding CJK text between their characters (once per process)."""
    patching.install_once("CJK justification", RELIES_ON, _patch)


def _patch() -> None:
    from weasyprint.formatting_structure import boxes
    from weasyprint.layout import inline
    from weasyprint.text.line_break import create_layout

    original = inline.justify_line

    def spread(context: Any, box: Any, spacing: float, x_advance: float) -> float:
        """Like WeasyPrint's ``add_word_spacing``, with letter spacing after every character."""
        if isinstance(box, boxes.TextBox):
            box.position_x += x_advance
            if box.text:
                style = box.style.copy()
                current = style["letter_spacing"]
                style["letter_spacing"] = (0 if current == "normal" else current) + spacing
                box.style = style
                layout = create_layout(box.text, style, context, max_width=None,
                                       justification_spacing=box.justification_spacing)
                layout.deactivate()
                box.pango_layout = layout
                extra = spacing * len(box.text)
                box.width += extra
                x_advance += extra
        elif isinstance(box, (boxes.LineBox, boxes.InlineBox)):
            box.position_x += x_advance
            before = x_advance
            for child in box.children:
                if child.is_in_normal_flow():
                    x_advance = spread(context, child, spacing, x_advance)
            box.width += x_advance - before
        else:  # an image, an inline block: moved along
            box.translate(x_advance, 0)
        return x_advance

    @functools.wraps(original, assigned=())  # __wrapped__: signature_problems() sees the original
    def justify_line(context: Any, line: Any, extra_width: float) -> None:
        texts = _text_boxes(line, boxes)
        characters = sum(len(t.text) for t in texts)
        if characters and any(CJK.search(t.text) for t in texts):
            spread(context, line, extra_width / characters, 0)
        else:
            original(context, line, extra_width)

    inline.justify_line = justify_line
