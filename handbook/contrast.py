"""Colour contrast of the theme's text (WCAG 2.1 AA), computed from an edition's ``colors``.

The theme draws text in a few colour pairs (:data:`PAIRS`); each must reach 4.5:1, the ratio
WCAG 2.1 AA asks of text under 18 pt (14 pt bold), since every pair carries some small text. A
failing pair is reported at the line of the setting that decides it (the department's
``department.yaml``, else ``handbook.yaml``), with the darker colour of the two darkened until it
passes. Pure functions, no I/O: ``checks.py`` reads the files.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

AA_TEXT = 4.5


@dataclass(frozen=True)
class Pair:
    text: str  # a key of ``colors``
    background: str
    where: str  # what the theme draws in it


PAIRS: tuple[Pair, ...] = (
    Pair("text", "paper", "body text"),
    Pair("text", "tint", "the summary and contact boxes"),
    Pair("primary", "paper", "headings, chapter numbers, the contents' numbers"),
    Pair("primary", "tint", "the reminder and its \"Remember\" label, the contact heading"),
    Pair("muted", "paper", "running heads, page numbers, captions"),
    Pair("paper", "primary", "the cover and the card fronts"),
    Pair("accent", "primary", "the department on the cover, labels and numbers on card fronts"),
)


def rgb(color: str) -> tuple[float, float, float]:
    """``#rrggbb`` or ``#rgb`` -> (r, g, b) in 0..1."""
    value = color.strip().lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    if len(value) != 6:
        raise ValueError(f"not a #rrggbb colour: {color!r}")
    r, g, b = (int(value[i:i + 2], 16) / 255 for i in (0, 2, 4))
    return r, g, b


def hex_color(r: float, g: float, b: float) -> str:
    return "#" + "".join(f"{round(max(0.0, min(1.0, c)) * 255):02x}" for c in (r, g, b))


def luminance(color: str) -> float:
    """WCAG 2.1 relative luminance."""

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def ratio(a: str, b: str) -> float:
    """The contrast ratio of two colours, 1 to 21."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def darker(color: str, against: str, target: float = AA_TEXT) -> str:
    """``color`` with its lightness lowered (hue and saturation kept) until it reaches ``target``
    against ``against``: the lightest such shade, so the design changes as little as it can."""
    h, lightness, s = colorsys.rgb_to_hls(*rgb(color))
    low, high = 0.0, lightness
    if ratio(hex_color(*colorsys.hls_to_rgb(h, 0.0, s)), against) < target:
        return "#000000"
    for _ in range(30):  # bisection on lightness
        mid = (low + high) / 2
        if ratio(hex_color(*colorsys.hls_to_rgb(h, mid, s)), against) >= target:
            low = mid
        else:
            high = mid
    shade = hex_color(*colorsys.hls_to_rgb(h, low, s))
    while ratio(shade, against) < target:  # rounding to #rrggbb can fall just short
        h2, l2, s2 = colorsys.rgb_to_hls(*rgb(shade))
        shade = hex_color(*colorsys.hls_to_rgb(h2, max(0.0, l2 - 0.004), s2))
    return shade


@dataclass(frozen=True)
class Failure:
    pair: Pair
    ratio: float
    key: str  # the setting to change: the darker colour of the two
    suggestion: str  # a darker shade of it that passes

    def message(self, colors: dict[str, str]) -> str:
        p = self.pair
        return (f"colors.{self.key}: {p.text} {colors[p.text]} on {p.background} {colors[p.background]} "
                f"({p.where}) has a contrast of {self.ratio:.2f}:1; WCAG AA asks {AA_TEXT}:1 for text. "
                f"A darker {self.key} that passes: \"{self.suggestion}\"")


def failures(colors: dict[str, str]) -> list[Failure]:
    """Every pair of :data:`PAIRS` under 4.5:1 for these colours."""
    found = []
    for pair in PAIRS:
        fg, bg = colors[pair.text], colors[pair.background]
        value = ratio(fg, bg)
        if value >= AA_TEXT:
            continue
        key, other = (pair.text, pair.background) if luminance(fg) <= luminance(bg) else (pair.background, pair.text)
        found.append(Failure(pair, value, key, darker(colors[key], colors[other])))
    return found
