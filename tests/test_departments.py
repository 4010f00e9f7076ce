"""An edition per department: layering, templates, chapters, cards, the sandbox, isolation, the CLI.

Every PDF here is a real WeasyPrint render read back with poppler (text) and pypdf (outline,
content streams, boxes). The projects are built once per module (module-scoped fixtures) and
restricted to the documents and departments a test needs, so the module stays fast.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import MINIMAL_SETTINGS, REPO, chapter, page_texts, pdftotext, write_tree
from conftest import make_project as scratch_project
from pypdf import PdfReader

from handbook.builder import BuildOptions, BuildReport, build
from handbook.cli import main
from handbook.config import Colors
from handbook.errors import ConfigError
from handbook.project import load_project

FOUR_FILES = ("handbook.pdf", "handbook.html", "cards.pdf", "cards-print-shop.pdf")
PROJECT_PRIMARY, PROJECT_ACCENT = "#7a1f1f", "#d6a64f"  # the defaults; MINIMAL_SETTINGS sets none


# --------------------------------------------------------------------------------------------
# helpers


def make_project(root: Path, spec: dict[str, Any] | None = None, *, settings: str = MINIMAL_SETTINGS,
                 third: bool = True) -> Path:
    """A small project at ``root``: the repository's theme, four chapters (00 unnumbered, 01-03)."""
    content = {
        "01-first-point.md": chapter("First point", "Body of the first point.",
                                     summary="The first summary.", reminder="First reminder."),
        "02-second-point.md": chapter("Second point", "Body of the second point.",
                                      summary="The second summary.", reminder="Second reminder."),
    }
    if third:
        content["03-third-point.md"] = chapter("Third point", "Body of the third point.",
                                               summary="The third summary.", reminder="Third reminder.")
    scratch_project(root, {"content": content}, settings=settings)
    if spec:
        write_tree(root, spec)
    return root


def department(name: str, yaml: str = "", **files: Any) -> dict[str, Any]:
    """A department folder spec: department.yaml (``name`` + ``yaml``) and other files."""
    return {"department.yaml": f"name: {name}\n{yaml}", **files}


def errors_text(report: BuildReport) -> str:
    return "\n".join(f"{name}: {p}" for name, problems in report.failed.items() for p in problems)


def outline_titles(pdf: Path) -> list[str]:
    """The bookmarks of a PDF, depth first."""
    def walk(items: list[Any]) -> Iterator[str]:
        for item in items:
            if isinstance(item, list):
                yield from walk(item)
            else:
                yield item.title

    return list(walk(PdfReader(pdf).outline))


_RG = re.compile(rb"(?<![\w.])(\d*\.?\d+) (\d*\.?\d+) (\d*\.?\d+) rg\b")


def content_stream(pdf: Path, page: int = 0) -> bytes:
    contents = PdfReader(pdf).pages[page].get_contents()
    assert contents is not None
    return bytes(contents.get_data())


def duplex(pdf: Path) -> str:
    catalog: Any = PdfReader(pdf).trailer["/Root"]
    return str(catalog["/ViewerPreferences"]["/Duplex"])


def fills(pdf: Path, page: int = 0) -> list[tuple[float, float, float]]:
    """Every RGB fill colour set in one page's content stream."""
    data = content_stream(pdf, page)
    return [(float(r), float(g), float(b)) for r, g, b in _RG.findall(data)]


