"""PDF/UA-1, PDF/A-3b and PDF/A-3a (with PDF/UA-1) checked by validators written elsewhere
(tests/validators.py: page-validation, pdfua, qpdf), on the organisation-wide edition, a department
(Finance: logo, extra chapter) and the Chinese edition (Discipline Inspection); and the structure
tree read back with poppler's ``pdfinfo -struct-text`` and pypdf."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import PROJECTS, REPO, build_ok, make_project
from pypdf import PdfReader
from validators import errors

EDITIONS = {"organisation": "handbook.pdf", "finance": "finance/handbook.pdf",
            "chinese": "discipline-inspection/handbook.pdf"}
VARIANTS = ("pdf/ua-1", "pdf/a-3b", "pdf/a-3a")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The repository's own project, three editions, built in every variant."""
    root = tmp_path_factory.mktemp("project")
    for part in ("handbook.yaml", "content", "departments", "templates", "styles"):
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, root / part)
        else:
            shutil.copy(source, root / part)
    # A table and a figure, as chapters have them: header cells and alternative text.
    extra = root / "content" / "01-establish-the-core-concept.md"
    extra.write_text(extra.read_text(encoding="utf-8") + "\n\n| Risk | What to do |\n|---|---|\n"
                     "| A gift | Decline it and report it |\n| A conflict | Step aside |\n", encoding="utf-8")
    # A phrase in another language: its own /Lang in the Chinese edition.
    zh = root / "departments" / "discipline-inspection" / "content" / "01-establish-the-core-concept.md"
    phrase = '\n\n英文称为 <span lang="en">clean government</span>。\n'
    zh.write_text(zh.read_text(encoding="utf-8") + phrase, encoding="utf-8")
    outs = {}
    for variant in VARIANTS:
        out = root / "out" / variant.replace("/", "-")
        build_ok(root, out, only=("handbook",), departments=("finance", "discipline-inspection"),
                 organisation=True, pdf_variant=variant, jobs=2)
        outs[variant] = out
    return outs


@pytest.mark.parametrize("edition", EDITIONS)
@pytest.mark.parametrize("variant", VARIANTS)
def test_independent_validators_find_no_errors(built: dict[str, Path], variant: str, edition: str) -> None:
    pdf = built[variant] / EDITIONS[edition]
    assert errors(pdf, variant) == []


def struct_text(pdf: Path) -> str:
    return subprocess.run(["pdfinfo", "-struct-text", str(pdf)], capture_output=True, check=True
                          ).stdout.decode("utf-8", "replace")


def tagged_lines(pdf: Path) -> list[str]:
    """The text of the structure tree, one quoted run per line."""
    return [m[1] for m in re.finditer(r'^\s*"(.*)"$', struct_text(pdf), re.M)]


@pytest.mark.parametrize("edition", EDITIONS)
@pytest.mark.parametrize("variant", ("pdf/ua-1", "pdf/a-3a"))
def test_no_page_numbers_running_heads_or_leader_dots_in_the_tagged_text(
        built: dict[str, Path], variant: str, edition: str) -> None:
    pdf = built[variant] / EDITIONS[edition]
    lines = tagged_lines(pdf)
    assert lines
    assert not [line for line in lines if re.fullmatch(r"(\. ?)+|[ivx]+|\d{1,3}|第 ?\d+ ?页", line.strip())
                and line.strip() not in CHAPTER_NUMBERS], "page numbers or leader dots are tagged"
    # The running heads (the chapters' short titles, in capitals) are artifacts.
    assert not [line for line in lines if line.isupper() and len(line) > 12
                and line not in ("INTEGRITY EDUCATION OFFICE", "TO REPORT A PROBLEM")]
    # Yet every word is on the page: the dots and page numbers are drawn.
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    assert re.search(r"(\. ){5,}", text)


CHAPTER_NUMBERS = {str(n) for n in range(1, 10)} | {"8a"}


