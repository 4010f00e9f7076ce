"""Colour contrast: WCAG 2.1 ratios, a darker shade that passes, and `handbook check` naming the
setting's file and line (a warning; an error with --strict)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import MINIMAL_SETTINGS, REPO, make_project

from handbook.cli import main
from handbook.config import Colors
from handbook.contrast import AA_TEXT, PAIRS, darker, failures, luminance, ratio


def test_ratios_match_wcag_examples() -> None:
    assert ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic near miss
    assert ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert ratio("#fff", "#000") == ratio("#000000", "#ffffff")


@pytest.mark.parametrize(("color", "against"), [("#b8862b", "#ffffff"), ("#f2c200", "#ffffff"),
                                                ("#2f5233", "#d6a64f"), ("#9a4a00", "#f2c200")])
def test_darker_shade_passes_and_is_the_lightest_that_does(color: str, against: str) -> None:
    shade = darker(color, against)
    assert ratio(shade, against) >= AA_TEXT
    assert luminance(shade) < luminance(color)
    # Hardly darker than needed: within a few steps of the threshold.
    assert ratio(shade, against) < AA_TEXT + 0.15


def test_theme_defaults_and_the_example_departments_pass() -> None:
    assert failures(Colors().model_dump()) == []
    result = CliRunner().invoke(main, ["--project", str(REPO), "check", "--strict"])
    assert "contrast" not in result.output
    assert result.exit_code == 0, result.output


def test_every_pair_names_colours_the_settings_have() -> None:
    keys = set(Colors.model_fields)
    assert all(p.text in keys and p.background in keys for p in PAIRS)


def dept_project(root: Path, colors: str) -> Path:
    return make_project(root, {"departments": {"audit": {"department.yaml": (
        "# The audit office\nname: Audit Office\ncontact:\n  hotline: '1234'\n"
        f"colors:\n  primary: \"#1f3a5f\"\n  accent: \"{colors}\"\n")}}})


def test_check_warns_at_the_department_line_and_suggests_a_shade(tmp_path: Path) -> None:
    root = dept_project(tmp_path / "p", "#909090")  # grey on navy: 3.60:1 is too little for text
    result = CliRunner().invoke(main, ["--project", str(root), "check"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "contrast" in line]
    assert len(lines) == 1, result.output
    line = lines[0]
    assert line.startswith("departments/audit/department.yaml:6: warning: colors.primary:")
    assert "accent #909090 on primary #1f3a5f" in line and "3.60:1" in line
    suggestion = line.rsplit('"', 2)[1]
    assert ratio(suggestion, "#909090") >= AA_TEXT
    strict = CliRunner().invoke(main, ["--project", str(root), "check", "--strict"])
    assert strict.exit_code != 0
    assert "department.yaml:6" in strict.output


def test_check_warns_at_the_project_line_for_project_colours(tmp_path: Path) -> None:
    settings = MINIMAL_SETTINGS + "colors:\n  primary: \"#7a1f1f\"\n  muted: \"#999999\"\n"
    root = make_project(tmp_path / "p", settings=settings)
    line_no = settings.splitlines().index('  muted: "#999999"') + 1
    result = CliRunner().invoke(main, ["--project", str(root), "check"])
    lines = [line for line in result.output.splitlines() if "contrast" in line]
    assert lines == [line for line in lines if line.startswith(f"handbook.yaml:{line_no}: warning: colors.muted:")]
    assert len(lines) == 1, result.output
    assert "running heads, page numbers" in lines[0]


def test_the_line_comes_from_the_loaded_department_whatever_its_slug(tmp_path: Path) -> None:
    """The setting's place is the one the loader saw: a department folder named 审计 whose edition is
    called audit (its slug:) is warned about at its own file, not looked up again by the slug."""
    root = make_project(tmp_path / "p", {"departments": {"审计": {"department.yaml": (
        "name: Audit Office\nslug: audit\ncolors:\n  primary: \"#1f3a5f\"\n  accent: \"#909090\"\n")}}})
    result = CliRunner().invoke(main, ["--project", str(root), "check"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "contrast" in line]
    assert len(lines) == 1 and lines[0].startswith("departments/审计/department.yaml:4: warning: colors.primary:"), \
        result.output
