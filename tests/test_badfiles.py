"""Bad files never crash a command: each is an exit code and one clear line, never a traceback.

The table: damaged PDFs given to ``preflight``, rejected slugs given to ``new-department``, text
outside a page's boxes, and a real build interrupted by Ctrl+C and SIGTERM.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import build_ok, make_project
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, RectangleObject

from handbook.cli import main


@pytest.fixture(scope="module")
def good_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real print-shop handbook (TrimBox, BleedBox) built from a scratch project."""
    base = tmp_path_factory.mktemp("good")
    root = make_project(base / "project")
    build_ok(root, base / "out", only=("handbook",), print_shop=True)
    return base / "out" / "handbook-print-shop.pdf"


def _png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buf, "PNG")
    return buf.getvalue()


def _encrypted(good: Path) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(good))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def _without_startxref(good: Path) -> bytes:
    data = good.read_bytes()
    return data[:data.rindex(b"startxref")]


def _garbled_xref(good: Path) -> bytes:
    data = bytearray(good.read_bytes())
    at = data.rindex(b"startxref") + len(b"startxref\n")
    data[at:at + 3] = b"999"  # points into nowhere
    return bytes(data)


BAD_PDFS: dict[str, tuple[Callable[[Path], bytes], str]] = {
    "empty": (lambda good: b"", "not a readable PDF (the file is empty)"),
    "png": (lambda good: _png(), "not a readable PDF (it is a PNG image)"),
    "docx": (lambda good: b"PK\x03\x04" + b"\0" * 100, "not a readable PDF (it is a ZIP file"),
    "text": (lambda good: b"Hello, this is not a PDF\n", "not a readable PDF (it does not start with %PDF-)"),
    "truncated": (lambda good: good.read_bytes()[: len(good.read_bytes()) // 2], "not a readable PDF (no startxref"),
    "no-startxref": (_without_startxref, "not a readable PDF (no startxref"),
    "header-only": (lambda good: b"%PDF-1.7\n%%EOF\n", "not a readable PDF (no startxref"),
    "garbled-xref": (_garbled_xref, "not a readable PDF ("),
    "encrypted": (_encrypted, "encrypted; preflight needs the password-free file"),
}


@pytest.mark.parametrize("case", list(BAD_PDFS))
def test_preflight_refuses_a_damaged_pdf_in_one_line(good_pdf: Path, tmp_path: Path, case: str) -> None:
    make, message = BAD_PDFS[case]
    path = tmp_path / f"{case}.pdf"
    path.write_bytes(make(good_pdf))
    result = CliRunner().invoke(main, ["preflight", str(path)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert f"{path}: {message}" in result.output, result.output


def test_preflight_passes_the_good_pdf(good_pdf: Path) -> None:
    result = CliRunner().invoke(main, ["preflight", "--min-dpi", "1", str(good_pdf)])
    assert result.exit_code == 0, result.output
    assert "outside the" not in result.output


@pytest.mark.parametrize(("box", "shrink_mm", "expected"), [
    ("/TrimBox", 40, "outside the TrimBox: it will be cut"),
    ("/MediaBox", 30, "outside the MediaBox: it will be cut"),
])
def test_preflight_fails_text_outside_a_box(good_pdf: Path, tmp_path: Path, box: str, shrink_mm: float,
                                            expected: str) -> None:
    writer = PdfWriter(clone_from=PdfReader(good_pdf))
    page = writer.pages[0]  # the cover: its title runs across the page
    mm = 72 / 25.4
    media = page.mediabox
    rect = RectangleObject((float(media.left) + shrink_mm * mm, float(media.bottom) + shrink_mm * mm,
                            float(media.right) - shrink_mm * mm, float(media.top) - shrink_mm * mm))
    if box == "/MediaBox":
        for name in ("/MediaBox", "/TrimBox", "/BleedBox", "/CropBox"):
            page[NameObject(name)] = rect
    else:
        page[NameObject(box)] = rect
    path = tmp_path / "cut.pdf"
    with path.open("wb") as f:
        writer.write(f)
    result = CliRunner().invoke(main, ["preflight", "--min-dpi", "1", str(path)])
    assert result.exit_code == 1, result.output
    assert "page 1: text " in result.output and expected in result.output, result.output


# ----------------------------------------------------------------------------------------------
# new-department


@pytest.mark.parametrize(("slug", "rule"), [
    ("a" * 300, "this file system allows at most"),
    ("Audit", "not a valid department slug: use lowercase letters"),
    ("audit office", "not a valid department slug"),
    ("../escape", "not a valid department slug"),
    ("audit--office", "not a valid department slug"),
    ("-audit", "not a valid department slug"),
    ("审计", "not a valid department slug"),
    ("", "not a valid department slug"),
])
def test_new_department_rejects_a_slug_naming_the_rule(tmp_path: Path, slug: str, rule: str) -> None:
    root = make_project(tmp_path / "project")
    result = CliRunner().invoke(main, ["--project", str(root), "new-department", "--name", "Audit", "--", slug])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert rule in result.output, result.output
    assert not (root / "departments").exists() or not list((root / "departments").iterdir())


def test_the_longest_slug_the_file_system_allows_is_accepted(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    limit = os.pathconf(root, "PC_NAME_MAX")
    slug = "a" * limit
    result = CliRunner().invoke(main, ["--project", str(root), "new-department", slug, "--name", "Long"])
    assert result.exit_code == 0, result.output
    assert (root / "departments" / slug / "department.yaml").is_file()


# ----------------------------------------------------------------------------------------------
# Interrupted builds


@pytest.mark.parametrize(("sig", "code", "word"), [(signal.SIGINT, 130, "interrupted"),
                                                    (signal.SIGTERM, 143, "terminated")])
def test_an_interrupted_build_exits_128_plus_the_signal_and_keeps_the_outputs(
        tmp_path: Path, sig: int, code: int, word: str) -> None:
    root = make_project(tmp_path / "project", {"departments": {
        f"d{i}": {"department.yaml": f"name: Department {i}\n"} for i in range(6)}})
    build_ok(root, root / "dist", only=("handbook",))
    before = {p: p.read_bytes() for p in sorted((root / "dist").rglob("*.pdf"))}
    (root / "content" / "01-first-point.md").write_text(
        "---\ntitle: First point\nreminder: R.\n---\n\n" + "Changed text. " * 4000 + "\n", encoding="utf-8")
    handbook = Path(sys.executable).parent / "handbook"
    proc = subprocess.Popen([str(handbook), "--project", str(root), "build", "--only", "handbook", "--jobs", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(3)  # loading done, the workers rendering
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == code, (out, err)
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines[-1] == (f"handbook: build {word}; previous outputs are intact "
                         "(a file is replaced only when finished)"), err
    for path, data in before.items():
        assert path.is_file()
        now = path.read_bytes()
        assert now == data or len(PdfReader(path).pages) > 0, path  # the old PDF, or a finished new one