def rgb(hex_color: str) -> tuple[float, float, float]:
    h = hex_color.lstrip("#")
    return tuple(int(h[i:i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def has_fill(colours: list[tuple[float, float, float]], hex_color: str) -> bool:
    want = rgb(hex_color)
    return any(all(abs(a - b) < 0.002 for a, b in zip(c, want, strict=True)) for c in colours)


def root_variables(print_html: str) -> dict[str, str]:
    block = re.search(r":root \{(.*?)\}", print_html, re.S)
    assert block, "no :root variables in the print HTML"
    return dict(re.findall(r"--([\w-]+):\s*([^;]+);", block[1]))


def stylesheet_links(print_html: str) -> list[str]:
    return re.findall(r'<link rel="stylesheet" href="([^"]+)">', print_html)


def card_counts(pdf: Path) -> list[tuple[int, int]]:
    return [(int(n), int(t)) for n, t in re.findall(r"\b(\d+)/(\d+)\b", pdftotext(pdf))]


def flat(text: str) -> str:
    return " ".join(text.split())


def cli(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


# --------------------------------------------------------------------------------------------
# the layered project: one build, several departments, every print HTML saved

BLUE = department("Blue Office", """\
subtitle: The blue subtitle
edition: Blue edition
colors: {primary: "#1f3a5f"}
contact:
  hotline: "555 01"
  email: blue@example.org
  note: Blue reports are answered within a week.
chapters:
  exclude: [03-third-point]
""", content={
    "01a-blue-extra.md": chapter("Blue extra point", "Body of the blue extra point.",
                                 reminder="Blue reminder."),
    "cards.yaml": """\
        size: business
        sheet: letter
        duplex: short-edge
        cards:
          - front: "## Blue card one"
            back: "The first blue back."
          - front: "## Blue card two"
            back: "The second blue back."
        """,
}, styles={
    # The same rule as the project's zz-order.css: it wins only because it comes after it (by layer,
    # not by name: "handbook-blue" sorts before "zz-order").
    "handbook-blue.css": ".toc-heading::after { content: ' (blue stylesheet)'; }\n",
})
PROJECT_STYLE = {"styles": {"zz-order.css": ".toc-heading::after { content: ' (project stylesheet)'; }\n"}}

GREEN = department("Green Unit", """\
colors: {primary: "#2f5233", accent: "#aabbcc"}
page_size: a4
""", templates={"handbook.html.j2": """\
{% extends "base/handbook.html.j2" %}
{% block cover %}
<section class="cover" aria-label="Cover">
<p class="cover-department">Green cover for {{ department.name }}</p>
</section>
{% endblock %}
""", "partials": {
    # First match wins for includes too: the project's back cover includes this one.
    "contact.html.j2": '<p class="contact-line">Green contact partial: {{ handbook.contact.line() }}</p>\n',
}})

RED = department("Red Desk", templates={"handbook.html.j2": """\
<!DOCTYPE html>
<html lang="{{ handbook.language }}"><head><meta charset="utf-8"><title>Red</title>
{% if base_href %}<base href="{{ base_href }}">{% endif %}{{ styles }}</head>
<body><p>Red replacement handbook for {{ department.name }}</p></body></html>
"""})


@pytest.fixture(scope="module")
def layers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built outputs of a project with three departments (and the organisation-wide edition)."""
    base = tmp_path_factory.mktemp("layers")
    root = make_project(base / "project", {**PROJECT_STYLE,
                                           "departments": {"blue": BLUE, "green": GREEN, "red": RED}})
    out = base / "out"
    report = build(root, BuildOptions(out=out, save_html=True))
    assert report.ok, errors_text(report)
    return out


def test_department_settings_override_the_projects_on_the_cover(layers: Path) -> None:
    blue = flat(page_texts(layers / "blue" / "handbook.pdf")[0])
    assert "Blue Office" in blue
    assert "The blue subtitle" in blue and "A test edition" not in blue
    assert "Blue edition" in blue and "Test edition" not in blue
    assert "Scratch Handbook" in blue  # not overridden: the project's title
    org = flat(page_texts(layers / "handbook.pdf")[0])
    assert "A test edition" in org and "Test edition" in org
    assert "Blue" not in org


def test_colours_merge_key_by_key(layers: Path) -> None:
    org = root_variables((layers / "handbook.print.html").read_text())
    blue = root_variables((layers / "blue" / "handbook.print.html").read_text())
    green = root_variables((layers / "green" / "handbook.print.html").read_text())
    assert (org["primary"], org["accent"]) == (PROJECT_PRIMARY, PROJECT_ACCENT)
    assert (blue["primary"], blue["accent"]) == ("#1f3a5f", PROJECT_ACCENT)  # accent kept
    assert (green["primary"], green["accent"]) == ("#2f5233", "#aabbcc")
    assert (org["page-width"], green["page-width"]) == ("148mm", "210mm")
    # The cards use the same merged colours.
    blue_cards = root_variables((layers / "blue" / "cards.print.html").read_text())
    assert (blue_cards["primary"], blue_cards["accent"]) == ("#1f3a5f", PROJECT_ACCENT)


OTHER_COLOURS = [key for key in Colors.model_fields if key not in ("primary", "accent")]


@pytest.mark.parametrize("key", OTHER_COLOURS)
def test_department_may_override_every_project_colour(tmp_path: Path, key: str) -> None:
    root = make_project(tmp_path / "project", {"departments": {
        "tinted": department("Tinted Team", f'colors: {{{key}: "#123456"}}\n')}}, third=False)
    loaded = load_project(root, only=["tinted"], organisation=False)
    assert not loaded.failed, loaded.failed
    colours = loaded.editions[0].settings.colors
    assert getattr(colours, key) == "#123456"
    assert colours.primary == PROJECT_PRIMARY


def test_primary_colour_is_the_cover_fill_in_the_pdf(layers: Path) -> None:
    blue = fills(layers / "blue" / "handbook.pdf")
    org = fills(layers / "handbook.pdf")
    assert has_fill(blue, "#1f3a5f") and not has_fill(blue, PROJECT_PRIMARY)
    assert has_fill(org, PROJECT_PRIMARY) and not has_fill(org, "#1f3a5f")
    assert has_fill(blue, PROJECT_ACCENT)  # the project's accent (cover rules) stays


def test_block_override_changes_only_that_block(layers: Path) -> None:
    green = [flat(t) for t in page_texts(layers / "green" / "handbook.pdf")]
    org = [flat(t) for t in page_texts(layers / "handbook.pdf")]
    assert "Green cover for Green Unit" in green[0]
    assert "Scratch Handbook" not in green[0]  # the project's cover is gone...
    assert "Green cover" not in " ".join(org)
    everything = " ".join(green[1:])
    assert "Contents" in everything  # ...the TOC and the chapters remain
    for text in ("Body of the first point.", "Body of the second point.", "Body of the third point.",
                 "Green contact partial: Hotline 12345"):
        assert text in everything
    assert outline_titles(layers / "green" / "handbook.pdf") == outline_titles(layers / "handbook.pdf")
    # The cards are not overridden by a handbook template.
    assert {t for _, t in card_counts(layers / "green" / "cards.pdf")} == {4}


def test_department_template_of_the_same_name_replaces_the_projects(layers: Path) -> None:
    pages = page_texts(layers / "red" / "handbook.pdf")
    assert len(pages) == 1
    assert "Red replacement handbook for Red Desk" in flat(pages[0])
    assert "Contents" not in pages[0]
    assert not (layers / "red" / "handbook.print.html").read_text().count('class="toc"')


def test_department_stylesheet_applies_after_the_projects(layers: Path) -> None:
    links = stylesheet_links((layers / "blue" / "handbook.print.html").read_text())
    assert links[-1] == "departments/blue/styles/handbook-blue.css"
    assert {"styles/handbook.css", "styles/theme.css", "styles/zz-order.css"} <= set(links[:-1])
    # Applied, and it beats the project's rule with the same selector.
    blue = flat(pdftotext(layers / "blue" / "handbook.pdf"))
    assert "Contents (blue stylesheet)" in blue and "project stylesheet" not in blue
    assert "Contents (project stylesheet)" in flat(pdftotext(layers / "green" / "handbook.pdf"))
    # The web page inlines it, after the project's.
    web = (layers / "blue" / "handbook.html").read_text()
    assert web.index("(blue stylesheet)") > web.index("(project stylesheet)") > web.index("--primary: #1f3a5f")
    # handbook*.css is for the handbook only; no other edition sees it.
    assert "handbook-blue.css" not in (layers / "blue" / "cards.print.html").read_text()
    for edition in (layers, layers / "green", layers / "red"):
        assert "handbook-blue.css" not in (edition / "handbook.print.html").read_text()


def test_excluded_chapter_is_gone_from_toc_body_and_bookmarks(layers: Path) -> None:
    pdf = layers / "blue" / "handbook.pdf"
    text = flat(pdftotext(pdf))
    assert "Third point" not in text and "Body of the third point." not in text
    assert "Third point" not in outline_titles(pdf)
    assert "Third point" in outline_titles(layers / "handbook.pdf")
    assert "03-third-point" not in (layers / "blue" / "handbook.print.html").read_text()


def test_extra_chapter_is_merged_by_number_prefix(layers: Path) -> None:
    pdf = layers / "blue" / "handbook.pdf"
    assert outline_titles(pdf) == ["Introduction", "First point", "Blue extra point", "Second point"]
    toc = next(flat(t) for t in page_texts(pdf) if "Contents" in t)
    assert toc.index("First point") < toc.index("Blue extra point") < toc.index("Second point")
    assert re.search(r"\b1a Blue extra point\b", toc)
    assert "Body of the blue extra point." in flat(pdftotext(pdf))
    # Other editions do not get it.
    for edition in (layers, layers / "green"):
        assert "Blue extra point" not in outline_titles(edition / "handbook.pdf")


def test_department_contact_on_back_cover_and_title_card(layers: Path) -> None:
    back = flat(page_texts(layers / "blue" / "handbook.pdf")[-1])
    assert "Hotline 555 01 · blue@example.org" in back
    assert "Blue reports are answered within a week." in back
    assert "Hotline 12345" not in back
    title_card = flat(page_texts(layers / "blue" / "cards-print-shop.pdf")[0])
    assert "Hotline 555 01 · blue@example.org" in title_card
    assert "Hotline 555 01" in flat(page_texts(layers / "blue" / "cards.pdf")[0])
    org_card = flat(page_texts(layers / "cards-print-shop.pdf")[0])
    assert "Hotline 12345 · test@example.org" in org_card and "555 01" not in org_card


def test_department_cards_are_appended_after_the_projects_deck(layers: Path) -> None:
    assert {t for _, t in card_counts(layers / "cards.pdf")} == {4}
    blue_counts = card_counts(layers / "blue" / "cards.pdf")
    assert {t for _, t in blue_counts} == {6}
    assert sorted({n for n, _ in blue_counts}) == [1, 2, 3, 4, 5, 6]
    # Print-shop file: front and back of card i on pages 2i-1 and 2i.
    shop = [flat(t) for t in page_texts(layers / "blue" / "cards-print-shop.pdf")]
    assert len(shop) == 12
    assert "Blue card one" in shop[8] and "5/6" in shop[8]
    assert "The first blue back." in shop[9]
    assert "Blue card two" in shop[10] and "6/6" in shop[10]
    assert "Blue extra point" in shop[4] and "3/6" in shop[4]  # the extra chapter's own card, in chapter order
    assert "Third point" not in " ".join(shop)  # and the excluded chapter's card is gone


def test_department_cards_change_size_sheet_and_duplex(layers: Path) -> None:
    mm = 72 / 25.4
    blue_sheets = PdfReader(layers / "blue" / "cards.pdf")
    w, h = (float(v) / mm for v in blue_sheets.pages[0].mediabox[2:])
    assert (round(w, 1), round(h, 1)) == (215.9, 279.4)  # letter
    assert duplex(layers / "blue" / "cards.pdf") == "/DuplexFlipShortEdge"
    trim = PdfReader(layers / "blue" / "cards-print-shop.pdf").pages[0].trimbox
    assert (round(float(trim.width) / mm, 1), round(float(trim.height) / mm, 1)) == (85.0, 55.0)

    org_sheets = PdfReader(layers / "cards.pdf")
    w, h = (float(v) / mm for v in org_sheets.pages[0].mediabox[2:])
    assert (round(w, 1), round(h, 1)) == (210.0, 297.0)  # the project's a4
    assert duplex(layers / "cards.pdf") == "/DuplexFlipLongEdge"
    trim = PdfReader(layers / "cards-print-shop.pdf").pages[0].trimbox
    assert (round(float(trim.width) / mm, 1), round(float(trim.height) / mm, 1)) == (85.6, 54.0)


def test_every_edition_has_its_own_folder(layers: Path) -> None:
    for edition in (layers, layers / "blue", layers / "green", layers / "red"):
        for name in FOUR_FILES:
            assert (edition / name).is_file() and (edition / name).stat().st_size > 0, edition / name
    assert {p.name for p in layers.iterdir() if p.is_dir()} == {"blue", "green", "red"}


# --------------------------------------------------------------------------------------------
# loading errors: department.yaml problems name the file and the line


def test_unknown_excluded_chapter_names_department_yaml_line_and_suggests(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project", {"departments": {
        "typo": department("Typo Team", "chapters:\n  exclude:\n    - 01-first-point\n"
                                        "    - 02-secnd-point\n"),
        "fine": department("Fine Team"),
    }})
    loaded = load_project(root)
    assert set(loaded.failed) == {"typo"}  # that department only
    assert {e.name for e in loaded.editions} == {"organisation-wide", "fine"}
    [problem] = loaded.failed["typo"]
    assert str(problem).startswith("departments/typo/department.yaml:5: ")
    assert "02-secnd-point" in problem.message
    assert "did you mean 02-second-point?" in problem.message


def test_department_page_size_overrides_the_projects(layers: Path) -> None:
    mm = 72 / 25.4
    for pdf, size in ((layers / "handbook.pdf", (148, 210)), (layers / "green" / "handbook.pdf", (210, 297))):
        box = PdfReader(pdf).pages[1].mediabox
        assert (round(float(box.width) / mm), round(float(box.height) / mm)) == size


def test_broken_department_folders_fail_alone(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write_tree(outside, {"department.yaml": "name: Outside\n", "logo.svg": "<svg/>"})
    root = make_project(tmp_path / "project", {"departments": {
        "fine": department("Fine Team"),
        "Bad_Dept": department("Bad"),
        "_drafts": department("Drafts"),  # ignored: starts with _
        "empty": {"notes.txt": "no department.yaml here"},
        "far-logo": department("Far", "logo: ../../../outside/logo.svg\n"),
        "no-logo": department("No logo", "logo: missing.svg\n"),
    }}, third=False)
    (root / "departments" / "linked").symlink_to(outside, target_is_directory=True)
    loaded = load_project(root)
    # A folder name is free text (Bad_Dept, 财务部): it names the edition unless department.yaml has a slug.
    assert {e.name for e in loaded.editions} == {"organisation-wide", "fine", "Bad_Dept"}
    assert set(loaded.failed) == {"empty", "far-logo", "no-logo", "linked"}
    shown = {slug: " ".join(str(p) for p in problems) for slug, problems in loaded.failed.items()}
    assert "no department.yaml" in shown["empty"] and "handbook new-department empty" in shown["empty"]
    assert shown["far-logo"].startswith("departments/far-logo/department.yaml:2: logo: ")
    assert "outside the project" in shown["far-logo"]
    assert shown["no-logo"].startswith("departments/no-logo/department.yaml:2: logo: ")
    assert "not found" in shown["no-logo"]
    assert "points outside the project" in shown["linked"]


def test_department_chapter_number_clash_names_the_department_file(tmp_path: Path) -> None:
    # Regression: the clash was reported on the project's chapter, which the department cannot change.
    root = make_project(tmp_path / "project", {"departments": {
        "clash": department("Clash Team", content={"02-another-point.md": chapter("Another point")}),
    }}, third=False)
    [problem] = load_project(root).failed["clash"]
    assert "chapter number 2" in problem.message
    assert problem.path == "departments/clash/content/02-another-point.md"


def test_unknown_key_in_department_yaml_suggests_a_setting(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project", {"departments": {
        "typo": department("Typo Team", 'subtitel: Nope\ncolour: {primary: "#000000"}\n'),
    }})
    problems = [str(p) for p in load_project(root).failed["typo"]]
    assert any(p.startswith("departments/typo/department.yaml:2: ") and "did you mean subtitle?" in p
               for p in problems), problems
    assert any(p.startswith("departments/typo/department.yaml:3: ") and "did you mean colors?" in p
               for p in problems), problems


def test_unknown_colour_key_in_department_is_an_error(tmp_path: Path) -> None:
    # Regression: colors was a dict[str, Color]; a typo was accepted and silently ignored.
    root = make_project(tmp_path / "project", {"departments": {
        "typo": department("Typo Team", 'colors: {primry: "#123456"}\n'),
    }})
    loaded = load_project(root)
    assert "typo" in loaded.failed
    [problem] = loaded.failed["typo"]
    assert str(problem).startswith("departments/typo/department.yaml:2: ")
    assert "did you mean primary?" in problem.message


# --------------------------------------------------------------------------------------------
# the sandbox: department templates cannot reach Python internals; errors name file and line

SANDBOX_CASES = {
    "mro": "{{ ''.__class__.__mro__ }}",
    "settings-class": "{{ handbook.__class__ }}",
    "cycler-globals": "{{ cycler.__init__.__globals__ }}",
    "undefined": "{{ no_such_variable }}",
}


def _cover_template(expression: str) -> str:
    # Line 3 holds the expression.
    return ('{% extends "base/handbook.html.j2" %}\n{% block cover %}\n<p>' + expression
            + "</p>\n{% endblock %}\n")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuildReport]:
    base = tmp_path_factory.mktemp("sandbox")
    departments: dict[str, Any] = {"good": department("Good Team")}
    for slug, expression in SANDBOX_CASES.items():
        departments[slug] = department(f"Team {slug}", templates={"handbook.html.j2": _cover_template(expression)})
    departments["cards-class"] = department("Cards Team", templates={"cards.html.j2": (
        '{% extends "base/cards.html.j2" %}\n{% block card_back %}\n{{ cards.__class__ }}\n{% endblock %}\n')})
    root = make_project(base / "project", {"departments": departments}, third=False)
    out = base / "out"
    return out, build(root, BuildOptions(out=out))


@pytest.mark.parametrize("slug", ["mro", "settings-class", "cycler-globals"])
def test_template_reaching_for_internals_is_refused_naming_the_file(
        sandbox: tuple[Path, BuildReport], slug: str) -> None:
    out, report = sandbox
    [problem] = report.failed[slug]
    assert str(problem).startswith(f"departments/{slug}/templates/handbook.html.j2:3: ")
    assert "not allowed in a template" in problem.message and "unsafe" in problem.message
    assert not (out / slug / "handbook.pdf").exists()


def test_unsafe_access_in_a_department_cards_template_is_refused(sandbox: tuple[Path, BuildReport]) -> None:
    _, report = sandbox
    [problem] = report.failed["cards-class"]
    assert str(problem).startswith("departments/cards-class/templates/cards.html.j2:3: ")
    assert "not allowed in a template" in problem.message


def test_undefined_variable_names_the_template_file_and_line(sandbox: tuple[Path, BuildReport]) -> None:
    _, report = sandbox
    [problem] = report.failed["undefined"]
    assert str(problem).startswith("departments/undefined/templates/handbook.html.j2:3: ")
    assert "no_such_variable" in problem.message


def test_sandbox_errors_fail_that_department_only(sandbox: tuple[Path, BuildReport]) -> None:
    out, report = sandbox
    assert set(report.failed) == {*SANDBOX_CASES, "cards-class"}
    for edition in (out, out / "good"):
        for name in FOUR_FILES:
            assert (edition / name).is_file(), edition / name
    assert "Good Team" in flat(page_texts(out / "good" / "handbook.pdf")[0])


def test_department_template_cannot_read_files_through_department_folder(tmp_path: Path) -> None:
    # Regression: department.folder is a pathlib.Path; its methods reached any file on the disk.
    secret = tmp_path / "secret.txt"  # outside the project
    secret.write_text("TOP-SECRET-VALUE", encoding="utf-8")
    root = make_project(tmp_path / "project", {"departments": {"leaky": department("Leaky Team", templates={
        "handbook.html.j2": _cover_template(f"{{{{ department.folder.joinpath({str(secret)!r}).read_text() }}}}"),
    })}}, third=False)
    report = build(root, BuildOptions(out=tmp_path / "out", only=("handbook",), departments=("leaky",),
                                      save_html=True))
    written = tmp_path / "out" / "leaky" / "handbook.print.html"
    assert not (written.exists() and "TOP-SECRET-VALUE" in written.read_text())
    assert "leaky" in report.failed
    assert str(report.failed["leaky"][0]).startswith("departments/leaky/templates/handbook.html.j2:3: ")


# --------------------------------------------------------------------------------------------
# isolation: editions do not influence each other


@pytest.fixture(scope="module")
def isolation(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three builds, each out folder beside its project (so every <base href> is the same):
    ``together`` (organisation-wide + p + q), ``changed`` (p changed), ``alone`` (no departments)."""
    base = tmp_path_factory.mktemp("isolation")
    depts = {"p": department("P Office", 'colors: {primary: "#224466"}\n'),
             "q": department("Q Office", 'subtitle: The Q subtitle\n', content={"cards.yaml": """\
                 cards:
                   - front: "## Q card"
                     back: "Q back."
                 """})}
    outs = {}
    for name in ("together", "changed", "alone"):
        root = make_project(base / name / "project", None if name == "alone" else {"departments": depts},
                            third=False)
        if name == "changed":
            write_tree(root, {"departments": {"p": {
                "department.yaml": 'name: P Office\ncolors: {primary: "#884422"}\nedition: Changed\n',
                "content": {"01a-p-extra.md": chapter("P extra", "Body of P's extra chapter.")}}}})
        outs[name] = base / name / "out"
        report = build(root, BuildOptions(out=outs[name]))
        assert report.ok, errors_text(report)
    return outs


def _files(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in FOUR_FILES}


def test_organisation_wide_output_is_the_same_alone_or_with_departments(isolation: dict[str, Path]) -> None:
    assert _files(isolation["together"]) == _files(isolation["alone"])
    assert not (isolation["alone"] / "p").exists()


def test_a_departments_change_does_not_change_other_editions(isolation: dict[str, Path]) -> None:
    before, after = isolation["together"], isolation["changed"]
    assert _files(before / "q") == _files(after / "q")
    assert _files(before) == _files(after)
    changed = _files(after / "p")
    assert all(changed[name] != data for name, data in _files(before / "p").items())
    assert "P extra" in outline_titles(after / "p" / "handbook.pdf")


def test_each_department_is_built_in_its_own_folder(isolation: dict[str, Path]) -> None:
    out = isolation["together"]
    assert "The Q subtitle" in flat(page_texts(out / "q" / "handbook.pdf")[0])
    assert "The Q subtitle" not in flat(pdftotext(out / "p" / "handbook.pdf"))
    assert "Q card" in pdftotext(out / "q" / "cards.pdf")
    assert "Q card" not in pdftotext(out / "p" / "cards.pdf") + pdftotext(out / "cards.pdf")


# --------------------------------------------------------------------------------------------
# the command line


def test_one_broken_department_among_good_ones(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project", {"departments": {
        "alpha": department("Alpha Office"),
        "broken": department("Broken Office", templates={"handbook.html.j2": _cover_template("{{ oops }}")}),
        "omega": department("Omega Office"),
    }}, third=False)
    out = tmp_path / "out"
    result = cli("--project", str(root), "build", "--out", str(out), "--only", "handbook")
    assert result.exit_code == 1, result.output
    for folder in (out, out / "alpha", out / "omega"):
        assert (folder / "handbook.pdf").is_file() and (folder / "handbook.html").is_file()
    assert not (out / "broken" / "handbook.pdf").exists()
    assert "Omega Office" in flat(page_texts(out / "omega" / "handbook.pdf")[0])
    assert "departments/broken/templates/handbook.html.j2:3: " in result.output
    assert "'oops' is undefined" in result.output
    summary = result.output.strip().splitlines()[-1]
    assert "build failed for: broken" in summary
    assert "alpha" not in summary and "omega" not in summary


def test_department_option_builds_only_those(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project", {"departments": {
        slug: department(f"{slug.title()} Office") for slug in ("alpha", "beta", "gamma")}}, third=False)
    out = tmp_path / "out"
    result = cli("--project", str(root), "build", "--out", str(out), "--only", "cards", "-d", "alpha",
                 "--department", "gamma")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["alpha", "gamma"]
    assert (out / "alpha" / "cards.pdf").is_file() and (out / "gamma" / "cards-print-shop.pdf").is_file()
    assert not (out / "alpha" / "handbook.pdf").exists()


