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
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.attrs import attrs_plugin
from mdit_py_plugins.footnote import footnote_plugin

from .assets import IMAGE_SUFFIXES, AssetRules, Refused, inside, link_refused, locate, resolve_asset  # the one policy
from .config import CardsFile, DepartmentCardsFile, FrontMatter, card_size_mm, validate
from .errors import Problem, Severity, display_path
from .model import Card, Chapter, Link, SourceText
from .textfile import read_text
from .yamlfile import parse_yaml

# A chapter file: a number (any number of digits), an optional letter ("08a"), then any name in any
# script ("01-总则", "02-Titles for QA", "0003 Café"); .md, .markdown, .MD alike.
_CHAPTER_STEM = re.compile(r"^(\d+)([a-zA-Z](?![^\W\d_]))?(.*)\Z", re.S)
MARKDOWN_SUFFIXES = (".md", ".markdown")
WORD_SUFFIXES = {".docx", ".doc", ".odt", ".rtf", ".wps", ".pages"}
CARDS_FILE = "cards.yaml"
CONTENT_RULES = ("a content/ folder holds chapters (NN-title.md or .markdown, any name after the number), "
                 "cards.yaml and images (.png, .jpg, .svg, .gif, .webp, also in subfolders)")


def chapter_name(name: str) -> tuple[int, str, str] | None:
    """``"08a-Funds management.md"`` -> ``(8, "a", "Funds management")``; None for any other file."""
    name = unicodedata.normalize("NFC", name)
    stem, dot, suffix = name.rpartition(".")
    if not dot or f".{suffix.lower()}" not in MARKDOWN_SUFFIXES:
        return None
    m = _CHAPTER_STEM.match(stem)
    if not m:
        return None
    rest = m[3].lstrip(" -_.、．\u3000").strip()
    return int(m[1]), (m[2] or "").lower(), rest


def chapter_stem(path: Path) -> str:
    """The file name without its suffix, in Unicode NFC (the name ``chapters.exclude`` uses)."""
    return unicodedata.normalize("NFC", path.name.rpartition(".")[0])


def slugify(text: str) -> str:
    """A Unicode-aware id, as GitHub makes them for headings: lower case, punctuation removed,
    spaces as hyphens; letters of every script kept ("第一章 总则" -> "第一章-总则")."""
    text = unicodedata.normalize("NFKC", text).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return re.sub(r"\s", "-", text)


def chapter_anchor(stem: str) -> str:
    """The id of a chapter in the documents: ``ch-`` and the slug of its file name."""
    return "ch-" + (slugify(stem) or "chapter")

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd", "del",
    "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "section",
    "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
    "time", "tr", "u", "ul", "var", "wbr",
}
GENERIC_ATTRIBUTES = {"class", "id", "title", "lang", "dir", "data-line"}
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
_HREF_IN_HTML = re.compile(r"""<a\b[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
# Raw HTML that is removed with a warning: it would run, embed, fetch or restyle something.
REMOVED_TAGS = ("script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "link", "meta",
                "base", "form", "input", "button", "textarea", "select", "svg", "math", "video", "audio",
                "source", "track", "picture", "canvas", "template", "noscript", "portal")
_REMOVED_TAG = re.compile(r"<\s*(" + "|".join(REMOVED_TAGS) + r")\b", re.I)
_EVENT_ATTR = re.compile(r"""<[a-zA-Z][^>]*?\s(on[a-zA-Z]+)\s*=""")
_ATTACHMENT = re.compile(r"""\brel\s*=\s*["']?[^"'>]*\battachment\b""", re.I)
_STYLE_ATTR = re.compile(r"""<[a-zA-Z][^>]*?\sstyle\s*=""", re.I)


def internal_link(url: str) -> str | None:
    """Links stay web addresses or #sections: a link to a chapter file (``03-title.md``) becomes a
    link to that chapter in the document; a link to any other project file is dropped (in a PDF it
    would be a file:// link to the build machine)."""
    url = url.strip()
    if url.startswith("#") or _SCHEME.match(url):
        return url
    name = unquote(url.split("#")[0].split("?")[0]).rsplit("/", 1)[-1]
    if chapter_name(name):
        return "#" + chapter_anchor(chapter_stem(Path(name)))
    return None


def removed_html(raw: str) -> list[tuple[int, str]]:
    """What the sanitiser will remove from a piece of raw HTML: (where in ``raw``, a warning)."""
    found: dict[str, int] = {}
    for m in _REMOVED_TAG.finditer(raw):
        found.setdefault(f"<{m[1].lower()}> removed: raw HTML may not run, embed, fetch or style anything",
                         m.start())
    for m in _EVENT_ATTR.finditer(raw):
        found.setdefault(f"{m[1]}= removed: event handlers are not allowed", m.start(1))
    for m in _ATTACHMENT.finditer(raw):
        found.setdefault("rel=\"attachment\" removed: files are not attached to the PDF", m.start())
    for m in _STYLE_ATTR.finditer(raw):
        found.setdefault("style= removed: styles come only from styles/", m.start())
    return sorted((at, why) for why, at in found.items())


@functools.cache
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "typographer": True})
    md.enable(["table", "strikethrough", "replacements", "smartquotes"])
    md.use(footnote_plugin).use(attrs_plugin)
    # markdown-it leaves links it distrusts (file:, javascript:, some data:) as literal text; here
    # every link and image becomes a token, so that it is checked and refused with its line.
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    return md


