"""handbook.yaml and other settings files: parsing with line numbers, validation with suggestions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import MINIMAL_SETTINGS, REPO

from handbook.config import FrontMatter, Settings, validate
from handbook.errors import Problem
from handbook.yamlfile import parse_yaml, read_yaml


def parse(text: str, offset: int = 0) -> tuple[object, list[Problem]]:
    return parse_yaml(text, Path("handbook.yaml"), "handbook.yaml", offset=offset)


def settings_problems(text: str) -> list[str]:
    doc, problems = parse(text)
    assert doc is not None, problems
    assert not problems, problems
    _, problems = validate(doc, Settings)
    return [str(p) for p in problems]


def line_of_text(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


# ----------------------------------------------------------------------------------------------
# The repository's own settings


def test_repository_handbook_yaml_is_valid() -> None:
    doc, problems = read_yaml(REPO / "handbook.yaml", "handbook.yaml")
    assert doc is not None and not problems
    settings, problems = validate(doc, Settings)
    assert not problems
    assert settings is not None
    assert settings.date == dt.date(2026, 11, 1)
    assert settings.page_size == "a5"


def test_minimal_settings_take_the_defaults() -> None:
    doc, _ = parse(MINIMAL_SETTINGS)
    settings, problems = validate(doc, Settings)
    assert not problems and settings is not None
    assert settings.page_size == "a5"
    assert settings.colors.primary.startswith("#")


# ----------------------------------------------------------------------------------------------
# Unknown keys, bad values


def test_unknown_key_suggests_the_closest() -> None:
    text = MINIMAL_SETTINGS + "colour:\n  primary: '#123456'\n"
    assert settings_problems(text) == [
        f"handbook.yaml:{line_of_text(text, 'colour:')}: colour: unknown key; did you mean colors?"]


def test_unknown_nested_key_suggests_within_its_group() -> None:
    text = MINIMAL_SETTINGS + "colors:\n  primry: '#123456'\n"
    assert settings_problems(text) == [
        f"handbook.yaml:{line_of_text(text, 'primry')}: colors.primry: unknown key; did you mean primary?"]


def test_unknown_key_without_a_close_match_lists_the_valid_keys() -> None:
    (problem,) = settings_problems(MINIMAL_SETTINGS + "zzzzzz: 1\n")
    assert "zzzzzz: unknown key; valid keys:" in problem
    assert "page_size" in problem and "colors" in problem


def test_bad_colour_names_the_line_and_the_format() -> None:
    text = MINIMAL_SETTINGS + "colors:\n  accent: red\n"
    (problem,) = settings_problems(text)
    assert problem.startswith(f"handbook.yaml:{line_of_text(text, 'accent')}: colors.accent: 'red' ")
    assert "#rrggbb" in problem


@pytest.mark.parametrize("value", ["'#12345'", "'#gggggg'", "'123456'"])
def test_malformed_hex_colours_are_refused(value: str) -> None:
    assert settings_problems(MINIMAL_SETTINGS + f"colors:\n  primary: {value}\n")


def test_colours_are_normalised_to_lowercase() -> None:
    doc, _ = parse(MINIMAL_SETTINGS + "colors:\n  primary: '#ABCDEF'\n")
    settings, _ = validate(doc, Settings)
    assert settings is not None and settings.colors.primary == "#abcdef"


def test_bad_date_names_the_line() -> None:
    text = MINIMAL_SETTINGS.replace("2026-01-15", "next tuesday")
    assert settings_problems(text) == [
        f"handbook.yaml:{line_of_text(text, 'date:')}: date: 'next tuesday' is not a date; write YYYY-MM-DD"]


def test_impossible_date_is_a_problem_not_a_crash() -> None:
    text = MINIMAL_SETTINGS.replace("2026-01-15", "2026-13-45")
    doc, problems = parse(text)
    if doc is not None:
        _, problems = validate(doc, Settings)
    assert [p.line for p in problems] == [line_of_text(text, "date:")]


def test_missing_date_is_required() -> None:
    text = MINIMAL_SETTINGS.replace("date: 2026-01-15\n", "")
    assert "date: required, but missing" in "\n".join(settings_problems(text))


def test_page_size_lists_the_choices() -> None:
    text = MINIMAL_SETTINGS + "page_size: b5\n"
    (problem,) = settings_problems(text)
    assert problem.startswith(f"handbook.yaml:{line_of_text(text, 'page_size')}: page_size: got 'b5'")
    for choice in ("a5", "a4", "letter"):
        assert choice in problem


def test_bad_language_tag() -> None:
    text = MINIMAL_SETTINGS.replace("language: en", "language: english!")
    (problem,) = settings_problems(text)
    assert problem.startswith(f"handbook.yaml:{line_of_text(text, 'language')}: language:")


def test_every_problem_is_reported_not_just_the_first() -> None:
    text = MINIMAL_SETTINGS + "page_size: b5\ncolour: x\ncolors:\n  accent: red\n"
    problems = settings_problems(text)
    assert len(problems) == 3
    assert {p.split(":")[1] for p in problems} == {str(line_of_text(text, k))
                                                   for k in ("page_size", "colour:", "accent")}


def test_a_list_instead_of_settings() -> None:
    doc, _ = parse("- title\n- date\n")
    _, problems = validate(doc, Settings)
    assert len(problems) == 1 and "expected 'key: value' settings" in problems[0].message


# ----------------------------------------------------------------------------------------------
# YAML syntax: the line of every problem


def test_tab_indentation_names_the_line() -> None:
    doc, problems = parse("title: T\ncolors:\n\tprimary: '#000000'\n")
    assert doc is None
    assert [str(p) for p in problems] == ["handbook.yaml:3: a tab is used for indentation; YAML needs spaces"]


def test_value_with_colon_needs_quotes() -> None:
    doc, problems = parse("title: T\nsubtitle: Rules: eight\ndate: 2026-01-01\n")
    assert doc is None
    assert len(problems) == 1 and problems[0].line == 2
    assert "needs quotes" in problems[0].message


def test_missing_colon_is_a_syntax_error_with_a_hint() -> None:
    doc, problems = parse("title: T\njust words\nlanguage: en\n")
    assert doc is None
    assert len(problems) == 1
    assert problems[0].message.startswith("YAML syntax error: could not find expected ':'")
    assert "'key: value'" in problems[0].message


def test_missing_colon_names_the_line_without_a_colon() -> None:
    _doc, problems = parse("title: T\njust words\nlanguage: en\n")
    assert problems[0].line == 2, str(problems[0])


def test_unclosed_bracket_is_a_syntax_error() -> None:
    doc, problems = parse("title: [unclosed\n")
    assert doc is None
    assert len(problems) == 1 and problems[0].message.startswith("YAML syntax error")


def test_unclosed_bracket_names_the_line_of_the_bracket() -> None:
    text = "title: Fine\nkeywords: [a, b\nlanguage: en\n"
    doc, problems = parse(text)
    assert doc is None
    assert problems[0].line == 2, str(problems[0])


def test_duplicate_key_names_the_second_line() -> None:
    text = MINIMAL_SETTINGS + "title: Again\n"
    _doc, problems = parse(text)
    assert [str(p) for p in problems] == [
        f"handbook.yaml:{len(text.splitlines())}: 'title' appears twice; keep one of them"]


def test_duplicate_nested_key() -> None:
    _doc, problems = parse("colors:\n  primary: '#000000'\n  accent: '#111111'\n  primary: '#222222'\n")
    assert [p.line for p in problems] == [4]
    assert "'primary' appears twice" in problems[0].message


def test_empty_file_is_empty_settings() -> None:
    doc, problems = parse("")
    assert doc is not None and not problems
    _, problems = validate(doc, Settings)
    assert {p.message for p in problems} == {"title: required, but missing", "date: required, but missing"}


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "handbook.yaml"
    path.write_bytes("title: Caf\xe9\n".encode("latin-1"))
    doc, problems = read_yaml(path, "handbook.yaml")
    assert doc is None
    assert "not UTF-8" in problems[0].message


# ----------------------------------------------------------------------------------------------
# Offsets: YAML that starts further down its file (chapter front matter)


def test_offset_moves_syntax_error_lines() -> None:
    _, problems = parse("title: T\nsummary: a: b\n", offset=1)
    assert [p.line for p in problems] == [3]


def test_offset_moves_tab_lines() -> None:
    _, problems = parse("title: T\n\tsummary: x\n", offset=1)
    assert [p.line for p in problems] == [3]


def test_offset_moves_validation_lines() -> None:
    doc, _ = parse("title: T\nshort: x\n", offset=1)
    _, problems = validate(doc, FrontMatter)
    assert [str(p) for p in problems] == ["handbook.yaml:3: short: unknown key; did you mean short_title?"]


def test_offset_moves_duplicate_key_lines() -> None:
    _, problems = parse("title: T\nsummary: a\ntitle: U\n", offset=1)
    assert [p.line for p in problems] == [4]
