"""A single build does only what it needs: no process pool for one job, no reading of the settings'
source for docstrings, the collector's threshold restored afterwards (speed itself is measured in
benchmarks/, never here)."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

from conftest import REPO, make_project
from pypdf import PdfReader

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