def outline(struct: str) -> list[tuple[int, str]]:
    """(depth, structure type) of every element, in order."""
    found = []
    for line in struct.splitlines():
        m = re.match(r"^( *)([A-Za-z0-9]+)\b", line)
        if m and not line.strip().startswith('"') and not line.strip().startswith("Object"):
            found.append((len(m[1]) // 2, m[2]))
    return found


def test_contents_is_a_toc_with_one_link_per_entry_and_the_number_in_the_heading(built: dict[str, Path]) -> None:
    struct = struct_text(built["pdf/ua-1"] / EDITIONS["organisation"])
    tree = outline(struct)
    types = [t for _, t in tree]
    assert types.count("TOC") == 1
    toc_depth = next(d for d, t in tree if t == "TOC")
    start = types.index("TOC")
    entries: list[list[str]] = []
    for depth, kind in tree[start + 1:]:
        if depth <= toc_depth:
            break
        if depth == toc_depth + 1:
            assert kind == "TOCI"
            entries.append([])
        else:
            entries[-1].append(kind)
    assert len(entries) == 10  # the example's chapters
    assert all(entry.count("Link") == 1 for entry in entries)
    # Numbered chapters: the label, then the link.
    assert sum(1 for entry in entries if entry[:1] == ["Lbl"]) == 8
    # Headings in reading order: the cover's title, the contents, then each chapter's, number first.
    headings = re.findall(r"^( *)(H[1-6]) \(block\)\n((?:\1  .*\n)*)", struct, re.M)
    texts = [(level, " ".join(re.findall(r'"(.*)"', body))) for _, level, body in headings]
    assert texts[0][0] == "H1" and "Strengthen the" in texts[0][1]
    assert texts[1] == ("H2", "Contents")
    chapters = [text for level, text in texts if level == "H1"][1:]
    assert chapters[0] == "Strengthen the construction of party style and clean government"
    assert chapters[1] == "1 Establish the core concept"
    assert chapters[2].startswith("2 ")
    assert all(text.strip() for _, text in texts)  # no empty heading


def elements(pdf: Path) -> list[Any]:
    """Every structure element reachable from the root, in order."""
    found: list[Any] = []

    def walk(node: Any) -> None:
        node = node.get_object() if hasattr(node, "get_object") else node
        if isinstance(node, dict):
            if "/S" in node:
                found.append(node)
            kids = node.get("/K")
            for kid in kids if isinstance(kids, list) else [kids] if kids is not None else []:
                walk(kid)

    walk(PdfReader(pdf).trailer["/Root"]["/StructTreeRoot"])
    return found


def test_summary_box_is_a_section_and_tables_have_scoped_header_cells(built: dict[str, Path]) -> None:
    pdf = built["pdf/ua-1"] / EDITIONS["organisation"]
    reader = PdfReader(pdf)
    kinds: dict[str, list[Any]] = {}
    for element in elements(pdf):
        kinds.setdefault(str(element["/S"]), []).append(element)
    assert "/NonStruct" not in {str(s.get("/S")) for s in kinds.get("/Sect", [])}
    sections = [s for s in kinds["/Sect"] if s.get("/T") == "In brief"]
    assert len(sections) == 10  # every chapter of the example has a summary
    headers = kinds["/TH"]
    assert len(headers) == 2
    assert all(h["/A"]["/Scope"] == "/Column" for h in headers)
    assert all("/Alt" in f for f in kinds.get("/Figure", []))
    assert reader.trailer["/Root"]["/Lang"] == "en"


def test_chinese_edition_language_and_running_footer(built: dict[str, Path]) -> None:
    pdf = built["pdf/ua-1"] / EDITIONS["chinese"]
    assert PdfReader(pdf).trailer["/Root"]["/Lang"] == "zh-CN"
    english = [e for e in elements(pdf) if e.get("/Lang") == "en"]
    assert len(english) == 1  # the English phrase, in its own language
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "第1页" in text.replace(" ", "")  # drawn ...
    assert not any("第1页" in line.replace(" ", "") for line in tagged_lines(pdf))  # ... as an artifact


def test_archival_variants_carry_uncompressed_xmp_and_pdf_a_3a_claims_pdf_ua(built: dict[str, Path]) -> None:
    for variant in ("pdf/a-3b", "pdf/a-3a"):
        reader = PdfReader(built[variant] / EDITIONS["organisation"])
        metadata = reader.trailer["/Root"]["/Metadata"].get_object()
        assert "/Filter" not in metadata
        xmp = metadata.get_data().decode()
        assert 'pdfaid:part="3"' in xmp
        assert f'pdfaid:conformance="{variant[-1].upper()}"' in xmp
        assert ('pdfuaid:part="1"' in xmp) == (variant == "pdf/a-3a")
    tagged = PdfReader(built["pdf/a-3a"] / EDITIONS["organisation"]).trailer["/Root"]
    assert "/StructTreeRoot" in tagged and tagged["/MarkInfo"]["/Marked"]


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """tests/projects/real-documents: a US government procedure (nested and loose lists, links,
    inline HTML) and a Shanghai regulation (Chinese), in the tagged variants and PDF/A-3b."""
    root = tmp_path_factory.mktemp("real") / "project"
    shutil.copytree(PROJECTS / "real-documents", root)
    for part in ("templates", "styles"):
        shutil.copytree(REPO / part, root / part)
    outs = {}
    for variant in VARIANTS:
        out = root / "out" / variant.replace("/", "-")
        build_ok(root, out, only=("handbook",), pdf_variant=variant, jobs=2)
        outs[variant] = out
    return outs


@pytest.mark.parametrize("edition", ["handbook.pdf", "shanghai/handbook.pdf"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_real_documents_pass_the_validators(real: dict[str, Path], variant: str, edition: str) -> None:
    assert errors(real[variant] / edition, variant) == []


def test_list_items_hold_only_a_label_and_a_body(real: dict[str, Path]) -> None:
    items = [e for e in elements(real["pdf/ua-1"] / "handbook.pdf") if e["/S"] == "/LI"]
    assert len(items) > 20  # the procedure's lists, three deep
    for item in items:
        kids = item["/K"] if isinstance(item["/K"], list) else [item["/K"]]
        kinds = [kid.get_object()["/S"] for kid in kids]
        assert kinds and set(kinds) <= {"/Lbl", "/LBody"}, kinds


def test_a_figure_keeps_its_alt_text_and_a_decorative_image_is_an_artifact(tmp_path: Path) -> None:
    from PIL import Image

    root = make_project(tmp_path / "p", {"content": {"03-pictures.md": (
        "---\ntitle: Pictures\nsummary: Two pictures.\nreminder: Describe what matters.\n---\n"
        "![The office building seen from the square](building.png)\n\n"
        "A paragraph between the pictures.\n\n![](ornament.png)\n")}})
    Image.new("RGB", (300, 200), (40, 90, 140)).save(root / "content" / "building.png")
    Image.new("RGB", (300, 20), (200, 180, 120)).save(root / "content" / "ornament.png")
    report = build_ok(root, tmp_path / "out", only=("handbook",), pdf_variant="pdf/ua-1")
    assert not report.warnings, report.warnings
    pdf = tmp_path / "out" / "handbook.pdf"
    assert errors(pdf, "pdf/ua-1") == []
    figures = [e for e in elements(pdf) if e["/S"] == "/Figure"]
    assert [f["/Alt"] for f in figures] == ["The office building seen from the square"]
    # Both are drawn.
    listed = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True).stdout
    assert len([line for line in listed.splitlines()[2:] if line.strip()]) == 2


def test_stream_data_ending_in_a_carriage_return_keeps_its_length() -> None:
    """pydyf separates data from ``endstream`` with a bare LF; data ending in CR would read as
    ending in a CR LF end-of-line, one byte short of /Length (PDF/A checkers reject that)."""
    import pydyf

    import handbook.pdf  # noqa: F401 - installs the fix

    stream = pydyf.Stream([b"0 0 m\r"])
    data = stream.data
    assert data.endswith(b"0 0 m\r\r\nendstream")
    assert b"/Length 6" in data
    plain = pydyf.Stream([b"0 0 m"]).data
    assert plain.endswith(b"0 0 m\nendstream")


def test_generated_page_reference_is_part_of_its_link(tmp_path: Path) -> None:
    """A link to a chapter prints "(see p. 3)" from CSS, inside the link: one Link, not two."""
    root = make_project(tmp_path / "p", {"content": {"03-links.md": (
        "---\ntitle: Links\nsummary: Two links.\nreminder: Follow them.\n---\n"
        "See [the first point](01-first-point.md) and [the web](https://example.org).\n")}})
    build_ok(root, tmp_path / "out", only=("handbook",), pdf_variant="pdf/ua-1")
    pdf = tmp_path / "out" / "handbook.pdf"
    assert errors(pdf, "pdf/ua-1") == []
    links = [e for e in elements(pdf) if e["/S"] == "/Link"]
    assert not [e for e in links if e["/P"].get_object()["/S"] == "/Link"], "a Link inside a Link"
    struct = struct_text(pdf)
    assert re.search(r'Link \(inline\)\n\s+Object \d+ 0\n\s+"the first point"\n\s+Object \d+ 0\n\s+" \(see p\.', struct)


def test_the_tagging_wrapper_fits_the_installed_weasyprint() -> None:
    """The exact WeasyPrint signature handbook/tagging.py wraps: a WeasyPrint update that changes it
    fails here, by name, instead of leaving tagged PDFs without their artifacts and roles."""
    from handbook.tagging import signature_problems

    assert signature_problems() == []
