"""A single build does only what it needs: no process pool for one job, no reading of the settings'
source for docstrings, the collector's threshold restored afterwards, nothing of a build imported for
``--help``, no interpreter teardown after the command (speed itself is measured in benchmarks/,
never here)."""

from __future__ import annotations

import gc
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, make_project
from pypdf import PdfReader

import handbook
from handbook.builder import BuildOptions, build
from handbook.config import Colors, Settings, reference

SINGLE_BUILD = """
import linecache, sys
from pathlib import Path
from handbook.builder import BuildOptions, build
report = build(Path(sys.argv[1]), BuildOptions(out=Path(sys.argv[2]), jobs={jobs}, only=("handbook",)))
assert report.ok, report.failed
print(len(report.written))
print("pool" if "concurrent.futures.process" in sys.modules else "no pool")
print("source read" if any(name.endswith("config.py") for name in linecache.cache) else "source not read")
"""


def run_build(project: Path, out: Path, jobs: int) -> list[str]:
    proc = subprocess.run([sys.executable, "-c", SINGLE_BUILD.format(jobs=jobs), str(project), str(out)],
                          capture_output=True, text=True, timeout=300, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split("\n")[:3]


def test_one_edition_builds_without_a_pool_or_the_settings_source(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    written, pool, source = run_build(project, tmp_path / "out", jobs=4)  # one edition: one job
    assert int(written) >= 2  # handbook.pdf and handbook.html
    assert len(PdfReader(tmp_path / "out" / "handbook.pdf").pages) > 2
    assert pool == "no pool"
    assert source == "source not read"


def test_many_editions_still_use_the_pool(tmp_path: Path) -> None:
    """The check above can fail: two editions with jobs 2 start the pool."""
    project = make_project(tmp_path / "p")
    for slug in ("alpha", "beta"):
        (project / "departments" / slug).mkdir(parents=True)
        (project / "departments" / slug / "department.yaml").write_text(f"name: {slug.title()}\n", encoding="utf-8")
    written, pool, _ = run_build(project, tmp_path / "out", jobs=2)
    assert int(written) >= 6
    assert pool == "pool"
    for slug in ("alpha", "beta"):
        assert (tmp_path / "out" / slug / "handbook.pdf").is_file()


def test_settings_reference_keeps_every_docstring() -> None:
    """docs/settings.md is made from the fields' docstrings, read from the source only for it."""
    text = reference()
    assert "| `primary` | str | '#7a1f1f' | Cover, headings and card fronts. |" in text
    assert "The handbook's title, on the cover and in the PDF metadata." in text
    assert text == (REPO / "docs" / "settings.md").read_text(encoding="utf-8")
    assert Colors.model_fields["primary"].description is None  # not read when the model was made
    assert Settings.model_fields["title"].description is None


def test_collector_threshold_is_restored_after_a_build(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    before = gc.get_threshold()
    assert build(project, BuildOptions(out=tmp_path / "out", only=("handbook",))).ok
    assert gc.get_threshold() == before


# What a command that renders nothing must not import: the renderer and everything a build needs.
HEAVY = {"weasyprint", "pydantic", "pydantic_core", "jinja2", "markdown_it", "fontTools", "PIL", "yaml",
         "tinycss2", "pydyf", "pypdf", "multiprocessing", "concurrent"}


def imported_by(*args: str) -> set[str]:
    """The top-level packages a real ``python -m handbook.cli ARGS`` imports (``-X importtime``
    lists every import on standard error as it happens, so the exit cannot hide one)."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "handbook.cli", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    names = re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s+([\w.]+)$", proc.stderr, re.M)
    assert {"handbook", "click"} <= set(names)
    return {name.split(".")[0] for name in names}


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["build", "--help"], ["serve", "--help"]])
def test_help_imports_nothing_a_build_needs(args: list[str]) -> None:
    assert imported_by(*args) & HEAVY == set()


def test_the_import_check_sees_a_build(tmp_path: Path) -> None:
    """The check above can fail: a build of one edition imports the renderer and the settings models,
    but still no process pool."""
    project = make_project(tmp_path / "p")
    found = imported_by("--project", str(project), "build", "--out", str(tmp_path / "out"), "--only", "handbook")
    assert {"weasyprint", "pydantic", "jinja2", "markdown_it", "yaml"} <= found
    assert "concurrent" not in found and "multiprocessing" not in found
    assert (tmp_path / "out" / "handbook.pdf").is_file()


def test_the_command_flushes_its_output_and_keeps_its_exit_code(tmp_path: Path) -> None:
    """The command leaves without the interpreter's teardown (handbook.cli.run): what it printed
    into a pipe arrives, and the exit codes are click's."""
    project = make_project(tmp_path / "p")
    buffered = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}

    def command(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "handbook.cli", "--project", str(project), *args],
                              cwd=REPO, capture_output=True, text=True, timeout=300, env=buffered)

    listed = command("departments")  # standard output is a pipe: block-buffered until flushed
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.startswith("no departments")
    built = command("build", "--out", str(tmp_path / "out"), "--only", "handbook", "--verbose")
    assert built.returncode == 0, built.stderr
    assert "file" in built.stderr.splitlines()[-1]  # the summary, the last line
    assert len(PdfReader(tmp_path / "out" / "handbook.pdf").pages) > 2
    assert command("build", "--jobs", "0").returncode == 2  # a usage error
    broken = command("build", "--only", "handbook", "--out", str(tmp_path / "out"), "--department", "nobody")
    assert broken.returncode == 1
    assert "nobody" in broken.stderr
    assert subprocess.run([sys.executable, "build.py", "--version"], cwd=REPO, capture_output=True, text=True,
                          timeout=60).stdout.strip().endswith(handbook.__version__)


def test_the_command_skips_the_interpreters_teardown() -> None:
    """What would run at the interpreter's exit (here a print registered with atexit; in a build,
    freeing WeasyPrint's caches object by object) does not run after the command."""
    code = ("import atexit, sys\n"
            "atexit.register(lambda: print('teardown'))\n"
            "sys.argv = ['handbook', '--version']\n"
            "from handbook.cli import run\n"
            "run()\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith(handbook.__version__)
    assert "teardown" not in proc.stdout
