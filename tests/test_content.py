"""Chapters: front matter and Markdown, read from files, with the file and line of every problem."""

from __future__ import annotations

from pathlib import Path

from conftest import REPO, chapter, make_project

from handbook.content import AssetRules, load_chapter, split_front_matter
from handbook.errors import Problem
from handbook.model import Chapter
from handbook.project import load_project


def problems_of(root: Path) -> list[str]:
    return [str(p) for p in load_project(root).problems]


def errors_of(root: Path) -> list[str]:
    return [str(p) for p in load_project(root).problems if p.is_error]


def load(root: Path, name: str) -> tuple[Chapter | None, list[Problem]]:
    return load_chapter(root / "content" / name, AssetRules(root))


# ----------------------------------------------------------------------------------------------
# The repository's content


def test_repository_content_loads_without_problems() -> None:
    loaded = load_project(REPO, organisation=True)
    assert not loaded.failed, loaded.failed
    assert not [p for p in loaded.problems if p.is_error]
    org = next(e for e in loaded.editions if e.slug is None)
    files = sorted(p.stem for p in (REPO / "content").glob("[0-9]*.md"))
    assert [c.stem for c in org.chapters] == files


def test_repository_introduction_and_conclusion_are_unnumbered() -> None:
    org = next(e for e in load_project(REPO).editions if e.slug is None)
    assert org.chapters[0].number is None and org.chapters[-1].number is None
    assert [c.number for c in org.chapters[1:-1]] == [str(n) for n in range(1, 9)]


# ----------------------------------------------------------------------------------------------
# Front matter: its lines are the file's lines


def test_front_matter_error_names_the_file_line(scratch) -> None:
    root = scratch({"content": {"03-third.md": "---\ntitle: Third\nsumary: typo\nreminder: R.\n---\n\nText.\n"}})
    assert errors_of(root) == ["content/03-third.md:3: sumary: unknown key; did you mean summary?"]


def test_front_matter_syntax_error_names_the_file_line(scratch) -> None:
    root = scratch({"content": {"03-third.md": "---\ntitle: Third\nreminder: R.\nsummary: Rules: one\n---\n"}})
    (error,) = errors_of(root)
    assert error.startswith("content/03-third.md:4: YAML syntax error")


def test_front_matter_tab_names_the_file_line(scratch) -> None:
    root = scratch({"content": {"03-third.md": "---\ntitle: Third\n\treminder: R.\n---\n"}})
    assert errors_of(root) == ["content/03-third.md:3: a tab is used for indentation; YAML needs spaces"]


def test_front_matter_bad_value_names_the_file_line(scratch) -> None:
    root = scratch({"content": {"03-third.md": "---\ntitle: Third\nreminder: R.\nnumbered: perhaps\n---\n"}})
    (error,) = errors_of(root)
    assert error.startswith("content/03-third.md:4: numbered:")


def test_front_matter_without_title_takes_the_first_heading_or_the_file_name(scratch) -> None:
    root = scratch({"content": {"03-third.md": "---\nsummary: S.\n---\n\nText.\n",
                                "04-Fourth Point.md": "---\nsummary: S.\n---\n\n# The fourth\n\nText.\n"}})
    assert errors_of(root) == []
    titles = {c.stem: c.title for c in load_project(root).editions[0].chapters}
    assert titles["03-third"] == "third" and titles["04-Fourth Point"] == "The fourth"


def test_front_matter_duplicate_key_names_the_file_line(scratch) -> None:
    root = scratch({"content": {"03-third.md": "---\ntitle: Third\nreminder: R.\ntitle: Again\n---\n"}})
    assert errors_of(root) == ["content/03-third.md:4: 'title' appears twice; keep one of them"]


def test_missing_front_matter_takes_the_title_from_the_first_heading(scratch) -> None:
    root = scratch({"content": {"03-third.md": "# Third *point*\n\nText.\n\n## Third heading\n"}})
    assert problems_of(root) == []
    third = load_project(root).editions[0].chapters[-1]
    assert third.title == "Third point" and third.short_title == "Third point"
    assert "Third point" not in third.html and "<h2" in third.html  # printed once, as the title
    assert third.summary == "" and third.reminder == ""


def test_front_matter_never_closed(scratch) -> None:
    root = scratch({"content": {"03-third.md": "---\ntitle: Third\n\nText.\n"}})
    (error,) = errors_of(root)
    assert error == "content/03-third.md:1: front matter is opened with '---' but never closed"


