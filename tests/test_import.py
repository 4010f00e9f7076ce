"""``handbook import`` and ``handbook init --from`` on real documents made in the test run.

python-docx writes the .docx files (tests/wordfiles.py), Debian's LibreOffice converts them to .odt,
.doc and back; the chapters are built with the real renderer and read back from the PDF.
"""

from __future__ import annotations

import base64
import codecs
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from conftest import build_ok, make_project, pdftotext
from markdown_it import MarkdownIt
from pypdf import PdfReader
from wordfiles import RED_PEN, WordDocument, handbook_document, libreoffice

from handbook.cli import main
from handbook.content import chapter_name, split_front_matter
from handbook.errors import HandbookError
from handbook.importer import decode, import_files, read_document, short_title, slug
from handbook.word import chinese_number, format_number

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "import"


# -- documents, made once per module ------------------------------------------------------------------

@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("documents")
    docx = handbook_document(folder / "handbook.docx")
    made = {"docx": docx}
    for fmt in ("odt", "doc"):
        made[fmt] = libreoffice(docx, fmt, folder / fmt)
    # WPS Office's own .wps files are in Word 97's format; LibreOffice tells them by their content.
    made["wps"] = folder / "handbook.wps"
    made["wps"].write_bytes(made["doc"].read_bytes())
    return made


def front_and_body(path: Path) -> tuple[dict[str, Any], str]:
    front, body, _ = split_front_matter(path.read_text(encoding="utf-8"))
    assert front is not None, path
    return yaml.safe_load(front), body


def outline_titles(pdf: Path) -> list[str]:
    titles: list[str] = []

    def walk(items: list[Any]) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                titles.append(item.title)

    walk(PdfReader(pdf).outline)
    return titles


def image_sizes(pdf: Path) -> list[tuple[int, int]]:
    out = subprocess.run(["pdfimages", "-list", str(pdf)], check=True, capture_output=True, text=True).stdout
    rows = [line.split() for line in out.splitlines()[2:]]
    return [(int(r[3]), int(r[4])) for r in rows if r[2] == "image"]


def run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


# -- the whole way: a Word document into a project, built into a PDF ----------------------------------

