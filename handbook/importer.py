"""``handbook import``: documents people already have (.docx, .odt, .doc, .wps, .html, .md, .txt) become chapters.

A document is read into HTML (:mod:`handbook.word` for word-processor files; the text of .html and
.txt files after their encoding is found), cut into one chapter per heading of the split level, and
each chapter's HTML becomes Markdown (markdownify) with front matter. Nothing is written until every
chapter is known; then a file that exists is kept unless ``force``: the report says what was written,
what was kept and why, and what could not be carried over.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import html as html_lib
import io
import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .assets import IMAGE_SUFFIXES
from .content import chapter_name, slugify, split_front_matter
from .errors import HandbookError, display_path
from .output import atomic_write

log = logging.getLogger(__name__)

WORD_SUFFIXES = {".docx", ".docm", ".dotx", ".odt", ".ott", ".doc", ".wps", ".rtf"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
TEXT_SUFFIXES = {".txt", ".text"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
SUFFIXES = WORD_SUFFIXES | HTML_SUFFIXES | TEXT_SUFFIXES | MARKDOWN_SUFFIXES
SLUG_LENGTH = 40
SHORT_TITLE = 30  # characters in a running header before a title is shortened (CJK: half)
FOOTNOTE = re.compile("\ue002(\\d+)\ue003")
CN_NUMERAL = "〇零一二三四五六七八九十百千两\\d"
# Headings in documents that use no heading styles (typed and made bold by hand, or plain text).
TYPED_HEADINGS = (
    (1, re.compile(rf"^\s*第[{CN_NUMERAL}]+[章篇编部]\s*\S")),
    (2, re.compile(rf"^\s*第[{CN_NUMERAL}]+节\s*\S")),
    (1, re.compile(r"^\s*(Chapter|Part)\s+(\d+|[IVXLC]+)\b", re.I)),
)
TYPED_HEADING_LENGTH = 40


@dataclass
class Section:
    """One chapter-to-be: its heading, the HTML nodes under it, and whether it is a numbered point."""

    title: str
    numbered: bool
    nodes: list[Any] = field(default_factory=list)
    level: int = 0


@dataclass
class ImportedChapter:
    title: str
    short_title: str
    numbered: bool
    markdown: str
    images: list[tuple[str, bytes]] = field(default_factory=list)  # (file name in the chapter's folder, data)


@dataclass
class ImportedDocument:
    source: Path
    title: str = ""
    subtitle: str = ""
    chapters: list[ImportedChapter] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    chapter_labels: list[str] = field(default_factory=list)  # numbers Word printed before chapter headings


@dataclass
class ImportReport:
    written: list[tuple[Path, str]] = field(default_factory=list)  # (path, what it is)
    unchanged: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # (path, why)
    notices: list[str] = field(default_factory=list)  # what could not be carried over, and where
    documents: list[ImportedDocument] = field(default_factory=list)

    def as_dict(self, root: Path) -> dict[str, Any]:
        return {"written": [{"path": display_path(p, root), "what": what} for p, what in self.written],
                "unchanged": [display_path(p, root) for p in self.unchanged],
                "skipped": [{"path": display_path(p, root), "why": why} for p, why in self.skipped],
                "notices": list(self.notices)}


# -- text and encodings ------------------------------------------------------------------------------

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_WIDER = {"gb2312": "gb18030", "gbk": "gb18030", "cp936": "gb18030", "euc-cn": "gb18030", "ascii": "utf-8",
          "big5": "big5hkscs"}


def decode(data: bytes, source: Path, encoding: str | None = None, html: bool = False) -> tuple[str, str]:
    """The text of a file and the encoding it was read in: ``encoding`` if given, else its byte-order mark,
    strict UTF-8, an HTML file's own ``<meta charset>``, then what charset-normalizer finds."""

    def read(name: str) -> str:
        name = _WIDER.get(codecs.lookup(name).name, codecs.lookup(name).name)
        return data.decode(name)

    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError as exc:
            raise HandbookError(f"--encoding {encoding}: not an encoding Python knows (try gb18030, utf-16, "
                                "big5, cp1252)") from exc
        try:
            return read(encoding), encoding
        except UnicodeDecodeError as exc:
            raise HandbookError(f"{source}: not {encoding} text (byte {exc.start}: {exc.reason}); "
                                "leave --encoding out to have it detected") from exc
    for bom, name in _BOMS:
        if data.startswith(bom):
            return data.decode(name), name.replace("-sig", "")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if html:
        meta = _META_CHARSET.search(data[:4096])
        if meta:
            try:
                name = meta[1].decode("ascii")
                return read(name), codecs.lookup(name).name
            except (LookupError, UnicodeDecodeError):
                pass
    if len(data) >= 2 and data.count(b"\0") * 4 > len(data):  # UTF-16 without a byte-order mark
        for name in ("utf-16-le", "utf-16-be"):
            try:
                text = data.decode(name)
            except UnicodeDecodeError:
                continue
            if sum(ch.isprintable() or ch.isspace() for ch in text) > 0.95 * len(text):
                return text, name
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or not best.encoding:
        raise HandbookError(f"{source}: its encoding could not be found; give it with --encoding "
                            "(for Chinese text usually gb18030, or utf-16)")
    try:
        return read(best.encoding), _WIDER.get(best.encoding, best.encoding)
    except (LookupError, UnicodeDecodeError) as exc:
        raise HandbookError(f"{source}: looks like {best.encoding} text but cannot be read as such; "
                            "give its encoding with --encoding") from exc


