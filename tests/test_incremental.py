"""Incremental and parallel builds: what is rebuilt after each kind of change, and what is not.

The cache must never serve a stale PDF: every kind of input is changed once here, and the test
checks which editions were written again and that the new PDF shows the change.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import build_ok, chapter, make_project, pdftotext

from handbook import cache
from handbook.builder import BuildOptions, build
from handbook.cli import main

DEPARTMENTS = {
    "departments": {
        "alpha": {"department.yaml": "name: Alpha Unit\n"},
        "beta": {"department.yaml": "name: Beta Unit\n"},
    },
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with two departments, an image outside content/, built once."""
    root = make_project(tmp_path_factory.mktemp("inc") / "p", DEPARTMENTS)
    (root / "images").mkdir()
    shutil.copy(Path(__file__).parent.parent / "departments" / "finance" / "logo.svg", root / "images" / "mark.svg")
    (root / "content" / "03-with-image.md").write_text(
        chapter("With an image", "![A mark](../images/mark.svg)\n\nText."), encoding="utf-8")
    build_ok(root, root / "dist", jobs=1)
    return root


@pytest.fixture
def project(built: Path, tmp_path: Path) -> Path:
    """A fresh copy of the built project (with its dist/ and state), for one change."""
    dest = tmp_path / "p"
    shutil.copytree(built, dest, symlinks=True)
    return dest


def rebuilt(root: Path, **options: object) -> set[str]:
    """Build again; the editions that wrote anything."""
    report = build_ok(root, root / "dist", jobs=1, **options)
    return {o.edition for o in report.written}


ALL = {"organisation-wide", "alpha", "beta"}


def test_nothing_changed_nothing_written(project: Path) -> None:
    before = {p: p.read_bytes() for p in (project / "dist").rglob("*.pdf")}
    report = build(project, BuildOptions(out=project / "dist"))
    assert report.ok and report.written == []
    assert {o.status for o in report.outputs} == {"up to date"}
    assert len(report.outputs) == 3 * 4  # every output of every edition is accounted for
    assert {p: p.read_bytes() for p in (project / "dist").rglob("*.pdf")} == before


def test_touching_a_file_without_changing_it_rebuilds_nothing(project: Path) -> None:
    (project / "content" / "01-first-point.md").touch()
    assert rebuilt(project) == set()


def test_a_chapter_change_rebuilds_every_edition(project: Path) -> None:
    path = project / "content" / "01-first-point.md"
    path.write_text(path.read_text().replace("The first point's text.", "A sentence added today."))
    assert rebuilt(project) == ALL
    for pdf in [project / "dist" / "handbook.pdf", project / "dist" / "beta" / "handbook.pdf"]:
        assert "A sentence added today." in pdftotext(pdf)


