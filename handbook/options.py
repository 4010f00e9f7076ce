"""What a build is asked to do, in two parts.

:class:`BuildOptions` is the request as the command line states it. What it *schedules* (the output
folder, which documents and departments, worker processes, ``--force``) stays with the builder;
what *renders* a document (PDF variant, print shop, booklet, saved HTML, remote images, limits) is
its :class:`RenderOptions`, the only options a job sees and the ones the incremental state keys.
No WeasyPrint and no other module of the package here, so every layer can import it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path


def _registered() -> tuple[str, ...]:
    from .outputs import names

    return names()


@dataclass(frozen=True)
class RenderOptions:
    """How a document is rendered; every field changes what is written (the incremental key)."""

    save_html: bool = False  # also write <name>.print.html, the exact HTML given to WeasyPrint
    strict: bool = False  # warnings are errors
    allow_remote: bool = False  # https images
    max_pages: int | None = None  # per document (None: limits.pages in handbook.yaml)
    max_seconds: float | None = None  # per edition: templates and layout (None: limits.seconds)
    print_shop: bool = False  # also handbook-print-shop.pdf (bleed, crop marks, boxes)
    booklet: bool = False  # also booklet.pdf (two up, saddle-stitch order)
    pdf_variant: str | None = None  # pdf/a-3b | pdf/a-3a | pdf/ua-1 | pdf/x-4 (else the edition's setting)
    # A long edition by parts (handbook.partwise): "auto" | "on" | "off"; the workers that render
    # them; render every part again (--force) rather than reuse the parts of the last build.
    parts: str = "auto"
    part_workers: int = 1
    fresh_parts: bool = False

    def output_key(self) -> dict[str, object]:
        """The options that change what is written (the time limit and how parts are scheduled do
        not: the pages are the same)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in _NOT_KEYED}


_NOT_KEYED = ("max_seconds", "parts", "part_workers", "fresh_parts")


SCHEDULING = ("out", "only", "departments", "organisation", "jobs", "force")


@dataclass(frozen=True)
class BuildOptions:
    """A build as asked for: what to schedule (``SCHEDULING``), then the render options."""

    out: Path | None = None  # default: <project>/dist
    save_html: bool = False
    only: tuple[str, ...] = field(default_factory=_registered)  # which documents (handbook.outputs)
    departments: tuple[str, ...] | None = None  # None: the organisation-wide edition and every department
    organisation: bool = False  # with departments: the organisation-wide edition too (departments=() for it alone)
    strict: bool = False
    allow_remote: bool = False
    max_pages: int | None = None
    max_seconds: float | None = None
    jobs: int = 1  # worker processes
    force: bool = False  # rebuild even what is up to date
    print_shop: bool = False
    booklet: bool = False
    pdf_variant: str | None = None
    parts: str = "auto"  # a long edition by parts: "auto" | "on" | "off"

    @property
    def render(self) -> RenderOptions:
        """What a job sees: the options that render a document, nothing that schedules the build
        (but the workers and --force for the parts of one long edition)."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(RenderOptions) if hasattr(self, f.name)}
        return RenderOptions(**fields, part_workers=self.jobs, fresh_parts=self.force)

    def output_key(self) -> dict[str, object]:
        return self.render.output_key()
