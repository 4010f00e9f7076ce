"""Bad files never crash a command: each is an exit code and one clear line, never a traceback.

The table: damaged PDFs given to ``preflight``, rejected slugs given to ``new-department``, text
outside a page's boxes, and a real build interrupted by Ctrl+C and SIGTERM.
"""

from __future__ import annotations

import io
import os
import re
import signal
import struct
import subprocess
import sys
import time
import uuid
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import build_ok, chapter, make_project
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, RectangleObject

from handbook.cli import main

TOKEN = f"SECRET{uuid.uuid4().hex[:12].upper()}"


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
        f"d{i}": {"department.yaml": f"name: Department {i}\n"} for i in range(12)}})
    build_ok(root, root / "dist", only=("handbook",))
    before = {p: p.read_bytes() for p in sorted((root / "dist").rglob("*.pdf"))}
    mtimes = {p: p.stat().st_mtime_ns for p in before}
    (root / "content" / "01-first-point.md").write_text(
        "---\ntitle: First point\nreminder: R.\n---\n\n" + "Changed text. " * 4000 + "\n", encoding="utf-8")
    handbook = Path(sys.executable).parent / "handbook"
    # As from a terminal: Ctrl+C's signal at its default (a shell's background job, such as a test run
    # started with &, hands its children SIGINT ignored, and the build rightly keeps it so).
    proc = subprocess.Popen([str(handbook), "--project", str(root), "build", "--only", "handbook", "--jobs", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    # The signal comes when the first new PDF is in place: the workers are then rendering the next
    # editions (12 of them on 2 workers), however fast or busy the machine is.
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline:
        if any(p.stat().st_mtime_ns != mtimes[p] for p in before):
            break
        time.sleep(0.02)
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


# ----------------------------------------------------------------------------------------------
# Hostile and broken images: an error naming the chapter file, line and image, or a drawn figure


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png16(w: int = 40, h: int = 40) -> bytes:
    """A 16-bit-per-channel RGB PNG, written by hand (Pillow writes only 8-bit RGB)."""
    rows = b"".join(b"\0" + b"".join(struct.pack(">HHH", x * 1600, y * 1600, 30000) for x in range(w))
                    for y in range(h))
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0))
            + _chunk(b"IDAT", zlib.compress(rows)) + _chunk(b"IEND", b""))


def _pillow(mode: str, fmt: str, size: tuple[int, int] = (60, 60), **kw: object) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new(mode, size, **kw).save(buf, fmt)  # type: ignore[arg-type]
    return buf.getvalue()


def _laughs() -> str:
    entities = '<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {b} "{("&" + a + ";") * 10}">' for a, b in zip("abcdefgh", "bcdefghi", strict=True))
    return (f'<?xml version="1.0"?><!DOCTYPE svg [{entities}]><svg xmlns="http://www.w3.org/2000/svg" '
            'width="100" height="20"><text y="15">&i;</text></svg>')


