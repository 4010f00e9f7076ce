"""A long edition's print HTML, split at its chapters into parts rendered as separate documents.

No WeasyPrint and no pypdf here (text in, text out): :mod:`handbook.partwise` renders the parts
in the worker pool, :mod:`handbook.assemble` joins their PDFs.

The print HTML of the handbook template is ``<head>``, ``<body>``, the cover and contents, ``<main>``
with one ``<article class="chapter">`` per chapter, ``</main>``, the back cover. Part 0 is the front
matter (cover and contents); the others are groups of whole chapters of about equal length, the
last one with the back cover. Every part keeps the whole ``<head>`` and ends with a *part end*: an
element that breaks the page as the next part's first element does (a copy of its opening tag),
so a part ends exactly as the same pages end in one document (the blank page before a chapter
that starts on a right-hand page included); the part end's own page is dropped when the parts are
joined. It also holds an empty element for every anchor the part links to that lives in another
part, so WeasyPrint keeps those links (as named destinations, resolved when the parts are joined).

What one document computes across the book is given to each part as text, from the page map of
the previous pass (:class:`PageMap`): the page counter of its first page (an ``@page :first``
counter reset), and every page number a stylesheet asks for with ``target-counter(attr(X), page)``
(the contents' numbers, ``see p. N``): the stylesheets are read with that call replaced by
``attr(data-handbook-page-X-STYLE)`` and each element whose ``X`` names an anchor gets that
attribute with the number. What cannot be carried that way (``counter(pages)``, other counters,
``target-text()``, running elements, ``@page :first``, footnotes) makes :func:`unsupported` name
it, and the edition is rendered as one document.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote

from .numerals import roman

PART_END = "handbook-part-end"
MIN_CHAPTERS = 12  # fewer chapters: one document
CHAPTERS_PER_PART = 3  # about; parts are of about equal length
CHARS_PER_PAGE = 1_000  # a first guess of a page's text before anything was rendered (A5: 970 to 1,080 measured)

_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_TARGET_COUNTER = re.compile(
    r"target-counter\(\s*attr\(\s*([A-Za-z][\w-]*)\s*\)\s*,\s*page\s*(?:,\s*([a-z-]+)\s*)?\)")
_STYLE_BLOCK = re.compile(r"(<style\b[^>]*>)(.*?)(</style>)", re.S | re.I)
_CHAPTER_OPEN = re.compile(r'<article\b[^>]*\bclass="chapter\b[^"]*"[^>]*>')
_MAIN_OPEN = re.compile(r"<main\b[^>]*>")
_BODY_OPEN = re.compile(r"<body\b[^>]*>")
ID = re.compile(r'\sid="([^"]*)"')  # an element's id, as the template writes it
_TAG = re.compile(r"<[A-Za-z][^<>]*>")
STYLES = ("decimal", "lower-roman", "upper-roman")


def rewrite_css(text: str) -> str:
    """``target-counter(attr(X), page[, style])`` -> ``attr(data-handbook-page-X-style)``."""
    return _TARGET_COUNTER.sub(lambda m: f"attr({attribute(m[1], m[2] or 'decimal')})", text)


def attribute(name: str, style: str) -> str:
    return f"data-handbook-page-{name}-{style}"


def references(css_texts: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """The (attribute, counter style) pairs the stylesheets read page numbers through."""
    found: dict[tuple[str, str], None] = {}
    for text in css_texts:
        for m in _TARGET_COUNTER.finditer(_COMMENT.sub("", text)):
            found[(m[1], m[2] or "decimal")] = None
    return tuple(found)


_UNSUPPORTED = (
    (re.compile(r"counter\(\s*pages\b"), "counter(pages): the number of pages of the whole book"),
    (re.compile(r"(?<![\w-])counters\("), "counters(): nested counters across the book"),
    (re.compile(r"(?<![\w-])counter\((?!\s*page\s*[,)])"), "a counter other than the page number"),
    (re.compile(r"counter-increment\s*:"), "counter-increment: a counter across the book"),
    (re.compile(r"counter-reset\s*:(?!\s*page\s+-?\d+\s*[;}])"), "a counter reset other than the page's"),
    (re.compile(r"target-(?:text|counters)\("), "target-text() or target-counters()"),
    (re.compile(r"target-counter\((?!\s*attr\(\s*[A-Za-z][\w-]*\s*\)\s*,\s*page\s*"
                r"(?:,\s*(?:decimal|lower-roman|upper-roman)\s*)?\))"),
     "target-counter() of something other than attr(...), page"),
    (re.compile(r"(?:running|element)\("), "running elements"),
    (re.compile(r"string\([^)]*,\s*start\s*\)"), "string(..., start)"),
    (re.compile(r"@page[^{]*:first"), "@page :first"),
    (re.compile(r"@page[^{]*:nth\((?!\s*1\s+of\s)"), "@page :nth() other than the first page of a name"),
)
_CHAPTER_RULE = re.compile(r"\.chapter\s*\{([^}]*)\}")
_BREAK = re.compile(r"break-before\s*:\s*([\w-]+)")


def unsupported(css_texts: Sequence[str], footnote_links: bool = False) -> str | None:
    """Why this edition's stylesheets need one document (None: parts give the same pages)."""
    if footnote_links:
        return "external links as footnotes (external_links: footnote): footnote numbers run through the book"
    chapter_break = None
    for text in css_texts:
        clean = _COMMENT.sub("", text)
        for pattern, why in _UNSUPPORTED:
            if pattern.search(clean):
                return why
        for rule in _CHAPTER_RULE.finditer(clean):
            for m in _BREAK.finditer(rule[1]):
                chapter_break = m[1]
    if chapter_break not in ("right", "recto"):
        return "chapters do not start on a right-hand page (.chapter { break-before: right })"
    return None


