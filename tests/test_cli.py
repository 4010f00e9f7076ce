"""The command line, through click's CliRunner on ``handbook.cli.main`` and as real subprocesses."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import MINIMAL_SETTINGS, REPO, make_project
from pypdf import PdfReader

import handbook
from handbook.cli import main

LINE = re.compile(r"^(?P<path>\S+)\s+(?:(?P<pages>\d+) pages)?\s+(?P<size>\d+(?:\.\d+)? (?:B|KB|MB))"
                  r"\s+(?P<seconds>\d+\.\d) s$")


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("cli") / "project")


@pytest.fixture(scope="module")
def built(project: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, Path]:
    out = tmp_path_factory.mktemp("cli-out") / "out"
    return run("--project", str(project), "build", "--out", str(out), "--save-html"), out


# ----------------------------------------------------------------------------------------------
# build


def test_build_exits_0(built: tuple[Result, Path]) -> None:
    result, out = built
    assert result.exit_code == 0, result.output
    assert (out / "handbook.pdf").is_file()
    assert (out / "handbook.html").is_file()


def test_build_save_html_writes_the_print_html(built: tuple[Result, Path]) -> None:
    result, out = built
    html = (out / "handbook.print.html").read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert "handbook.print.html" in result.stdout


def test_build_prints_one_line_per_written_file(built: tuple[Result, Path]) -> None:
    result, out = built
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    written = sorted(p.resolve() for p in out.rglob("*") if p.is_file() and not p.name.startswith("."))
    assert written
    printed = []
    for line in lines:
        m = LINE.match(line)
        assert m, f"not a '<path> N pages <size> <seconds> s' line: {line!r}"
        printed.append(Path(m["path"]).resolve())
    assert sorted(printed) == written


def test_build_line_reports_pages_size_and_seconds(built: tuple[Result, Path]) -> None:
    result, _out = built
    for line in result.stdout.splitlines():
        m = LINE.match(line)
        assert m, line
        path = Path(m["path"]).resolve()
        if path.suffix == ".pdf":
            assert m["pages"] is not None, line
            assert int(m["pages"]) == len(PdfReader(path).pages), line
        else:
            assert m["pages"] is None, line
        size = path.stat().st_size
        value, unit = m["size"].split()
        scale = {"B": 1, "KB": 1024, "MB": 1024 * 1024}[unit]
        assert abs(float(value) * scale - size) <= scale, (line, size)
        assert float(m["seconds"]) >= 0  # how long it took is measured in benchmarks/, not bounded here


def test_build_reports_the_handbook_page_count(built: tuple[Result, Path]) -> None:
    result, out = built
    pages = len(PdfReader(out / "handbook.pdf").pages)
    assert re.search(rf"handbook\.pdf\s+{pages} pages\s", result.stdout), result.stdout


def test_build_from_a_subfolder_finds_handbook_yaml(project: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project / "content")
    result = run("build", "--out", str(tmp_path / "out"), "--only", "handbook")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "handbook.pdf").is_file()
    assert not (project / "content" / "dist").exists()


def test_build_outside_any_project_exits_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("build", "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "no handbook.yaml found" in result.output
    no_traceback(result)


def test_broken_handbook_yaml_exits_1_naming_the_line(scratch, tmp_path: Path) -> None:
    root = scratch(settings="title: [unclosed\n")
    result = run("--project", str(root), "build", "--out", str(tmp_path / "out"))
    assert result.exit_code == 1, result.output
    assert re.search(r"^handbook\.yaml:\d+: ", result.output, re.M), result.output
    no_traceback(result)
    assert not (tmp_path / "out" / "handbook.pdf").exists()


def test_invalid_setting_exits_1_naming_file_line_and_key(scratch, tmp_path: Path) -> None:
    root = scratch(settings=MINIMAL_SETTINGS + "colour:\n  primary: '#123456'\n")
    result = run("--project", str(root), "build", "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "handbook.yaml:10: colour: unknown key; did you mean colors?" in result.output
    no_traceback(result)


def test_broken_chapter_exits_1_naming_the_chapter_line(scratch, tmp_path: Path) -> None:
    root = scratch({"content": {"03-broken.md": "---\ntitle: Broken\nsumary: typo\n---\n\nText.\n"}})
    result = run("--project", str(root), "build", "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "content/03-broken.md:3: sumary: unknown key; did you mean summary?" in result.output
    no_traceback(result)


def test_impossible_date_exits_1_without_traceback(scratch, tmp_path: Path) -> None:
    root = scratch(settings=MINIMAL_SETTINGS.replace("2026-01-15", "2026-13-45"))
    result = run("--project", str(root), "build", "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    no_traceback(result)
    assert "handbook.yaml:5:" in result.output


def test_unknown_command_is_a_usage_error() -> None:
    result = run("bogus")
    assert result.exit_code == 2
    assert "No such command" in result.output


def test_unknown_option_is_a_usage_error() -> None:
    result = run("build", "--no-such-option")
    assert result.exit_code == 2
    assert "Usage:" in result.output


def test_bad_choice_is_a_usage_error() -> None:
    result = run("build", "--only", "posters")
    assert result.exit_code == 2
    assert "'posters' is not one of" in result.output


# ----------------------------------------------------------------------------------------------
# --version, --help


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.output.strip() == f"handbook, version {handbook.__version__}"


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_lists_the_commands(flag: str) -> None:
    result = run(flag)
    assert result.exit_code == 0
    commands = result.output.split("Commands:", 1)[1]
    listed = {line.split()[0] for line in commands.splitlines() if line.strip()}
    assert "build" in listed
    assert listed == set(main.commands)


def test_help_examples_name_real_commands() -> None:
    result = run("--help")
    for used in re.findall(r"^\s+handbook (\S+)", result.output, re.M):
        assert used in main.commands, f"--help shows 'handbook {used}', which does not exist"


def test_build_help_lists_its_options() -> None:
    result = run("build", "--help")
    assert result.exit_code == 0
    for option in ("--out", "--save-html", "--only", "--department", "--strict"):
        assert option in result.output


def python(code: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True,
                          timeout=60)


IMPORTS = """
import sys
from click.testing import CliRunner
from handbook.cli import main
result = CliRunner().invoke(main, {args!r})
assert result.exit_code == 0, result.output
print('weasyprint' in sys.modules, 'handbook.pdf' in sys.modules)
"""


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["build", "--help"]])
def test_help_and_version_do_not_import_weasyprint(args: list[str]) -> None:
    proc = python(IMPORTS.format(args=args))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "False"]


def test_import_check_sees_weasyprint_when_it_is_imported() -> None:
    """The check above can fail: importing the renderer does load WeasyPrint."""
    proc = python("import sys, handbook.pdf; print('weasyprint' in sys.modules)")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "True"


def test_build_py_help() -> None:
    proc = subprocess.run([sys.executable, "build.py", "--help"], cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "Usage:" in proc.stdout
    assert "build" in proc.stdout.split("Commands:", 1)[1]


def test_real_cli_user_error_has_no_traceback(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project", settings="title: [unclosed\n")
    proc = subprocess.run([sys.executable, str(REPO / "build.py"), "--project", str(root), "build",
                           "--out", str(tmp_path / "out")], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert re.search(r"^handbook\.yaml:\d+: YAML syntax error", proc.stderr, re.M), proc.stderr