def cjk_share(text: str) -> float:
    """The share of CJK characters among the letters of ``text``."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for ch in letters if unicodedata.name(ch, "").startswith(("CJK", "HIRAGANA", "KATAKANA", "HANGUL")))\
        / len(letters)


def slug(title: str) -> str:
    """A file name part from a heading, in its own script (the chapter ids' rule, ``content.slugify``):
    第一章 总则 -> 第一章-总则; cut at a hyphen to SLUG_LENGTH characters."""
    made = re.sub(r"[-_]{2,}", "-", slugify(title)).strip("-_")
    if len(made) > SLUG_LENGTH:
        cut = made[:SLUG_LENGTH]
        made = (cut.rsplit("-", 1)[0] if "-" in cut[SLUG_LENGTH // 2:] else cut).strip("-_")
    return made or "chapter"


def short_title(title: str) -> str:
    """The running header's text: the title, or its part before a colon or dash, or its first words."""
    limit = SHORT_TITLE // 2 if cjk_share(title) > 0.5 else SHORT_TITLE
    if len(title) <= limit:
        return title
    for separator in ("：", ": ", " — ", " – ", " - ", "——", "，", ", "):
        head = title.split(separator, 1)[0].strip()
        if 0 < len(head) <= limit and head != title:
            return head
    if " " in title[:limit + 1]:
        return title[: title.rfind(" ", 0, limit + 1)].rstrip(",;:") + "…"
    return title[: limit - 1] + "…"


# -- HTML to sections --------------------------------------------------------------------------------

def _soup(markup: str) -> Any:
    from bs4 import BeautifulSoup

    return BeautifulSoup(markup, "html.parser")


def _heading_level(node: Any) -> int | None:
    name = getattr(node, "name", None)
    if name and re.fullmatch(r"h[1-6]", name):
        return int(name[1])
    return None


def _snippet(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _plain(node: Any) -> str:
    return " ".join(node.get_text(" ").split()) if hasattr(node, "get_text") else " ".join(str(node).split())


def _prepare_html(soup: Any, document: ImportedDocument) -> dict[str, str]:
    """Clean mammoth's (or a web page's) HTML in place; the footnotes' Markdown by number."""
    from .word import MARKER

    # The numbers Word's lists start at, then no more markers.
    for ol in soup.find_all("ol"):
        first = ol.find("li")
        found = MARKER.search(first.get_text()) if first else None
        if found and int(found[1]) != 1:
            ol["start"] = found[1]
    for text in soup.find_all(string=MARKER):
        text.replace_with(MARKER.sub("", str(text)))
    _items_as_paragraphs(soup)
    # Footnotes and endnotes: a numbered mark where each is referred to, the text collected.
    notes: dict[str, str] = {}
    number = 0
    for ref in soup.find_all("a", id=re.compile(r"^(foot|end)note-ref-")):
        target = soup.find(id=ref.get("href", "").lstrip("#"))
        if target is None:
            continue
        number += 1
        for back in target.find_all("a", href=re.compile(r"^#(foot|end)note-ref-")):
            back.decompose()
        notes[str(number)] = _markdown(target.decode_contents()).strip()
        outer = ref
        while outer.parent is not None and outer.parent.name == "sup" and not _plain(outer.parent).replace(
                _plain(ref), ""):
            outer = outer.parent
        link = outer.find_parent("a")
        mark = f"\ue002{number}\ue003"
        if link is not None:  # a note inside a link's text: after the link (no link inside a link)
            outer.extract()
            link.insert_after(mark)
        else:
            outer.replace_with(mark)
        parent_list = target.parent
        target.decompose()
        if parent_list is not None and parent_list.name == "ol" and not parent_list.find("li"):
            parent_list.decompose()
    # The document's own title and subtitle (Word's Title and Subtitle styles).
    for css, attr in (("doc-title", "title"), ("doc-subtitle", "subtitle")):
        for p in soup.find_all("p", class_=css):
            if not getattr(document, attr):
                setattr(document, attr, _plain(p))
            else:
                document.notices.append(f'"{_plain(p)}" (Word\'s {attr} style) is kept as a paragraph')
                del p["class"]
                continue
            p.decompose()
    # Links to Word's bookmarks lead nowhere in the handbook: their text stays.
    inside: list[str] = []
    for a in soup.find_all("a"):
        href = (a.get("href") or "").strip()
        if href and href.startswith("#") and _plain(a):
            inside.append(_plain(a))
        elif href and not re.match(r"(?i)^(https?:|mailto:|tel:)", href):
            document.notices.append(f'the link "{_snippet(_plain(a))}" to {_snippet(href, 60)} is kept as text only: '
                                    "a printed handbook can only point to web addresses, mail and phone numbers")
        else:
            continue
        a.unwrap()
    for a in soup.find_all("a"):
        if not a.get("href"):
            a.unwrap()  # Word's bookmarks
    if inside:
        document.notices.append(f"{len(inside)} link{'s' if len(inside) > 1 else ''} to places in the document "
                                f"(such as \"{_snippet(inside[0])}\") kept as text only: link chapters by their "
                                "file name, e.g. [see](03-title.md)")
    # Paragraphs left empty.
    for p in soup.find_all("p"):
        if not p.get_text(strip=True) and not p.find("img"):
            p.decompose()
    return notes


def _items_as_paragraphs(soup: Any) -> None:
    """List items whose number Markdown cannot say ("a)" under "1.") become paragraphs of the item above,
    their number written out; the list around them goes on unbroken."""
    from .word import LABEL_END, LABEL_MARK

    for li in soup.find_all("li"):
        first = li.find(string=True)
        if first is None or LABEL_MARK not in first:
            continue
        nested = li.parent
        paragraph = soup.new_tag("p")
        blocks = []
        for child in list(li.children):
            if getattr(child, "name", None) in ("ol", "ul", "p", "table", "blockquote"):
                blocks.append(child.extract())
            else:
                paragraph.append(child.extract())
        for piece in [paragraph, *blocks]:
            nested.insert_before(piece)
        li.decompose()
        if nested is not None and not nested.find("li"):
            nested.decompose()
    for text in soup.find_all(string=re.compile(LABEL_MARK)):
        text.replace_with(str(text).replace(LABEL_MARK, "").replace(LABEL_END, ""))


def _span(cell: Any, name: str) -> int:
    value = str(cell.get(name, "1")).strip()
    return max(1, min(int(value), 100)) if value.isdigit() else 1


def _unmerge_tables(soup: Any, document: ImportedDocument) -> None:
    """Merged cells become the cell and empty ones: a Markdown table has one cell per column and row."""
    for number, table in enumerate(soup.find_all("table"), start=1):
        merged = False
        below: dict[int, int] = {}  # column -> rows a cell above still covers
        for tr in table.find_all("tr"):
            if tr.find_parent("table") is not table:
                continue
            cells = list(tr.find_all(["td", "th"], recursive=False))
            out: list[Any] = []
            column = 0
            while cells or any(col >= column and left > 0 for col, left in below.items()):
                if below.get(column, 0) > 0:
                    below[column] -= 1
                    out.append(soup.new_tag("td"))
                    column += 1
                    continue
                if not cells:
                    column += 1
                    continue
                cell = cells.pop(0)
                rows, columns = _span(cell, "rowspan"), _span(cell, "colspan")
                for attr in ("rowspan", "colspan"):
                    if attr in cell.attrs:
                        del cell[attr]
                out.append(cell)
                for k in range(columns):
                    if rows > 1:
                        below[column + k] = rows - 1
                    if k:
                        out.append(soup.new_tag(cell.name))
                merged = merged or rows > 1 or columns > 1
                column += columns
            for cell in out:
                tr.append(cell.extract() if cell.parent is tr else cell)
        if merged:
            document.notices.append(f"table {number} has merged cells: each is written into its first cell, the "
                                    "others are left empty")


def _typed_headings(soup: Any, document: ImportedDocument) -> None:
    """A document without headings: paragraphs like '第一章 总则' or 'Chapter 3 ...' become headings."""
    if soup.find(re.compile(r"^h[1-6]$")):
        return
    promoted = []
    for p in soup.find_all("p"):
        text = _plain(p)
        if len(text) > TYPED_HEADING_LENGTH:
            continue
        for level, pattern in TYPED_HEADINGS:
            if pattern.match(text):
                p.name = f"h{level}"
                promoted.append(text)
                break
    if promoted:
        document.notices.append(f"no heading styles: {len(promoted)} paragraphs such as \"{promoted[0]}\" "
                                "were taken as headings")


def _sections(soup: Any, split_level: int, document: ImportedDocument) -> list[Section]:
    body = soup.body or soup
    before = Section(title="", numbered=False)
    sections: list[Section] = []
    current = before
    for node in list(body.children):
        level = _heading_level(node)
        if level is not None and level <= split_level:
            title = _plain(node)
            marks = FOOTNOTE.findall(title)
            title = " ".join(FOOTNOTE.sub("", title).split())
            if not title:
                continue
            current = Section(title=title, numbered=True, level=level)
            sections.append(current)
            if marks:  # a title has no footnotes: they open the chapter's text instead
                note = soup.new_tag("p")
                note.string = "".join(f"\ue002{m}\ue003" for m in marks)
                current.nodes.append(note)
                document.notices.append(f'the footnote on the heading "{title}" is at the start of its chapter\'s '
                                        "text (titles have no footnotes)")
            continue
        if isinstance(node, str) and not node.strip():
            continue
        current.nodes.append(node)
    if split_level == 2:  # level-1 headings: the document's title, or parts; never numbered points
        kept: list[Section] = []
        for s in sections:
            if s.level == 1:
                s.numbered = False
                if not document.title and not kept and not before.nodes:
                    document.title = s.title
                    if not s.nodes:
                        document.notices.append(f'the level-1 heading "{s.title}" is taken as the title of the '
                                                "whole document")
                        continue
                elif not s.nodes:
                    document.notices.append(f'the level-1 heading "{s.title}" has no text of its own: it becomes '
                                            "an unnumbered chapter (a part's title page)")
            kept.append(s)
        sections = kept
    if before.nodes:
        before.title = document.title or (document.source.stem.replace("_", " ").strip() or "Introduction")
        if not sections:  # no headings at all: the whole document is one chapter
            before.numbered = True
            document.notices.append("no headings: the whole document is one chapter")
        sections.insert(0, before)
    return sections


# -- HTML to Markdown --------------------------------------------------------------------------------

def _converter() -> Any:
    from markdownify import MarkdownConverter

    class Converter(MarkdownConverter):
        def escape(self, text: str, parent_tags: set[str]) -> str:
            """Text stays text: nothing in it may read as Markdown, HTML or an {attribute} list."""
            if text and "_noformat" not in parent_tags:
                text = text.replace("\\", "\\\\")
                text = re.sub(r"([`\[\]{}|])", r"\\\1", text)
                text = re.sub(r"<(?=[A-Za-z/!?])", r"\\<", text)
                text = re.sub(r"&(?=#?\w+;)", r"\\&", text)
                text = re.sub(r"~(?=~)|(?<=~)~", r"\\~", text)
            escaped: str = super().escape(text, parent_tags)  # type: ignore[misc]  # not in its stubs
            return escaped

        def convert_p(self, el: Any, text: str, parent_tags: set[str]) -> str:
            converted: str = super().convert_p(el, text, parent_tags)  # type: ignore[misc]  # not in its stubs
            # A paragraph that only looks like Markdown block syntax stays a paragraph.
            return re.sub(r"^(\n*)([#>+]|-(?= )|=+$)", r"\1\\\2", converted)

    return Converter(heading_style="ATX", bullets="-", strong_em_symbol="*", table_infer_header=True,
                     escape_misc=False, escape_asterisks=True, escape_underscores=True, newline_style="backslash")


def _markdown(markup: str) -> str:
    text: str = _converter().convert(markup)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return "\n".join(line.rstrip() for line in text.splitlines()).strip() + "\n"


def _shift_headings(nodes: list[Any], split_level: int) -> None:
    """Headings below the split level start at ## in the chapter (its title is the # level)."""
    for node in nodes:
        for heading in ([node] if _heading_level(node) else []) + list(
                node.find_all(re.compile(r"^h[1-6]$")) if hasattr(node, "find_all") else []):
            level = _heading_level(heading)
            if level is not None:
                heading.name = f"h{max(2, min(6, level - split_level + 1))}"


_IMAGE_TYPES = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/svg+xml": ".svg",
                "image/webp": ".webp", "image/bmp": ".bmp", "image/tiff": ".tiff", "image/x-emf": ".emf",
                "image/x-wmf": ".wmf"}


def _image_file(data: bytes, suffix: str) -> tuple[bytes, str] | None:
    """Image data the handbook can print (BMP and TIFF become PNG), or None (EMF, WMF, unknown)."""
    if suffix in IMAGE_SUFFIXES:
        return data, suffix
    if suffix in (".bmp", ".tiff", ".tif"):
        from PIL import Image

        try:
            with Image.open(io.BytesIO(data)) as picture:
                out = io.BytesIO()
                picture.save(out, "PNG")
                return out.getvalue(), ".png"
        except OSError:
            return None
    return None


def _chapter(section: Section, notes: dict[str, str], images: dict[str, tuple[bytes, str, str]],
             split_level: int, document: ImportedDocument) -> ImportedChapter:
    _shift_headings(section.nodes, split_level)
    found: list[tuple[str, bytes]] = []
    for node in section.nodes:
        for img in ([node] if getattr(node, "name", None) == "img" else []) + (
                list(node.find_all("img")) if hasattr(node, "find_all") else []):
            src = img.get("src", "")
            known = images.get(src)
            alt = (img.get("alt") or "").strip()
            if known is None:
                document.notices.append(f'chapter "{section.title}": the picture "{alt or src}" was not carried '
                                        "over (not in the document; remote pictures are not fetched)")
                img.decompose()
                continue
            data, suffix, _ = known
            usable = _image_file(data, suffix)
            if usable is None:
                document.notices.append(f'chapter "{section.title}": a {suffix.lstrip(".").upper() or "?"} '
                                        f'picture ("{alt}") was not carried over: save it as PNG or JPEG in '
                                        "the document and import again")
                img.decompose()
                continue
            name = f"figure-{len(found) + 1}{usable[1]}"
            found.append((name, usable[0]))
            img["src"] = f"\ue004{name}"
            if not alt:
                document.notices.append(f'chapter "{section.title}": picture {name} has no alt text; write what '
                                        "it shows between the brackets of its ![]()")
    markup = "".join(str(node) for node in section.nodes)
    body = _markdown(markup) if markup.strip() else ""
    used = list(dict.fromkeys(FOOTNOTE.findall(body)))
    body = FOOTNOTE.sub(lambda m: f"[^{m[1]}]", body)
    if used:
        body = body.rstrip("\n") + "\n\n" + "\n".join(
            f"[^{n}]: " + notes.get(n, "").replace("\n", "\n    ").rstrip() for n in used) + "\n"
    title = " ".join(section.title.split())
    return ImportedChapter(title=title, short_title=short_title(title), numbered=section.numbered,
                           markdown=body, images=found)


def chapters_from_html(markup: str, document: ImportedDocument, split_level: int,
                       images: dict[str, tuple[bytes, str, str]], fallback_title: str = "") -> None:
    """Fill ``document.chapters`` from HTML; ``images`` maps an img src to (data, suffix, alt).

    The document's title is its Title-styled paragraph, else ``fallback_title`` (Word's properties,
    which often hold a template's name), else a level-1 heading with --split-level 2."""
    soup = _soup(markup)
    for tag in soup.find_all(["script", "style", "noscript", "template", "iframe", "object", "embed", "form"]):
        tag.decompose()
    notes = _prepare_html(soup, document)
    _unmerge_tables(soup, document)
    document.title = document.title or fallback_title
    _typed_headings(soup, document)
    for section in _sections(soup, split_level, document):
        document.chapters.append(_chapter(section, notes, images, split_level, document))


# -- each kind of file ---------------------------------------------------------------------------------

def read_word_file(path: Path, split_level: int) -> ImportedDocument:
    from .word import read_word

    result = read_word(path, split_level)
    document = ImportedDocument(source=path, notices=list(result.notices), chapter_labels=result.chapter_labels)
    images = {src: (img.data, _IMAGE_TYPES.get(img.content_type, "." + img.content_type.rsplit("/", 1)[-1]),
                    img.alt) for src, img in result.images.items()}
    chapters_from_html(result.html, document, split_level, images, fallback_title=result.title)
    return document


def _data_url(url: str) -> tuple[bytes, str] | None:
    m = re.match(r"data:(image/[\w.+-]+)?(;charset=[\w-]+)?(;base64)?,(.*)$", url, re.S)
    if not m or not m[3]:
        return None
    try:
        return base64.b64decode(m[4], validate=False), _IMAGE_TYPES.get(m[1] or "", "")
    except (binascii.Error, ValueError):
        return None


def read_html_file(path: Path, split_level: int, encoding: str | None) -> ImportedDocument:
    text, used = decode(path.read_bytes(), path, encoding, html=True)
    document = ImportedDocument(source=path)
    if used not in ("utf-8", "utf-8-sig"):
        document.notices.append(f"read as {used} text")
    soup = _soup(text)
    if not document.title and soup.title and soup.title.string:
        document.title = soup.title.string.strip()
    images: dict[str, tuple[bytes, str, str]] = {}
    for img in soup.find_all("img"):
        src = img.get("src") or ""
        if src.startswith("data:"):
            found = _data_url(src)
            if found:
                images[src] = (found[0], found[1], img.get("alt") or "")
        elif not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", src) and not src.startswith("//"):
            from urllib.parse import unquote

            local = (path.parent / unquote(src.split("#")[0].split("?")[0])).resolve()
            if local.is_file() and local.is_relative_to(path.parent.resolve()):
                images[src] = (local.read_bytes(), local.suffix.lower(), img.get("alt") or "")
    body = soup.body or soup
    chapters_from_html(str(body), document, split_level, images)
    return document


def _text_to_html(text: str) -> str:
    """Plain text: blocks between blank lines; in Chinese text each line is a paragraph of its own."""
    paragraphs: list[str] = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n")):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        if not lines:
            continue
        if cjk_share(block) > 0.3 or all(len(line) < 50 for line in lines):
            paragraphs.extend(lines)
        else:
            paragraphs.append(" ".join(lines))
    return "".join(f"<p>{html_lib.escape(p)}</p>" for p in paragraphs)


def read_text_file(path: Path, split_level: int, encoding: str | None) -> ImportedDocument:
    text, used = decode(path.read_bytes(), path, encoding)
    document = ImportedDocument(source=path)
    if used not in ("utf-8", "utf-8-sig"):
        document.notices.append(f"read as {used} text")
    lines = text.lstrip("\ufeff").strip().splitlines()
    first = lines[0].strip() if lines else ""
    if (len(lines) > 1 and 0 < len(first) <= TYPED_HEADING_LENGTH and first[-1] not in "。.！？!?；;：:，,、"
            and not any(pattern.match(first) for _, pattern in TYPED_HEADINGS)):
        document.title = first  # a title line, as notices and regulations start
        document.notices.append(f'the first line "{first}" is taken as the title of the whole document')
        text = "\n".join(lines[1:])
    chapters_from_html(_text_to_html(text), document, split_level, {})
    return document


def read_markdown_file(path: Path, split_level: int, encoding: str | None) -> ImportedDocument:
    """Markdown is kept as written, cut at its headings; local pictures come along."""
    from markdown_it import MarkdownIt

    text, _ = decode(path.read_bytes(), path, encoding)
    document = ImportedDocument(source=path)
    front, body, _ = split_front_matter(text)
    if front is not None:
        try:
            meta = yaml.safe_load(front) or {}
        except yaml.YAMLError:
            meta = {}
        if isinstance(meta, dict) and isinstance(meta.get("title"), str):
            document.title = meta["title"]
        document.notices.append("its front matter was left out (each chapter gets its own)")
    lines = body.splitlines()
    md = MarkdownIt("commonmark").enable("table")
    tokens = md.parse(body)
    cuts: list[tuple[int, int, str]] = []  # (first line, last line + 1, title) of each splitting heading
    shifts: list[tuple[int, int, int, str]] = []
    for i, token in enumerate(tokens):
        if token.type != "heading_open" or token.map is None:
            continue
        level, inline = int(token.tag[1]), tokens[i + 1].content
        if level <= split_level:
            cuts.append((token.map[0], token.map[1], inline))
        else:
            shifts.append((token.map[0], token.map[1], max(2, min(6, level - split_level + 1)), inline))
    for start, end, level, inline in reversed(shifts):  # ATX headings at their new level
        lines[start:end] = ["#" * level + " " + inline]
        delta = (end - start) - 1
        cuts = [(a - delta if a > start else a, b - delta if b > start else b, t) for a, b, t in cuts]
    parts: list[tuple[str, bool, list[str]]] = []
    if not cuts or "\n".join(lines[: cuts[0][0]]).strip():
        title = document.title or path.stem.replace("_", " ")
        parts.append((title, not cuts, lines[: cuts[0][0]] if cuts else lines))
        if not cuts:
            document.notices.append("no headings: the whole document is one chapter")
    for k, (_start, end, title) in enumerate(cuts):
        stop = cuts[k + 1][0] if k + 1 < len(cuts) else len(lines)
        parts.append((title, True, lines[end:stop]))
    for title, numbered, part_lines in parts:
        markdown = "\n".join(part_lines).strip() + "\n"
        images: list[tuple[str, bytes]] = []

        def picture(m: re.Match[str], images: list[tuple[str, bytes]] = images, title: str = title) -> str:
            target = m[2].strip().split(" ")[0].strip("<>")
            if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith(("/", "#")):
                return m[0]
            local = (path.parent / target).resolve()
            if not local.is_file() or not local.is_relative_to(path.parent.resolve()):
                document.notices.append(f'chapter "{title}": the picture {target} was not found beside '
                                        f"{path.name}: not carried over")
                return m[0]
            usable = _image_file(local.read_bytes(), local.suffix.lower())
            if usable is None:
                document.notices.append(f'chapter "{title}": {target} is not a picture the handbook prints')
                return m[0]
            name = f"figure-{len(images) + 1}{usable[1]}"
            images.append((name, usable[0]))
            return f"![{m[1]}](\ue004{name})"

        markdown = re.sub(r"!\[([^\]]*)\]\(([^)]+)\)", picture, markdown)
        plain = re.sub(r"[*_`#\[\]]", "", title).strip()
        document.chapters.append(ImportedChapter(title=plain, short_title=short_title(plain), numbered=numbered,
                                                 markdown=markdown if markdown.strip() else "", images=images))
    return document


def read_document(path: Path, split_level: int = 1, encoding: str | None = None) -> ImportedDocument:
    """Read one document into chapters (nothing is written)."""
    if not path.is_file():
        raise HandbookError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in WORD_SUFFIXES:
        return read_word_file(path, split_level)
    if suffix in HTML_SUFFIXES:
        return read_html_file(path, split_level, encoding)
    if suffix in TEXT_SUFFIXES:
        return read_text_file(path, split_level, encoding)
    if suffix in MARKDOWN_SUFFIXES:
        return read_markdown_file(path, split_level, encoding)
    raise HandbookError(f"{path}: cannot import {suffix or 'files without a suffix'}; "
                        f"import reads {', '.join(sorted(SUFFIXES))}")


# -- chapter numbers -------------------------------------------------------------------------------------

_TYPED_NUMBER = re.compile(rf"^\s*(?:第([{CN_NUMERAL}]+)章|([{CN_NUMERAL}]+)、)\s*(.*)$", re.S)


def chapter_number_style(document: ImportedDocument) -> str | None:
    """The handbook's ``chapter_numbers`` that prints the numbers the document's chapters had ("第一章",
    "一、"), taking a typed number off each title; None when the chapters are not numbered 1, 2, 3...
    in one of those styles (Word's own numbering of the headings, or typed at their start)."""
    from .word import chinese_number

    numbered = [c for c in document.chapters if c.numbered]
    if not numbered:
        return None
    labels = document.chapter_labels
    if len(labels) == len(numbered):
        for style, form in (("第一章", "第{}章"), ("一、", "{}、")):
            if labels == [form.format(chinese_number(k)) for k in range(1, len(labels) + 1)]:
                return style
        return None
    typed = [_TYPED_NUMBER.match(c.title) for c in numbered]
    if not all(typed) or any(not m[3].strip() for m in typed if m):
        return None
    found = [m for m in typed if m]
    for group, style in ((1, "第一章"), (2, "一、")):
        if [m[group] for m in found] == [chinese_number(k) for k in range(1, len(found) + 1)]:
            for chapter, m in zip(numbered, found, strict=True):
                chapter.title = m[3].strip()
                chapter.short_title = short_title(chapter.title)
            return style
    return None


# -- writing -------------------------------------------------------------------------------------------

def target_folder(root: Path, department: str | None) -> Path:
    if department is None:
        return root / "content"
    folder = root / "departments" / department
    if not (folder / "department.yaml").is_file():
        raise HandbookError(f"no department '{department}' (departments/{department}/department.yaml does not "
                            f"exist); create it with: handbook new-department {department} --name \"...\"")
    return folder / "content"


def _chapter_names(folder: Path) -> list[tuple[int, str, Path]]:
    """(number, name after the number, path) of the chapter files of a folder."""
    found = []
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            parts = chapter_name(path.name) if path.is_file() else None
            if parts is not None:
                found.append((parts[0], slug(parts[2]) if parts[2] else "", path))
    return found


def _existing(folder: Path) -> dict[str, Path]:
    """The chapter files of a folder by the part of their name after the number."""
    found: dict[str, Path] = {}
    for _, name, path in _chapter_names(folder):
        found.setdefault(name, path)
    return found


def _last_number(folders: Iterable[Path]) -> int:
    return max((number for folder in folders for number, _, _ in _chapter_names(folder)), default=0)


def chapter_text(chapter: ImportedChapter) -> str:
    front: dict[str, Any] = {"title": chapter.title, "short_title": chapter.short_title}  # the running head
    if not chapter.numbered:
        front["numbered"] = False
    header = yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=1000)
    return f"---\n{header}---\n\n{chapter.markdown}" if chapter.markdown else f"---\n{header}---\n"