Resolver = Callable[[str], tuple[str | None, str | None]]


def _resolver(base_dir: Path, rules: AssetRules) -> Resolver:
    """resolve_asset for one document, remembered: each image is checked (and its header read) once."""
    return functools.lru_cache(maxsize=None)(lambda url: resolve_asset(url, base_dir, rules))


def _sanitize(html: str, base_dir: Path, rules: AssetRules, resolve: Resolver | None = None) -> str:
    resolve = resolve or _resolver(base_dir, rules)

    def keep(element: str, attribute: str, value: str) -> str | None:
        if attribute.startswith("on"):
            return None
        if element == "img" and attribute == "src":
            resolved, _ = resolve(value)
            return resolved
        if element == "a" and attribute == "href":
            return None if link_refused(value, base_dir, rules) else internal_link(value)
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


@dataclass
class Extras:
    """What rendering a chapter's Markdown finds besides its HTML: its title heading (taken out of
    the body when asked to), heading ids, and the links to resolve per edition."""

    title_from_heading: bool = False  # take a first heading out of the body as the title
    drop_heading: str | None = None  # drop a first heading with this text (it is the title)
    title: str | None = None  # the first heading's text, when it was taken out
    headings: list[str] | None = None
    links: list[Link] | None = None


_CJK_CHAR = r"[\u3400-\u9fff\uf900-\ufaff\u3040-\u30ff]"
_LONELY_END = re.compile(rf"({_CJK_CHAR})({_CJK_CHAR}[\u3000-\u303f\uff00-\uffef\u2018-\u201d\u2026\u2014]*\s*)\Z")
WORD_JOINER = "\u2060"


def _heading_text(inline: Token) -> str:
    return "".join(c.content for c in (inline.children or ()) if c.type in ("text", "code_inline")).strip()


def _same_title(a: str, b: str) -> bool:
    def norm(text: str) -> str:
        return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", typographic(text))).strip().casefold()

    return norm(a) == norm(b)


def _first_heading(tokens: list[Token]) -> int | None:
    """The index of the first token when it opens a heading (front matter aside), else None."""
    return 0 if tokens and tokens[0].type == "heading_open" else None


