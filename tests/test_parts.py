"""A long edition by parts (handbook.parts, handbook.partwise, handbook.assemble): the joined PDF is
the one document's, page for page; an edit inside one chapter renders one part again.

The project is tests/projects/law-collection (twelve real documents, see its README), built once as
one document and once by parts in two workers, with the real WeasyPrint, read back with poppler and
pypdf.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from handbook import parts
from handbook.builder import BuildOptions, build
from handbook.estimate import Done, Estimate
from tests.conftest import PROJECTS, REPO, make_project

Word = tuple[float, float, str]  # y, x (points from the top left), text


def words(pdf: Path) -> list[list[Word]]:
    """Every page's words with their positions (poppler). A hyphen at a line's end is the same
    glyph whether the font's map reads it as U+2010 or "-": which one depends on the first use of
    that glyph in the document, so both read as "-"."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    pages = []
    for page in out.split("<page ")[1:]:
        found = re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="[\d.]+" yMax="[\d.]+">(.*?)</word>', page)
        pages.append(sorted((round(float(y)), float(x), html.unescape(t).replace("\u2010", "-"))
                            for x, y, t in found))
    return pages


def same_page(a: list[Word], b: list[Word]) -> bool:
    """The same words at the same places (within 0.5 pt: the widths in the font subsets of a part and
    of the whole book round differently by a thousandth of an em)."""
    return len(a) == len(b) and all(ta == tb and abs(xa - xb) <= 0.5 and ya == yb
                                    for (ya, xa, ta), (yb, xb, tb) in zip(a, b, strict=True))