@dataclass(frozen=True)
class Split:
    """The print HTML in pieces: ``head`` (to ``</head>``), ``opening`` (``</head>`` and ``<body>``),
    ``front`` (cover, contents), ``main`` (the ``<main>`` tag), ``chapters``, ``back`` (``</main>``
    and the back cover), ``tail`` (``</body></html>``)."""

    head: str
    opening: str
    front: str
    main: str
    chapters: tuple[str, ...]
    anchors: tuple[str, ...]  # each chapter's id
    back: str
    tail: str


def split(html: str, anchors: Sequence[str]) -> Split | None:
    """The HTML at its chapters; None when it is not the handbook template's shape (a department
    template that moved the chapters), so the edition is rendered as one document."""
    head_end = html.find("</head>")
    body = _BODY_OPEN.search(html)
    main = _MAIN_OPEN.search(html)
    main_end = html.rfind("</main>")
    body_end = html.rfind("</body>")
    if head_end < 0 or body is None or main is None or main_end < 0 or body_end < main_end:
        return None
    starts = [m.start() for m in _CHAPTER_OPEN.finditer(html, main.end(), main_end)]
    if len(starts) != len(anchors) or not starts:
        return None
    chapters = tuple(html[a:b] for a, b in zip(starts, [*starts[1:], main_end], strict=True))
    ids = []
    for chapter in chapters:
        m = ID.search(_CHAPTER_OPEN.match(chapter)[0])  # type: ignore[index]
        ids.append(html_lib.unescape(m[1]) if m else "")
        if not chapter.rstrip().endswith("</article>"):
            return None
    if ids != list(anchors):
        return None
    return Split(html[:head_end], html[head_end:body.end()], html[body.end():main.start()],
                 html[main.start():starts[0]], chapters, tuple(ids), html[main_end:body_end], html[body_end:])


_TAGS = re.compile(r"<[^>]+>")


def text_length(fragment: str) -> int:
    return len(_TAGS.sub("", fragment))


def text_lengths_before(fragment: str, positions: Sequence[int]) -> list[int]:
    """``text_length(fragment[:p])`` for each of the ascending ``positions``, in one pass over the
    tags (a law of thousands of anchors in one chapter: not one pass per anchor). A tag that
    ``p`` cuts is not a tag of ``fragment[:p]``: only the tags that end by ``p`` are taken away."""
    ends = [(m.end(), m.end() - m.start()) for m in _TAGS.finditer(fragment)]
    lengths, tags, removed = [], 0, 0
    for p in positions:
        while tags < len(ends) and ends[tags][0] <= p:
            removed += ends[tags][1]
            tags += 1
        lengths.append(p - removed)
    return lengths


