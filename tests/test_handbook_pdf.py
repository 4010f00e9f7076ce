"""The handbook PDF, rendered for real by WeasyPrint and read back with pypdf and poppler.

Every project is built once per module (module-scoped fixtures); the tests only read the results.
What is checked is what a reader holds in their hands: the printed page numbers in the footers,
the contents page, the running headers, the bookmarks, the metadata, the fonts and the text.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import MINIMAL_SETTINGS, REPO, build_ok, chapter, make_project, mm, page_texts, pdffonts
from pypdf import PdfReader

# ----------------------------------------------------------------------------------------------
# Reading a built handbook back


FOOTER = re.compile(r"^(\d+|[ivxlcdm]+)$")
ROMAN = re.compile(r"^[ivxlcdm]+$")
QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"})


def squash(text: str) -> str:
    """Letters and digits only, case-folded: survives letter-spacing, hyphenation, line breaks."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if ch.isalnum())


def words(text: str) -> str:
    """Whitespace collapsed, typographic quotes made straight."""
    return " ".join(text.translate(QUOTES).split())


def roman(n: int) -> str:
    out = ""
    for value, sym in ((10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while n >= value:
            out += sym
            n -= value
    return out


@dataclass
class Part:
    """A chapter as its source file says it is (read without the handbook package)."""

    title: str
    short_title: str
    number: str | None
    summary: str = ""
    reminder: str = ""
    body: str = ""


def parts_of(content: Path) -> list[Part]:
    parts = []
    for path in sorted(content.glob("*.md")):
        m = re.match(r"^(\d{1,3}[a-z]?)-", path.name)
        if not m:
            continue
        _, front, body = path.read_text(encoding="utf-8").split("---\n", 2)
        fm = yaml.safe_load(front)
        numbered = fm.get("numbered", True)
        parts.append(Part(fm["title"], fm.get("short_title") or fm["title"],
                          (m[1].lstrip("0") or "0") if numbered else None,
                          fm.get("summary", ""), fm.get("reminder", ""), body))
    return parts


@dataclass
class Handbook:
    """A built handbook.pdf: its pages' text, printed footers and running headers."""

    path: Path
    reader: PdfReader
    pages: list[str]
    out: Path = field(default_factory=Path)

    @classmethod
    def read(cls, path: Path) -> Handbook:
        return cls(path, PdfReader(path), page_texts(path), path.parent)

    def lines(self, i: int) -> list[str]:
        return [line.strip() for line in self.pages[i].splitlines() if line.strip()]

    def footer(self, i: int) -> str | None:
        """The printed page number: the page's last line when it is a bare numeral."""
        lines = self.lines(i)
        return lines[-1] if lines and FOOTER.match(lines[-1]) else None

    def top(self, i: int) -> str:
        lines = self.lines(i)
        return lines[0] if lines else ""

    def starts(self, titles: list[str]) -> list[int]:
        """The physical page (0-based) where each chapter title is printed as a heading, in order.

        Searches after the contents page, each chapter after the one before; the title must be
        within the top lines of the page (number, title), not merely mentioned in a paragraph.
        """
        toc = self.toc_index()
        found, after = [], toc
        for title in titles:
            for i in range(after + 1, len(self.pages)):
                if ROMAN.match(self.footer(i) or "1"):
                    continue  # the contents, continued
                head = words(" ".join(self.lines(i)[:4]))
                if words(title) in head:
                    found.append(i)
                    after = i
                    break
            else:
                raise AssertionError(f"chapter title {title!r} not found at the top of any page "
                                     f"after page {after + 1}")
        return found

    def toc_index(self) -> int:
        for i in range(len(self.pages)):
            if self.top(i) == "Contents":
                return i
        raise AssertionError("no page starts with 'Contents'")

    def toc_numbers(self, titles: list[str]) -> dict[str, str]:
        """Each title's page number as printed in the contents (dot leaders, then the number)."""
        toc = self.toc_index()
        text = words(" ".join(self.pages[i] for i in range(toc, len(self.pages))
                              if i == toc or (self.footer(i) or "").isalpha()))
        numbers = {}
        for title in titles:
            m = re.search(re.escape(words(title)) + r"\s*(?:\.\s*)+([0-9ivxlcdm]+)\b", text)
            assert m, f"{title!r} has no entry with a page number in the contents: {text[:300]}"
            numbers[title] = m[1]
        return numbers

    def outline(self) -> list[tuple[str, int, bool]]:
        """(title, 0-based page, has children) of every top-level bookmark."""
        items = []
        outline = self.reader.outline
        for n, item in enumerate(outline):
            if isinstance(item, list):
                continue
            nested = n + 1 < len(outline) and isinstance(outline[n + 1], list)
            items.append((item.title, self.reader.get_destination_page_number(item), nested))
        return items

    def page_mm(self) -> set[tuple[float, float]]:
        return {(round(mm(p.mediabox.width), 1), round(mm(p.mediabox.height), 1))
                for p in self.reader.pages}


def header_texts(parts: list[Part]) -> set[str]:
    return {squash(p.short_title) for p in parts} | {squash(p.title) for p in parts}


# ----------------------------------------------------------------------------------------------
# The builds (one each per module)

LOREM = ("Integrity is the habit of doing the right thing when nobody is looking, and of saying "
         "so plainly when somebody asks. ")
LONG_BODY = "\n\n".join(f"Paragraph {i} of the long chapter. " + LOREM * 7 for i in range(16))

LONG_PROJECT = {"content": {
    "00-introduction.md": chapter("Introduction", "Opening words.", numbered="false",
                                  short_title="Intro", summary="What this is for.",
                                  reminder="Read it all."),
    "01-the-long-road.md": chapter("The long road of integrity", LONG_BODY,
                                   short_title="Endurance", summary="A chapter long enough to "
                                   "run over several pages.", reminder="Keep going."),
    "02-second-point.md": chapter("Second point", "The second point's text.",
                                  short_title="Second", summary="Short.", reminder="Short."),
    "03-third-point.md": chapter("Third point", "The third point's text.",
                                 short_title="Third", summary="Short.", reminder="Short."),
}}


@pytest.fixture(scope="module")
def repo_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's own project (every edition's handbook), built once."""
    out = tmp_path_factory.mktemp("repo") / "dist"
    build_ok(REPO, out, only=("handbook",), save_html=True)
    return out


@pytest.fixture(scope="module")
def repo(repo_out: Path) -> Handbook:
    return Handbook.read(repo_out / "handbook.pdf")


@pytest.fixture(scope="module")
def repo_parts() -> list[Part]:
    return parts_of(REPO / "content")


@pytest.fixture(scope="module")
def settings() -> dict[str, Any]:
    return yaml.safe_load((REPO / "handbook.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def long_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("long") / "project", LONG_PROJECT, chapters=False)


@pytest.fixture(scope="module")
def long(long_project: Path) -> Handbook:
    """A scratch project (no page_size: the default) whose chapter 1 runs over several pages."""
    build_ok(long_project, long_project / "dist", only=("handbook",))
    return Handbook.read(long_project / "dist" / "handbook.pdf")


@pytest.fixture(scope="module")
def many_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Thirty short chapters: the contents run over two pages."""
    files = {f"{n:02d}-point-{n}.md": chapter(f"Point number {n} of many", f"Text of point {n}.",
                                              reminder="R.") for n in range(1, 31)}
    return make_project(tmp_path_factory.mktemp("many") / "project", {"content": files},
                        chapters=False)


@pytest.fixture(scope="module")
def many(many_project: Path) -> Handbook:
    build_ok(many_project, many_project / "dist", only=("handbook",))
    return Handbook.read(many_project / "dist" / "handbook.pdf")


@pytest.fixture(scope="module")
def many_parts(many_project: Path) -> list[Part]:
    return parts_of(many_project / "content")


@pytest.fixture(scope="module")
def long_parts(long_project: Path) -> list[Part]:
    return parts_of(long_project / "content")


SIZES = {"a4": (210.0, 297.0, "en-GB"), "letter": (215.9, 279.4, "en-US")}


@pytest.fixture(scope="module", params=sorted(SIZES))
def sized(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> tuple[str, Handbook]:
    """A scratch project built with page_size a4 / letter (and a regional language tag)."""
    size = request.param
    settings = re.sub(r"language: .*", f"language: {SIZES[size][2]}", MINIMAL_SETTINGS)
    root = make_project(tmp_path_factory.mktemp(size) / "project",
                        settings=settings + f"page_size: {size}\n")
    build_ok(root, root / "dist", only=("handbook",))
    return size, Handbook.read(root / "dist" / "handbook.pdf")


# ----------------------------------------------------------------------------------------------
# Page size


def test_page_size_defaults_to_a5(long: Handbook) -> None:
    assert len(long.page_mm()) == 1
    (w, h), = long.page_mm()
    assert abs(w - 148) <= 0.1 and abs(h - 210) <= 0.1


def test_repository_handbook_is_a5_on_every_page(repo: Handbook) -> None:
    for page in repo.reader.pages:
        assert abs(mm(page.mediabox.width) - 148) <= 0.1
        assert abs(mm(page.mediabox.height) - 210) <= 0.1


def test_page_size_setting_changes_every_page(sized: tuple[str, Handbook]) -> None:
    size, book = sized
    want_w, want_h, _ = SIZES[size]
    for page in book.reader.pages:
        assert abs(mm(page.mediabox.width) - want_w) <= 0.1, size
        assert abs(mm(page.mediabox.height) - want_h) <= 0.1, size


# ----------------------------------------------------------------------------------------------
# Contents, page numbers, right-hand starts


def test_toc_page_numbers_equal_printed_footers(repo: Handbook, repo_parts: list[Part]) -> None:
    titles = [p.title for p in repo_parts]
    starts = repo.starts(titles)
    toc = repo.toc_numbers(titles)
    for title, page in zip(titles, starts, strict=True):
        assert toc[title] == repo.footer(page), (
            f"{title!r}: contents say {toc[title]}, the page it starts on is numbered "
            f"{repo.footer(page)} (physical page {page + 1})")


def test_toc_page_numbers_after_a_multi_page_chapter(long: Handbook, long_parts: list[Part]) -> None:
    titles = [p.title for p in long_parts]
    starts = long.starts(titles)
    assert starts[2] - starts[1] >= 3, "the long chapter should run over several pages"
    toc = long.toc_numbers(titles)
    assert [toc[t] for t in titles] == [long.footer(i) for i in starts]


def test_toc_page_numbers_when_the_contents_run_over_two_pages(many: Handbook,
                                                               many_parts: list[Part]) -> None:
    titles = [p.title for p in many_parts]
    starts = many.starts(titles)
    toc = many.toc_numbers(titles)
    assert [toc[t] for t in titles] == [many.footer(i) for i in starts]


def test_two_page_contents_are_numbered_iii_and_iv(many: Handbook, many_parts: list[Part]) -> None:
    first = many.starts([many_parts[0].title])[0]
    assert [many.footer(i) for i in range(first)] == [None, None, "iii", "iv"]
    assert many.footer(first) == "1"


def test_toc_page_numbers_in_every_department_edition(repo_out: Path) -> None:
    # The Chinese edition prints 目录 and 第 N 页: tests/test_chinese.py checks its contents.
    editions = sorted(p for p in repo_out.glob("*/handbook.pdf") if p.parent.name != "discipline-inspection")
    assert editions, "the repository has department editions"
    for path in editions:
        book = Handbook.read(path)
        titles = [title for title, _, _ in book.outline()]
        starts = book.starts(titles)
        toc = book.toc_numbers(titles)
        assert [toc[t] for t in titles] == [book.footer(i) for i in starts], path.parent.name
        assert all(i % 2 == 0 for i in starts), (path.parent.name, starts)


def test_front_matter_is_numbered_in_roman_from_the_cover(repo: Handbook, repo_parts: list[Part]) -> None:
    first = repo.starts([repo_parts[0].title])[0]
    printed = [(i, repo.footer(i)) for i in range(first) if repo.footer(i)]
    assert printed, "the contents page shows a page number"
    for i, label in printed:
        assert label == roman(i + 1), f"physical page {i + 1} is numbered {label!r}"
    assert repo.footer(repo.toc_index()) == "iii"


def test_chapters_are_numbered_from_1_consecutively(repo: Handbook, repo_parts: list[Part]) -> None:
    first = repo.starts([repo_parts[0].title])[0]
    assert repo.footer(first) == "1"
    for i in range(first, len(repo.pages)):
        if repo.footer(i) is not None:
            assert repo.footer(i) == str(i - first + 1), f"physical page {i + 1}"


def test_page_labels_match_printed_page_numbers(repo: Handbook) -> None:
    labels = repo.reader.page_labels
    for i in range(len(repo.pages)):
        if repo.footer(i) is not None:
            assert labels[i] == repo.footer(i), f"physical page {i + 1}"


@pytest.mark.parametrize("which", ["repo", "long", "many"])
def test_every_chapter_starts_on_a_right_hand_page(which: str, request: pytest.FixtureRequest) -> None:
    book: Handbook = request.getfixturevalue(which)
    parts: list[Part] = request.getfixturevalue(f"{which}_parts")
    for part, page in zip(parts, book.starts([p.title for p in parts]), strict=True):
        assert page % 2 == 0, f"{part.title!r} starts on physical page {page + 1} (a left-hand page)"


def test_chapter_numbers_are_printed_above_numbered_titles(repo: Handbook, repo_parts: list[Part]) -> None:
    for part, page in zip(repo_parts, repo.starts([p.title for p in repo_parts]), strict=True):
        if part.number is None:
            assert words(repo.top(page)).startswith(words(part.title)[:20])
        else:
            assert repo.top(page) == part.number, part.title


# ----------------------------------------------------------------------------------------------
# Running headers, cover and blank pages


def test_running_header_on_continuation_pages_only(long: Handbook, long_parts: list[Part]) -> None:
    starts = long.starts([p.title for p in long_parts])
    first, end = starts[1], starts[2]
    part = long_parts[1]
    continuation = [i for i in range(first + 1, end) if long.pages[i].strip()]
    assert len(continuation) >= 2
    assert {i % 2 for i in continuation} == {0, 1}, "continuation pages on both sides of the spread"
    for i in continuation:
        assert squash(long.top(i)) == squash(part.short_title), (
            f"physical page {i + 1}: header {long.top(i)!r}, expected {part.short_title!r}")
    assert squash(part.short_title) not in squash(" ".join(long.lines(first)[:3]))


def test_running_header_uses_the_short_title_not_the_title(long: Handbook, long_parts: list[Part]) -> None:
    part = long_parts[1]
    starts = long.starts([p.title for p in long_parts])
    for i in range(starts[1] + 1, starts[2]):
        if long.pages[i].strip():
            assert squash(part.title) not in squash(long.top(i))


@pytest.mark.parametrize("which", ["repo", "long"])
def test_no_running_header_on_any_chapter_first_page(which: str, request: pytest.FixtureRequest) -> None:
    book: Handbook = request.getfixturevalue(which)
    parts: list[Part] = request.getfixturevalue(f"{which}_parts")
    headers = header_texts(parts) - {squash(p.title) for p in parts}
    for part, page in zip(parts, book.starts([p.title for p in parts]), strict=True):
        top = squash(book.top(page))
        assert top not in headers or squash(part.title).startswith(top), (
            f"{part.title!r}: its first page (physical {page + 1}) has a header {book.top(page)!r}")


@pytest.mark.parametrize("which", ["repo", "long"])
def test_no_header_or_footer_on_the_cover(which: str, request: pytest.FixtureRequest) -> None:
    book: Handbook = request.getfixturevalue(which)
    parts: list[Part] = request.getfixturevalue(f"{which}_parts")
    assert book.pages[0].strip(), "the cover has text"
    assert not any(FOOTER.match(line) for line in book.lines(0)), book.lines(0)
    assert squash(book.top(0)) not in header_texts(parts)


@pytest.mark.parametrize("which", ["repo", "long"])
def test_no_header_or_footer_on_the_back_cover(which: str, request: pytest.FixtureRequest) -> None:
    book: Handbook = request.getfixturevalue(which)
    parts: list[Part] = request.getfixturevalue(f"{which}_parts")
    last = len(book.pages) - 1
    assert not any(FOOTER.match(line) for line in book.lines(last)), book.lines(last)
    assert squash(book.top(last)) not in header_texts(parts)


@pytest.mark.parametrize("which", ["repo", "long"])
def test_blank_pages_are_entirely_blank(which: str, request: pytest.FixtureRequest) -> None:
    """No page carries only a page number or a running header: those are blank pages, left empty."""
    book: Handbook = request.getfixturevalue(which)
    parts: list[Part] = request.getfixturevalue(f"{which}_parts")
    blank = 0
    for i in range(len(book.pages)):
        lines = book.lines(i)
        rest = [line for line in lines
                if not FOOTER.match(line) and squash(line) not in header_texts(parts)]
        if not rest:
            assert lines == [], f"blank physical page {i + 1} shows {lines}"
            blank += 1
    assert blank >= 1, "right-hand starts leave blank pages in this handbook"


# ----------------------------------------------------------------------------------------------
# Bookmarks


def test_bookmarks_are_the_chapter_titles_in_order(repo: Handbook, repo_parts: list[Part]) -> None:
    assert [words(title) for title, _, _ in repo.outline()] == [words(p.title) for p in repo_parts]


def test_bookmarks_point_at_the_chapter_pages(repo: Handbook, repo_parts: list[Part]) -> None:
    starts = repo.starts([p.title for p in repo_parts])
    assert [page for _, page, _ in repo.outline()] == starts


def test_no_bookmarks_for_cover_contents_or_subheadings(repo: Handbook, settings: dict[str, Any]) -> None:
    titles = [title for title, _, _ in repo.outline()]
    assert "Contents" not in titles
    assert settings["title"] not in titles
    assert all(page > repo.toc_index() for _, page, _ in repo.outline())
    assert not any(nested for _, _, nested in repo.outline())
    assert len(repo.reader.outline) == len(titles)


# ----------------------------------------------------------------------------------------------
# Metadata


def pdf_date(value: str) -> dt.date:
    m = re.match(r"^D:(\d{4})(\d{2})(\d{2})", value)
    assert m, value
    return dt.date(int(m[1]), int(m[2]), int(m[3]))


def test_metadata_title_author_subject_keywords(repo: Handbook, settings: dict[str, Any]) -> None:
    info = repo.reader.metadata
    assert info["/Title"] == settings["title"]
    assert info["/Author"] == settings["author"]
    assert info["/Subject"] == settings["subtitle"]
    assert [k.strip() for k in info["/Keywords"].split(",")] == settings["keywords"]


def test_catalog_lang_is_the_language_setting(repo: Handbook, settings: dict[str, Any]) -> None:
    assert repo.reader.trailer["/Root"]["/Lang"] == settings["language"]


def test_catalog_lang_keeps_a_regional_tag(sized: tuple[str, Handbook]) -> None:
    size, book = sized
    assert book.reader.trailer["/Root"]["/Lang"] == SIZES[size][2]


def test_creation_and_modification_dates_are_the_handbook_date(repo: Handbook,
                                                                settings: dict[str, Any]) -> None:
    info = repo.reader.metadata
    assert isinstance(settings["date"], dt.date)
    for key in ("/CreationDate", "/ModDate"):
        assert pdf_date(info[key]) == settings["date"], key
        assert pdf_date(info[key]) != dt.date.today(), key


def test_scratch_dates_follow_their_own_handbook_yaml(long: Handbook) -> None:
    info = long.reader.metadata
    assert pdf_date(info["/CreationDate"]) == dt.date(2026, 1, 15)
    assert pdf_date(info["/ModDate"]) == dt.date(2026, 1, 15)


# ----------------------------------------------------------------------------------------------
# Fonts


def test_every_font_is_embedded_and_subset(repo: Handbook) -> None:
    fonts = pdffonts(repo.path)
    assert fonts
    for font in fonts:
        assert font["emb"] == "yes", font
        assert font["sub"] == "yes", font
        assert re.match(r"^[A-Z]{6}\+", font["name"]), font


def test_faces_are_charis_sil_and_lato_not_dejavu(repo: Handbook) -> None:
    families = {squash(font["name"].split("+", 1)[-1]) for font in pdffonts(repo.path)}
    assert not any("dejavu" in f for f in families), families
    assert all(f.startswith(("charissil", "lato")) for f in families), families
    assert any(f.startswith("charissil") for f in families), families
    assert any(f.startswith("lato") for f in families), families


# ----------------------------------------------------------------------------------------------
# Text


def sentences(markdown: str) -> list[str]:
    text = " ".join(markdown.split())
    return [s for s in re.split(r"(?<=[.!?;])\s+", text) if len(s.split()) >= 4]


def body_flow(book: Handbook, parts: list[Part]) -> str:
    """Every page's text without running headers and page numbers, as one squashed string."""
    keep = []
    for i in range(len(book.pages)):
        lines = book.lines(i)
        if lines and squash(lines[0]) in {squash(p.short_title) for p in parts}:
            lines = lines[1:]
        if lines and FOOTER.match(lines[-1]):
            lines = lines[:-1]
        keep += lines
    return squash(" ".join(keep))


def test_every_chapter_title_is_printed_on_its_own_page(repo: Handbook, repo_parts: list[Part]) -> None:
    starts = repo.starts([p.title for p in repo_parts])
    assert len(set(starts)) == len(repo_parts) == len(list((REPO / "content").glob("[0-9]*.md")))


def test_every_sentence_of_every_chapter_is_in_the_pdf(repo: Handbook, repo_parts: list[Part]) -> None:
    flow = body_flow(repo, repo_parts)
    missing = [f"{p.title}: {s}" for p in repo_parts for s in sentences(p.body) if squash(s) not in flow]
    assert not missing, "\n".join(missing[:5])


def test_summaries_and_reminders_are_in_the_pdf(repo: Handbook, repo_parts: list[Part]) -> None:
    flow = body_flow(repo, repo_parts)
    for part in repo_parts:
        assert squash(part.summary) in flow, part.summary
        assert squash(part.reminder) in flow, part.reminder


def test_sentence_check_would_notice_missing_text(repo: Handbook, repo_parts: list[Part]) -> None:
    flow = body_flow(repo, repo_parts)
    assert squash("Paragraph 3 of the long chapter. " + LOREM) not in flow


def test_cover_and_back_cover_text(repo: Handbook, settings: dict[str, Any]) -> None:
    cover = squash(repo.pages[0])
    assert squash(settings["title"]) in cover
    assert squash(settings["subtitle"]) in cover
    back = squash(repo.pages[-1])
    assert squash(settings["contact"]["hotline"]) in back
    assert squash(settings["contact"]["note"]) in back


# ----------------------------------------------------------------------------------------------
# Reproducible builds


@pytest.fixture(scope="module")
def twice(long_project: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    base = tmp_path_factory.mktemp("twice")
    outs = {"a": base / "a", "b": base / "b", "deep": base / "x" / "y" / "deep"}
    for out in outs.values():
        build_ok(long_project, out, only=("handbook",))
    return {name: (out / "handbook.pdf").read_bytes() for name, out in outs.items()}


def test_two_builds_into_sibling_folders_are_byte_identical(twice: dict[str, bytes]) -> None:
    assert twice["a"] == twice["b"]


def test_two_builds_into_folders_at_different_depths_are_byte_identical(twice: dict[str, bytes]) -> None:
    assert twice["a"] == twice["deep"]


def test_output_does_not_depend_on_the_build_date(repo: Handbook) -> None:
    raw = repo.path.read_bytes()
    assert dt.date.today().strftime("D:%Y%m%d").encode() not in raw


# ----------------------------------------------------------------------------------------------
# handbook.html and handbook.print.html


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


@pytest.fixture(scope="module")
def web(repo_out: Path) -> Tags:
    tags = Tags()
    tags.feed((repo_out / "handbook.html").read_text(encoding="utf-8"))
    return tags


def test_web_page_links_no_stylesheet(web: Tags) -> None:
    assert not [a for tag, a in web.tags if tag == "link" and "stylesheet" in a.get("rel", "").lower()]
    assert not [a for tag, a in web.tags if tag == "base"]


def test_web_page_loads_nothing_from_outside(web: Tags) -> None:
    for tag, attrs in web.tags:
        for name in ("src", "srcset", "poster", "data"):
            if name in attrs:
                assert attrs[name].startswith("data:"), (tag, name, attrs[name][:80])
        if tag == "link":
            assert attrs.get("href", "").startswith(("#", "data:")), attrs
    css = "\n".join(web.styles)
    assert "@import" not in css
    for url in re.findall(r"url\(\s*['\"]?([^'\")]+)", css):
        assert url.startswith(("data:", "#")), url


def test_web_page_inlines_the_stylesheets(web: Tags) -> None:
    css = squash("\n".join(web.styles))
    for name in ("theme.css", "handbook.css", "web.css"):
        source = re.sub(r"/\*.*?\*/", "", (REPO / "styles" / name).read_text(encoding="utf-8"), flags=re.S)
        selectors = [s for s in re.findall(r"([^{}]+)\{", source) if s.strip()][:5]
        assert selectors, name
        for selector in selectors:
            assert squash(selector) in css, f"{name}: {selector.strip()!r} is not inlined"


def test_web_page_has_the_whole_text(repo_out: Path, repo_parts: list[Part]) -> None:
    page = squash(re.sub(r"<[^>]+>", " ", (repo_out / "handbook.html").read_text(encoding="utf-8")))
    for part in repo_parts:
        assert squash(part.title) in page
        for s in sentences(part.body):
            assert squash(s) in page, s


def test_save_html_writes_the_print_html(repo_out: Path) -> None:
    html = (repo_out / "handbook.print.html").read_text(encoding="utf-8")
    assert "<base href=" in html
    assert 'rel="stylesheet"' in html


def test_print_html_renders_from_its_folder_to_the_same_pages(repo_out: Path, repo: Handbook) -> None:
    from weasyprint import HTML

    document = HTML(filename=str(repo_out / "handbook.print.html")).render()
    assert len(document.pages) == len(repo.reader.pages)
    first_page = document.pages[0]
    assert abs(first_page.width / (96 / 25.4) - 148) <= 0.1