def render_markdown(text: str, *, source: str, base_dir: Path, rules: AssetRules,
                    line_offset: int = 0, id_prefix: str = "", extras: Extras | None = None
                    ) -> tuple[str, list[SourceText], list[Problem]]:
    """Markdown -> (safe HTML, the text a reader sees with its lines, problems with file and line).

    Headings get ids (``id_prefix`` + a Unicode-aware slug, made unique); block elements carry
    ``data-line`` (their line in the file) so that a problem found after layout names its line;
    table cells keep their alignment as a class. With ``extras``, links to other files and to
    ``#sections`` are marked to be resolved per edition (:func:`resolve_links`).
    """
    md = _markdown()
    env: dict[str, Any] = {}
    tokens = md.parse(text, env)
    problems: list[Problem] = []
    texts = reader_texts(tokens, source, line_offset)
    resolve = _resolver(base_dir, rules)
    marking = extras is not None  # a chapter: its links to chapters and sections are resolved per edition
    extras = extras if extras is not None else Extras()
    extras.headings, extras.links = [], []

    first = _first_heading(tokens)
    if first is not None:
        heading = _heading_text(tokens[first + 1])
        if extras.title_from_heading or (extras.drop_heading is not None
                                         and _same_title(heading, extras.drop_heading)):
            extras.title = tokens[first + 1].content.strip()
            del tokens[first:first + 3]

    def check(url: str, line: int) -> None:
        _, why = resolve(url)
        if why:
            problems.append(Problem(source, line, why))

    def check_link(url: str, line: int) -> None:
        why = link_refused(url, base_dir, rules)
        if why:
            problems.append(Problem(source, line, why))

    def check_html(raw: str, line: int) -> None:
        for m in _SRC_IN_HTML.finditer(raw):
            check(html_lib.unescape(next(g for g in m.groups() if g is not None)),
                  line + raw.count("\n", 0, m.start()))
        for m in _HREF_IN_HTML.finditer(raw):
            check_link(html_lib.unescape(next(g for g in m.groups() if g is not None)),
                       line + raw.count("\n", 0, m.start()))
        for at, why in removed_html(raw):
            problems.append(Problem(source, line + raw.count("\n", 0, at), why, Severity.WARNING))

    used_ids: set[str] = set()
    for i, tok in enumerate(tokens):
        if tok.map and tok.nesting == 1 and tok.block:
            tok.attrSet("data-line", str(tok.map[0] + 1 + line_offset))
        if tok.type in ("th_open", "td_open"):
            style = str(tok.attrs.pop("style", ""))
            m = re.search(r"text-align:\s*(left|right|center)", style)
            if m:
                tok.attrJoin("class", f"align-{m[1]}")
        if tok.type == "table_open":
            columns = 0
            for later in tokens[i + 1:]:
                if later.type == "tr_close":
                    break
                columns += later.type in ("th_open", "td_open")
            tok.attrJoin("class", f"cols-{columns}" + (" wide" if columns >= 5 else ""))
        if tok.type == "heading_open" and i + 1 < len(tokens):
            base = slugify(_heading_text(tokens[i + 1])) or "section"
            slug, n = base, 0
            while slug in used_ids:
                n += 1
                slug = f"{base}-{n}"
            used_ids.add(slug)
            extras.headings.append(slug)
            tok.attrSet("id", f"{id_prefix}{slug}")
        if tok.type == "html_block":
            check_html(tok.content, _token_line(tok, None, line_offset))
        children = tok.children or []
        for j, child in enumerate(children):
            if child.type == "image":
                check(str(child.attrs.get("src", "")), _token_line(child, tok, line_offset))
            elif child.type == "link_open":
                href = str(child.attrs.get("href", ""))
                line = _token_line(child, tok, line_offset)
                check_link(href, line)
                _mark_link(child, children, j, href, line, base_dir, rules, extras.links if marking else None)
            elif child.type == "html_inline":
                check_html(child.content, _token_line(child, tok, line_offset))
        if tok.type == "inline":
            _join_last_characters(tok)
            for child in children:
                if child.type in ("text", "code_inline"):
                    child.content = break_long_words(child.content)
        elif tok.type in ("fence", "code_block"):
            tok.content = break_long_words(tok.content)
    for tok in tokens:  # the URLs printed after external links (CSS decides whether, and where)
        if tok.children:
            tok.children = _with_urls(tok.children)
    html = md.renderer.render(tokens, md.options, env)
    if id_prefix:  # footnote ids are unique in the whole document, not only in this chapter
        html = _FOOTNOTE_ID.sub(lambda m: f'{m[1]}{id_prefix}{m[2]}"', html)
    return _list_starts(_sanitize(html, base_dir, rules, resolve)), texts, problems