def test_unknown_department_slug_is_an_error(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project", {"departments": {"alpha": department("Alpha Office")}},
                        third=False)
    out = tmp_path / "out"
    result = cli("--project", str(root), "build", "--out", str(out), "-d", "alpha", "-d", "nope")
    assert result.exit_code == 1
    assert "no department 'nope'" in result.output and "alpha" in result.output
    assert not out.exists()


def test_departments_lists_slug_name_and_overrides() -> None:
    result = cli("--project", str(REPO), "departments")
    assert result.exit_code == 0, result.output
    lines = [click_unstyle(line) for line in result.output.splitlines()]
    by_slug = {}
    for head, detail in zip(lines[::2], lines[1::2], strict=True):
        slug, name = head.split(maxsplit=1)
        by_slug[slug] = (name.strip(), detail.strip())
    assert set(by_slug) == {"discipline-inspection", "finance", "procurement", "production-safety"}
    name, detail = by_slug["finance"]
    assert name == "Finance Department"
    assert "settings: colors, contact, subtitle" in detail and "logo" in detail and "1 extra chapter" in detail
    name, detail = by_slug["procurement"]
    assert name == "Procurement Office" and "cards" in detail and "settings: colors, contact" in detail
    name, detail = by_slug["production-safety"]
    assert name == "Production Safety Unit"
    for part in ("excludes 1 chapter", "templates: handbook.html.j2", "styles: handbook-site.css",
                 "settings: colors, contact, edition"):
        assert part in detail


