"""The page map of a long edition while its parts are rendered for the first time (no page map kept).

A part's pages and where its anchors fall in it do not depend on the numbers it shows (its chapters
start on a right-hand page: only the footers' digits and the ``see p. N`` numbers change with its
place in the book), so a part rendered with wrong numbers still tells its exact page count. The
first build by parts sends the parts in book order (:func:`handbook.partwise.render`): when a part
is sent, the page counts of the parts finished so far are known and only the others are
estimated, from the characters per page of the finished chapters. :meth:`Estimate.exact` tells
whether a part's numbers are all known, so it can be rendered again once, right.

Text in, text out: no WeasyPrint here.
"""

from __future__ import annotations

import html as html_lib
from collections.abc import Mapping
from dataclasses import dataclass

from . import parts

BLANK = 0.5  # the blank page before a right-hand chapter: half a page a chapter on average


@dataclass(frozen=True)
class Done:
    """What a rendered part told: its pages in the book and its anchors (0-based in the part)."""

    pages: int
    anchors: Mapping[str, int]


class Estimate:
    """Page maps of one edition's parts from those rendered so far and an estimate of the others."""

    def __init__(self, made: parts.Parts) -> None:
        self.made = made
        split = made.split
        self.sizes = [parts.text_length(c) for c in split.chapters]
        # each chapter's anchors other than its own and the characters of text before them
        self.inside: list[list[tuple[str, int]]] = []
        for chapter in split.chapters:
            found = list(parts.ID.finditer(chapter))[1:]
            before = parts.text_lengths_before(chapter, [m.start() for m in found])
            self.inside.append([(html_lib.unescape(m[1]), chars) for m, chars in zip(found, before, strict=True)])
        self.owner: dict[str, int] = {}
        for i in range(made.count):
            for anchor in made.ids(i):
                self.owner.setdefault(anchor, i)
        self.firsts = {made.chapters(i)[0] for i in range(1, made.count)}  # on their part's first page
        self.depends = [self._depends(i) for i in range(made.count)]

    def _depends(self, index: int) -> frozenset[int]:
        """The parts whose pages the numbers of part ``index`` are made from: the chapters' parts
        before it (its first page) and, for each anchor it names, the parts before that anchor's
        part and that part itself unless the anchor is on its first page."""
        found = set(range(1, index))
        for anchor in parts.referenced(self.made.body(index), self.made.pairs):
            owner = self.owner.get(anchor)
            if owner is None:
                continue
            found.update(range(1, owner))
            if anchor not in self.firsts:
                found.add(owner)
        return frozenset(found)

    def ahead(self) -> list[int]:
        """The chapters' parts that name a page of a part after them: on a first build they are
        rendered before the pages they name are known, so again when an estimate was wrong."""
        return [i for i in range(1, self.made.count) if any(j > i for j in self.depends[i])]

    def exact(self, index: int, done: Mapping[int, Done]) -> bool:
        """Whether the numbers part ``index`` shows are all known from rendered parts."""
        return all(i in done for i in self.depends[index])

    def rate(self, done: Mapping[int, Done]) -> float:
        """Characters of text per page of the chapters rendered so far (a first guess before any)."""
        chars = pages = 0.0
        for i, result in done.items():
            if i == 0:
                continue
            start, end = self.made.groups[i - 1]
            chars += sum(self.sizes[start:end])
            pages += result.pages - BLANK * (end - start)
        return chars / pages if chars > 0 and pages > 0 else parts.CHARS_PER_PAGE

    def page_map(self, done: Mapping[int, Done]) -> parts.PageMap:
        """The book's page map: the rendered parts' pages and anchors, the others estimated. With
        every part rendered it is the page map of :func:`handbook.partwise.render`'s next pass."""
        rate = self.rate(done)
        starts: list[int] = []
        anchors: dict[str, int] = {}
        at = 0
        for i in range(self.made.count):
            starts.append(at)
            result = done.get(i)
            if result is not None:
                for anchor, page in result.anchors.items():
                    anchors.setdefault(anchor, at + page)
                at += result.pages
            elif i == 0:
                for anchor in self.made.ids(0):
                    anchors.setdefault(anchor, 2)
                at += parts.front_pages_guessed(len(self.made.split.anchors))
            else:
                start, end = self.made.groups[i - 1]
                for chapter in range(start, end):
                    pages = parts.pages_guessed(self.sizes[chapter], rate)
                    anchors.setdefault(self.made.split.anchors[chapter], at)
                    for anchor, chars in self.inside[chapter]:
                        anchors.setdefault(anchor, at + min(pages - 1, int(chars // rate)))
                    at += pages
        first = self.made.split.anchors[0]
        return parts.PageMap(starts, anchors, anchors.get(first, starts[1] if len(starts) > 1 else 0))