_MARKUP = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->|<[^<>]*>", re.S | re.I)


def _html_text(html: str) -> str:
    """The text of raw HTML, without its tags, comments and the scripts and styles the sanitiser
    removes (nobody reads them); their line breaks are kept, so lines stay right."""
    return html_lib.unescape(_MARKUP.sub(lambda m: "\n" * m[0].count("\n"), html))


def reader_texts(tokens: list[Token], source: str, line_offset: int = 0) -> list[SourceText]:
    """What a reader of the rendered Markdown sees, with the line each text starts on: every
    paragraph, heading and cell as the typographer left it (curly quotes, entities decoded), image
    alt text, the addresses printed after external links, code, the text of raw HTML, and footnote
    numbers (not the way back from a footnote, "↩", which only the web page shows).
    The glyph check reads these instead of the files."""
    found: list[SourceText] = []
    for tok in tokens:
        if not tok.map:
            continue
        line = tok.map[0] + 1 + line_offset
        if tok.type == "inline":
            parts: list[str] = []
            for child in tok.children or ():
                if child.type in ("softbreak", "hardbreak"):
                    parts.append("\n")
                elif child.type in ("text", "code_inline", "image"):
                    parts.append(child.content)
                elif child.type == "html_inline":
                    parts.append(_html_text(child.content))
                elif child.type == "footnote_ref":
                    parts.append(f"[{child.meta.get('id', 0) + 1}]")
                elif child.type == "link_open":
                    href = str(child.attrs.get("href", ""))
                    if _SCHEME.match(href) and href.split(":")[0].lower() in ("http", "https", "mailto"):
                        parts.append(href.removeprefix("mailto:"))
            text = "".join(parts)
        elif tok.type == "fence":
            line, text = line + 1, tok.content  # after the opening ```
        elif tok.type == "code_block":
            text = tok.content
        elif tok.type == "html_block":
            text = _html_text(tok.content)
        else:
            continue
        if text.strip():
            found.append(SourceText(source, line, text))
    return found


_OL_START = re.compile(r'<ol start="(\d{1,6})"')


def _list_starts(html: str) -> str:
    """``<ol start="3">`` counts from 3 in the PDF too: WeasyPrint ignores ``start``, not ``counter-reset``."""
    return _OL_START.sub(lambda m: f'{m[0]} style="counter-reset: list-item {int(m[1]) - 1}"', html)


_FOOTNOTE_ID = re.compile(r'(\bid="|\bhref="#)(fn(?:ref)?\d+(?::\d+)?)"')


def _mark_link(token: Token, children: list[Token], index: int, href: str, line: int, base_dir: Path,
               rules: AssetRules, links: list[Link] | None) -> None:
    """Mark a link for the documents: external (its URL may be printed), or internal, to be
    resolved per edition (``#@N``: the N-th link of the chapter)."""
    href = href.strip()
    m = _SCHEME.match(href)
    if m:
        if m[1].lower() in ("http", "https", "mailto"):
            token.attrJoin("class", "external")
            shown = href.removeprefix("mailto:")
            text = "".join(c.content for c in children[index + 1:] if c.type == "text")
            if text.strip().rstrip("/") in (href.rstrip("/"), shown.rstrip("/")):
                token.attrJoin("class", "bare")
            else:
                token.meta["url"] = shown
        return
    if links is None or link_refused(href, base_dir, rules):
        return
    path_part, _, fragment = href.partition("#")
    path_part = unquote(path_part.split("?")[0])
    target = None
    if path_part:
        try:
            found = locate(href, base_dir, rules).path
        except Refused:
            found = None
        target = found.relative_to(rules.root.resolve()).as_posix() if found else path_part
    links.append(Link(target, unquote(fragment), line, href))
    token.attrSet("href", f"#@{len(links) - 1}")
    token.attrJoin("class", "internal")


