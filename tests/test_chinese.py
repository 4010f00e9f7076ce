"""Chinese editions: fonts, typography (indent, justification, kinsoku), labels, the glyph check.

The repository's discipline-inspection department (language: zh-CN) is built once per module with
the real builder; its PDFs are read back with poppler. Smaller scratch projects test what the
example cannot show: dense punctuation, long chapters, characters that no font has.
"""

from __future__ import annotations

import itertools
import random
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, ZH_SETTINGS, build_ok, chapter, make_project, page_texts, pdffonts, pdftotext

from handbook.builder import BuildOptions, build
from handbook.checks import check_project
from handbook.content import split_front_matter
from handbook.project import load_project

SLUG = "discipline-inspection"
DEPARTMENT = REPO / "departments" / SLUG

# Closing marks (and the closing quotes) never start a line; opening marks never end one.
CLOSING = "，。、；：？！」』）》〉】〕］｝”’"
OPENING = "「『（《〈【〔［｛“‘"

def front(path: Path) -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    fm, _, _ = split_front_matter(text)
    assert fm is not None
    return {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in fm.splitlines() if ":" in line)}


def flat(text: str) -> str:
    """Text without any white space: pdftotext may put spaces between CJK characters."""
    return re.sub(r"\s+", "", text)


def segments(layout_text: str) -> list[str]:
    """Every run of text in ``pdftotext -layout`` output: a line, or a column of it (cards side by
    side on a sheet are separated by wide gaps)."""
    return [s.strip() for line in layout_text.splitlines() for s in re.split(r"\s{3,}", line) if s.strip()]


def kinsoku_violations(pdf: Path) -> list[str]:
    return [s for s in segments(pdftotext(pdf, "-layout"))
            if s[0] in CLOSING or s[-1] in OPENING]


NS = "{http://www.w3.org/1999/xhtml}"


def bbox_lines(pdf: Path, page: int) -> list[tuple[float, float, float, str]]:
    """The lines of one page (1-based): (x min, y min, x max, text), from ``pdftotext -bbox-layout``."""
    out = subprocess.run(["pdftotext", "-bbox-layout", "-f", str(page), "-l", str(page), str(pdf), "-"],
                         check=True, capture_output=True, text=True).stdout
    root = ET.fromstring(out)
    lines = []
    for line in root.iter(f"{NS}line"):
        text = "".join(w.text or "" for w in line.iter(f"{NS}word"))
        lines.append((float(line.get("xMin", 0)), float(line.get("yMin", 0)), float(line.get("xMax", 0)), text))
    return lines


@pytest.fixture(scope="module")
def zh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The discipline inspection office's edition, built from the repository as it is."""
    out = tmp_path_factory.mktemp("zh") / "dist"
    report = build(REPO, BuildOptions(out=out, departments=(SLUG,)))
    assert report.ok, "\n".join(str(p) for ps in report.failed.values() for p in ps)
    return out / SLUG


@pytest.fixture(scope="module")
def points() -> list[dict[str, str]]:
    """The front matter of the department's chapters, in order."""
    return [front(p) for p in sorted((DEPARTMENT / "content").glob("[0-9]*.md"))]


# --------------------------------------------------------------------------------------------
# the example edition


def test_the_department_replaces_every_chapter_with_its_chinese_one() -> None:
    loaded = load_project(REPO, only=[SLUG], organisation=False)
    assert not loaded.failed, loaded.failed
    edition = loaded.editions[0]
    assert edition.settings.language == "zh-CN"
    assert [c.stem for c in edition.chapters] == sorted(p.stem for p in (REPO / "content").glob("[0-9]*.md"))
    assert all(c.source.startswith(f"departments/{SLUG}/content/") for c in edition.chapters)
    assert [c.number for c in edition.chapters if c.number] == [str(n) for n in range(1, 9)]
    # A title card, then one card per point.
    assert [c.kind for c in edition.deck.cards] == ["title"] + ["chapter"] * 8


def test_the_chinese_text_comes_back_in_order(zh: Path, points: list[dict[str, str]]) -> None:
    pages = page_texts(zh / "handbook.pdf")
    body = flat("".join(pages[4:]))  # after the cover, its back, the contents and its back
    at = 0
    for point in points:
        found = body.find(point["title"], at)
        assert found >= 0, f"{point['title']} missing or out of order"
        at = found
    for sentence in ("人性的某些弱点，决定了人必须有相应的制度加以约束。",
                     "用老百姓的话说，就是“躲得过初一，躲不过十五”；骗得了少数人，骗不了广大群众；若要人不知，除非己莫为。"):
        assert sentence in body
    # The cards: every point's title on a front, every reminder on a back.
    cards = flat(pdftotext(zh / "cards.pdf"))
    for point in points:
        if point.get("numbered") != "false":
            assert point["title"] in cards and point["reminder"] in cards