def import_files(root: Path, files: list[Path], *, department: str | None = None, split_level: int = 1,
                 force: bool = False, encoding: str | None = None) -> ImportReport:
    """Import ``files`` into the project at ``root``: read them all, then write what may be written."""
    if split_level not in (1, 2):
        raise HandbookError(f"--split-level {split_level}: chapters start at level-1 or level-2 headings")
    root = root.resolve()
    folder = target_folder(root, department)
    if not folder.resolve().is_relative_to(root) and folder.exists():
        raise HandbookError(f"{display_path(folder, root)} points outside the project; chapters are written "
                            "only inside it")
    documents = [read_document(path, split_level, encoding) for path in files]
    return write_chapters(root, documents, department=department, force=force)


def write_chapters(root: Path, documents: list[ImportedDocument], *, department: str | None = None,
                   force: bool = False) -> ImportReport:
    """Write the chapters of documents already read: numbered after the last, never over a file unless ``force``."""
    root = root.resolve()
    folder = target_folder(root, department)
    if not folder.resolve().is_relative_to(root) and folder.exists():
        raise HandbookError(f"{display_path(folder, root)} points outside the project; chapters are written "
                            "only inside it")
    report = ImportReport(documents=documents)
    existing = _existing(folder)
    number = _last_number([root / "content", folder])
    taken: set[str] = set()
    plans: list[tuple[Path, ImportedChapter]] = []
    for document in documents:
        report.notices += [f"{document.source.name}: {n}" for n in document.notices]
        if not document.chapters:
            report.notices.append(f"{document.source.name}: no text to import")
        for chapter in document.chapters:
            base = slug(chapter.title)
            name, k = base, 1
            while name in taken:
                k += 1
                name = f"{base[: SLUG_LENGTH - 3]}-{k}"
            taken.add(name)
            if name in existing:
                path = existing[name]
            elif number == 0 and not chapter.numbered:
                path = folder / f"00-{name}.md"  # an introduction opens a new project, as in the starter
            else:
                number += 1
                path = folder / f"{number:02d}-{name}.md"
            plans.append((path, chapter))
    for path, chapter in plans:
        _write_chapter(path, chapter, root, force, report)
    return report