def outline(reader: PdfReader) -> list[tuple[int, str, int | None, float]]:
    found: list[tuple[int, str, int | None, float]] = []

    def walk(items: list[Any], depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                found.append((depth, item.title, reader.get_destination_page_number(item), round(float(item.top), 2)))

    walk(reader.outline, 0)
    return found


def links(reader: PdfReader) -> list[tuple[int, tuple[float, ...], str]]:
    """(page, rectangle, where to) of every link: a named destination resolved to its page and point."""
    dests = {name: (reader.get_destination_page_number(d), round(float(d.left), 2), round(float(d.top), 2))
             for name, d in reader.named_destinations.items()}
    found = []
    for number, page in enumerate(reader.pages):
        for annot in page.get("/Annots", []) or []:
            annot = annot.get_object()
            rect = tuple(round(float(v), 1) for v in annot["/Rect"])
            target = str(dests[str(annot["/Dest"])]) if "/Dest" in annot else str(annot["/A"]["/URI"])
            found.append((number, rect, target))
    return found


def labels(reader: PdfReader) -> list[str]:
    return list(reader.page_labels)


def store(root: Path, name: str = "handbook", edition: str = "organisation-wide") -> Path:
    """Where a project keeps an output's parts: its own cache, not the output folder."""
    return root / ".handbook-cache" / "parts" / edition / name


def layout(root: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((store(root) / "layout.json").read_text())
    return data


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The law collection as one document and by parts (two workers)."""
    root = tmp_path_factory.mktemp("parts") / "law-collection"
    shutil.copytree(PROJECTS / "law-collection", root)
    for part in ("templates", "styles"):
        shutil.copytree(REPO / part, root / part)
    one, by_parts = root / "one", root / "by-parts"
    for out, how, jobs in ((one, "off", 1), (by_parts, "on", 2)):
        report = build(root, BuildOptions(out=out, only=("handbook",), parts=how, jobs=jobs))
        assert report.ok, report.failed
        assert not report.warnings, report.warnings
    return {"root": root, "one": one / "handbook.pdf", "parts": by_parts / "handbook.pdf", "parts_out": by_parts}


def test_the_edition_was_rendered_by_parts(books: dict[str, Path]) -> None:
    done = layout(books["root"])
    assert done["parts"] == 5  # the front matter and four groups of chapters of about equal length
    assert [a for g in done["groups"] for a in g] == [f"ch-{p.stem}" for p in
                                                      sorted((books["root"] / "content").glob("*.md"))]
    assert not (books["one"].parent / ".handbook-parts").exists()  # the outputs only, in either folder
    assert not (books["parts_out"] / ".handbook-parts").exists() and not list(books["parts_out"].glob(".*/"))


def test_same_pages_and_words_on_each(books: dict[str, Path]) -> None:
    one, by_parts = words(books["one"]), words(books["parts"])
    assert len(one) == len(by_parts) > 40
    differing = [i + 1 for i, (a, b) in enumerate(zip(one, by_parts, strict=True)) if not same_page(a, b)]
    assert differing == []


def test_same_page_labels_outline_links_and_metadata(books: dict[str, Path]) -> None:
    one, by_parts = PdfReader(books["one"]), PdfReader(books["parts"])
    assert labels(by_parts) == labels(one)
    assert labels(one)[:4] == ["i", "ii", "iii", "iv"] and labels(one)[4] == "1"
    assert outline(by_parts) == outline(one)
    assert len(outline(one)) == 12
    assert links(by_parts) == links(one)
    assert sum(1 for _, _, target in links(one) if not target.startswith(("http", "mailto"))) > 20
    assert dict(by_parts.metadata or {}) == dict(one.metadata or {})
    for key in ("/Lang", "/ViewerPreferences", "/PageLabels"):
        assert by_parts.trailer["/Root"][key] == one.trailer["/Root"][key], key


def test_printed_numbers_are_the_pages_they_name(books: dict[str, Path]) -> None:
    """Independently of the one document: every footer shows its page's label, every contents entry
    and every "see p. N" the label of the page its chapter starts on."""
    reader = PdfReader(books["parts"])
    page_of = {name: reader.get_destination_page_number(d) for name, d in reader.named_destinations.items()}
    names = labels(reader)
    pages = words(books["parts"])
    height = float(reader.pages[0].mediabox.height)
    footers = 0
    for number, page in enumerate(pages):
        bottom = [t for y, _, t in page if y > height - 60]
        if number >= 4 and bottom:
            assert bottom == [names[number]], number + 1
            footers += 1
    assert footers > 30
    chapters = [a for g in layout(books["root"])["groups"] for a in g]
    starts = {anchor: names[page_of[anchor]] for anchor in chapters}
    width = float(reader.pages[0].mediabox.width)
    printed = [t for page in pages[2:4] for _, x, t in page if t.isdigit() and x > width * 0.75]
    assert printed == [starts[a] for a in chapters]  # the contents
    text = " ".join(" ".join(t for _, _, t in page) for page in pages)
    seen = re.findall(r"Bargeld \(see p\. (\d+)\)", text)  # chapter 2 -> chapter 12: forward, other part
    assert seen and all(n == starts["ch-12-bargeldpruefv"] for n in seen)


def test_an_edit_inside_a_chapter_renders_its_part_again(books: dict[str, Path]) -> None:
    """With the preview's options (one worker, as handbook serve builds): the part of the edited
    chapter is rendered again and nothing else, and the PDF is what one document gives."""
    root, out = books["root"], books["parts_out"]
    chapter = root / "content" / "11-barchkostv.md"
    chapter.write_text(chapter.read_text(encoding="utf-8").replace("Kinofilme in der Vorführung",
                                                                   "Kinofilme bei der Vorführung"), encoding="utf-8")
    report = build(root, BuildOptions(out=out, only=("handbook",), departments=(), organisation=True, jobs=1))
    assert report.ok, report.failed
    done = layout(root)
    edited = next(i + 1 for i, g in enumerate(done["groups"]) if "ch-11-barchkostv" in g)
    assert done["rendered"] == [edited]
    fresh = root / "fresh"
    assert build(root, BuildOptions(out=fresh, only=("handbook",), parts="off")).ok
    one, by_parts = words(fresh / "handbook.pdf"), words(out / "handbook.pdf")
    assert len(one) == len(by_parts)
    assert [i + 1 for i, (a, b) in enumerate(zip(one, by_parts, strict=True)) if not same_page(a, b)] == []
    assert any(not same_page(a, b) for a, b in zip(words(books["one"]), by_parts, strict=True))  # edited


def test_a_chapter_that_grows_moves_the_parts_after_it(books: dict[str, Path]) -> None:
    """Pages added to chapter 1: its part, every part after it (their first page moved) and the
    contents are rendered again; the numbers are still the pages they name."""
    root, out = books["root"], books["parts_out"]
    chapter = root / "content" / "01-goldmuenzgesetz.md"
    text = chapter.read_text(encoding="utf-8")
    body = text.split("\n---\n", 1)[1]
    chapter.write_text(text + "\n## Wiederholung\n\n" + body + body, encoding="utf-8")
    report = build(root, BuildOptions(out=out, only=("handbook",), jobs=2))
    assert report.ok, report.failed
    assert layout(root)["rendered"] == [0, 1, 2, 3, 4]
    fresh = root / "fresh-grown"
    assert build(root, BuildOptions(out=fresh, only=("handbook",), parts="off")).ok
    one, by_parts = words(fresh / "handbook.pdf"), words(out / "handbook.pdf")
    assert len(by_parts) == len(one) > len(words(books["one"]))
    assert [i + 1 for i, (a, b) in enumerate(zip(one, by_parts, strict=True)) if not same_page(a, b)] == []
    assert outline(PdfReader(out / "handbook.pdf")) == outline(PdfReader(fresh / "handbook.pdf"))


def test_the_preview_renders_by_parts_after_its_first_build(fixture_project: Any) -> None:
    """handbook serve's own rebuild (one worker): its first build is one document and keeps the
    page map; after a save every part is rendered once (one pass: the numbers were right), after
    the next save only the part of the chapter saved."""
    from handbook.serve import Preview

    root = fixture_project("law-collection")
    out = root / "preview"
    preview = Preview(root, out, None)

    def save() -> None:
        assert preview.refresh()
        preview.build_pdfs(preview.generation)
        assert preview.state["problems"] == [], preview.state["problems"]

    save()
    first = layout(root)
    assert first["one_document"] and first["rendered"] == [] and first["parts"] == 5
    assert not list(store(root).glob("*.pdf"))
    chapter = root / "content" / "05-temporary-contractors.md"
    for n, (old, new) in enumerate((("People Ops", "People Operations"), ("Onboarding", "On-boarding"))):
        chapter.write_text(chapter.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
        save()
        done = layout(root)
        edited = next(i + 1 for i, g in enumerate(done["groups"]) if "ch-05-temporary-contractors" in g)
        assert done["rendered"] == ([0, 1, 2, 3, 4] if n == 0 else [edited]) and done["passes"] == 1, done["rendered"]
    preview.close()
    fresh = root / "fresh"
    assert build(root, BuildOptions(out=fresh, only=("handbook",), parts="off")).ok
    a, b = words(fresh / "handbook.pdf"), words(out / "handbook.pdf")
    assert len(a) == len(b) and all(same_page(x, y) for x, y in zip(a, b, strict=True))


def test_a_first_build_by_parts_renders_again_only_what_was_estimated(fixture_project: Any) -> None:
    """No page map kept, one worker (the order is then fixed): the parts go in book order, each with
    the exact pages of the parts before it, the contents last. A part whose numbers were all known
    when it was rendered (its first page, the pages it names) is rendered once; only those that
    name a page after them (estimated) are rendered again. The guess of the whole book from the
    text's length alone (what a first build without this order rendered from) had every part
    wrong. The PDF is the one document's."""
    root = fixture_project("law-collection")
    report = build(root, BuildOptions(out=root / "by-parts", only=("handbook",), parts="on", jobs=1))
    assert report.ok, report.failed
    done = layout(root)
    assert done["rendered"] == [0, 1, 2, 3, 4]
    assert done["again"] == [1, 2, 4] and done["passes"] == 2
    assert 0 not in done["again"] and 3 not in done["again"]  # the contents, a part naming earlier pages
    html_path = root / "one" / "handbook.print.html"
    assert build(root, BuildOptions(out=root / "one", only=("handbook",), parts="off", save_html=True)).ok
    html = html_path.read_text(encoding="utf-8")
    at = [m.start() for m in parts.ID.finditer(html)]  # the estimate's text before each anchor, in one pass
    assert len(at) > 40 and parts.text_lengths_before(html, at) == [parts.text_length(html[:p]) for p in at]
    made = parts.make(html, [a for g in done["groups"] for a in g],
                      [(REPO / "styles" / "handbook.css").read_text(encoding="utf-8")], done["groups"])
    assert made is not None and made.count == 5
    final = parts.PageMap(done["starts"], done["anchors"], done["starts"][1])
    guessed = parts.guess(made)
    assert [i for i in range(made.count) if made.html(i, guessed) != made.html(i, final)] == [0, 1, 2, 3, 4]
    one, by_parts = root / "one" / "handbook.pdf", root / "by-parts" / "handbook.pdf"
    a, b = words(one), words(by_parts)
    assert len(a) == len(b) > 40
    assert [i + 1 for i, (x, y) in enumerate(zip(a, b, strict=True)) if not same_page(x, y)] == []
    ra, rb = PdfReader(one), PdfReader(by_parts)
    assert labels(ra) == labels(rb) and outline(ra) == outline(rb) and links(ra) == links(rb)


def test_auto_renders_a_first_build_by_parts_when_few_parts_name_later_pages(fixture_project: Any) -> None:
    """--parts auto, two workers, no page map: the law collection (one part of four names a later
    page) is rendered by parts at once; with a link to the last chapter in every chapter (every
    part names a later page, so most would be rendered twice) it is one document, and its page map
    is kept for the next build."""
    root = fixture_project("law-collection")
    report = build(root, BuildOptions(out=root / "first", only=("handbook",), jobs=2))
    assert report.ok, report.failed
    done = layout(root)
    assert not done.get("one_document") and done["rendered"] == [0, 1, 2, 3, 4] and "again" in done
    one = root / "one"
    assert build(root, BuildOptions(out=one, only=("handbook",), parts="off")).ok
    a, b = words(one / "handbook.pdf"), words(root / "first" / "handbook.pdf")
    assert len(a) == len(b) and all(same_page(x, y) for x, y in zip(a, b, strict=True))

    shutil.rmtree(root / ".handbook-cache")
    for chapter in sorted((root / "content").glob("*.md"))[:-1]:
        chapter.write_text(chapter.read_text(encoding="utf-8") + "\n\nSiehe [Bargeld](12-bargeldpruefv.md).\n",
                           encoding="utf-8")
    report = build(root, BuildOptions(out=root / "linked", only=("handbook",), jobs=2))
    assert report.ok, report.failed
    done = layout(root)
    assert done["one_document"] and done["rendered"] == [] and not list(store(root).glob("*.pdf"))


def test_what_parts_cannot_carry_is_one_document() -> None:
    theme = (REPO / "styles" / "handbook.css").read_text(encoding="utf-8")
    assert parts.unsupported([theme]) is None
    assert parts.unsupported([theme], footnote_links=True)
    for css in ("@page { @bottom-right { content: counter(page) ' / ' counter(pages); } }",
                "h2 { counter-increment: section; }", "h2::before { content: counter(section); }",
                "@page :first { margin: 0; }", "a::after { content: target-text(attr(href)); }",
                "@page { @top-center { content: element(title); } }"):
        assert parts.unsupported([theme, css]), css
    assert parts.unsupported([theme, ".chapter { break-before: page; }"])


def test_split_and_numbers() -> None:
    page = ('<html><head><style>a::after { content: target-counter(attr(href), page, lower-roman) }</style></head>'
            '<body class="x"><section class="cover"></section><nav id="contents"><a href="#ch-b">B</a></nav>\n'
            '<main>\n' + "".join(f'<article class="chapter" id="ch-{c}" data-source="content/{c}.md">'
                                  f'<p>{c * 40}</p><a href="#ch-{"a" if c != "a" else "c"}">x</a></article>\n'
                                  for c in "abcd") + '</main>\n<section class="back-cover"></section></body></html>')
    made = parts.make(page, ["ch-a", "ch-b", "ch-c", "ch-d"], [])
    assert made is not None and made.pairs == (("href", "lower-roman"),)
    assert made.count == 3 and [made.chapters(i) for i in (1, 2)] == [("ch-a", "ch-b"), ("ch-c", "ch-d")]
    pages = parts.PageMap([0, 4, 10], {"ch-a": 4, "ch-b": 6, "ch-c": 10, "ch-d": 12, "contents": 2}, 4)
    second = made.html(2, pages)
    assert "counter-reset: page 7 !important" in second  # page 11 of the book is the chapters' page 7
    assert 'href="#ch-a" data-handbook-page-href-lower-roman="i"' in second  # another part's chapter
    assert '<span id="ch-a"></span></div></body>' in second  # kept as a link, on the dropped page
    assert "attr(data-handbook-page-href-lower-roman)" in second and "target-counter" not in second
    assert second.rstrip().endswith("</html>") and 'class="back-cover"' in second and parts.PART_END in second
    first = made.html(0, pages)
    assert 'class="cover"' in first and "counter-reset" not in first and 'class="back-cover"' not in first
    assert f'<article class="chapter" id="{parts.PART_END}"><span id="ch-b"></span></article></main>' in first
    assert parts.make(page.replace("<main>", "<div>").replace("</main>", "</div>"), ["ch-a"], []) is None
    # a names c (the first page of the next part: after a's own part), b, c and d name a; the contents b
    estimate = Estimate(made)
    assert [sorted(d) for d in estimate.depends] == [[1], [1], [1]] and estimate.ahead() == []
    assert not estimate.exact(2, {}) and estimate.exact(2, {1: Done(4, {"ch-a": 0, "ch-b": 2})})
    linked = parts.make(page.replace('<a href="#ch-a">x</a></article>\n<article class="chapter" id="ch-c"',
                                     '<a href="#ch-d">x</a></article>\n<article class="chapter" id="ch-c"'),
                        ["ch-a", "ch-b", "ch-c", "ch-d"], [])
    assert linked is not None
    later = Estimate(linked)
    assert later.ahead() == [1] and sorted(later.depends[1]) == [1, 2]  # b names d: not on part 2's first page
    guessed = estimate.page_map({})  # ch-a: 160 characters at 1,000 a page: 1 page, and a blank one
    assert guessed.anchors["ch-b"] - guessed.anchors["ch-a"] == 2 and guessed.starts[2] - guessed.starts[1] == 4
    known = estimate.page_map({1: Done(6, {"ch-a": 0, "ch-b": 4})})  # rendered: its own pages
    assert known.anchors["ch-b"] - known.anchors["ch-a"] == 4 and known.starts[2] - known.starts[1] == 6


def test_chinese_print_shop_edition_by_parts(fixture_project: Any) -> None:
    """The Chinese law (tests/projects/chinese-law) with its department, for the print shop: by
    parts, the same words on the same pages, the same boxes (trim, bleed), labels and bookmarks."""
    root = fixture_project("chinese-law")
    one, by_parts = root / "one", root / "by-parts"
    for out, how in ((one, "off"), (by_parts, "on")):
        report = build(root, BuildOptions(out=out, only=("handbook",), parts=how, jobs=2, print_shop=True))
        assert report.ok, report.failed
    assert (store(root, "handbook-print-shop") / "layout.json").is_file()
    assert (store(root, "handbook-print-shop", "police") / "layout.json").is_file()
    for name in ("handbook.pdf", "handbook-print-shop.pdf", "police/handbook-print-shop.pdf"):
        a, b = words(one / name), words(by_parts / name)
        assert len(a) == len(b) > 10
        assert [i + 1 for i, (x, y) in enumerate(zip(a, b, strict=True)) if not same_page(x, y)] == [], name
        ra, rb = PdfReader(one / name), PdfReader(by_parts / name)
        boxes = [[(tuple(p.mediabox), tuple(p.trimbox), tuple(p.bleedbox)) for p in r.pages] for r in (ra, rb)]
        assert boxes[0] == boxes[1], name
        assert labels(ra) == labels(rb) and outline(ra) == outline(rb) and links(ra) == links(rb), name


def test_parts_are_kept_in_the_project_or_the_output_folder_when_it_is_read_only(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A copy of dist/ for a print shop holds the outputs only; a read-only project (as root can
    write anywhere, os.access answers for it here) keeps them in the output folder instead."""
    from handbook.partwise import store_folder
    from handbook.project import load_project

    root = make_project(tmp_path / "p")
    edition = load_project(root).editions[0]
    assert store_folder(edition, root / "dist", "handbook") == root / ".handbook-cache" / "parts" / \
        "organisation-wide" / "handbook"
    monkeypatch.setattr("handbook.partwise.os.access", lambda path, mode: False)
    assert store_folder(edition, root / "dist", "handbook") == root / "dist" / ".handbook-parts" / "handbook"