def test_the_cjk_fonts_are_embedded_as_subsets(zh: Path) -> None:
    for name in ("handbook.pdf", "cards.pdf"):
        fonts = pdffonts(zh / name)
        cjk = [f for f in fonts if "CJK" in f["name"]]
        assert {re.sub(r"^[A-Z]{6}\+", "", f["name"]).split("-CJK")[0] for f in cjk} == {"Noto-Serif", "Noto-Sans"}
        for f in fonts:
            assert f["emb"] == "yes" and f["sub"] == "yes" and re.match(r"^[A-Z]{6}\+", f["name"]), (name, f)
    # Latin words and digits take the CJK faces' Latin (one face per line keeps the leading even).
    names = {f["name"].split("+")[1] for f in pdffonts(zh / "handbook.pdf")}
    assert not names & {"Charis-SIL", "Lato"}, names


def test_lines_with_latin_digits_keep_the_leading_of_the_rest(tmp_path: Path) -> None:
    body = ("为深入贯彻落实中央八项规定精神，" * 3 + "2004年第12号文件规定了"
            + "加强作风建设的各项要求，推动全面从严治党向纵深发展。" * 4
            + "依据2016年10月27日" + "中国共产党第十八届中央委员会第六次全体会议通过的准则。" * 4)
    root = make_project(tmp_path / "p", settings=ZH_SETTINGS, chapters=False,
                        spec={"content": {"01-规定.md": chapter("规定", body)}})
    build_ok(root, tmp_path / "out", only=("handbook",))
    bbox = pdftotext(tmp_path / "out" / "handbook.pdf", "-bbox")
    page = next(p for p in bbox.split("<page ") if "2004" in p)  # the paragraph fits on one page
    ys = [float(y) for y in re.findall(r'<word xMin="[\d.]+" yMin="([\d.]+)"', page)]
    top = min(float(y) for y, w in re.findall(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="[\d.]+">([^<]*)</word>', page)
              if w.startswith("为深入"))
    lines: list[float] = []
    for y in sorted(y for y in ys if y >= top - 1):
        if not lines or y - lines[-1] > 3:
            lines.append(y)
    gaps = [round(b - a, 2) for a, b in itertools.pairwise(lines)]
    # The paragraph's lines, down to the gap before the footer: 10 pt type at line-height 1.75 is
    # 17.5 pt, with or without Latin digits on the line.
    paragraph = gaps[:next(i for i, g in enumerate(gaps) if g > 30)]
    assert len(paragraph) >= 8, gaps
    assert max(paragraph) - min(paragraph) < 0.1, paragraph


def test_the_handbook_stays_under_a_megabyte(zh: Path) -> None:
    assert (zh / "handbook.pdf").stat().st_size < 1_000_000
    assert (zh / "cards.pdf").stat().st_size < 1_000_000


def test_no_line_starts_with_closing_punctuation(zh: Path) -> None:
    for name in ("handbook.pdf", "cards.pdf", "cards-print-shop.pdf"):
        assert not kinsoku_violations(zh / name), name


def test_labels_dates_and_page_numbers_are_chinese(zh: Path) -> None:
    pages = page_texts(zh / "handbook.pdf")
    cover = flat(pages[0])
    assert "2026年11月1日" in cover and "第一版" in cover and "纪检监察室" in cover
    assert "目录" in flat(pages[2])
    body = [p for p in pages[4:-1] if p.strip()]
    labels = [int(m) for p in body for m in re.findall(r"第\s*(\d+)\s*页", p)]
    assert labels[0] == 1 and labels == sorted(labels) and len(labels) == len(body)
    assert "iii" in pages[2]  # the front matter keeps its roman numbers
    back = flat(pages[-1])
    assert "编印：廉政教育办公室" in back and "第一版，2026年11月1日" in back
    assert "举报电话12388转601" in back and "监督举报" in back and "Hotline" not in back
    title_card = flat(page_texts(zh / "cards.pdf")[0])
    assert "廉洁提醒" in title_card and "举报电话12388转601" in title_card
    assert "牢记" in flat(page_texts(zh / "cards.pdf")[1])


def test_the_contents_give_the_printed_page_numbers(zh: Path, points: list[dict[str, str]]) -> None:
    pages = page_texts(zh / "handbook.pdf")
    for point in points:
        line = next(line for line in pages[2].splitlines() if point["title"] in flat(line))
        listed = re.search(r"(\d+)\s*$", line)
        start = next(p for p in pages[4:] if re.match(r"\d*" + re.escape(point["title"]), flat(p)))
        printed = re.search(r"第\s*(\d+)\s*页", start)
        assert listed and printed and listed[1] == printed[1], point["title"]


def test_the_english_editions_keep_their_plain_page_numbers(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    out = tmp_path / "out"
    build_ok(root, out, only=("handbook",), save_html=True)
    assert "counter(page)" not in (out / "handbook.print.html").read_text(encoding="utf-8")
    assert "Hotline12345" in flat(page_texts(out / "handbook.pdf")[-1])


# --------------------------------------------------------------------------------------------
# typography, on scratch projects


def dense(seed: int, paragraphs: int) -> str:
    """Paragraphs of Han characters thick with punctuation: closing marks in every position."""
    rng = random.Random(seed)
    han = "廉洁从政勤奋敬业爱民为民科学发展党风建设领导干部修养制度规范监督教育"
    out = []
    for _ in range(paragraphs):
        text = "廉"
        for _ in range(rng.randint(60, 180)):
            r = rng.random()
            text += rng.choice(CLOSING) if r < 0.18 else rng.choice(OPENING) if r < 0.25 else rng.choice(han)
        out.append(text + "廉")
    return "\n\n".join(out)


def test_kinsoku_on_text_full_of_punctuation(tmp_path: Path) -> None:
    """Pango's line breaking (UAX #14) keeps closing marks off line starts and opening marks off
    line ends, even in runs of several marks; checked on some five hundred lines."""
    root = make_project(tmp_path / "project", settings=ZH_SETTINGS, chapters=False, spec={"content": {
        "01-dense.md": chapter("标点", dense(1, 60), summary="标点，标点。", reminder="标点！"),
        "02-denser.md": chapter("更多标点", dense(2, 60), summary="“标点”", reminder="（标点）"),
    }})
    out = tmp_path / "out"
    build_ok(root, out)
    lines = segments(pdftotext(out / "handbook.pdf", "-layout"))
    assert len(lines) > 400
    assert not kinsoku_violations(out / "handbook.pdf")
    assert not kinsoku_violations(out / "cards.pdf")


LONG = "\n\n".join(
    f"第{n}段。党风廉政建设是一项长期的任务，必须常抓不懈、警钟长鸣；领导干部要带头执行 PDF 文件和"
    f"2026年的各项规定，做到“清白做人、踏实做事、干净为官”，自觉接受组织和群众的监督，把廉洁自律的"
    f"要求落实到工作和生活的每一个方面，在日常的一言一行中体现共产党员的本色。" for n in range(1, 31))


@pytest.fixture(scope="module")
def long_zh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_project(tmp_path_factory.mktemp("long") / "project", settings=ZH_SETTINGS, chapters=False,
                        spec={"content": {"01-long.md": chapter("很长的一章", LONG, short_title="长章",
                                                                summary="一章。", reminder="廉洁。")}})
    out = root.parent / "out"
    build_ok(root, out, only=("handbook",))
    return out / "handbook.pdf"


def test_paragraphs_open_with_a_two_character_indent_and_lines_are_justified(long_zh: Path) -> None:
    pages = page_texts(long_zh)
    page = next(i for i, text in enumerate(pages, start=1) if "第10段" in flat(text))
    lines = [line for line in bbox_lines(long_zh, page) if len(line[3]) >= 8]
    starts = [i for i, line in enumerate(lines) if line[3].startswith("第") and "段" in line[3][:4]]
    assert len(starts) >= 3
    left = min(x for x, _, _, _ in lines)
    right = max(x for _, _, x, _ in lines)
    em = 10.0  # the body's type size, pt
    for i in starts:
        assert lines[i][0] == pytest.approx(left + 2 * em, abs=0.5), lines[i][3]  # two characters in
    # Every line but a paragraph's last ends at the right edge, those with Latin words and digits too.
    last = {i - 1 for i in starts} | {len(lines) - 1}
    full = [line for i, line in enumerate(lines) if i not in last]
    assert len(full) >= 10
    for _, _, x1, text in full:
        assert x1 == pytest.approx(right, abs=1.0), text
    assert any("PDF" in text for *_, text in full)


def test_running_headers_show_the_chinese_short_title(long_zh: Path) -> None:
    chapter_pages = [p for p in page_texts(long_zh) if "段。" in flat(p)]
    assert len(chapter_pages) >= 3, "the chapter should run over several pages"
    assert "很长的一章" in flat(chapter_pages[0])
    for page in chapter_pages[1:]:
        first_line = next(line for line in page.splitlines() if line.strip())
        assert flat(first_line) == "长章", first_line


def test_the_page_label_setting_is_checked(scratch) -> None:
    root = scratch(settings=ZH_SETTINGS.replace('"第 {n} 页"', '"第页"'))
    loaded = load_project(root)
    problems = [str(p) for p in loaded.problems if p.is_error]
    assert any(p.startswith("handbook.yaml:7: page_label:") and "{n}" in p for p in problems), problems


# --------------------------------------------------------------------------------------------
# the glyph check


def uncovered() -> str:
    """A character no installed font has (so WeasyPrint could only draw a box)."""
    for ch in ("\U00013000", "\U0010fffd"):
        listed = subprocess.run(["fc-list", f":charset={ord(ch):x}"], capture_output=True, text=True).stdout
        if not listed.strip():
            return ch
    pytest.skip("every candidate character is in some installed font")


def failed_problems(root: Path, out: Path, **options: Any) -> list[str]:
    report = build(root, BuildOptions(out=out, **options))
    assert not report.ok
    return [str(p) for problems in report.failed.values() for p in problems]


def test_the_glyph_check_names_the_file_line_and_character(tmp_path: Path) -> None:
    ch = uncovered()
    root = make_project(tmp_path / "project", settings=ZH_SETTINGS, spec={"content": {
        "03-third.md": chapter("第三", f"第一行。\n\n第二行有一个{ch}字。", summary="摘要。", reminder="提醒。"),
    }})
    out = tmp_path / "out"
    problems = failed_problems(root, out)
    expected = (f"content/03-third.md:9: the character '{ch}' (U+{ord(ch):04X}) is not in any configured "
                "font (")
    assert any(p.startswith(expected) and "Charis SIL" in p and "Noto Serif CJK SC" in p for p in problems), problems
    assert not (out / "handbook.pdf").exists()  # nothing was rendered
    # `handbook check` says the same.
    assert any(str(p).startswith(expected) for p in check_project(root).problems)


def test_the_glyph_check_reads_settings_cards_and_templates(tmp_path: Path) -> None:
    ch = uncovered()
    settings = ZH_SETTINGS.replace("contact:", f"keywords: [廉洁]\nsubtitle: |\n  第一行\n  第二行{ch}\ncontact:")
    root = make_project(tmp_path / "project", settings=settings.replace("subtitle: 排版测试\n", ""), spec={
        "content": {"cards.yaml": f"cards:\n  - front: \"## 礼品\"\n    back: |\n      拒绝礼品。\n      登记{ch}。\n"},
    })
    partial = root / "templates" / "partials" / "back_cover.html.j2"
    partial.write_text(partial.read_text(encoding="utf-8") + f"<p>后记{ch}</p>\n", encoding="utf-8")
    lines = len(partial.read_text(encoding="utf-8").splitlines())
    problems = failed_problems(root, tmp_path / "out")
    code = f"U+{ord(ch):04X}"
    # One line for the character, naming every place it is on.
    (line,) = [p for p in problems if code in p]
    assert line.startswith("handbook.yaml:10: ")
    assert line.endswith(f"; also at content/cards.yaml:5, templates/partials/back_cover.html.j2:{lines}"), line



def test_the_glyph_check_reads_the_loaded_edition_as_a_reader_sees_it(tmp_path: Path) -> None:
    """The check walks the loaded model, each text with its file and line: the files can be gone by
    then. It sees what Markdown prints (a character reference, alt text, a card's text in a block
    scalar at its own line) and not what it leaves out (an HTML comment, an attribute)."""
    from handbook.glyphs import check_edition

    ch = uncovered()
    ref = f"&#x{ord(ch):X};"
    root = make_project(tmp_path / "project", settings=ZH_SETTINGS, spec={"content": {
        "03-third.md": chapter("第三", f"第一行。\n\n第二行{ref}字。\n\n![图{ch}](pic.png)\n\n"
                                       f"<!-- 注{ch} -->\n\n末行<abbr title=\"{ch}\">。</abbr>", summary="摘要。",
                               reminder="提醒。"),
        "pic.png": _png(),
        "cards.yaml": f"cards:\n  - front: 正面\n    back: |\n      第一行。\n\n      登记{ch}。\n",
    }})
    loaded = load_project(root)
    assert not [p for p in loaded.problems if p.is_error], loaded.problems
    edition = loaded.editions[0]
    for path in (root / "content").iterdir():
        path.unlink()  # nothing is read again
    (problem,) = [p for p in check_edition(edition) if p.message.startswith(f"the character '{ch}'")]
    assert problem.location == ("content/03-third.md", 9), str(problem)
    assert problem.message.endswith("; also at content/03-third.md:11, content/cards.yaml:6"), str(problem)


def _png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, "PNG")
    return buffer.getvalue()

def test_a_font_the_stylesheets_do_not_name_does_not_count(tmp_path: Path) -> None:
    """♔ is in DejaVu Sans, which fontconfig would fall back to; the theme does not name it."""
    if not subprocess.run(["fc-list", ":family=DejaVu Sans:charset=2654"], capture_output=True,
                          text=True).stdout.strip():
        pytest.skip("DejaVu Sans is not installed")
    spec = {"content": {"01-first-point.md": chapter("First point", "The king ♔ moves.")}}
    root = make_project(tmp_path / "project", spec=spec)
    problems = failed_problems(root, tmp_path / "out", only=("handbook",))
    assert any(p.startswith("content/01-first-point.md:") and "'♔' (U+2654)" in p for p in problems), problems
    # Named in a stylesheet, the face counts.
    (root / "styles" / "handbook-chess.css").write_text('.chapter-body { font-family: "Charis SIL", "DejaVu Sans"; }\n',
                                                       encoding="utf-8")
    build_ok(root, tmp_path / "out2", only=("handbook",))


def test_the_glyph_check_reads_each_font_once_per_process() -> None:
    """What keeps the check cheap, asserted without a clock (its speed is in benchmarks/): a second
    pass over every edition asks fontconfig nothing and opens no font."""
    from handbook.glyphs import check_edition, coverage, installed_fonts

    editions = load_project(REPO).editions
    for edition in editions:
        assert check_edition(edition) == []
    fonts_read, fontconfig_asked = coverage.cache_info().misses, installed_fonts.cache_info().misses
    assert fonts_read > 0
    for edition in editions:
        assert check_edition(edition) == []
    assert coverage.cache_info().misses == fonts_read
    assert installed_fonts.cache_info().misses == fontconfig_asked


def test_the_configured_fonts_are_the_families_the_stylesheets_name(tmp_path: Path) -> None:
    from handbook.glyphs import configured_fonts, read_stylesheets

    styles = sorted((REPO / "styles").glob("*.css"))
    fonts = configured_fonts(read_stylesheets(styles, REPO, "zh-CN"))
    serif = ("Noto Serif CJK SC", "Source Han Serif SC", "Songti SC", "SimSun", "AR PL UMing CN", "Charis SIL")
    assert serif in fonts.stacks
    assert {"Charis SIL", "Lato", "Noto Serif CJK SC", "Noto Sans CJK SC"} <= set(fonts.files)
    assert "SimSun" in fonts.families and not any("TC" in f for f in fonts.families)
    # The theme's Latin faces are the package's files, whatever is installed.
    assert fonts.files["Charis SIL"][0] == REPO / "handbook" / "fonts" / "charis-sil" / "CharisSIL-Regular.ttf"
    # A traditional edition's stacks are the TC faces.
    for language in ("zh-TW", "zh-Hant", "zh-Hant-TW", "zh-HK"):
        tc = configured_fonts(read_stylesheets(styles, REPO, language))
        assert "Noto Serif CJK TC" in tc.families and "PMingLiU" in tc.families, language
        assert not any(" SC" in f for s in tc.stacks for f in s), (language, tc.stacks)
    css = tmp_path / "extra.css"
    css.write_text('/* "Commented Out" */ :root { --label: "第"; --face: "No Such Face", serif; }\n'
                   'h1 { font-family: Lato, Missing Face, sans-serif; }\n', encoding="utf-8")
    fonts = configured_fonts(read_stylesheets([css], tmp_path))
    assert fonts.families == ["Lato", "Missing Face", "No Such Face"]  # declarations, then custom properties
    assert fonts.missing == ["Missing Face", "No Such Face"] and list(fonts.files) == ["Lato"]


def test_the_justification_patch_fits_the_installed_weasyprint() -> None:
    """The exact WeasyPrint signatures handbook/cjk.py relies on: a WeasyPrint update that changes
    one fails here, by name, instead of leaving Chinese lines silently ragged."""
    from handbook.cjk import signature_problems

    assert signature_problems() == []


def test_the_justification_patch_is_installed_with_the_fonts_not_on_import() -> None:
    script = ("import handbook.pdf as pdf\n"
              "from weasyprint.layout import inline\n"
              "print(inline.justify_line.__module__)\n"
              "pdf.font_config()\n"
              "print(inline.justify_line.__module__)\n")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert run.stdout.split() == ["weasyprint.layout.inline", "handbook.cjk"]
