"""Roman numerals: one function for the templates' filter, Word's numbering and the parts' page numbers."""

import pytest

from handbook.numerals import roman
from handbook.parts import formatted
from handbook.word import format_number


@pytest.mark.parametrize(("n", "text"), [(1, "I"), (4, "IV"), (9, "IX"), (14, "XIV"), (40, "XL"), (90, "XC"),
                                         (400, "CD"), (1994, "MCMXCIV"), (2026, "MMXXVI"), (3999, "MMMCMXCIX")])
def test_roman(n: int, text: str) -> None:
    assert roman(n) == text


@pytest.mark.parametrize("n", [0, -3, 4000])
def test_no_roman_form_gives_the_digits(n: int) -> None:
    assert roman(n) == str(n)


def test_the_parts_print_pages_as_css_counts_them() -> None:
    assert formatted(4, "lower-roman") == "iv" and formatted(4, "upper-roman") == "IV"
    assert formatted(4, "decimal") == "4"


def test_word_numbering_in_roman() -> None:
    assert format_number(12, "upperRoman") == "XII" and format_number(12, "lowerRoman") == "xii"
