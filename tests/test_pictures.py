"""Page pictures (``handbook build --png``): poppler's pdftoppm, blank versos skipped, redrawn only when stale."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import make_project
from PIL import Image
from pypdf import PdfWriter

from handbook import pictures
from handbook.cli import main
from handbook.errors import RenderError

A5_96DPI = (560, 794)
A4_96DPI = (794, 1123)
PRIMARY = (0x7A, 0x1F, 0x1F)  # the default colours: the cover's background


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, Path]:
    project = make_project(tmp_path_factory.mktemp("pictures") / "project")
    out = project / "dist"
    result = CliRunner().invoke(main, ["--project", str(project), "build", "--png", "-j", "1"])
    assert result.exit_code == 0, result.output
    return result, out


def blank(path: Path) -> bool:
    with Image.open(path) as image:
        return image.convert("L").getextrema() == (255, 255)


def test_png_writes_the_first_four_printed_pages_and_the_first_card_sheet(built: tuple[Result, Path]) -> None:
    _, out = built
    assert sorted(p.name for p in out.glob("*.png")) == [
        "cards-1.png", "cards-2.png", "handbook-1.png", "handbook-2.png", "handbook-3.png", "handbook-4.png"]
    for n in range(1, 5):
        with Image.open(out / f"handbook-{n}.png") as image:
            assert image.size == A5_96DPI
            assert image.format == "PNG"
    for n in (1, 2):
        with Image.open(out / f"cards-{n}.png") as image:
            assert image.size == A4_96DPI


def test_blank_versos_are_skipped(built: tuple[Result, Path]) -> None:
    """Each chapter starts on a right-hand page, so the PDF has blank pages; no picture is blank."""
    _, out = built
    assert not any(blank(out / f"handbook-{n}.png") for n in range(1, 5))


def test_the_first_picture_is_the_cover(built: tuple[Result, Path]) -> None:
    _, out = built
    with Image.open(out / "handbook-1.png") as image:
        r, g, b = image.convert("RGB").getpixel((5, 5))  # type: ignore[misc]
    assert max(abs(r - PRIMARY[0]), abs(g - PRIMARY[1]), abs(b - PRIMARY[2])) < 8


def test_card_pictures_show_fronts_then_backs(built: tuple[Result, Path]) -> None:
    """Fronts are filled with the primary colour; backs are mostly white."""
    _, out = built

    def dark_share(path: Path) -> float:
        with Image.open(path) as image:
            grey = image.convert("L")
            histogram = grey.histogram()
        return sum(histogram[:128]) / (grey.width * grey.height)

    assert dark_share(out / "cards-1.png") > 0.1 > dark_share(out / "cards-2.png")


def test_build_reports_one_line_per_picture(built: tuple[Result, Path]) -> None:
    result, _ = built
    lines = [line for line in result.stdout.splitlines() if ".png" in line]
    assert len(lines) == 6
    assert all(re.match(r"^\S+\.png\s+\d+ KB\s+\d+\.\d s$", line) for line in lines), lines


def test_pictures_are_redrawn_only_when_their_pdf_changes(tmp_path: Path, built: tuple[Result, Path]) -> None:
    """Cached by the state file like every output: the PDF's content decides, not its time."""
    _, out = built
    pdf = tmp_path / "handbook.pdf"
    pdf.write_bytes((out / "handbook.pdf").read_bytes())
    first = pictures.write_pictures(pdf, "test")
    assert [o.status for o in first] == ["written"] * 4
    stamps = [o.path.stat().st_mtime_ns for o in first]
    again = pictures.write_pictures(pdf, "test")
    assert [o.status for o in again] == ["up to date"] * 4
    assert [o.path.stat().st_mtime_ns for o in again] == stamps
    later = max(stamps) + 10**9
    os.utime(pdf, ns=(later, later))  # newer, the same pages
    assert [o.status for o in pictures.write_pictures(pdf, "test")] == ["up to date"] * 4
    writer = PdfWriter(clone_from=pdf)
    writer.add_metadata({"/Subject": "another build"})
    writer.write(pdf)
    assert [o.status for o in pictures.write_pictures(pdf, "test")] == ["written"] * 4
    (tmp_path / "handbook-2.png").write_bytes(b"changed by hand")
    assert [o.status for o in pictures.write_pictures(pdf, "test")] == ["written"] * 4


def test_pictures_that_no_longer_belong_are_removed(tmp_path: Path, built: tuple[Result, Path]) -> None:
    _, out = built
    pdf = tmp_path / "handbook.pdf"
    pdf.write_bytes((out / "handbook.pdf").read_bytes())
    (tmp_path / "handbook-9.png").write_bytes(b"old")
    (tmp_path / "handbook-notes.png").write_bytes(b"not ours")
    pictures.write_pictures(pdf, "test", force=True)
    assert not (tmp_path / "handbook-9.png").exists()
    assert (tmp_path / "handbook-notes.png").exists()
    assert not list(tmp_path.glob(".pictures-*")), "the work folder is removed"


def test_a_missing_pdftoppm_is_a_clear_error(tmp_path: Path, built: tuple[Result, Path],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    _, out = built
    pdf = tmp_path / "cards.pdf"
    pdf.write_bytes((out / "cards.pdf").read_bytes())
    monkeypatch.setattr(pictures.shutil, "which", lambda name: None)
    with pytest.raises(RenderError, match="poppler-utils"):
        pictures.write_pictures(pdf, "test")