def test_cards_made_from_the_same_html_are_not_laid_out_again(project: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    """A chapter's text changes no card: the edition is rebuilt, but its two card PDFs are the last
    build's (kept in the project's cache by their HTML and the files they read); a changed card is
    laid out again, and --force lays out every card."""
    caplog.set_level(logging.INFO, logger="handbook.documents")
    before = (project / "dist" / "cards.pdf").read_bytes()
    path = project / "content" / "01-first-point.md"
    path.write_text(path.read_text().replace("The first point's text.", "A sentence added today."))
    assert rebuilt(project) == ALL
    reused = [r.getMessage() for r in caplog.records if "as the last build made it" in r.getMessage()]
    assert len(reused) == 2 * len(ALL), reused
    assert (project / "dist" / "cards.pdf").read_bytes() == before
    assert not list((project / "dist").glob(".*/"))  # the cache is the project's, not the output folder's
    caplog.clear()
    second = project / "content" / "02-second-point.md"  # its reminder is a card's text
    second.write_text(second.read_text(encoding="utf-8").replace("Second reminder.", "A card changed today."),
                      encoding="utf-8")
    assert rebuilt(project) == ALL
    assert not [r for r in caplog.records if "as the last build made it" in r.getMessage()]
    assert "A card changed today" in pdftotext(project / "dist" / "alpha" / "cards.pdf")
    caplog.clear()
    assert rebuilt(project, force=True) == ALL
    assert not [r for r in caplog.records if "as the last build made it" in r.getMessage()]
    for damaged, text in zip(sorted((project / ".handbook-cache").rglob("*.json")), ("{}", "[]", '{"fetched": 1}'),
                             strict=False):
        damaged.write_text(text, encoding="utf-8")  # a damaged cache is laid out again, not an error
    for pdf in (project / ".handbook-cache").rglob("*.pdf"):
        pdf.write_bytes(b"not a pdf")
    caplog.clear()
    path.write_text(path.read_text().replace("A sentence added today.", "Another sentence."))  # no card changes
    assert rebuilt(project) == ALL
    assert not [r for r in caplog.records if "as the last build made it" in r.getMessage()]
    assert "A card changed today" in pdftotext(project / "dist" / "cards.pdf")


def test_a_template_change_rebuilds_every_edition(project: Path) -> None:
    path = project / "templates" / "partials" / "back_cover.html.j2"
    path.write_text(path.read_text().replace('<div class="colophon">', '<div class="colophon"><p>Template v2</p>'))
    assert rebuilt(project) == ALL
    assert "Template v2" in pdftotext(project / "dist" / "alpha" / "handbook.pdf")


def test_a_style_change_rebuilds_every_edition(project: Path) -> None:
    (project / "styles" / "extra.css").write_text(".chapter-title { letter-spacing: 0.2em; }\n")
    assert rebuilt(project) == ALL


def test_settings_change_rebuilds_every_edition(project: Path) -> None:
    path = project / "handbook.yaml"
    path.write_text(path.read_text().replace("Scratch Handbook", "Renamed Handbook"))
    assert rebuilt(project) == ALL
    assert "Renamed Handbook" in pdftotext(project / "dist" / "beta" / "handbook.pdf")


def test_a_department_change_rebuilds_that_department_only(project: Path) -> None:
    paths = [project / "dist" / "handbook.pdf", project / "dist" / "beta" / "handbook.pdf"]
    others = {p: p.read_bytes() for p in paths}
    (project / "departments" / "alpha" / "department.yaml").write_text("name: Alpha Unit Renamed\n")
    assert rebuilt(project) == {"alpha"}
    assert "Alpha Unit Renamed" in pdftotext(project / "dist" / "alpha" / "handbook.pdf")
    assert {p: p.read_bytes() for p in others} == others


def test_a_new_department_file_rebuilds_that_department_only(project: Path) -> None:
    (project / "departments" / "beta" / "styles").mkdir()
    (project / "departments" / "beta" / "styles" / "beta.css").write_text(".cover-title { font-size: 20pt; }\n")
    assert rebuilt(project) == {"beta"}


def test_an_image_outside_the_shared_folders_is_a_recorded_input(project: Path) -> None:
    state = cache.State.read(project / "dist")
    assert "images/mark.svg" in state.extra("handbook")
    svg = project / "images" / "mark.svg"
    svg.write_text(svg.read_text().replace('stroke-width="3"', 'stroke-width="5"'))
    assert rebuilt(project) == ALL


def test_an_output_changed_or_deleted_by_hand_is_written_again(project: Path) -> None:
    (project / "dist" / "beta" / "cards.pdf").write_bytes(b"not a pdf")
    (project / "dist" / "alpha" / "handbook.pdf").unlink()
    assert rebuilt(project) == {"alpha", "beta"}
    assert (project / "dist" / "beta" / "cards.pdf").read_bytes().startswith(b"%PDF")


def test_build_options_that_change_the_output_rebuild(project: Path) -> None:
    assert rebuilt(project, save_html=True) == ALL
    assert (project / "dist" / "handbook.print.html").is_file()
    assert rebuilt(project, save_html=True) == set()
    assert rebuilt(project, save_html=True, pdf_variant="pdf/ua-1") == ALL


def test_a_new_tool_version_rebuilds_everything(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "__version__", "99.0")
    assert rebuilt(project) == ALL


def test_a_new_weasyprint_rebuilds_everything(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = cache.metadata.version
    monkeypatch.setattr(cache.metadata, "version", lambda name: "71.0" if name == "weasyprint" else real(name))
    assert rebuilt(project) == ALL


def test_a_font_change_rebuilds_everything(project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    (fonts / "New.ttf").write_bytes(b"a font file appeared")
    cache.fonts_digest.cache_clear()
    monkeypatch.setattr(cache, "FONT_DIRS", (*cache.FONT_DIRS, str(fonts)))
    try:
        assert rebuilt(project) == ALL
    finally:
        cache.fonts_digest.cache_clear()


def test_force_rebuilds_everything(project: Path) -> None:
    assert rebuilt(project, force=True) == ALL


def test_only_the_asked_documents_are_planned(project: Path) -> None:
    path = project / "content" / "01-first-point.md"
    path.write_text(path.read_text().replace("The first point's text.", "Changed for the cards run."))
    report = build_ok(project, project / "dist", jobs=1, only=("cards",))
    assert {o.path.name for o in report.written} == {"cards.pdf", "cards-print-shop.pdf"}
    # The handbook is still out of date, and a full build writes it.
    report = build_ok(project, project / "dist", jobs=1)
    assert {o.path.name for o in report.written} == {"handbook.pdf", "handbook.html"}


def test_parallel_and_serial_builds_write_the_same_bytes(built: Path, tmp_path: Path) -> None:
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    build_ok(built, serial, jobs=1, force=True)  # forced: every PDF laid out here, none from the project's cache
    build_ok(built, parallel, jobs=2, force=True)
    names = sorted(p.relative_to(serial) for p in serial.rglob("*.pdf"))
    assert names == sorted(p.relative_to(parallel) for p in parallel.rglob("*.pdf"))
    assert len(names) == 9
    for name in names:
        assert (serial / name).read_bytes() == (parallel / name).read_bytes(), name


def test_progress_is_plain_lines_in_a_log(project: Path) -> None:
    result = CliRunner().invoke(main, ["--project", str(project), "build", "--force", "--jobs", "2"])
    assert result.exit_code == 0, result.output
    for n in (1, 2, 3):
        assert f"[{n}/3] " in result.output
    assert "12 files written" in result.output


def test_a_build_from_an_older_snapshot_is_rebuilt_by_the_next_build(tmp_path: Path) -> None:
    """``handbook serve`` builds from the project as its preview read it (builder.snapshot): the keys are
    taken before the files are read, so a file saved after that never lets those outputs pass as current."""
    from handbook.builder import snapshot

    root = make_project(tmp_path / "p")
    options = BuildOptions(out=root / "dist", only=("cards",), departments=(), organisation=True)
    read = snapshot(root, options)
    chapter_file = root / "content" / "01-first-point.md"
    chapter_file.write_text(chapter_file.read_text(encoding="utf-8").replace("First reminder.", "Saved later."),
                            encoding="utf-8")
    first = build(root, options, read=read)
    assert first.ok and [o.status for o in first.outputs] == ["written", "written"]
    assert "First reminder." in pdftotext(root / "dist" / "cards.pdf"), "built from the snapshot"
    second = build(root, options)
    assert second.ok and [o.status for o in second.outputs] == ["written", "written"], "not taken as up to date"
    assert "Saved later." in pdftotext(root / "dist" / "cards.pdf")
    third = build(root, options, read=snapshot(root, options))
    assert [o.status for o in third.outputs] == ["up to date", "up to date"]
