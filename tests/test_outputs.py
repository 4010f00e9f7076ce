"""The registry of output kinds: a new document kind is its job, its template, its stylesheet and one
registry entry — nothing else in the package changes.

The "poster" below is registered from this test only: its job is in this module, its template and
stylesheet in the scratch project.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import build_ok, mm, pdftotext
from pypdf import PdfReader

from handbook import outputs
from handbook.builder import BuildOptions, build
from handbook.checks import check_project
from handbook.model import Edition
from handbook.options import RenderOptions
from handbook.project import load_project
from handbook.render import stylesheets_for

POSTER_TEMPLATE = """\
<!doctype html>
<html lang="{{ handbook.language }}">
<head><meta charset="utf-8">{% if base_href %}<base href="{{ base_href }}">{% endif %}{{ styles }}</head>
<body><h1 class="poster-title">{{ handbook.title }}</h1>
<p>{{ chapters | length }} points to remember</p></body>
</html>
"""

POSTER_CSS = """\
@page { size: 297mm 420mm; margin: 20mm; }
.poster-title { font-size: 40pt; }
"""


class PosterJob:
    """poster.pdf: one A3 page (the job of a hypothetical document kind)."""

    document = "poster"

    def run(self, edition: Edition, out_dir: Path, options: RenderOptions) -> Any:
        from handbook.documents import JobResult, print_options, render_pdf
        from handbook.render import document_html

        html = document_html(edition, "poster", target="print", out_dir=out_dir,
                             options=print_options(edition, options))
        data, rendered = render_pdf(html, edition, out_dir, "poster", options)
        result = JobResult()
        result.add_pdf("poster", data, rendered, html, options.save_html)
        return result


def poster_pages(edition: Edition, out_dir: Path) -> dict[str, str]:
    from handbook.render import document_html

    return {"poster.print.html": document_html(edition, "poster", target="print", out_dir=out_dir)}


@pytest.fixture
def poster() -> Iterator[outputs.Document]:
    document = outputs.register(outputs.Document(
        name="poster", template="poster.html.j2", stylesheets="poster",
        job=f"{__name__}:PosterJob", html=f"{__name__}:poster_pages",
        outputs=(outputs.Output("poster", "poster.pdf"),)))
    try:
        yield document
    finally:
        outputs.unregister("poster")


def test_a_registered_kind_is_built_checked_and_styled(poster: outputs.Document,
                                                        scratch: Callable[..., Path], tmp_path: Path) -> None:
    root = scratch({"templates": {"poster.html.j2": POSTER_TEMPLATE}, "styles": {"poster.css": POSTER_CSS}})
    assert "poster" in outputs.names()
    report = build_ok(root, tmp_path / "out")  # the default build: every registered document
    written = sorted(o.path.name for o in report.outputs)
    assert {"handbook.pdf", "handbook.html", "poster.pdf"} <= set(written), written

    reader = PdfReader(tmp_path / "out" / "poster.pdf")
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(mm(float(box.width))), round(mm(float(box.height)))) == (297, 420)
    assert "Scratch Handbook" in pdftotext(tmp_path / "out" / "poster.pdf")
    # poster*.css is the poster's alone: the handbook keeps its A5 pages.
    handbook = PdfReader(tmp_path / "out" / "handbook.pdf").pages[0].mediabox
    assert (round(mm(float(handbook.width))), round(mm(float(handbook.height)))) == (148, 210)
    edition = load_project(root).editions[0]
    assert [p.name for p in stylesheets_for(edition, "poster")] == ["poster.css", "theme.css"]
    assert "poster.css" not in [p.name for p in stylesheets_for(edition, "handbook", "web")]

    # Up to date the second time, by the same state as every other document.
    again = build(root, BuildOptions(out=tmp_path / "out", only=("poster",)))
    assert [(o.path.name, o.status) for o in again.outputs] == [("poster.pdf", "up to date")]


def test_check_renders_a_registered_kind(poster: outputs.Document, scratch: Callable[..., Path]) -> None:
    root = scratch({"templates": {"poster.html.j2": "{{ handbook.title }\n"}, "styles": {"poster.css": POSTER_CSS}})
    problems = check_project(root).problems
    assert any(p.path == "templates/poster.html.j2" for p in problems), problems


def test_the_registry_declares_every_output_once() -> None:
    files = [o.file for d in outputs.REGISTRY.values() for o in d.outputs]
    assert len(files) == len(set(files))
    assert outputs.names() == ("handbook", "cards")
    assert sorted(outputs.picture_plans()) == ["cards.pdf", "handbook.pdf"]
