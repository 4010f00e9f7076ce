"""Property-based tests: whatever a user writes in front matter, Markdown or a settings file, the
tool either builds or reports clean problems (``path:line: message``), never an unexpected
exception; and what it builds carries nothing that could run, embed or fetch.

Mostly through the lower-level functions (``content.load_chapter``, ``project.load_project``,
``render.handbook_html``), which are fast; a handful of examples go through the PDF renderer.
"""

from __future__ import annotations

import datetime as dt
import html.parser
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import make_project
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from handbook.config import CardsFile, Department, FrontMatter, Settings, validate
from handbook.content import ALLOWED_TAGS, AssetRules, load_chapter, render_markdown
from handbook.errors import HandbookError, Problem
from handbook.yamlfile import parse_yaml

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ----------------------------------------------------------------------------------------------
# Strategies

FRONT_KEYS = [*FrontMatter.model_fields, "titel", "Title", "summry", "reminders", "numberd", "colour", ""]
SETTINGS_KEYS = [*Settings.model_fields, *Department.model_fields, *CardsFile.model_fields, "colour", "primary"]

scalars = (st.none() | st.booleans() | st.integers(-10**30, 10**30) | st.floats(allow_nan=True)
           | st.text(max_size=30) | st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31))
           | st.sampled_from(["#fff", "#12345g", "a5", "id-1", "90 x 50 mm", "0 x 0 mm", "1e9 x 1 mm",
                              "2026-13-45", "yes", "~", "", " ", "long-edge", "../x", "file:///etc/passwd"]))
values = st.recursive(scalars, lambda children: st.lists(children, max_size=3)
                      | st.dictionaries(st.sampled_from(SETTINGS_KEYS) | st.text(max_size=8), children, max_size=3),
                      max_leaves=10)
mappings = st.dictionaries(st.sampled_from(SETTINGS_KEYS) | st.text(max_size=10), values, max_size=6)
front_matters = st.dictionaries(st.sampled_from(FRONT_KEYS) | st.text(max_size=10), values, max_size=5)

YAML_ALPHABET = "abcxyz019 :-[]{},#&*!|>'\"%@`?\t\n\\.~=<"
yaml_texts = st.text(alphabet=YAML_ALPHABET, max_size=120) | st.lists(
    st.sampled_from(["title: T\n", "title:\n", "summary: a: b\n", "  x: 1\n", "\tnumbered: true\n",
                     "- a\n", "[\n", "{a: 1\n", "&a [*a]\n", "a: &x 1\nb: *x\n", "? [a]\n: b\n",
                     "reminder: |\n  two\n  lines\n", "'unclosed\n", "numbered: perhaps\n",
                     "date: 2026-02-30\n", "!!python/object:os.system x\n", "---\n", "...\n", "%YAML 1.1\n",
                     "title: !!binary ¡\n", "key: value # comment\n", "title: \"\\u0000\"\n"]),
    max_size=8).map("".join)

MD_FRAGMENTS = [
    "# Heading\n", "\n\n", "*emph* ", "**strong** ", "`code` ", "```\nfence\n```\n", "> quote\n", "- item\n",
    "1. item\n", "| a | b |\n|---|---|\n| 1 | 2 |\n", "[^1]\n\n[^1]: note\n", "{#anchor .cls}", "---\n",
    "![alt](", "](", "[link](", ")", "<img src=\"", "\">", "<a href=\"", "</a>", "javascript:alert(1)",
    "file:///etc/passwd", "../", "../../secret.png", "/etc/passwd", "data:image/png;base64,iVBORw0KGgo=",
    "data:image/svg+xml,%3Csvg%3E%3C/svg%3E", "http://127.0.0.1:9/x.png", "https://example.org/x.png",
    "image.png", "mailto:a@b.c", "#ch-1", "<script>alert(1)</script>", "<iframe src=x>", "<svg onload=x>",
    "<p onclick=\"x()\">", "<style>*{}</style>", "<link rel=stylesheet href=x.css>", "<base href=/>",
    "<meta http-equiv=refresh>", "<a rel=\"attachment\" href=\"x\">", "<object data=x>", "<embed src=x>",
    "<!-- comment -->", "&amp;", "&#0;", "\\", "*", "_", "<", ">", "\"", "'", "\t", "\x00", "\u202e", "字",
    "<img src=x onerror=alert(1)>", "<a href='javascript:x'>", "<IMG SRC=\"file:///etc/passwd\">",
]
markdowns = st.lists(st.sampled_from(MD_FRAGMENTS) | st.text(max_size=12), max_size=25).map("".join)