def click_unstyle(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def test_new_department_builds_at_once(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project", third=False)
    result = cli("--project", str(root), "new-department", "audit", "--name", "Audit Office")
    assert result.exit_code == 0, result.output
    created = root / "departments" / "audit" / "department.yaml"
    assert created.is_file() and "department.yaml" in result.output
    listed = cli("--project", str(root), "departments")
    assert "audit" in listed.output and "Audit Office" in listed.output
    out = tmp_path / "out"
    result = cli("--project", str(root), "build", "--out", str(out), "-d", "audit", "--only", "handbook")
    assert result.exit_code == 0, result.output
    assert "Audit Office" in flat(page_texts(out / "audit" / "handbook.pdf")[0])
    # A second time is refused: the folder exists.
    again = cli("--project", str(root), "new-department", "audit", "--name", "Other")
    assert again.exit_code == 1 and "already exists" in again.output
    assert "Audit Office" in created.read_text()


@pytest.mark.parametrize("slug", ["Bad_Slug", "../x", "x/y", "audit-", "audit office", "Audit"])
def test_new_department_refuses_an_invalid_slug(tmp_path: Path, slug: str) -> None:
    root = make_project(tmp_path / "project", third=False)
    result = cli("--project", str(root), "new-department", slug, "--name", "Audit Office")
    assert result.exit_code == 2  # a usage error, naming the rule
    assert "not a valid department slug" in result.output
    assert not (root / "departments").exists()
    assert not (tmp_path / "x").exists()


def test_new_department_refuses_a_slug_with_a_trailing_newline(tmp_path: Path) -> None:
    # Regression: SLUG ended in '$', which also matches before a trailing newline.
    from handbook.departments import create

    root = make_project(tmp_path / "project", third=False)
    with pytest.raises(ConfigError):
        create(root, "audit\n", "Audit Office")


@pytest.mark.parametrize("name", ['"Quality" Office', "Yes", "2030", "[Legal]"])
def test_new_department_with_any_name_builds_at_once(tmp_path: Path, name: str) -> None:
    from handbook.departments import create

    root = make_project(tmp_path / "project", third=False)
    create(root, "quality", name)
    loaded = load_project(root, only=["quality"], organisation=False)
    assert not loaded.failed, loaded.failed
    assert loaded.editions[0].department is not None and loaded.editions[0].department.name == name


# --------------------------------------------------------------------------------------------
# the repository's own example departments


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository built as it is (every edition), into a temporary folder."""
    out = tmp_path_factory.mktemp("examples") / "dist"
    report = build(REPO, BuildOptions(out=out, save_html=True))
    assert report.ok, errors_text(report)
    return out


def test_examples_each_have_their_own_four_files(examples: Path) -> None:
    for slug in ("finance", "procurement", "production-safety"):
        for name in FOUR_FILES:
            assert (examples / slug / name).is_file(), f"{slug}/{name}"
    for name in FOUR_FILES:
        assert (examples / name).is_file()


def test_example_finance_has_its_logo_colours_and_chapter(examples: Path) -> None:
    html = (examples / "finance" / "handbook.print.html").read_text()
    assert re.search(r'<img class="cover-logo" src="departments/finance/logo\.svg"', html)
    assert "cover-logo" not in (examples / "procurement" / "handbook.print.html").read_text()
    # The SVG is drawn on the cover (as vector paths: curves the plain cover does not have).
    finance_cover = content_stream(examples / "finance" / "handbook.pdf")
    plain_cover = content_stream(examples / "procurement" / "handbook.pdf")
    assert finance_cover.count(b" c\n") > plain_cover.count(b" c\n")
    # The web page carries the logo inline.
    assert "data:image/svg+xml;base64," in (examples / "finance" / "handbook.html").read_text()
    assert has_fill(fills(examples / "finance" / "handbook.pdf"), "#1f3a5f")
    titles = outline_titles(examples / "finance" / "handbook.pdf")
    assert titles.index("Be cautious when alone") + 1 == titles.index("Know the risks in managing funds")
    assert titles.index("Know the risks in managing funds") + 1 == titles.index("Small good, small evil")
    cover = flat(page_texts(examples / "finance" / "handbook.pdf")[0])
    assert "Finance Department" in cover
    assert "Eight experiences, and the risks of managing public funds" in cover


def test_example_production_safety_excludes_chapter_5_and_has_its_cover(examples: Path) -> None:
    pdf = examples / "production-safety" / "handbook.pdf"
    cover = flat(page_texts(pdf)[0])
    assert "Keep this handbook with your safety instructions." in cover
    assert "Production Safety Unit" in cover and "Site edition" in cover
    assert "Serve the overall situation" not in outline_titles(pdf)
    assert "Serve the overall situation" in outline_titles(examples / "handbook.pdf")
    assert "Serve the overall situation" not in flat(pdftotext(pdf))
    assert len(outline_titles(pdf)) == len(outline_titles(examples / "handbook.pdf")) - 1
    assert stylesheet_links((examples / "production-safety" / "handbook.print.html").read_text())[-1] == \
        "departments/production-safety/styles/handbook-site.css"
    back = flat(page_texts(pdf)[-1])
    assert "Hotline 12388 ext. 550" in back
    assert "Safety and integrity are reported on the same line." in back


def test_example_procurement_has_12_cards(examples: Path) -> None:
    counts = card_counts(examples / "procurement" / "cards.pdf")
    assert {t for _, t in counts} == {12}
    assert sorted({n for n, _ in counts}) == list(range(1, 13))
    shop = page_texts(examples / "procurement" / "cards-print-shop.pdf")
    assert len(shop) == 24
    assert "Bidding" in shop[18] and "Conflicts of interest" in shop[22]
    assert "Hotline 12388 ext. 318" in flat(shop[0])
    assert {t for _, t in card_counts(examples / "cards.pdf")} == {9}  # the project's deck


def test_departments_lists_what_each_changes_as_the_loader_read_it() -> None:
    """`handbook departments` over the repository's project: the settings each department.yaml
    writes (taken from the loaded edition, not read again), its chapters, cards, templates, styles."""
    result = CliRunner().invoke(main, ["--project", str(REPO), "departments"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1] == ("  settings: author, colors, contact, edition, keywords, language, organisation, page_label, "
                        "subtitle, title; replaces 10 chapters")
    assert lines[3] == "  settings: colors, contact, subtitle; logo; 1 extra chapter"
    assert lines[5] == "  settings: colors, contact; cards"
    assert lines[7] == ("  settings: colors, contact, edition; excludes 1 chapter; templates: handbook.html.j2; "
                        "styles: handbook-site.css")