@pytest.mark.parametrize("kind", ["docx", "odt", "doc", "wps"])
def test_a_word_document_becomes_chapters_that_build(kind: str, documents: dict[str, Path], tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    result = run("--project", str(root), "import", str(documents[kind]))
    assert result.exit_code == 0, result.output
    content = root / "content"
    # After the project's 00, 01, 02: the preface (unnumbered), then one chapter per level-1 heading.
    preface, rules, gifts = (content / "03-廉洁从业手册.md", content / "04-第一章-总则.md",
                             content / "05-gifts-and-hospitality.md")
    for path in (preface, rules, gifts):
        assert f"wrote content/{path.name}" in result.output
        assert chapter_name(path.name) is not None
    front, body = front_and_body(preface)
    assert front == {"title": "廉洁从业手册", "short_title": "廉洁从业手册", "numbered": False}
    assert "本手册写给每一位员工。[^1]" in body and "[^1]: 依据公司二〇二六年一号文件。" in body
    front, body = front_and_body(rules)
    assert front == {"title": "第一章 总则", "short_title": "第一章 总则"}
    assert "**加粗**与*斜体*。" in body
    assert [line for line in body.splitlines() if line] == [
        "**加粗**与*斜体*。", "一、总体要求", "（一）遵守法律", "（二）诚实守信", "二、适用范围"]
    front, body = front_and_body(gifts)
    assert front == {"title": "Gifts and hospitality", "short_title": "Gifts and hospitality"}
    assert "1. Say no politely\n\n   a) Explain the rule\n2. Register it" in body, "a) stays in item 1"
    assert "3. Tell your manager" in body, "the list goes on counting after a paragraph, as in Word"
    assert "- a pen or a calendar\n- a meal or a ticket" in body
    assert "## What to register" in body
    assert "| Gift | Value |\n| --- | --- |\n| Pen | 5 |\n| Dinner | 80 |" in body
    assert "See [the register](https://example.org/register)[^2]" in body
    assert "[^2]: Kept by the integrity office." in body
    picture = content / "05-gifts-and-hospitality" / "figure-1.png"
    assert picture.read_bytes() == RED_PEN
    alt = "A red pen" if kind in ("docx", "odt") else ""  # LibreOffice's .doc export drops alt text: reported
    assert f"![{alt}](05-gifts-and-hospitality/figure-1.png)" in body
    if not alt:
        assert "picture figure-1.png has no alt text" in result.output
    assert "Boxed advice" in body and "Changed text inserted" in body and "removed" not in body

    report = build_ok(root, tmp_path / "dist", only=("handbook",))
    pdf = tmp_path / "dist" / "handbook.pdf"
    assert pdf in [o.path for o in report.outputs]
    titles = outline_titles(pdf)
    assert titles[-3:] == ["廉洁从业手册", "第一章 总则", "Gifts and hospitality"]
    text = " ".join(pdftotext(pdf).split())
    for words in ("一、总体要求", "（一）遵守法律", "（二）诚实守信", "二、适用范围", "1. Say no politely",
                  "2. Register it", "3. Tell your manager", "Dinner 80", "依据公司二〇二六年一号文件。",
                  "Kept by the integrity office.", "Boxed advice", "Changed text inserted"):
        assert words in text, words
    assert "removed" not in text
    assert (300, 150) in image_sizes(pdf), "the picture is printed at its own pixels"


def test_what_cannot_be_carried_over_is_named_with_its_paragraph(documents: dict[str, Path], tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    result = run("--project", str(root), "import", str(documents["docx"]))
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert ('handbook.docx: paragraph 28 ("Changed text inserted"): a comment by Li ("Check this") was not '
            "carried over") in lines
    assert any(line.startswith('handbook.docx: paragraph 28 ("Changed text inserted"): tracked changes '
                               "(1 insertion, 1 deletion) were taken as accepted") for line in lines)
    assert any(line.startswith('handbook.docx: paragraph 27 ("Anchor paragraph with a box."): a text box '
                               '("Boxed advice")') for line in lines)
    assert "3 chapters written, 1 picture" in result.output


def test_a_second_import_keeps_edited_files_unless_forced(documents: dict[str, Path], tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    assert run("--project", str(root), "import", str(documents["docx"])).exit_code == 0
    chapter = root / "content" / "04-第一章-总则.md"
    edited = chapter.read_text(encoding="utf-8").replace("二、适用范围", "二、适用范围（已修改）")
    chapter.write_text(edited, encoding="utf-8")

    again = run("--project", str(root), "import", str(documents["docx"]))
    assert again.exit_code == 0
    assert chapter.read_text(encoding="utf-8") == edited, "the edit is kept"
    assert ("kept content/04-第一章-总则.md: it exists and differs from the document (edits are kept); "
            "--force overwrites it") in again.output
    assert "unchanged content/03-廉洁从业手册.md" in again.output
    assert "unchanged content/05-gifts-and-hospitality.md" in again.output
    assert sorted(p.name for p in (root / "content").glob("*.md")) == [
        "00-introduction.md", "01-first-point.md", "02-second-point.md", "03-廉洁从业手册.md",
        "04-第一章-总则.md", "05-gifts-and-hospitality.md"], "the same document maps to the same files"
    assert "0 chapters written, 1 kept, 2 unchanged" in again.output

    forced = run("--project", str(root), "import", "--force", str(documents["docx"]))
    assert forced.exit_code == 0
    assert "（已修改）" not in chapter.read_text(encoding="utf-8")
    assert "wrote content/04-第一章-总则.md" in forced.output


def test_a_department_gets_the_chapters_in_its_own_folder(documents: dict[str, Path], tmp_path: Path) -> None:
    root = make_project(tmp_path / "project", {"departments": {"finance": {"department.yaml": "name: Finance\n"}}})
    result = run("--project", str(root), "import", "-d", "finance", "--split-level", "2", str(documents["docx"]))
    assert result.exit_code == 0, result.output
    made = sorted(p.name for p in (root / "departments" / "finance" / "content").glob("*.md"))
    # With --split-level 2 the level-1 headings are parts (unnumbered), and "What to register" is a chapter.
    assert made == ["03-廉洁从业手册.md", "04-第一章-总则.md", "05-gifts-and-hospitality.md",
                    "06-what-to-register.md"]
    assert front_and_body(root / "departments" / "finance" / "content" / "05-gifts-and-hospitality.md")[0] == {
        "title": "Gifts and hospitality", "short_title": "Gifts and hospitality", "numbered": False}
    assert not list((root / "content").glob("0[3-9]-*.md"))
    missing = CliRunner().invoke(main, ["--project", str(root), "import", "-d", "audit", str(documents["docx"])])
    assert missing.exit_code == 1 and "no department 'audit'" in missing.output
    assert "handbook new-department audit" in missing.output


def test_init_from_a_document_builds_at_once(documents: dict[str, Path], tmp_path: Path) -> None:
    target = tmp_path / "new"
    result = run("init", "--from", str(documents["odt"]), str(target))
    assert result.exit_code == 0, result.output
    settings = yaml.safe_load((target / "handbook.yaml").read_text(encoding="utf-8"))
    assert settings["title"] == "廉洁从业手册"
    assert sorted(p.name for p in (target / "content").glob("*.md")) == [
        "00-廉洁从业手册.md", "01-第一章-总则.md", "02-gifts-and-hospitality.md"]
    assert not (target / "departments").exists(), "no sample department"
    report = build_ok(target, target / "dist")
    pdf = target / "dist" / "handbook.pdf"
    assert outline_titles(pdf)[-3:] == ["廉洁从业手册", "第一章 总则", "Gifts and hospitality"]
    assert any(o.path.name == "cards.pdf" for o in report.outputs)


# -- a real public document, as a newcomer would bring it ----------------------------------------------

def test_a_public_regulation_converted_to_word_becomes_a_chinese_handbook(tmp_path: Path) -> None:
    """The Shanghai archives regulation (tests/fixtures/import/README.md): Markdown -> HTML -> .docx with
    LibreOffice, as someone who copied it from a web page into Word would have it."""
    source = (FIXTURES / "shanghai-archives-regulation.md").read_text(encoding="utf-8")
    html = tmp_path / "上海市档案条例.html"
    html.write_text("<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>"
                    + MarkdownIt("commonmark").render(source) + "</body></html>", encoding="utf-8")
    docx = libreoffice(html, "docx:MS Word 2007 XML", tmp_path / "word")
    target = tmp_path / "archives"
    result = run("init", "--from", str(docx), "--split-level", "2", str(target))
    assert result.exit_code == 0, result.output
    settings = yaml.safe_load((target / "handbook.yaml").read_text(encoding="utf-8"))
    assert settings["title"] == "上海市档案条例" and settings["language"] == "zh-CN"
    assert settings["chapter_numbers"] == "第一章", "the handbook prints the chapter numbers the document typed"
    chapters = sorted((target / "content").glob("*.md"))
    assert [p.name for p in chapters][:3] == ["00-上海市档案条例.md", "01-总则.md",
                                              "02-档案机构.md"]
    assert [front_and_body(p)[0]["title"] for p in chapters] == [
        "上海市档案条例", "总则", "档案机构", "档案管理", "档案的利用和公布", "法律责任", "附则"]
    build_ok(target, target / "dist", only=("handbook",))
    pdf = target / "dist" / "handbook.pdf"
    text = "".join(pdftotext(pdf).split())
    articles = [f"第{chinese_number(n)}条" for n in range(1, 52)]
    assert all(a in text for a in articles), [a for a in articles if a not in text]
    assert "（十四）档案工作人员玩忽职守" in text
    assert outline_titles(pdf)[-6:] == ["总则", "档案机构", "档案管理", "档案的利用和公布", "法律责任", "附则"]
    spaced = " ".join(pdftotext(pdf).split())
    assert all(f"第{n}章 {t}" in spaced for n, t in (("一", "总则"), ("四", "档案的利用和公布"), ("六", "附则")))


def test_a_gb18030_text_file_with_typed_chapter_headings(tmp_path: Path) -> None:
    """The same regulation saved as plain text in GB18030 (what Windows' Notepad in Chinese writes as 'ANSI')."""
    source = (FIXTURES / "shanghai-archives-regulation.md").read_text(encoding="utf-8")
    plain = "\n".join(line.lstrip("# ") for line in source.splitlines() if "<!--" not in line)
    txt = tmp_path / "档案条例.txt"
    txt.write_bytes(plain.encode("gb18030"))
    with pytest.raises(UnicodeDecodeError):
        txt.read_text(encoding="utf-8")
    root = make_project(tmp_path / "project")
    result = run("--project", str(root), "import", str(txt))
    assert result.exit_code == 0, result.output
    assert "档案条例.txt: read as gb18030 text" in result.output
    assert "no heading styles: 6 paragraphs such as \"第一章 总则\" were taken as headings" in result.output
    titles = [front_and_body(p)[0]["title"] for p in sorted((root / "content").glob("0[3-9]-*.md"))]
    assert titles == ["上海市档案条例", "第一章 总则", "第二章 档案机构", "第三章 档案管理", "第四章 档案的利用和公布",
                      "第五章 法律责任", "第六章 附则"]
    body = front_and_body(root / "content" / "04-第一章-总则.md")[1]
    assert body.lstrip().startswith("第一条 为了加强档案事业的建设")
    wrong = CliRunner().invoke(main, ["--project", str(root), "import", "--force", "--encoding", "utf-8", str(txt)])
    assert wrong.exit_code == 1 and "not utf-8 text" in wrong.output


def test_a_markdown_file_is_cut_at_its_headings_as_written(tmp_path: Path) -> None:
    """A piece of the U.S. Code in Markdown: a level-1 heading, then levels 3, 4 and 6."""
    root = make_project(tmp_path / "project")
    result = run("--project", str(root), "import", str(FIXTURES / "us-code-5-13123-gifts.md"))
    assert result.exit_code == 0, result.output
    path = root / "content" / "03-title-5-government-organization-and.md"
    front, body = front_and_body(path)
    assert front == {"title": "Title 5— GOVERNMENT ORGANIZATION AND EMPLOYEES", "short_title": "Title 5— GOVERNMENT…"}
    assert body.lstrip().startswith("### CHAPTER 131— ETHICS IN GOVERNMENT\n#### § 13123. Administrative provisions\n"
                                    "###### (b) Gift Acceptance Authority."), "the levels stay as written"
    assert "(B) that is conditioned upon" in body
    build_ok(root, tmp_path / "dist", only=("handbook",))
    assert "Gift Acceptance Authority" in pdftotext(tmp_path / "dist" / "handbook.pdf")


# -- encodings, file kinds, LibreOffice missing ----------------------------------------------------------

@pytest.mark.parametrize(("encoding", "bom"), [("utf-16", b""), ("utf-16-le", codecs.BOM_UTF16_LE),
                                               ("utf-16-le", b""), ("gb18030", b""), ("gbk", b"")])
def test_html_in_other_encodings_is_read(encoding: str, bom: bytes, tmp_path: Path) -> None:
    text = ("<html><head><title>廉洁手册</title></head><body><h1>第一章 总则</h1><p>公职人员应当廉洁自律。</p>"
            "<p>第二段，说明<b>重点</b>。</p></body></html>")
    path = tmp_path / "page.html"
    path.write_bytes(bom + text.encode(encoding))
    document = read_document(path)
    assert [c.title for c in document.chapters] == ["第一章 总则"]
    assert "公职人员应当廉洁自律。" in document.chapters[0].markdown
    assert "第二段，说明**重点**。" in document.chapters[0].markdown


def test_decode_prefers_the_byte_order_mark_then_strict_utf8(tmp_path: Path) -> None:
    src = tmp_path / "x.txt"
    assert decode("总则".encode("utf-16"), src) == ("总则", "utf-16")
    assert decode(codecs.BOM_UTF8 + "总则".encode(), src) == ("总则", "utf-8")
    assert decode("总则".encode(), src) == ("总则", "utf-8")
    assert decode("第一章 总则，公职人员应当廉洁自律，遵守法律法规。".encode("gbk"), src)[1] == "gb18030"
    with pytest.raises(HandbookError, match="not an encoding Python knows"):
        decode(b"x", src, "klingon")


def test_unknown_kinds_and_missing_libreoffice_are_clear(documents: dict[str, Path], tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    odd = tmp_path / "slides.pptx"
    odd.write_bytes(b"PK")
    result = CliRunner().invoke(main, ["--project", str(root), "import", str(odd)])
    assert result.exit_code == 1 and "cannot import .pptx" in result.output and ".docx" in result.output
    broken = tmp_path / "broken.docx"
    broken.write_bytes(b"not a zip file")
    result = CliRunner().invoke(main, ["--project", str(root), "import", str(broken)])
    assert result.exit_code == 1 and "broken.docx: not a Word document that can be read" in result.output
    # Without LibreOffice on the PATH, an .odt is refused with the Debian package to install.
    env = {**os.environ, "PATH": str(tmp_path / "empty-bin")}
    done = subprocess.run([sys.executable, "-m", "handbook.cli", "--project", str(root), "import",
                           str(documents["odt"])], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 1
    assert "LibreOffice is needed to read .odt files and is not installed" in done.stderr
    assert "apt-get install libreoffice-writer-nogui" in done.stderr
    assert not list((root / "content").glob("0[3-9]-*")), "nothing written"


def test_heading_numbers_are_text_below_the_chapter_level(tmp_path: Path) -> None:
    d = WordDocument()
    heading = d.numbering(("chineseCounting", "第%1章"), ("chineseCounting", "%2、"), ("decimal", "%1.%2.%3"))
    for text, level in (("总则", 0), ("目的", 1), ("范围", 1), ("细则", 0), ("申报", 1), ("期限", 2)):
        d.numbered(text, heading, level, style=f"Heading {level + 1}")
        d.doc.add_paragraph(f"{text}的正文。")
    document = read_document(d.save(tmp_path / "numbered.docx"))
    assert [c.title for c in document.chapters] == ["总则", "细则"], "the handbook numbers its chapters itself"
    assert document.chapters[0].markdown.splitlines()[2:5] == ["## 一、目的", "", "目的的正文。"]
    assert "## 一、申报" in document.chapters[1].markdown, "level 2 starts again under a new chapter"
    assert "### 二.一.1 期限" in document.chapters[1].markdown, "as Word shows it (no isLgl)"


# -- small parts ------------------------------------------------------------------------------------------

def test_chinese_numbers_and_word_formats() -> None:
    assert [chinese_number(n) for n in (1, 10, 11, 20, 21, 100, 105, 110, 1001)] == [
        "一", "十", "十一", "二十", "二十一", "一百", "一百零五", "一百一十", "一千零一"]
    assert format_number(3, "chineseLegalSimplified") == "叁"
    assert format_number(3, "ideographTraditional") == "丙"
    assert format_number(28, "upperLetter") == "BB" and format_number(14, "lowerRoman") == "xiv"
    assert format_number(2, "decimalEnclosedCircle") == "②"


def test_file_names_and_running_heads_from_headings_in_any_script() -> None:
    assert slug("第一章 总则") == "第一章-总则"
    assert slug("Gifts & hospitality!") == "gifts-hospitality"
    assert slug("Взятки и подарки") == "взятки-и-подарки"
    assert slug("★★★") == "chapter"
    assert len(slug("第" * 200)) <= 40
    assert short_title("Gifts and hospitality") == "Gifts and hospitality"
    assert short_title("Conflicts of interest: when to step aside from a decision") == "Conflicts of interest"
    assert short_title("国有企业领导人员廉洁从业若干规定实施办法") == "国有企业领导人员廉洁从业若干…"


def test_nothing_is_written_outside_the_project(documents: dict[str, Path], tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (root / "content").rename(tmp_path / "moved")
    (root / "content").symlink_to(outside)
    with pytest.raises(HandbookError, match="points outside the project"):
        import_files(root, [documents["docx"]])
    assert not list(outside.iterdir())


def test_page_headers_and_core_properties_do_not_become_text(tmp_path: Path) -> None:
    d = WordDocument()
    d.doc.core_properties.title = "Normal.dotm"  # what a template leaves behind
    d.doc.sections[0].header.paragraphs[0].text = "Integrity Office · internal"
    d.doc.add_paragraph("Acting with Integrity", style="Title")
    d.doc.add_heading("Gifts", level=1)
    d.doc.add_paragraph("Refuse them.")
    document = read_document(d.save(tmp_path / "headed.docx"))
    assert document.title == "Acting with Integrity", "Word's Title style wins over the file's properties"
    assert [c.title for c in document.chapters] == ["Gifts"]
    assert ('the page header\'s text ("Integrity Office · internal") was not carried over (the handbook prints '
            "its own running heads and page numbers)") in document.notices


def test_a_web_page_keeps_its_own_pictures_and_fetches_nothing(tmp_path: Path) -> None:
    (tmp_path / "pics").mkdir()
    (tmp_path / "pics" / "pen.png").write_bytes(RED_PEN)
    inline = base64.b64encode(RED_PEN).decode()
    page = tmp_path / "page.html"
    page.write_text(f"""<html><head><title>Gifts</title><style>p {{color: red}}</style></head><body>
        <h1>Gifts</h1><p>Local: <img src="pics/pen.png" alt="A pen"></p>
        <p>Inline: <img src="data:image/png;base64,{inline}" alt="The same pen"></p>
        <p>Remote: <img src="https://example.org/tracker.png" alt="Tracker"></p>
        <p>Fill in <a href="file:///C:/forms/gift.docx">the form</a> or <a href="https://example.org/f">online</a>.</p>
        <script>alert(1)</script></body></html>""", encoding="utf-8")
    root = make_project(tmp_path / "project")
    report = import_files(root, [page])
    chapter = root / "content" / "03-gifts.md"
    body = front_and_body(chapter)[1]
    assert "![A pen](03-gifts/figure-1.png)" in body and "![The same pen](03-gifts/figure-2.png)" in body
    assert (root / "content" / "03-gifts" / "figure-2.png").read_bytes() == RED_PEN
    assert "tracker" not in body and "alert" not in body and "color" not in body
    assert ('page.html: chapter "Gifts": the picture "Tracker" was not carried over (not in the document; remote '
            "pictures are not fetched)") in report.notices
    assert "Fill in the form or [online](https://example.org/f)." in body
    assert ('page.html: the link "the form" to file:///C:/forms/gift.docx is kept as text only: a printed handbook '
            "can only point to web addresses, mail and phone numbers") in report.notices
    build_ok(root, tmp_path / "dist", only=("handbook",))


def test_smartart_is_reported_with_its_paragraph_and_text(tmp_path: Path) -> None:
    d = WordDocument()
    d.doc.add_heading("Speaking up", level=1)
    steps = d.doc.add_paragraph("The steps:")
    d.smartart(steps, ["Notice", "Ask", "Report"])
    d.doc.add_paragraph("After the diagram.")
    docx = d.save(tmp_path / "diagram.docx")
    root = make_project(tmp_path / "project")
    result = run("--project", str(root), "import", str(docx))
    assert result.exit_code == 0, result.output
    assert ('diagram.docx: paragraph 2 ("The steps:"): SmartArt was not carried over (its text: "Notice / Ask / '
            'Report")') in result.output.splitlines()
    body = front_and_body(root / "content" / "03-speaking-up.md")[1]
    assert "The steps:" in body and "After the diagram." in body


def test_lists_defined_by_a_word_list_style_get_their_numbers(tmp_path: Path) -> None:
    """Word's list styles: the list's abstractNum only links (numStyleLink) to a numbering style,
    whose own list holds the levels ("第%1条")."""
    from docx.oxml import parse_xml

    d = WordDocument()
    articles = d.numbering(("chineseCounting", "第%1条"))
    numbering = d.doc.part.numbering_part.element
    ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    linked = parse_xml(f'<w:abstractNum {ns} w:abstractNumId="70"><w:numStyleLink w:val="Articles"/></w:abstractNum>')
    numbering.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}num").addprevious(linked)
    numbering.append(parse_xml(f'<w:num {ns} w:numId="70"><w:abstractNumId w:val="70"/></w:num>'))
    d.doc.styles.element.append(parse_xml(
        f'<w:style {ns} w:type="numbering" w:styleId="Articles"><w:name w:val="Articles"/>'
        f'<w:pPr><w:numPr><w:numId w:val="{articles}"/></w:numPr></w:pPr></w:style>'))
    d.doc.add_heading("总则", level=1)
    d.numbered("为了规范管理，制定本办法。", "70")
    d.numbered("本办法适用于全体员工。", "70")
    document = read_document(d.save(tmp_path / "styled-list.docx"))
    assert document.chapters[0].markdown.split() == [
        "第一条", "为了规范管理，制定本办法。", "第二条", "本办法适用于全体员工。"]


def test_a_footnote_on_a_heading_opens_the_chapter_text(tmp_path: Path) -> None:
    d = WordDocument()
    heading = d.doc.add_heading("Gifts", level=1)
    d.footnote(heading, "As amended in 2026.")
    d.doc.add_paragraph("Refuse them.")
    document = read_document(d.save(tmp_path / "noted.docx"))
    assert [c.title for c in document.chapters] == ["Gifts"]
    assert document.chapters[0].markdown == "[^1]\n\nRefuse them.\n\n[^1]: As amended in 2026.\n"
    assert any("footnote on the heading \"Gifts\"" in n for n in document.notices)


def test_text_that_looks_like_markup_stays_text(tmp_path: Path) -> None:
    literal = "Type <b> for bold, [x](y), `code`, ~~no~~, {.red}, C:\\forms\\gift | a_b*c & &copy;"
    d = WordDocument()
    d.doc.add_heading("Typing", level=1)
    d.doc.add_paragraph(literal)
    d.doc.add_paragraph("# not a heading")
    d.doc.add_paragraph("> not a quote")
    root = make_project(tmp_path / "project")
    import_files(root, [d.save(tmp_path / "typing.docx")])
    build_ok(root, tmp_path / "dist", only=("handbook",))
    text = pdftotext(tmp_path / "dist" / "handbook.pdf")
    assert literal in " ".join(text.split())
    assert "# not a heading" in text and "> not a quote" in text


def test_merged_table_cells_keep_every_row_in_its_columns(tmp_path: Path) -> None:
    d = WordDocument()
    d.doc.add_heading("Limits", level=1)
    table = d.doc.add_table(rows=4, cols=3)
    for r, row in enumerate([("Gift", "Limit", ""), ("Pen", "5", "keep"), ("Meal", "50", "register"),
                             ("Cash", "0", "refuse")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    table.cell(0, 1).merge(table.cell(0, 2))  # a heading over two columns
    table.cell(1, 1).merge(table.cell(2, 1))  # one limit for two rows
    table.cell(1, 1).text = "5 or 50"
    document = read_document(d.save(tmp_path / "merged.docx"))
    rows = [line for line in document.chapters[0].markdown.splitlines() if line.startswith("|")]
    assert rows == ["| Gift | Limit |  |", "| --- | --- | --- |", "| Pen | 5 or 50 | keep |", "| Meal |  | register |",
                    "| Cash | 0 | refuse |"]
    assert "table 1 has merged cells: each is written into its first cell, the others are left empty" in \
        document.notices


def test_word_numbered_chapter_headings_set_the_handbook_chapter_numbers(tmp_path: Path) -> None:
    d = WordDocument()
    chapters = d.numbering(("chineseCounting", "第%1章"))
    for title in ("总则", "申报", "附则"):
        d.numbered(title, chapters, 0, style="Heading 1")
        d.doc.add_paragraph(f"{title}的正文。")
    target = tmp_path / "new"
    result = run("init", "--from", str(d.save(tmp_path / "办法.docx")), str(target))
    assert result.exit_code == 0, result.output
    settings = yaml.safe_load((target / "handbook.yaml").read_text(encoding="utf-8"))
    assert settings["chapter_numbers"] == "第一章" and settings["language"] == "zh-CN"
    assert [front_and_body(p)[0]["title"] for p in sorted((target / "content").glob("*.md"))] == [
        "总则", "申报", "附则"]
    build_ok(target, target / "dist", only=("handbook",))
    assert "第三章 附则" in " ".join(pdftotext(target / "dist" / "handbook.pdf").split())