# ----------------------------------------------------------------------------------------------
# Checks shared by the properties


def clean_problems(problems: list[Problem], path: str, lines: int) -> None:
    """Every problem is a Problem naming ``path`` and, when it has one, a line of the file."""
    for p in problems:
        assert isinstance(p, Problem), p
        assert p.path == path, p
        assert p.severity in ("error", "warning"), p
        assert p.message and "Traceback" not in p.message, p
        assert p.line is None or 1 <= p.line <= lines + 1, (p, lines)
        assert len(p.message) < 2000, p  # no huge repr of the input


class Tags(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


def safe_html(fragment: str) -> None:
    """Only allowed tags; no event handler or style attribute; no URL that runs or reaches out."""
    tags = Tags()
    tags.feed(fragment)
    for tag, attrs in tags.found:
        assert tag in ALLOWED_TAGS, (tag, fragment)
        for name, value in attrs:
            assert not name.startswith("on") and name not in ("style", "srcset", "rel"), (tag, name)
            value = (value or "").strip().lower()
            if name == "src":
                assert value.startswith("data:image/") or (":" not in value.split("/")[0]
                                                           and not value.startswith(("/", ".."))), value
            if name == "href":
                assert not value.startswith(("javascript:", "file:", "data:", "vbscript:")), value


# ----------------------------------------------------------------------------------------------
# Settings files: parse + validate never raises


@pytest.mark.parametrize("model", [Settings, Department, CardsFile, FrontMatter])
@FAST
@given(data=mappings)
def test_any_settings_data_validates_or_reports(model: Any, data: dict[Any, Any]) -> None:
    try:
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    except (yaml.YAMLError, ValueError):
        assume(False)
    doc, problems = parse_yaml(text, Path("x.yaml"), "x.yaml")
    lines = text.count("\n") + 1
    clean_problems(problems, "x.yaml", lines)
    if doc is None:
        assert any(p.is_error for p in problems)
        return
    result, more = validate(doc, model)
    clean_problems(more, "x.yaml", lines)
    assert (result is None) == bool(more)


@FAST
@given(text=yaml_texts, offset=st.integers(0, 5))
@example(text="date: 2026-02-30\n", offset=0)  # PyYAML's date constructor raises ValueError
@example(text="a: &a [*a]\n", offset=0)  # a cycle
@example(text="x: " + "[" * 3000 + "]" * 3000 + "\n", offset=0)  # deeper than Python's recursion limit
@example(text="a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
              "c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c]\n"
              "e: &e [*d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e]\n"
              "title: *f\n", offset=0)  # "billion laughs"
@example(text="title: T\njust words\nlanguage: en\n", offset=1)
@example(text="\x00", offset=0)
def test_any_yaml_text_parses_or_reports_with_its_line(text: str, offset: int) -> None:
    doc, problems = parse_yaml(text, Path("x.yaml"), "x.yaml", offset=offset)
    clean_problems(problems, "x.yaml", text.count("\n") + 1 + offset)
    if doc is None:
        assert problems and all(p.line is None or p.line > offset for p in problems)
        return
    for model in (Settings, FrontMatter):
        _, more = validate(doc, model)
        clean_problems(more, "x.yaml", text.count("\n") + 1 + offset)


# ----------------------------------------------------------------------------------------------
# Chapters: front matter + Markdown


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("chapters")
    (root / "content").mkdir()
    (root / "content" / "image.png").write_bytes(
        bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                      "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"))
    (root.parent / "secret.png").write_bytes(b"not for the handbook")
    return root


def chapter_text(front: str, body: str) -> str:
    return f"---\n{front}---\n\n{body}\n"


def assert_chapter(root: Path, text: str) -> None:
    path = root / "content" / "05-generated.md"
    path.write_text(text, encoding="utf-8")
    chapter, problems = load_chapter(path, AssetRules(root))
    clean_problems(problems, "content/05-generated.md", text.count("\n") + 1)
    if chapter is None:
        assert any(p.is_error for p in problems), problems
        return
    safe_html(chapter.html)
    safe_html(chapter.summary)
    safe_html(chapter.reminder)


@FAST
@given(front=front_matters)
def test_any_front_matter_loads_or_reports(folder: Path, front: dict[Any, Any]) -> None:
    try:
        text = yaml.safe_dump(front, allow_unicode=True, sort_keys=False)
    except (yaml.YAMLError, ValueError):
        assume(False)
    assert_chapter(folder, chapter_text(text, "Body."))


@FAST
@given(front=yaml_texts)
def test_any_front_matter_text_loads_or_reports(folder: Path, front: str) -> None:
    assert_chapter(folder, chapter_text(front if front.endswith("\n") else front + "\n", "Body."))