def hostile_images(secret: Path) -> dict[str, tuple[bytes | str, str]]:
    """file name -> (content, what the error says after 'image NAME ')."""
    png = _pillow("RGB", "PNG")
    jpeg = _pillow("RGB", "JPEG", (300, 300), color="blue")
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="20">{}</svg>'
    return {
        "xxe.svg": (f'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file://{secret}">]>'
                    + svg.format('<text y="15">&x;</text>'), "declares entities"),
        "public-entity.svg": ('<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x PUBLIC "-//X//EN" '
                              '"http://127.0.0.1:9/x.dtd">]>' + svg.format('<text y="15">&x;</text>'),
                              "declares entities"),
        "parameter-entity.svg": (f'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY % p SYSTEM "file://{secret}"> %p;]>'
                                 + svg.format(""), "declares entities"),
        "laughs.svg": (_laughs(), "declares entities"),
        "css-escape.svg": (svg.format(f"<style>rect {{ fill: url(\\66 ile://{secret}#x) }}</style>"
                                      '<rect width="9" height="9"/>'), "refers to 'file://"),
        "css-escape-attr.svg": (svg.format(f'<rect width="9" height="9" style="fill: url(\\000066ile://{secret})"/>'),
                                "refers to 'file://"),
        "truncated.svg": (svg.format('<rect width="10" ')[:-6], "is not well-formed SVG"),
        "not-svg.svg": ("hello", "is not well-formed SVG"),
        "truncated.png": (png[: len(png) // 2], "is damaged or truncated"),
        "bad-crc.png": (png[:-5] + b"\0\0\0\0\0", "is damaged or truncated"),
        "truncated.jpg": (jpeg[: len(jpeg) // 2], "is damaged or truncated"),
        "empty.png": (b"", "is not an image this tool can read"),
        "text.png": (b"this is not a picture", "is not an image this tool can read"),
        "jpeg-named.png": (b"\xff\xd8\xff\xe0" + b"\0" * 40, "is not an image this tool can read"),
        "gray16.png": (_pillow("I;16", "PNG", (40, 40), color=30000), "has pixels in the I;16 format"),
    }


BENIGN = {  # drawn: each PDF holds one image more than the clean edition
    "rgb16.png": png16(),
    "doctype.svg": ('<?xml version="1.0"?><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
                    '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd"><svg xmlns="http://www.w3.org/2000/svg" '
                    'width="100" height="20"><rect width="10" height="10" fill="red"/></svg>'),
}


@pytest.fixture(scope="module")
def image_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict[str, tuple[bytes | str, str]]]:
    base = tmp_path_factory.mktemp("images")
    secret = base / "secret.txt"
    secret.write_text(f"password {TOKEN}\n", encoding="utf-8")
    table = hostile_images(secret)
    departments: dict[str, object] = {}
    for name, content in [*((n, c) for n, (c, _) in table.items()), *BENIGN.items()]:
        slug = name.replace(".", "-")
        departments[slug] = {"department.yaml": f"name: Team {slug}\n", "content": {
            "07-own.md": chapter("Own", f"Text.\n\n![A figure]({name})\n", reminder="R."), name: content}}
    root = make_project(base / "project", {"departments": departments})
    result = CliRunner().invoke(main, ["--project", str(root), "build", "--only", "handbook", "--jobs", "2"])
    return root, result.output, table


def test_every_hostile_or_broken_image_is_an_error_naming_chapter_line_and_image(
        image_build: tuple[Path, str, dict[str, tuple[bytes | str, str]]]) -> None:
    root, output, table = image_build
    assert "Traceback" not in output and "<_io" not in output and "object at 0x" not in output, output
    for name, (_, says) in table.items():
        slug = name.replace(".", "-")
        line = f"departments/{slug}/content/07-own.md:8: image {name} {says}"
        assert line in output or (f"departments/{slug}/content/07-own.md:8: image {name} refers to" in output
                                  and says.startswith("refers")), (name, output)
        assert not (root / "dist" / slug / "handbook.pdf").exists(), name
    assert TOKEN not in output
    for path in (root / "dist").rglob("*"):
        assert not path.is_file() or TOKEN.encode() not in path.read_bytes(), path


def test_a_16_bit_png_and_an_svg_with_a_plain_doctype_are_drawn(
        image_build: tuple[Path, str, dict[str, tuple[bytes | str, str]]]) -> None:
    root, output, _ = image_build
    clean = len(PdfReader(root / "dist" / "handbook.pdf").pages)
    for name in BENIGN:
        pdf = root / "dist" / name.replace(".", "-") / "handbook.pdf"
        assert pdf.is_file(), output
        assert len(PdfReader(pdf).pages) > clean
    listing = subprocess.run(["pdfimages", "-list", str(root / "dist" / "rgb16-png" / "handbook.pdf")],
                             capture_output=True, text=True, check=True).stdout
    assert [line for line in listing.splitlines()[2:] if line.split()[3:5] == ["40", "40"]], listing


# ----------------------------------------------------------------------------------------------
# check: every problem in every file, at once


def test_check_reports_every_problem_in_every_file_at_once(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project", {
        "departments": {"audit": {
            "department.yaml": "name: Audit\ncolours: {primary: red}\npage_size: a3\n",
            "templates": {"handbook.html.j2": "<p>ok</p>\n{% if %}\n"},
        }},
        "content": {"03-third.md": "---\ntitle: [unclosed\n---\nText.\n",
                    "04-fourth.md": chapter("Fourth", "![x](missing.png) and ![y](gone.png)\n", reminder="R.")},
    }, settings="title: T\ndate: 2026-13-45\npage_size: a3\ncolors: {primary: red, accent: blue}\n")
    result = CliRunner().invoke(main, ["--project", str(root), "check"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    expected = [
        "handbook.yaml:2: date: '2026-13-45' is not a date",
        "handbook.yaml:3: page_size: got 'a3'",
        "handbook.yaml:4: colors.primary: 'red' is not a colour",
        "handbook.yaml:4: colors.accent: 'blue' is not a colour",  # two problems on one line: both
        "content/03-third.md:2: YAML syntax error",
        "content/04-fourth.md:6: image 'missing.png' not found",
        "content/04-fourth.md:6: image 'gone.png' not found",
        "departments/audit/department.yaml:2: colours: unknown key; did you mean colors?",
        "departments/audit/department.yaml:3: page_size: got 'a3'",
        "departments/audit/templates/handbook.html.j2:2: template error:",
    ]
    for line in expected:
        assert line in result.output, (line, result.output)


# ----------------------------------------------------------------------------------------------
# Large inputs: built, or stopped before layout with the limit named (a real law text, repeated)

LAW = (Path(__file__).parent / "documents" / "belgian-civil-code-art-6-10.md").read_text(encoding="utf-8")


def test_a_20_mb_chapter_stops_before_layout_naming_the_chapter_and_the_setting(tmp_path: Path) -> None:
    body = LAW * (20_000_000 // len(LAW.encode()) + 1)
    root = make_project(tmp_path / "project", {"content": {"05-code.md": chapter("Civil code", body, reminder="R.")}})
    assert (root / "content" / "05-code.md").stat().st_size > 20_000_000
    result = CliRunner().invoke(main, ["--project", str(root), "build", "--only", "handbook", "--jobs", "1"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    line = r"(?m)^content/05-code\.md: [\d,]+ characters: at least [\d,]+ pages$"
    assert re.search(line, result.output), result.output
    assert "the limit is 500 (limits.pages in handbook.yaml: raise it to build this on purpose)" in result.output
    assert not (root / "dist" / "handbook.pdf").exists()


def test_thousands_of_chapters_stop_before_layout(tmp_path: Path) -> None:
    articles = [part for part in LAW.split("\n\n**") if part.strip()]
    # Chapter numbers have up to three digits and a letter: 001a, 001b, 001c, 002a...
    chapters = {f"{n // 3 + 1:03d}{'abc'[n % 3]}-article.md": chapter(
        f"Article {n}", "**" + articles[n % len(articles)].lstrip("*"), reminder="R.") for n in range(2000)}
    root = make_project(tmp_path / "project", {"content": chapters}, chapters=False)
    result = CliRunner().invoke(main, ["--project", str(root), "build", "--only", "handbook", "--jobs", "1"])
    assert result.exit_code == 1, result.output
    assert "the handbook has 2,000 chapters and each starts a new page" in result.output, result.output
    assert "limits.pages in handbook.yaml" in result.output


def test_raising_limits_pages_builds_on_purpose_and_lowering_it_stops(tmp_path: Path) -> None:
    articles = [part for part in LAW.split("\n\n**") if part.strip()]
    chapters = {f"{n:02d}-article.md": chapter(f"Article {n}", "**" + articles[n % len(articles)].lstrip("*"),
                                               reminder="R.") for n in range(1, 13)}
    root = make_project(tmp_path / "project", {"content": chapters}, chapters=False)
    settings = root / "handbook.yaml"
    plain = settings.read_text(encoding="utf-8")
    settings.write_text(plain + "limits: {pages: 10}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["--project", str(root), "build", "--only", "handbook", "--jobs", "1"])
    assert result.exit_code == 1 and "limits.pages in handbook.yaml" in result.output, result.output
    settings.write_text(plain + "limits: {pages: 60}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["--project", str(root), "build", "--only", "handbook", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert len(PdfReader(root / "dist" / "handbook.pdf").pages) > 12


def test_a_department_cannot_raise_the_limits(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project", {"departments": {"audit": {
        "department.yaml": "name: Audit\nlimits: {pages: 100000}\n"}}})
    result = CliRunner().invoke(main, ["--project", str(root), "check"])
    assert result.exit_code == 1
    assert "departments/audit/department.yaml:2: limits: unknown key" in result.output, result.output
