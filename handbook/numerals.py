"""Roman numerals, written once: the templates' ``roman`` filter, Word's upperRoman/lowerRoman
numbering and the page numbers a part of a long edition prints (CSS ``lower-roman``)."""

from __future__ import annotations

_VALUES = ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
           (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))


def roman(n: int) -> str:
    """``n`` in upper-case Roman numerals; outside 1–3999 (where they have no form) the digits."""
    if n <= 0 or n >= 4000:
        return str(n)
    out = []
    for value, letters in _VALUES:
        count, n = divmod(n, value)
        out.append(letters * count)
    return "".join(out)