def _inside(path: Path, root: Path) -> bool:
    return path.resolve().is_relative_to(root)


def _write_chapter(path: Path, chapter: ImportedChapter, root: Path, force: bool, report: ImportReport) -> None:
    images_folder = path.with_suffix("")
    text = chapter_text(chapter).replace("\ue004", f"{images_folder.name}/")
    files: list[tuple[Path, bytes]] = [(path, text.encode("utf-8"))]
    files += [(images_folder / name, data) for name, data in chapter.images]
    for target, _ in files:
        if not _inside(target.parent if not target.exists() else target, root) and target.parent.exists():
            raise HandbookError(f"{display_path(target, root)} points outside the project; nothing written there")
    if path.exists() and not force:
        if path.read_bytes() == files[0][1]:
            report.unchanged.append(path)
        else:
            report.skipped.append((path, "it exists and differs from the document (edits are kept); "
                                         "--force overwrites it"))
        return
    for target, data in files:
        if target.exists() and not force and target != path:
            if target.read_bytes() != data:
                report.skipped.append((target, "it exists; --force overwrites it"))
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if not _inside(target.parent, root):
            raise HandbookError(f"{display_path(target, root)} points outside the project; nothing written there")
        atomic_write(target, data)
        what = (f'"{chapter.title}"' + ("" if chapter.numbered else " (not numbered)")) if target == path \
            else f'a picture of "{chapter.title}"'
        report.written.append((target, what))