def front_pages_guessed(chapters: int) -> int:
    """The cover and the contents before they are rendered: two pages of cover, the contents at
    16 entries a page, to an even count."""
    toc = -(-chapters // 16)
    return 2 + toc + toc % 2


def pages_guessed(chars: int, per_page: float) -> int:
    """A chapter's pages guessed from its text: at least one, to an even count (the next chapter
    starts on a right-hand page)."""
    n = max(1, -(-chars // max(1, round(per_page))))
    return n + n % 2


def group(sizes: Sequence[int], parts: int) -> list[tuple[int, int]]:
    """Contiguous groups ``[start, end)`` of about equal total size."""
    parts = max(1, min(parts, len(sizes)))
    total = sum(sizes) or 1
    groups: list[tuple[int, int]] = []
    start, running = 0, 0
    for i, size in enumerate(sizes):
        running += size
        left = len(sizes) - i - 1
        wanted = parts - len(groups) - 1  # groups still to make after this one
        if wanted and (running >= total * (len(groups) + 1) / parts or left == wanted):
            groups.append((start, i + 1))
            start = i + 1
    groups.append((start, len(sizes)))
    return [g for g in groups if g[0] < g[1]]


def part_count(chapters: int) -> int:
    return max(2, -(-chapters // CHAPTERS_PER_PART))


@dataclass
class PageMap:
    """Where things are in the whole book, 0-based physical pages: each part's first page, each
    anchor's page, and the first chapter's page (the pages before it are the front matter)."""

    starts: list[int]
    anchors: dict[str, int] = field(default_factory=dict)
    front: int = 0

    def counter(self, page: int) -> int:
        """The page counter one document shows on ``page``: the front matter counts from its first
        page, the chapters from 1 (``@page :nth(1 of body) { counter-reset: page 1 }``)."""
        return page + 1 if page < self.front else page - self.front + 1


def formatted(n: int, style: str) -> str:
    if style == "lower-roman" and n > 0:
        return roman(n).lower()
    if style == "upper-roman" and n > 0:
        return roman(n)
    return str(n)


def anchor_of(value: str) -> str | None:
    """``#name`` (as written in an attribute) -> the anchor's name; None for anything else."""
    value = html_lib.unescape(value)
    return unquote(value[1:]) if value.startswith("#") else None


def annotate(fragment: str, pairs: Sequence[tuple[str, str]], number: Callable[[str], int | None]) -> str:
    """Give every element whose attribute names an anchor the page number the stylesheets read."""
    if not pairs:
        return fragment
    names = {name for name, _ in pairs}
    finders = {name: re.compile(rf'\s{re.escape(name)}="([^"]*)"') for name in names}

    def tag(m: re.Match[str]) -> str:
        text = m[0]
        extra = []
        for name, style in pairs:
            if f'{name}="#' not in text:
                continue
            found = finders[name].search(text)
            anchor = anchor_of(found[1]) if found else None
            page = number(anchor) if anchor is not None else None
            if page is not None:
                extra.append(f' {attribute(name, style)}="{formatted(page, style)}"')
        if not extra:
            return text
        end = len(text) - (2 if text.endswith("/>") else 1)
        return text[:end] + "".join(extra) + text[end:]

    return _TAG.sub(tag, fragment)


def referenced(fragment: str, pairs: Sequence[tuple[str, str]]) -> list[str]:
    """The anchors a fragment links to or reads a page number of, in order, once each."""
    names = {"href", *(name for name, _ in pairs)}
    found: dict[str, None] = {}
    for name in names:
        for m in re.finditer(rf'\s{re.escape(name)}="(#[^"]*)"', fragment):
            anchor = anchor_of(m[1])
            if anchor:
                found[anchor] = None
    return list(found)


@dataclass(frozen=True)
class Parts:
    """The parts of one edition's print HTML."""

    split: Split
    groups: tuple[tuple[int, int], ...]  # chapter ranges of parts 1.. (part 0 is the front matter)
    pairs: tuple[tuple[str, str], ...]

    @property
    def count(self) -> int:
        return 1 + len(self.groups)

    def body(self, index: int) -> str:
        """The part's own content, without head, page counter or part end."""
        s = self.split
        if index == 0:
            return s.front + s.main + "</main>"
        start, end = self.groups[index - 1]
        text = s.main + "".join(s.chapters[start:end])
        return text + s.back if index == self.count - 1 else text + "</main>"

    def chapters(self, index: int) -> tuple[str, ...]:
        if index == 0:
            return ()
        start, end = self.groups[index - 1]
        return self.split.anchors[start:end]

    def ids(self, index: int) -> set[str]:
        return {html_lib.unescape(m[1]) for m in ID.finditer(self.body(index))}

    def part_end(self, index: int) -> str:
        """What ends part ``index``: the next part's first element, empty (the same page break)."""
        if index == self.count - 1:
            return f'<div id="{PART_END}" style="break-before: page"></div>'
        start = 0 if index == 0 else self.groups[index - 1][1]
        tag = _CHAPTER_OPEN.match(self.split.chapters[start])[0]  # type: ignore[index]
        tag = re.sub(r'\s(?:id|data-source)="[^"]*"', "", tag)
        return tag[:-1] + f' id="{PART_END}"></article>'

    def html(self, index: int, pages: PageMap) -> str:
        """Part ``index`` as WeasyPrint renders it, with the numbers of ``pages``."""
        s = self.split
        own = self.ids(index)

        def number(anchor: str) -> int | None:
            page = pages.anchors.get(anchor)
            return None if page is None else pages.counter(page)

        body = annotate(self.body(index), self.pairs, number)
        foreign = [a for a in referenced(body, self.pairs) if a not in own and a in pages.anchors]
        holders = "".join(f'<span id="{html_lib.escape(a)}"></span>' for a in foreign)
        end = self.part_end(index)
        cut = end.rfind("</")
        end = end[:cut] + holders + end[cut:]
        last = index == self.count - 1
        body = body + end if last else body[:-len("</main>")] + end + "</main>"
        head = _STYLE_BLOCK.sub(lambda m: m[1] + rewrite_css(m[2]) + m[3], s.head)
        if index > 0:
            head += ("<style>@page :first { counter-reset: page "
                     f"{pages.counter(pages.starts[index])} !important; }}</style>\n")
        return head + s.opening + body + s.tail


def make(html: str, anchors: Sequence[str], css_texts: Sequence[str],
         previous: Sequence[Sequence[str]] = ()) -> Parts | None:
    """The parts of ``html`` (None: not the handbook template's shape). ``previous``: the chapters of
    each part of the last build, kept when the chapters are the same and no group grew out of
    proportion, so an edit inside a chapter changes one part only."""
    s = split(html, anchors)
    if s is None:
        return None
    pairs = references([*css_texts, *(m[2] for m in _STYLE_BLOCK.finditer(s.head))])
    sizes = [text_length(c) for c in s.chapters]
    groups: list[tuple[int, int]] = []
    if previous and [a for g in previous for a in g] == list(s.anchors):
        at = 0
        for g in previous:
            groups.append((at, at + len(g)))
            at += len(g)
        mean = sum(sizes) / len(groups)
        if any(not 0.5 * mean <= sum(sizes[a:b]) <= 2 * mean for a, b in groups if b - a > 1):
            groups = []
    if not groups:
        groups = group(sizes, part_count(len(s.chapters)))
    return Parts(s, tuple(groups), pairs)


def guess(parts: Parts, known: Mapping[str, int] | None = None) -> PageMap:
    """A page map before rendering: where the last build (``known``: anchor -> page) had each
    chapter and anchor, else a guess from the text's length (each chapter on a right-hand page: an
    even number of pages)."""
    known = known or {}
    at = front_pages_guessed(len(parts.split.anchors))
    anchors = {a: known.get(a, 2) for a in parts.ids(0)}
    starts = [0]
    for index in range(1, parts.count):
        start, end = parts.groups[index - 1]
        for number, chapter in enumerate(parts.split.chapters[start:end]):
            anchor = parts.split.anchors[start + number]
            at = known.get(anchor, at)
            if number == 0:
                starts.append(at)
            anchors[anchor] = at
            for m in ID.finditer(chapter):
                name = html_lib.unescape(m[1])
                anchors.setdefault(name, known.get(name, at))
            at += pages_guessed(text_length(chapter), CHARS_PER_PAGE)
    return PageMap(starts, anchors, starts[1])