def test_chapters_with_the_same_number(scratch) -> None:
    root = scratch({"content": {"02-another-second.md": chapter("Another", "Text.", reminder="R.")}})
    (error,) = errors_of(root)
    assert error.startswith("content/02-second-point.md:1: chapter number 2 is also used by "
                            "content/02-another-second.md") or error.startswith(
        "content/02-another-second.md:1: chapter number 2 is also used by content/02-second-point.md")


def test_same_number_with_a_letter_is_a_different_chapter(scratch) -> None:
    root = scratch({"content": {"02a-second-and-a-half.md": chapter("Half", "Text.", reminder="R.")}})
    assert errors_of(root) == []
    org = load_project(root).editions[0]
    assert [c.number for c in org.chapters] == [None, "1", "2", "2a"]


def test_markdown_without_a_number_is_an_error_saying_how_to_rename_it(scratch) -> None:
    root = scratch({"content": {"notes.md": "Some notes.\n"}})
    assert errors_of(root) == ["content/notes.md: a chapter file needs its number first, e.g. rename it to "
                               "03-notes.md (the number sets its place in the handbook)"]


def test_numbered_chapter_without_reminder_is_fine(scratch) -> None:
    root = scratch({"content": {"03-third.md": chapter("Third", "Text.")}})
    assert problems_of(root) == []


def test_broken_chapter_fails_the_organisation_edition(scratch) -> None:
    root = scratch({"content": {"03-third.md": "---\ntitle: [unclosed\n---\n"}})
    loaded = load_project(root)
    assert "organisation-wide" in loaded.failed
    assert not loaded.editions


# ----------------------------------------------------------------------------------------------
# split_front_matter and the body


def test_split_front_matter_counts_the_lines_before_the_body() -> None:
    fm, body, offset = split_front_matter("---\ntitle: T\nsummary: S\n---\nBody\n")
    assert fm == "title: T\nsummary: S\n"
    assert body == "Body\n"
    assert offset == 4


def test_split_front_matter_ignores_a_bom() -> None:
    fm, _, _ = split_front_matter("\ufeff---\ntitle: T\n---\nBody\n")
    assert fm == "title: T\n"


def test_short_title_defaults_to_the_title(scratch) -> None:
    root = scratch({"content": {"03-third.md": chapter("The third point", "Text.", reminder="R.")}})
    ch, problems = load(root, "03-third.md")
    assert ch is not None and not [p for p in problems if p.is_error]
    assert ch.short_title == "The third point"


def test_body_problem_names_the_file_line(scratch) -> None:
    text = "---\ntitle: Third\nreminder: R.\n---\n\nFirst paragraph.\n\n![A photo](missing.png)\n"
    root = scratch({"content": {"03-third.md": text}})
    (error,) = errors_of(root)
    assert error.startswith("content/03-third.md:8: image 'missing.png' not found")


def test_image_outside_the_project_is_refused(scratch) -> None:
    root = scratch({"content": {"03-third.md": "---\ntitle: T\nreminder: R.\n---\n\n![x](../../etc.png)\n"}})
    (error,) = errors_of(root)
    assert error.startswith("content/03-third.md:6:") and "outside the project" in error


def test_scripts_and_event_handlers_are_removed(scratch) -> None:
    body = 'Hello <script>alert(1)</script><b onclick="x()">bold</b>\n\n<iframe src="x"></iframe>\n'
    root = scratch({"content": {"03-third.md": chapter("Third", body, reminder="R.")}})
    ch, _ = load(root, "03-third.md")
    assert ch is not None
    assert "<script" not in ch.html and "alert" not in ch.html
    assert "onclick" not in ch.html and "<iframe" not in ch.html
    assert "<b>bold</b>" in ch.html


def test_markdown_emphasis_and_smart_quotes(scratch) -> None:
    root = scratch({"content": {"03-third.md": chapter("Third", 'Be *careful* and "honest".', reminder="R.")}})
    ch, _ = load(root, "03-third.md")
    assert ch is not None
    assert "<em>careful</em>" in ch.html
    assert "“honest”" in ch.html


def test_the_web_page_inlines_an_image_whose_name_has_spaces(tmp_path: Path) -> None:
    from io import BytesIO

    from PIL import Image

    from handbook.render import handbook_html

    buffer = BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 60)).save(buffer, "PNG")
    root = make_project(tmp_path / "p", {"content": {
        "03-photo.md": chapter("Photo", "![A desk](my%20desk%20photo.png)"),
        "my desk photo.png": buffer.getvalue()}})
    edition = load_project(root).editions[0]
    page = handbook_html(edition, target="web", out_dir=root / "dist")
    assert 'alt="A desk"' in page
    assert "data:image/png;base64," in page and "my%20desk" not in page
