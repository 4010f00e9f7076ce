"""Files -> model: chapters (front matter + Markdown) and the card deck.

Markdown is rendered by markdown-it-py (CommonMark, tables, footnotes, attributes, smart quotes)
and then sanitised with nh3: scripts, frames, objects, links to stylesheets, ``<meta>``,
``<base>``, ``style`` and event-handler attributes are removed. Images must be files inside the
project (or ``data:`` URLs); their URLs are rewritten relative to the project root, which is the
base of every rendered document.
"""

from __future__ import annotations

import functools
import html as html_lib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.attrs import attrs_plugin
from mdit_py_plugins.footnote import footnote_plugin

from .config import CardsFile, DepartmentCardsFile, FrontMatter, validate
from .errors import Problem, display_path
from .model import Chapter
from .yamlfile import parse_yaml

CHAPTER_NAME = re.compile(r"^(\d{1,3})([a-z]?)-([a-z0-9]+(?:-[a-z0-9]+)*)\.md$")
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"}

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd", "del",
    "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "section",
    "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
    "time", "tr", "u", "ul", "var", "wbr",
}
GENERIC_ATTRIBUTES = {"class", "id", "title", "lang", "dir"}
TAG_ATTRIBUTES = {
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"align", "colspan", "rowspan"},
    "th": {"align", "colspan", "rowspan", "scope"},
    "ol": {"start", "type"},
    "time": {"datetime"},
    "q": {"cite"},
    "blockquote": {"cite"},
}
_SRC_IN_HTML = re.compile(r"""<img\b[^>]*?\bsrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")


MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000  # 40 megapixels: ~ A3 at 600 dpi


@dataclass(frozen=True)
class AssetRules:
    """Where a document may take images from, and how large they may be."""

    root: Path  # the project root: nothing outside it is read
    allow_remote: bool = False  # https images, only when the user opts in
    max_image_bytes: int = MAX_IMAGE_BYTES
    max_image_pixels: int = MAX_IMAGE_PIXELS


def image_too_large(path: Path, rules: AssetRules) -> str | None:
    """Why an image file is refused for its size, or None. Reads only the image header."""
    size = path.stat().st_size
    if size > rules.max_image_bytes:
        return (f"image {path.name} is {size / 1024 / 1024:.1f} MB; the limit is "
                f"{rules.max_image_bytes / 1024 / 1024:.0f} MB (reduce it for print: 300 dpi is enough)")
    if path.suffix.lower() == ".svg":
        return None
    from PIL import Image

    try:
        with Image.open(path) as img:
            w, h = img.size
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        return f"image {path.name} cannot be read: {exc}"
    if w * h > rules.max_image_pixels:
        return (f"image {path.name} is {w} x {h} pixels; the limit is "
                f"{rules.max_image_pixels / 1e6:.0f} megapixels")
    return None


def resolve_asset(url: str, base_dir: Path, rules: AssetRules) -> tuple[str | None, str | None]:
    """Resolve an image URL written in ``base_dir``.

    Returns ``(url for the document, None)`` or ``(None, why it is refused)``. Document URLs are
    relative to the project root.
    """
    url = url.strip()
    m = _SCHEME.match(url)
    if m:
        scheme = m[1].lower()
        if scheme == "data" and len(scheme) < len(url):
            return url, None
        if scheme == "https" and rules.allow_remote:
            return url, None
        if scheme in ("http", "https"):
            return None, (f"remote image {url!r} is not fetched; put the file in the project "
                          "(or build with --allow-remote for https images)")
        return None, f"{url!r}: only files inside the project can be used ({scheme}: URLs are refused)"
    if url.startswith(("/", "\\")) or re.match(r"^[a-zA-Z]:[\\/]", url):
        return None, f"{url!r} is an absolute path; use a path relative to this file inside the project"
    path_part = url.split("#")[0].split("?")[0]
    target = (base_dir / path_part).resolve()
    root = rules.root.resolve()
    if not target.is_relative_to(root):
        return None, f"{url!r} points outside the project; images must be inside {root.name}/"
    if not target.is_file():
        return None, f"image {url!r} not found (looked for {display_path(target, root)})"
    if target.suffix.lower() not in IMAGE_SUFFIXES:
        return None, f"{url!r} is not an image (use .png, .jpg, .svg, .gif or .webp)"
    too_large = image_too_large(target, rules)
    if too_large:
        return None, too_large
    return target.relative_to(root).as_posix(), None


@functools.cache
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "typographer": True})
    md.enable(["table", "strikethrough", "replacements", "smartquotes"])
    md.use(footnote_plugin).use(attrs_plugin)
    return md


def _sanitize(html: str, base_dir: Path, rules: AssetRules) -> str:
    def keep(element: str, attribute: str, value: str) -> str | None:
        if attribute.startswith("on"):
            return None
        if element == "img" and attribute == "src":
            resolved, _ = resolve_asset(value, base_dir, rules)
            return resolved
        if element == "a" and attribute == "href":
            m = _SCHEME.match(value.strip())
            if m and m[1].lower() not in ("http", "https", "mailto", "tel"):
                return None
        return value

    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes={**{t: set(a) for t, a in TAG_ATTRIBUTES.items()}, "*": GENERIC_ATTRIBUTES},
        url_schemes={"http", "https", "mailto", "tel", "data"},
        link_rel=None,
        strip_comments=True,
        attribute_filter=keep,
    )


def _token_line(token: Token, parent: Token | None, offset: int) -> int:
    mapped = token.map or (parent.map if parent else None)
    return (mapped[0] if mapped else 0) + 1 + offset


def render_markdown(text: str, *, source: str, base_dir: Path, rules: AssetRules,
                    line_offset: int = 0) -> tuple[str, str, list[Problem]]:
    """Markdown -> (safe HTML, plain text, problems with file and line)."""
    md = _markdown()
    env: dict[str, Any] = {}
    tokens = md.parse(text, env)
    problems: list[Problem] = []
    plain: list[str] = []

    def check(url: str, line: int) -> None:
        _, why = resolve_asset(url, base_dir, rules)
        if why:
            problems.append(Problem(source, line, why))

    for tok in tokens:
        if tok.type == "html_block":
            for m in _SRC_IN_HTML.finditer(tok.content):
                check(next(g for g in m.groups() if g is not None), _token_line(tok, None, line_offset))
        for child in tok.children or ():
            if child.type == "text":
                plain.append(child.content)
            elif child.type == "image":
                check(str(child.attrs.get("src", "")), _token_line(child, tok, line_offset))
            elif child.type == "html_inline":
                for m in _SRC_IN_HTML.finditer(child.content):
                    check(next(g for g in m.groups() if g is not None), _token_line(child, tok, line_offset))
        if tok.type == "inline":
            plain.append("\n")
    html = md.renderer.render(tokens, md.options, env)
    return _sanitize(html, base_dir, rules), "".join(plain), problems


def render_inline(text: str, rules: AssetRules, base_dir: Path) -> str:
    """One line of Markdown (a summary, a reminder) -> safe inline HTML with typographic quotes."""
    return _sanitize(_markdown().renderInline(text), base_dir, rules).strip()


def typographic(text: str) -> str:
    """Plain text with typographic quotes and dashes (for titles: PDF bookmarks, headers)."""
    rendered = _markdown().renderInline(text.replace("\\", "\\\\"))
    return html_lib.unescape(re.sub(r"<[^>]+>", "", rendered)).strip()


def split_front_matter(text: str) -> tuple[str | None, str, int]:
    """``(front matter YAML or None, body, number of lines before the body)``."""
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip() != "---":
        return None, text, 0
    for i in range(1, len(lines)):
        if lines[i].rstrip() in ("---", "..."):
            return "".join(lines[1:i]), "".join(lines[i + 1:]), i + 1
    return "", text, -1  # opened but never closed


def chapter_files(folder: Path, root: Path) -> tuple[list[Path], list[Problem]]:
    """The chapter files of a content folder, and warnings for Markdown files not named NN-title.md."""
    files, problems = [], []
    if not folder.is_dir():
        return [], []
    for path in sorted(folder.glob("*.md")):
        if CHAPTER_NAME.match(path.name):
            files.append(path)
        else:
            problems.append(Problem(display_path(path, root), None,
                                    "skipped: chapter files are named like 03-a-short-title.md",
                                    "warning"))
    return files, problems


def load_chapter(path: Path, rules: AssetRules) -> tuple[Chapter | None, list[Problem]]:
    """Read one chapter file: front matter and Markdown."""
    shown = display_path(path, rules.root)
    m = CHAPTER_NAME.match(path.name)
    assert m, path
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(shown, None, f"not UTF-8 text ({exc.reason}); save the file as UTF-8")]
    fm_text, body, body_offset = split_front_matter(text)
    if fm_text is None:
        return None, [Problem(shown, 1, "no front matter: start the file with a '---' line, then "
                                        "'title: ...', then another '---' line")]
    if body_offset < 0:
        return None, [Problem(shown, 1, "front matter is opened with '---' but never closed")]
    doc, problems = parse_yaml(fm_text, path, shown, offset=1)
    if doc is None:
        return None, problems
    fm, more = validate(doc, FrontMatter)
    problems += more
    html, plain, more = render_markdown(body, source=shown, base_dir=path.parent, rules=rules,
                                        line_offset=body_offset)
    problems += more
    if fm is None:
        return None, problems
    if fm.numbered and not fm.reminder.strip():
        problems.append(doc.problem((), "no reminder: the chapter's card will only show its title",
                                    "warning"))
    chapter = Chapter(
        stem=path.stem,
        order=(int(m[1]), m[2]),
        title=typographic(fm.title),
        short_title=typographic(fm.short_title or fm.title),
        summary=render_inline(fm.summary.strip(), rules, path.parent),
        reminder=render_inline(fm.reminder.strip(), rules, path.parent),
        numbered=fm.numbered,
        html=html,
        source=shown,
        text=plain,
    )
    return chapter, problems


def load_cards_file(path: Path, rules: AssetRules, model: type[CardsFile] | type[DepartmentCardsFile]
                    ) -> tuple[CardsFile | DepartmentCardsFile | None, list[tuple[str, str, str]],
                               list[Problem]]:
    """Read a cards.yaml: the settings, the extra cards as (front HTML, back HTML, source)."""
    from .yamlfile import read_yaml

    shown = display_path(path, rules.root)
    doc, problems = read_yaml(path, shown)
    if doc is None:
        return None, [], problems
    deck, more = validate(doc, model)
    problems += more
    if deck is None:
        return None, [], problems
    cards = []
    for i, spec in enumerate(deck.cards):
        where = f"{shown}:{doc.line_of(('cards', i))}"
        sides = []
        for side in ("front", "back"):
            html, _, more = render_markdown(getattr(spec, side), source=shown, base_dir=path.parent,
                                            rules=rules, line_offset=doc.line_of(("cards", i, side)) - 1)
            problems += more
            sides.append(html)
        cards.append((sides[0], sides[1], where))
    return deck, cards, problems
