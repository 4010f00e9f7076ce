"""The one registry of output kinds: what each document of an edition is, declared once.

A *document* is what ``--only`` names and what the incremental state keys (``handbook``,
``cards``): one job writes all its files. An *output* is one file kind a document writes (the
handbook's PDF, its web edition, the print-shop PDF, the booklet...). Everything that used to list
the kinds by hand reads this registry: the CLI's ``--only`` choices, the builder's plan and jobs,
``handbook check``, :func:`handbook.render.stylesheets_for` and the page pictures.

No WeasyPrint here: jobs and HTML renderers are named as ``"module:attribute"`` and imported only
when something is rendered, so the CLI starts fast.

Adding a document kind (a poster, say): its job module, its template, its stylesheet
(``poster*.css``) and one :func:`register` call below.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .model import Edition


@dataclass(frozen=True)
class PicturePlan:
    """Which pages of a PDF become page pictures (``--png``, ``handbook serve``), and their names' stem."""

    stem: str  # "handbook" -> handbook-1.png, handbook-2.png...
    last_page: int  # render pages 1..last_page
    count: int  # keep this many
    skip_blank: bool


@dataclass(frozen=True)
class Output:
    """One file kind a document writes."""

    name: str  # "handbook", "web", "handbook-print-shop", "booklet", "cards"...
    file: str  # the file's name in the edition's folder (which of them a build writes is the job's to say)
    pictures: PicturePlan | None = None  # page pictures drawn from this PDF


@dataclass(frozen=True)
class Document:
    """A document of an edition: one job, one template, its stylesheets, its outputs."""

    name: str  # the --only name and the incremental state's key
    template: str  # in templates/ (department, then project, then the theme)
    stylesheets: str  # the prefix of its own stylesheets: "handbook" -> handbook*.css
    job: str  # "module:Class" of the job (handbook.documents.Job), imported when rendering
    html: str  # "module:function(edition, out_dir) -> {file: html}": its HTML without PDFs (handbook check)
    outputs: tuple[Output, ...]
    web_stylesheets: str | None = None  # the prefix of stylesheets only its web target reads ("web")

    def load_job(self) -> Any:
        return _load(self.job)()

    def render_html(self, edition: Edition, out_dir: Path) -> dict[str, str]:
        found: Callable[[Edition, Path], dict[str, str]] = _load(self.html)
        return found(edition, out_dir)


def _load(spec: str) -> Any:
    module, _, attribute = spec.partition(":")
    return getattr(importlib.import_module(module), attribute)


REGISTRY: dict[str, Document] = {}


def register(document: Document) -> Document:
    """Add (or replace) a document kind; its ``name`` becomes an ``--only`` choice."""
    REGISTRY[document.name] = document
    return document


def unregister(name: str) -> None:
    REGISTRY.pop(name, None)


def names() -> tuple[str, ...]:
    """Every document's name, in build order (the ``--only`` choices, the default build)."""
    return tuple(REGISTRY)


def get(name: str) -> Document:
    return REGISTRY[name]


def documents(only: Iterable[str]) -> list[Document]:
    """The registered documents among ``only``, in registry order."""
    wanted = set(only)
    return [d for d in REGISTRY.values() if d.name in wanted]


def stylesheet_owner(file_name: str) -> tuple[Document, str] | None:
    """The document (and target) whose stylesheet ``file_name`` is, by prefix; None: every document's."""
    for document in REGISTRY.values():
        if document.web_stylesheets and file_name.startswith(document.web_stylesheets):
            return document, "web"
    for document in REGISTRY.values():
        if file_name.startswith(document.stylesheets):
            return document, "print"
    return None


def picture_plans() -> dict[str, PicturePlan]:
    """PDF file name -> its page pictures' plan."""
    return {o.file: o.pictures for d in REGISTRY.values() for o in d.outputs if o.pictures is not None}


HANDBOOK_PICTURES = 4  # first non-blank pages of the handbook
LOOK_AHEAD = 12  # pages rendered to find them

register(Document(
    name="handbook", template="handbook.html.j2", stylesheets="handbook", web_stylesheets="web",
    job="handbook.documents:HandbookJob", html="handbook.render:handbook_pages",
    outputs=(
        Output("handbook", "handbook.pdf", pictures=PicturePlan("handbook", LOOK_AHEAD, HANDBOOK_PICTURES,
                                                                  skip_blank=True)),
        Output("web", "handbook.html"),
        Output("handbook-print-shop", "handbook-print-shop.pdf"),  # --print-shop, or print: true
        Output("booklet", "booklet.pdf"),  # --booklet
    )))

register(Document(
    name="cards", template="cards.html.j2", stylesheets="cards",
    job="handbook.documents:CardsJob", html="handbook.render:cards_pages",
    outputs=(
        # the first sheet: fronts, then backs
        Output("cards", "cards.pdf", pictures=PicturePlan("cards", 2, 2, skip_blank=False)),
        Output("cards-print-shop", "cards-print-shop.pdf"),
    )))