@FAST
@given(body=markdowns, summary=markdowns)
@example(body="![x](file:///etc/passwd) [y](javascript:alert(1)) <img src=x onerror=alert(1)>", summary="")
@example(body="> " * 500 + "deep", summary="*" * 1000)
@example(body="![x](data:image/svg+xml,%3Csvg%3E%3Cimage%20href=%22http://127.0.0.1:9/x%22/%3E%3C/svg%3E)",
         summary="<script>x</script>")
def test_any_markdown_loads_safely_or_reports(folder: Path, body: str, summary: str) -> None:
    front = yaml.safe_dump({"title": "Generated", "summary": summary, "reminder": "R."}, allow_unicode=True)
    assert_chapter(folder, chapter_text(front, body))


@FAST
@given(body=markdowns)
@example(body="\r\r<script>alert(1)</script>")  # a lone CR ends a line in Markdown
def test_render_markdown_lines_are_inside_the_text(folder: Path, body: str) -> None:
    html, _, problems = render_markdown(body, source="x.md", base_dir=folder / "content",
                                            rules=AssetRules(folder), line_offset=10)
    safe_html(html)
    # CommonMark's line endings: LF, CR, CR LF (a lone CR is a line of its own).
    clean_problems(problems, "x.md", len(re.findall(r"\r\n?|\n", body)) + 11)
    assert all(p.line is None or p.line > 10 for p in problems)


# ----------------------------------------------------------------------------------------------
# A whole project: load and render the HTML


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("props") / "project",
                        {"departments": {"finance": {"department.yaml": "name: Finance\n"}}})


def load_and_render(root: Path) -> None:
    from handbook.project import load_project
    from handbook.render import cards_html, handbook_html

    loaded = load_project(root)
    for slug, problems in loaded.failed.items():
        assert problems and all(p.is_error for p in problems), slug
    for edition in loaded.editions:
        try:
            html = handbook_html(edition, target="print", out_dir=root / "dist")
            handbook_html(edition, target="web", out_dir=root / "dist")
            if edition.deck.cards:
                cards_html(edition, layout="sheets", out_dir=root / "dist")
        except HandbookError as exc:
            assert exc.problems or exc.message
            continue
        assert "<script" not in html.lower()


@SLOW
@given(front=front_matters, body=markdowns)
def test_any_chapter_in_a_project_renders_or_reports(project: Path, front: dict[Any, Any], body: str) -> None:
    front = {"title": "Generated", **front}
    try:
        text = yaml.safe_dump(front, allow_unicode=True, sort_keys=False)
    except (yaml.YAMLError, ValueError):
        assume(False)
    (project / "content" / "05-generated.md").write_text(chapter_text(text, body), encoding="utf-8")
    load_and_render(project)


@SLOW
@given(data=mappings)
def test_any_department_yaml_renders_or_reports(project: Path, data: dict[Any, Any]) -> None:
    data = {"name": "Finance", **data}
    try:
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    except (yaml.YAMLError, ValueError):
        assume(False)
    (project / "departments" / "finance" / "department.yaml").write_text(text, encoding="utf-8")
    load_and_render(project)


@SLOW
@given(data=mappings)
def test_any_cards_yaml_renders_or_reports(project: Path, data: dict[Any, Any]) -> None:
    try:
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    except (yaml.YAMLError, ValueError):
        assume(False)
    (project / "content" / "cards.yaml").write_text(text, encoding="utf-8")
    load_and_render(project)


# ----------------------------------------------------------------------------------------------
# A handful through WeasyPrint


@pytest.fixture(scope="module")
def pdf_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("pdf") / "project", chapters=True)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=st.text(min_size=1, max_size=40), body=markdowns)
def test_a_few_pdfs_build_or_report(pdf_project: Path, title: str, body: str) -> None:
    from handbook.builder import BuildOptions, build

    text = chapter_text(yaml.safe_dump({"title": title, "reminder": body[:40]}, allow_unicode=True), body)
    (pdf_project / "content" / "05-generated.md").write_text(text, encoding="utf-8")
    out = pdf_project / "dist"
    report = build(pdf_project, BuildOptions(out=out, only=("handbook",), max_seconds=60))
    for name, problems in report.failed.items():
        assert problems, name
        for p in problems:
            assert isinstance(p, Problem) and "Traceback" not in p.message
    if report.ok:
        assert (out / "handbook.pdf").read_bytes().startswith(b"%PDF")
    shutil.rmtree(out, ignore_errors=True)