def _with_urls(children: list[Token]) -> list[Token]:
    out: list[Token] = []
    pending: list[str] = []
    for child in children:
        out.append(child)
        if child.type == "link_open":
            pending.append(str(child.meta.get("url", "")))
        elif child.type == "link_close" and pending:
            url = pending.pop()
            if url:
                span = Token("html_inline", "", 0)
                span.content = f'<span class="link-url">{html_lib.escape(break_long_words(url))}</span>'
                out.append(span)
    return out


LONG_WORD = re.compile(r"[^\s\u200b\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]{40,}")  # not CJK text
ZERO_WIDTH_SPACE = "\u200b"


def break_long_words(text: str, every: int = 12) -> str:
    """Words of 40 characters and more (an address, a file name, a 20,000-character token) get a
    break opportunity every ``every`` characters, an invisible zero-width space: the line breaker
    needs no search through the whole word, and every character reaches the page."""
    return LONG_WORD.sub(lambda m: ZERO_WIDTH_SPACE.join(m[0][i:i + every] for i in range(0, len(m[0]), every)),
                         text)


def _join_last_characters(inline: Token) -> None:
    """A paragraph of Chinese should not end with one character alone on its last line: the last
    two characters (and closing punctuation) are joined so that they break together."""
    children = inline.children or []
    if not children or children[-1].type != "text":
        return
    last = children[-1]
    last.content = _LONELY_END.sub(lambda m: f"{m[1]}{WORD_JOINER}{m[2]}", last.content)


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


def _ignored(name: str) -> bool:
    """Files of the system or an editor, not of the user: hidden files, Office lock files, backups."""
    return name.startswith((".", "~$")) or name.endswith(("~", ".swp", ".tmp")) or name in ("Thumbs.db",
                                                                                             "desktop.ini")


def _unusable(path: Path, in_subfolder: bool) -> str | None:
    """Why a file in a content folder cannot be used (and what to do), or None when it can."""
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return None
    if suffix in MARKDOWN_SUFFIXES:
        if in_subfolder:
            return ("chapters are read from content/ itself, not from subfolders; move it up and name it "
                    "like 03-title.md")
        if chapter_name(path.name) is None:
            return (f"a chapter file needs its number first, e.g. rename it to 03-{path.stem}{path.suffix} "
                    "(the number sets its place in the handbook)")
        return None
    if suffix in WORD_SUFFIXES:
        return (f"a word-processor file cannot be printed as it is; convert it to Markdown with "
                f"`handbook import {path.name}` (or save it as NN-title.md) and remove the {path.suffix} file")
    if suffix == ".pdf":
        return "a PDF cannot be a chapter; put its text in a NN-title.md file, or move the PDF out of content/"
    if suffix in (".txt", ".text"):
        return f"if it is Markdown, rename it to NN-title.md (e.g. 03-{path.stem}.md); else move it out of content/"
    if path.name == CARDS_FILE and not in_subfolder:
        return None
    if suffix in (".yaml", ".yml"):
        return f"only {CARDS_FILE} is read in content/; move this file out, or rename it if it holds the cards"
    return f"not used: {CONTENT_RULES}; move it out of content/"


def chapter_files(folder: Path, root: Path) -> tuple[list[Path], list[Problem]]:
    """The chapter files of a content folder; every other file is an image, cards.yaml, ignored
    (hidden and editor files), or an error saying what to do with it."""
    files: list[Path] = []
    problems: list[Problem] = []
    if not folder.is_dir():
        return [], []

    def walk(directory: Path, depth: int) -> None:
        for path in sorted(directory.iterdir(), key=lambda p: p.name):
            if _ignored(path.name):
                continue
            if path.is_dir() and chapter_name(path.name):
                problems.append(Problem(display_path(path, root), None, "cannot read: a folder named like a "
                                                                        "chapter file; rename it"))
                continue
            if path.is_dir():
                walk(path, depth + 1)
                continue
            why = _unusable(path, depth > 0)
            if why:
                problems.append(Problem(display_path(path, root), None, why))
            elif depth == 0 and chapter_name(path.name):
                files.append(path)

    walk(folder, 0)
    return files, problems


