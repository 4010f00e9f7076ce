"""Real documents nobody here wrote, as users have them (tests/projects/*/README.md says where each
comes from): every file used or reported, every 条 and every table column on the page, links that
resolve to their chapter and section, warnings that come back on an up-to-date build."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import PROJECTS, REPO, make_project, pdftotext, write_tree
from pypdf import PdfReader

from handbook.builder import BuildOptions, BuildReport, build
from handbook.project import load_project

CHINESE = "零一二三四五六七八九"


def copy_fixture(name: str, dest: Path) -> Path:
    shutil.copytree(PROJECTS / name, dest)
    for part in ("templates", "styles"):
        shutil.copytree(REPO / part, dest / part)
    return dest


def chinese_to_int(text: str) -> int:
    """十二 -> 12, 二十一 -> 21 (enough for the articles of a law)."""
    if "十" not in text:
        return CHINESE.index(text)
    tens, _, ones = text.partition("十")
    return (CHINESE.index(tens) if tens else 1) * 10 + (CHINESE.index(ones) if ones else 0)


def word_boxes(pdf: Path) -> list[tuple[int, float, float, float, str]]:
    """Every word poppler finds: (page, page width, xMin, xMax, text), in points."""
    xml = pdftotext(pdf, "-bbox")
    words = []
    for n, page in enumerate(re.findall(r'<page width="([\d.]+)"[^>]*>(.*?)</page>', xml, re.S), start=1):
        width = float(page[0])
        for x0, x1, text in re.findall(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)"[^>]*>([^<]*)</word>',
                                       page[1]):
            words.append((n, width, float(x0), float(x1), text))
    return words


def assert_no_word_beyond_the_page(pdf: Path) -> None:
    outside = [w for w in word_boxes(pdf) if w[2] < 0 or w[3] > w[1] + 0.5]
    assert not outside, outside[:5]


def build_report(root: Path, out: Path, **options: Any) -> BuildReport:
    return build(root, BuildOptions(out=out, jobs=1, **options))


# ----------------------------------------------------------------------------------------------
# A Chinese law: Chinese file names, no front matter, 章 and 条


@pytest.fixture(scope="module")
def law(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuildReport]:
    root = copy_fixture("chinese-law", tmp_path_factory.mktemp("law") / "project")
    report = build_report(root, root / "dist")
    assert report.ok, report.failed
    return root, report


def test_law_every_article_is_printed_in_order(law: tuple[Path, BuildReport]) -> None:
    root, report = law
    assert report.warnings == []
    text = pdftotext(root / "dist" / "handbook.pdf")
    # An article starts its paragraph: "第十二条 公民…"; "本法第三条第一款" is a reference.
    articles = [chinese_to_int(m) for m in re.findall(r"(?m)^\s*第([一二三四五六七八九十]+)条\s", text)]
    assert articles == list(range(1, 23))


def test_law_chapters_take_their_titles_from_their_headings_and_print_them_once(
        law: tuple[Path, BuildReport]) -> None:
    root, _ = law
    edition = load_project(root).editions[0]
    assert [c.stem for c in edition.chapters] == ["01-总则", "02-申领和发放", "03-使用和查验", "04-法律责任",
                                                  "05-附 则"]
    assert [c.title for c in edition.chapters] == ["第一章 总则", "第二章 申领和发放", "第三章 使用和查验",
                                                   "第四章 法律责任", "第五章 附 则"]
    assert [c.anchor for c in edition.chapters][-1] == "ch-05-附-则"
    pages = pdftotext(root / "dist" / "handbook.pdf").split("\f")
    chapter_one = next(p for p in pages if "第一条" in p)
    assert chapter_one.count("第一章 总则") == 1  # the heading is the title, not printed twice
    assert "第一章" not in chapter_one.replace("第一章 总则", "")  # chapter_numbers: none


def test_law_nothing_beyond_the_page(law: tuple[Path, BuildReport]) -> None:
    root, _ = law
    for name in ("handbook.pdf", "cards.pdf", "police/handbook.pdf"):
        assert_no_word_beyond_the_page(root / "dist" / name)


def test_law_department_with_a_chinese_folder_name_and_a_slug(law: tuple[Path, BuildReport]) -> None:
    root, _ = law
    text = pdftotext(root / "dist" / "police" / "handbook.pdf")
    assert "公安机关" in text and "第十九条" in text and "第二十条" not in text  # 05-附 则 excluded


# ----------------------------------------------------------------------------------------------
# A company handbook: no front matter, a wide table, links between chapters, two dead links


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuildReport]:
    root = copy_fixture("employee-handbook", tmp_path_factory.mktemp("company") / "project")
    report = build_report(root, root / "dist", only=("handbook",))
    assert report.ok, report.failed
    return root, report


DEAD_LINKS = [
    "content/01-How we engage talent outside the US.md:19: warning: link 'payables.md': no such file; "
    "the text is printed without the link",
    "content/03-IMPACT-REVIEWS.MD:36: warning: link '01-How%20we%20engage%20talent%20outside%20the%20US.md"
    "#benefits-by-country': no section 'benefits-by-country' in content/01-How we engage talent outside the "
    "US.md; the text is printed without the link",
]


def test_company_dead_links_are_warnings_with_file_and_line(company: tuple[Path, BuildReport]) -> None:
    _, report = company
    assert sorted(str(p) for p in dict.fromkeys(report.warnings)) == DEAD_LINKS


def test_company_warnings_come_back_when_everything_is_up_to_date(company: tuple[Path, BuildReport]) -> None:
    root, _ = company
    again = build_report(root, root / "dist", only=("handbook",))
    assert again.ok and not again.written
    assert sorted(str(p) for p in dict.fromkeys(again.warnings)) == DEAD_LINKS


def test_company_strict_makes_the_dead_links_errors(company: tuple[Path, BuildReport], tmp_path: Path) -> None:
    root, _ = company
    report = build_report(root, tmp_path / "strict", only=("handbook",), strict=True)
    assert not report.ok
    errors = [str(p) for problems in report.failed.values() for p in problems]
    assert any(e.startswith("content/01-How we engage talent outside the US.md:19: link 'payables.md'")
               for e in errors), errors


def test_company_every_column_of_the_wide_table_is_on_the_page(company: tuple[Path, BuildReport]) -> None:
    root, _ = company
    pdf = root / "dist" / "handbook.pdf"
    assert_no_word_beyond_the_page(pdf)
    text = " ".join(pdftotext(pdf).split())
    for words in ("Rating", "Score", "Skill", "Values", "Merit increase fre", "7.5-10%", "3-5%", "0%",
                  "continue at Sourcegraph."):
        assert words in text, words
    html = (root / "dist" / "handbook.html").read_text(encoding="utf-8")
    assert html.count('class="align-right"') == 8  # |--:| on two columns: header + 3 rows each
    assert "<blockquote" in html and 'class="footnotes' in html and "<li><p>" not in html.split("<ul")[0]


def _destinations(reader: PdfReader) -> dict[str, int]:
    """Named destination -> page index."""
    return {name: reader.get_destination_page_number(dest) for name, dest in reader.named_destinations.items()}


def test_company_links_go_to_the_chapter_and_section(company: tuple[Path, BuildReport]) -> None:
    root, _ = company
    pdf = root / "dist" / "handbook.pdf"
    reader = PdfReader(pdf)
    dests = _destinations(reader)
    pages = [page.extract_text() for page in reader.pages]
    onboarding = "ch-02-temporary-contractors--onboarding-process"
    assert "Onboarding Process" in pages[dests[onboarding]]
    payments = "ch-01-how-we-engage-talent-outside-the-us--payments"
    assert "Payments" in pages[dests[payments]]
    # Every internal link annotation points at a destination that exists.
    targets = []
    for page in reader.pages:
        for annot in page.get("/Annots", []) or []:
            a = annot.get_object()
            dest = a.get("/Dest")
            if dest is None and a.get("/A") is not None:
                dest = a["/A"].get("/D")
            if dest is not None and not isinstance(dest, list):
                targets.append(str(dest))
    assert onboarding in targets and payments in targets
    assert set(targets) <= set(dests)
    # In print, the reader sees the page: "(see p. N)" with the printed number of that page.
    text = " ".join(pdftotext(pdf).split())
    printed = re.search(r"this page \(see p\. (\d+)\)", text)
    assert printed, text[:2000]
    labels = reader.page_labels
    assert labels[dests[onboarding]] == printed[1]
    # External links show their address after the text (the default, external_links: after).
    assert "https://remote.com/" in text


# ----------------------------------------------------------------------------------------------
# Every kind of name


def test_every_kind_of_name_is_a_chapter_in_number_order(tmp_path: Path) -> None:
    root = copy_fixture("every-kind-of-name", tmp_path / "project")
    loaded = load_project(root)
    assert loaded.problems == []
    org, dept = loaded.editions
    assert [c.stem for c in org.chapters] == ["1-one", "0002-Two Words", "02a-after two", "03-Café crème",
                                              "04-总则", "05-UPPER CASE", "06-dotted.name", "1000-last"]
    assert [c.number for c in org.chapters] == ["1", "2", "2a", "3", "4", "5", "6", "1000"]
    assert [c.title for c in org.chapters][-3:] == ["Upper case", "Dotted name", "Last"]
    assert dept.slug == "财务部"
    report = build_report(root, root / "dist", only=("handbook",))
    assert report.ok, report.failed
    text = pdftotext(root / "dist" / "财务部" / "handbook.pdf")
    assert text.count("Dotted name") == 2  # the contents and the title: the equal heading is not printed again
    assert "Accents in the name, back to one (see p. 1)" in " ".join(text.split())


@pytest.mark.parametrize(("name", "data", "expected"), [
    ("Report.docx", b"PK", "content/Report.docx: a word-processor file cannot be printed as it is; convert it "
                           "to Markdown with `handbook import Report.docx`"),
    ("scan.pdf", b"%PDF-1.4", "content/scan.pdf: a PDF cannot be a chapter"),
    ("notes.md", b"# Notes\n", "content/notes.md: a chapter file needs its number first, e.g. rename it to "
                               "03-notes.md"),
    ("todo.txt", b"x", "content/todo.txt: if it is Markdown, rename it to NN-title.md"),
    ("extra.yaml", b"a: 1", "content/extra.yaml: only cards.yaml is read in content/"),
    ("images/04-chapter.md", b"# X\n", "content/images/04-chapter.md: chapters are read from content/ itself"),
    ("data.csv", b"a,b", "content/data.csv: not used: a content/ folder holds chapters"),
])
def test_a_file_that_cannot_be_used_is_an_error_saying_what_to_do(tmp_path: Path, name: str, data: bytes,
                                                                   expected: str) -> None:
    root = make_project(tmp_path / "project")
    (root / "content" / name).parent.mkdir(parents=True, exist_ok=True)
    (root / "content" / name).write_bytes(data)
    loaded = load_project(root)
    errors = [str(p) for p in loaded.problems if p.is_error]
    assert len(errors) == 1 and errors[0].startswith(expected), errors
    assert "organisation-wide" in loaded.failed


def test_no_chapter_at_all_is_an_error(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project", chapters=False)
    (root / "content").mkdir(exist_ok=True)
    assert [str(p) for p in load_project(root).problems] == [
        "content: no chapters: add Markdown files named with their number, e.g. content/01-introduction.md"]


def test_a_project_without_its_theme_gets_one_line_saying_so(tmp_path: Path) -> None:
    """Settings and chapters only, as a newcomer starts: one problem, not one per character."""
    root = make_project(tmp_path / "project", theme=False)
    report = build(root, BuildOptions(out=tmp_path / "out"))
    problems = [str(p) for ps in report.failed.values() for p in ps]
    assert problems == ["templates/ and styles/: missing: the project's theme is its templates/ and styles/ "
                        "folders; run `handbook init SOMEWHERE` and copy that new project's templates/ and "
                        "styles/ into this one"]
    shutil.copytree(REPO / "templates", root / "templates")
    assert [str(p) for p in load_project(root).problems] == [
        "styles/: missing: the project's theme is its templates/ and styles/ folders; run `handbook init "
        "SOMEWHERE` and copy that new project's templates/ and styles/ into this one"]
    assert not (tmp_path / "out" / "handbook.pdf").exists()


def test_system_and_editor_files_are_ignored(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project", {"content": {".DS_Store": "x", "~$01-first-point.docx": "lock",
                                                           "02-second-point.md~": "backup"}})
    assert load_project(root).problems == []


# ----------------------------------------------------------------------------------------------
# Nothing runs off the page


def test_a_20000_character_word_reaches_the_page_whole(tmp_path: Path) -> None:
    token = "".join(chr(ord("a") + i % 26) for i in range(20_000))
    root = make_project(tmp_path / "project", {"content": {"03-long.md": f"# Long\n\nBefore {token} after.\n"}})
    report = build_report(root, tmp_path / "out", only=("handbook",))
    assert report.ok, report.failed
    pdf = tmp_path / "out" / "handbook.pdf"
    assert_no_word_beyond_the_page(pdf)
    text = "".join(pdftotext(pdf).split()).replace("\u2010", "").replace("-", "").replace("\u200b", "")
    assert token in re.sub(r"[A-Z0-9]+", "", text)  # without running headers and page numbers


def test_a_table_that_cannot_fit_fails_naming_its_file_and_line(tmp_path: Path) -> None:
    header = "| " + " | ".join(f"Column{i}" for i in range(24)) + " |"
    rule = "|" + "---|" * 24
    row = "| " + " | ".join("Incomprehensibilities" for _ in range(24)) + " |"
    root = make_project(tmp_path / "project", {"content": {
        "03-wide.md": f"# Wide\n\nText.\n\n{header}\n{rule}\n{row}\n"}})
    report = build_report(root, tmp_path / "out", only=("handbook",))
    assert not report.ok
    (error, *_), = report.failed.values()
    assert str(error).startswith("content/03-wide.md:5: a table runs "), str(error)
    assert "use fewer or narrower columns" in str(error)
    assert not (tmp_path / "out" / "handbook.pdf").exists()


def test_warnings_of_a_project_are_replayed_from_the_cache(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project", {"content": {"03-third.md": "# Third\n\nSee [gone](gone.md).\n"}})
    first = build_report(root, tmp_path / "out", only=("handbook",))
    second = build_report(root, tmp_path / "out", only=("handbook",))
    expected = ["content/03-third.md:3: warning: link 'gone.md': no such file; the text is printed without "
                "the link"]
    assert [str(p) for p in dict.fromkeys(first.warnings)] == expected
    assert not second.written and [str(p) for p in dict.fromkeys(second.warnings)] == expected


# ----------------------------------------------------------------------------------------------
# Chinese projects


def test_language_cn_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    from conftest import MINIMAL_SETTINGS

    root = make_project(tmp_path / "project", settings=MINIMAL_SETTINGS.replace("language: en", "language: cn"))
    (error,) = [str(p) for p in load_project(root).problems]
    assert error.startswith("handbook.yaml:6: language: 'cn' is not a language tag; did you mean zh-CN?")


@pytest.mark.parametrize("tag", ["zh", "zh-CN", "zh-Hans", "zh-TW", "zh-Hant", "uk", "en-GB"])
def test_language_tags_people_use_are_accepted(tmp_path: Path, tag: str) -> None:
    from conftest import MINIMAL_SETTINGS

    root = make_project(tmp_path / "project", settings=MINIMAL_SETTINGS.replace("language: en", f"language: {tag}"))
    assert load_project(root).problems == []


def test_traditional_chinese_gets_traditional_labels() -> None:
    from handbook.render import labels_for

    assert labels_for("zh-TW")["contents"] == "目錄" and labels_for("zh-Hant")["remember"] == "牢記"
    assert labels_for("zh-CN")["contents"] == "目录" and labels_for("zh-Hans-TW")["contents"] == "目录"


def test_chapter_numbers_in_chinese_style(tmp_path: Path) -> None:
    from conftest import MINIMAL_SETTINGS

    root = make_project(tmp_path / "project", settings=MINIMAL_SETTINGS + "chapter_numbers: 第一章\n",
                        spec={"content": {"12a-extra.md": "# Extra\n\nText.\n"}})
    org = load_project(root).editions[0]
    assert [c.label for c in org.chapters] == ["", "第一章", "第二章", "第十二章之一"]
    report = build_report(root, tmp_path / "out", only=("handbook",))
    assert report.ok
    assert "第十二章之一" in pdftotext(tmp_path / "out" / "handbook.pdf")


@pytest.mark.parametrize(("front", "message"), [
    ("title：第一章\n", "content/03-x.md:2: '：' is a full-width colon"),
    ("title:\u3000第一章\n", "content/03-x.md:2: a full-width space (\u3000) follows the ':'"),
    ("title: 第一章\n\u3000summary: 说明\n", "content/03-x.md:3: the line is indented with a full-width space"),
])
def test_full_width_colon_and_space_in_front_matter_are_named(tmp_path: Path, front: str, message: str) -> None:
    root = make_project(tmp_path / "project", {"content": {"03-x.md": f"---\n{front}---\n\n正文。\n"}})
    errors = [str(p) for p in load_project(root).problems]
    assert len(errors) == 1 and errors[0].startswith(message), errors


def test_a_full_width_colon_inside_a_value_is_fine(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project", {"content": {
        "03-x.md": "---\ntitle: 说明：总则\nsummary: |\n  注意：这是正文\n---\n\n正文。\n"}})
    assert load_project(root).problems == []


def test_a_gbk_file_is_named_and_the_fix_given(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    write_tree(root, {"content": {"03-总则.md": "# 总则\n\n第一条 为了规范管理，制定本办法。\n".encode("gbk")}})
    errors = [str(p) for p in load_project(root).problems]
    assert errors == ["content/03-总则.md:1: the file is saved in the GBK encoding, not UTF-8; save it as UTF-8 "
                      "(e.g. in Notepad: Save as, Encoding: UTF-8)"]


def test_the_last_two_chinese_characters_of_a_paragraph_stay_together() -> None:
    from handbook.content import WORD_JOINER, AssetRules, render_markdown

    html, _, _ = render_markdown("第一条 为了规范管理，制定本办法。\n", source="x.md", base_dir=REPO,
                                 rules=AssetRules(REPO))
    assert f"办{WORD_JOINER}法。" in html


# ----------------------------------------------------------------------------------------------
# What the glyph check reads


@pytest.mark.parametrize("name", sorted(p.name for p in PROJECTS.iterdir() if (p / "handbook.yaml").is_file()))
def test_the_glyph_check_reads_every_character_a_chapter_prints(name: str, tmp_path: Path) -> None:
    """Every character of a chapter's printed HTML (headings, table cells, footnote marks, link
    addresses, Chinese law text) is in the texts the loader kept for the glyph check, each at a line
    of its file; only the invisible break and join marks the renderer adds are not, and the way
    back from a footnote, which print hides."""
    import html as html_lib

    root = copy_fixture(name, tmp_path / name)
    loaded = load_project(root)
    assert loaded.editions and not [p for p in loaded.problems if p.is_error], loaded.problems
    checked = 0
    for edition in loaded.editions:
        for chapter in edition.chapters:
            read = "".join(t.text for t in chapter.texts)
            printed = html_lib.unescape(re.sub(r"<[^>]+>", "", chapter.html))
            unread = set(printed) - set(read)
            # Break and join marks draw nothing; the way back from a footnote is for the web page only.
            assert unread <= {"\u200b", "\u2060", " ", "\n", "\u21a9", "\ufe0e"}, (chapter.source, unread)
            lines = len((root / chapter.source).read_text(encoding="utf-8").splitlines())
            assert all(t.path == chapter.source and 1 <= (t.line or 0) <= lines for t in chapter.texts
                       if t.line is not None), chapter.source
            checked += len(printed)
    assert checked > 500