def load_chapter(path: Path, rules: AssetRules) -> tuple[Chapter | None, list[Problem]]:
    """Read one chapter file: optional front matter, then Markdown.

    The title is the front matter's ``title``, else the file's first heading (taken out of the
    body, so it is printed once), else the name after the file's number. With front matter, a
    first heading equal to the title is printed once too.
    """
    shown = display_path(path, rules.root)
    name = chapter_name(path.name)
    assert name, path
    number, letter, rest = name
    if not inside(path, rules.root):
        return None, [Problem(shown, None, "points outside the project (a symbolic link?); "
                                           "chapters must be files inside the project")]
    text, problems = read_text(path, shown)
    if text is None:
        return None, problems
    fm_text, body, body_offset = split_front_matter(text)
    if body_offset < 0:
        return None, [Problem(shown, 1, "front matter is opened with '---' but never closed")]
    doc = None
    fm: FrontMatter | None = FrontMatter.model_construct(title="", short_title=None, summary="", reminder="",
                                                         numbered=True)
    if fm_text is not None:
        doc, problems = parse_yaml(fm_text, path, shown, offset=1)
        if doc is None:
            return None, problems
        fm, more = validate(doc, FrontMatter)
        problems += more
    stem = chapter_stem(path)
    anchor = chapter_anchor(stem)
    extras = Extras(title_from_heading=fm is not None and not fm.title,
                    drop_heading=fm.title if fm is not None and fm.title else None)
    html, texts, more = render_markdown(body, source=shown, base_dir=path.parent, rules=rules,
                                        line_offset=body_offset, id_prefix=f"{anchor}--", extras=extras)
    problems += more
    if fm is None:
        return None, problems
    title = fm.title or extras.title or rest.replace("-", " ").replace("_", " ").strip()
    if not title:
        return None, [*problems, Problem(shown, 1, "no title: start the file with a heading ('# Title') "
                                                   "or give the file a name after its number")]
    if doc is not None:
        for key in ("summary", "reminder"):  # inline Markdown: its links and images are checked too
            line = doc.line_of((key,))
            for p in render_markdown(getattr(fm, key), source=shown, base_dir=path.parent, rules=rules)[2]:
                problems.append(Problem(p.path, line, f"{key}: {p.message}", p.severity))
    chapter = Chapter(
        stem=stem,
        order=(number, letter),
        title=typographic(title),
        short_title=typographic(fm.short_title or title),
        summary=render_inline(fm.summary.strip(), rules, path.parent),
        reminder=render_inline(fm.reminder.strip(), rules, path.parent),
        numbered=fm.numbered,
        html=html,
        source=shown,
        texts=(*(doc.texts() if doc is not None else ()), *texts,
               *(() if fm.title or extras.title else (SourceText(shown, None, title),))),  # a title from the file name
        anchor=anchor,
        headings=tuple(f"{anchor}--{h}" for h in extras.headings or ()),
        links=tuple(extras.links or ()),
    )
    return chapter, problems


_LINK_MARK = re.compile(r'<a\b[^>]*?\shref="#@(\d+)"[^>]*>')


def resolve_links(chapters: list[Chapter], root: Path) -> tuple[list[Chapter], list[Problem]]:
    """The links of an edition's chapters, resolved: ``other.md``, ``other.md#section`` and
    ``#section`` become links to the chapter and heading in this edition. A link whose file or
    section is not in the edition is a warning naming its line; its text is printed without a link."""
    by_stem = {ch.stem: ch for ch in chapters}
    ids = {ch.anchor for ch in chapters} | {h for ch in chapters for h in ch.headings}
    problems: list[Problem] = []
    out: list[Chapter] = []
    for ch in chapters:
        resolved: list[str | None] = []
        for link in ch.links:
            target = ch
            if link.target is not None:
                name = link.target.rsplit("/", 1)[-1]
                found = by_stem.get(chapter_stem(Path(name))) if chapter_name(name) else None
                if found is None:
                    what = ("no such chapter in this edition" if chapter_name(name) or
                            name.lower().endswith(MARKDOWN_SUFFIXES) else "not a chapter")
                    if not (root / link.target).exists() and not chapter_name(name):
                        what = "no such file"
                    problems.append(Problem(ch.source, link.line, f"link {link.href!r}: {what}; the text is "
                                                                  "printed without the link", Severity.WARNING))
                    resolved.append(None)
                    continue
                target = found
            if not link.fragment:
                resolved.append(f"#{target.anchor}")
                continue
            wanted = slugify(link.fragment)
            candidates = (f"{target.anchor}--{wanted}", f"{target.anchor}--{link.fragment}", link.fragment)
            hit = next((c for c in candidates if c in ids), None)
            if hit is None:
                problems.append(Problem(ch.source, link.line, f"link {link.href!r}: no section "
                                                              f"'{link.fragment}' in {target.source}; the text is "
                                                              "printed without the link", Severity.WARNING))
            resolved.append(f"#{hit}" if hit else None)

        def repl(m: re.Match[str], resolved: list[str | None] = resolved) -> str:
            index = int(m[1])
            href = resolved[index] if index < len(resolved) else None
            tag = m[0]
            if href is None:
                return re.sub(r'\shref="#@\d+"', "", tag).replace('class="internal"', 'class="unresolved"')
            return tag.replace(f'href="#@{index}"', f'href="{html_lib.escape(href)}"')

        out.append(replace(ch, html=_LINK_MARK.sub(repl, ch.html)) if ch.links else ch)
    return out, problems


def card_does_not_fit(size: str, sheet: str) -> str | None:
    """Why cards of ``size`` cannot be laid out on ``sheet`` with cut marks, or None."""
    from .cards import grid_for

    try:
        grid_for(card_size_mm(size), sheet)
    except ValueError as exc:
        return f"{exc} ({sheet}); choose a smaller size or a larger sheet"
    return None


def load_cards_file(path: Path, rules: AssetRules, model: type[CardsFile] | type[DepartmentCardsFile],
                    base: CardsFile | None = None
                    ) -> tuple[CardsFile | DepartmentCardsFile | None, list[Card], list[Problem]]:
    """Read a cards.yaml: the settings, and its cards (each with its line and its text's lines).

    ``base``: the project's deck settings, which a department's cards.yaml changes.
    """
    from .yamlfile import read_yaml

    shown = display_path(path, rules.root)
    if not inside(path, rules.root):
        return None, [], [Problem(shown, None, "points outside the project (a symbolic link?)")]
    doc, problems = read_yaml(path, shown)
    if doc is None:
        return None, [], problems
    deck, more = validate(doc, model)
    problems += more
    if deck is None:
        return None, [], problems
    base = base or CardsFile()
    size = deck.size or base.size
    sheet = deck.sheet or base.sheet
    why = card_does_not_fit(size, sheet) if (deck.size or deck.sheet) else None
    if why:
        problems.append(doc.problem(("size",) if deck.size else ("sheet",) if deck.sheet else (),
                                    f"size: {why}"))
    cards = []
    for i, spec in enumerate(deck.cards):
        sides: list[str] = []
        texts: list[SourceText] = []
        for side in ("front", "back"):
            html, more_texts, more = render_markdown(getattr(spec, side), source=shown, base_dir=path.parent,
                                                     rules=rules, line_offset=doc.value_line(("cards", i, side)) - 1)
            problems += more
            sides.append(html)
            texts += more_texts
        cards.append(Card(sides[0], sides[1], shown, line=doc.line_of(("cards", i)), texts=tuple(texts)))
    return deck, cards, problems
