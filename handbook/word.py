"""Word documents for ``handbook import``: .docx to HTML (mammoth), after a look at the XML (python-docx, lxml).

mammoth turns paragraphs, runs, tables, footnotes, links and images into clean HTML, but it keeps
only whether a list is ordered: the text of Word's own numbering ("一、", "（一）", "a)", "1.1") is
not in the document, it is computed by Word from ``numbering.xml``. So before mammoth reads the
document, the XML is prepared:

- a numbered paragraph whose numbering is a plain Markdown list (bullets, or "1." / "1)") keeps its
  list, and a marker carries the number it starts at; any other numbering becomes literal text at
  the start of the paragraph ("一、", "（二）", "第三条", "1.2");
- a heading's numbering is dropped at the chapter level (the handbook numbers its chapters) and
  written out on the headings below it;
- the text of a text box follows its paragraph as ordinary paragraphs;
- what cannot be carried over — comments, tracked changes (taken as accepted), SmartArt, charts,
  equations, embedded objects, the frame of a text box, Word's own table of contents — is
  reported with the paragraph it came from.
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import HandbookError
from .numerals import roman

log = logging.getLogger(__name__)

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {
    "w": W,
    "mc": "http://schemas.openxmlformats.org/markup-compatibility/2006",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "m": "http://schemas.openxmlformats.org/officeDocument/2006/math",
    "wp": "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing",
    "v": "urn:schemas-microsoft-com:vml",
    "dgm": "http://schemas.openxmlformats.org/drawingml/2006/diagram",
}
DIAGRAM_URI = "http://schemas.openxmlformats.org/drawingml/2006/diagram"
CHART_URI = "http://schemas.openxmlformats.org/drawingml/2006/chart"
START_MARK, END_MARK = "\ue000", "\ue001"  # private-use characters around a list's first number
MARKER = re.compile(f"{START_MARK}(\\d+){END_MARK}")
LABEL_MARK, LABEL_END = "\ue005", "\ue006"  # around the number text of an item kept inside a Markdown list
CONVERTED_BY_LIBREOFFICE = {".odt", ".doc", ".wps", ".rtf", ".docm", ".dotx", ".ott"}
LIBREOFFICE_PACKAGE = "libreoffice-writer-nogui"
SOFFICE_SECONDS = 180
FULL_WIDTH_CLOSERS = "、，．。：；）】」』〕"  # a number ending in one of these needs no space: "一、", "（一）"


def w(tag: str) -> str:
    return f"{{{W}}}{tag}"


@dataclass
class WordImage:
    """An image of the document, numbered in reading order; ``src`` is its placeholder in the HTML."""

    src: str
    data: bytes
    content_type: str
    alt: str


@dataclass
class WordResult:
    html: str
    title: str = ""
    images: dict[str, WordImage] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    chapter_labels: list[str] = field(default_factory=list)


# -- numbering ----------------------------------------------------------------------------------------

_CN_DIGITS = "零一二三四五六七八九"
_CN_LEGAL = "零壹贰叁肆伍陆柒捌玖"
_CN_UNITS = ("", "十", "百", "千")
_CN_LEGAL_UNITS = ("", "拾", "佰", "仟")
_HEAVENLY = "甲乙丙丁戊己庚辛壬癸"
_EARTHLY = "子丑寅卯辰巳午未申酉戌亥"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


def chinese_number(n: int, legal: bool = False) -> str:
    """1 -> 一, 10 -> 十, 11 -> 十一, 25 -> 二十五, 105 -> 一百零五 (up to 9999; beyond, decimal)."""
    if n <= 0 or n > 9999:
        return str(n)
    digits, units = (_CN_LEGAL, _CN_LEGAL_UNITS) if legal else (_CN_DIGITS, _CN_UNITS)
    parts: list[str] = []
    zero = False
    for power in range(3, -1, -1):
        d = n // 10 ** power % 10
        if d == 0:
            zero = bool(parts)
            continue
        if zero:
            parts.append(digits[0])
            zero = False
        parts.append(digits[d] + units[power])
    text = "".join(parts)
    if not legal and 10 <= n < 20:
        text = text[1:]  # 十一, not 一十一
    return text


def _letters(n: int) -> str:
    if n <= 0:
        return str(n)
    return chr(ord("A") + (n - 1) % 26) * ((n - 1) // 26 + 1)  # Word: A..Z, AA..ZZ


def format_number(n: int, fmt: str) -> str:
    """A counter in one of Word's number formats (``w:numFmt``)."""
    if fmt in ("chineseCounting", "chineseCountingThousand", "japaneseCounting", "taiwaneseCounting",
               "taiwaneseCountingThousand", "ideographDigital", "japaneseDigitalTenThousand"):
        return chinese_number(n)
    if fmt in ("chineseLegalSimplified", "ideographLegalTraditional", "japaneseLegal"):
        return chinese_number(n, legal=True)
    formats: dict[str, Callable[[int], str]] = {
        "decimal": str,
        "decimalZero": lambda k: f"{k:02d}",
        "upperRoman": roman,
        "lowerRoman": lambda k: roman(k).lower(),
        "upperLetter": _letters,
        "lowerLetter": lambda k: _letters(k).lower(),
        "ideographTraditional": lambda k: _HEAVENLY[(k - 1) % 10] if k > 0 else str(k),
        "ideographZodiac": lambda k: _EARTHLY[(k - 1) % 12] if k > 0 else str(k),
        "decimalEnclosedCircle": lambda k: _CIRCLED[k - 1] if 0 < k <= len(_CIRCLED) else f"({k})",
        "decimalEnclosedCircleChinese": lambda k: _CIRCLED[k - 1] if 0 < k <= len(_CIRCLED) else f"({k})",
        "decimalEnclosedParen": lambda k: f"({k})",
        "decimalFullWidth": lambda k: "".join(chr(0xFF10 + int(c)) for c in str(k)),
        "decimalHalfWidth": str,
        "none": lambda k: "",
    }
    return formats.get(fmt, str)(n)


@dataclass
class Level:
    start: int = 1
    fmt: str = "decimal"
    text: str = "%1."
    suffix: str = "tab"
    legal: bool = False


class Numbering:
    """Word's list numbering: the text Word would show before each numbered paragraph."""

    def __init__(self, numbering_xml: Any | None, numbering_styles: dict[str, str] | None = None) -> None:
        """``numbering_styles``: a numbering style's id -> its numId (for lists defined by a list style)."""
        self.abstract: dict[str, dict[int, Level]] = {}
        links: dict[str, str] = {}  # abstractNumId -> the numbering style it takes its levels from
        self.shared: dict[str, str] = {}
        self.nums: dict[str, tuple[str, dict[int, int]]] = {}  # numId -> (abstractNumId, start overrides)
        self.counters: dict[str, dict[int, int]] = {}
        self.started: set[str] = set()
        if numbering_xml is None:
            return
        for abstract in numbering_xml.findall(w("abstractNum")):
            levels: dict[int, Level] = {}
            for lvl in abstract.findall(w("lvl")):
                level = Level()
                for name, attr in (("start", "start"), ("numFmt", "fmt"), ("lvlText", "text"), ("suff", "suffix")):
                    el = lvl.find(w(name))
                    if el is not None and el.get(w("val")) is not None:
                        value: Any = el.get(w("val"))
                        setattr(level, attr, int(value) if attr == "start" and value.lstrip("-").isdigit()
                                else (1 if attr == "start" else value))
                level.legal = lvl.find(w("isLgl")) is not None
                levels[int(lvl.get(w("ilvl"), "0"))] = level
            self.abstract[abstract.get(w("abstractNumId"), "")] = levels
            link = abstract.find(w("numStyleLink"))
            if link is not None and link.get(w("val")):
                links[abstract.get(w("abstractNumId"), "")] = link.get(w("val"), "")
        for num in numbering_xml.findall(w("num")):
            ref = num.find(w("abstractNumId"))
            overrides: dict[int, int] = {}
            for override in num.findall(w("lvlOverride")):
                start = override.find(w("startOverride"))
                if start is not None and (start.get(w("val")) or "").isdigit():
                    overrides[int(override.get(w("ilvl"), "0"))] = int(start.get(w("val")) or "1")
            if ref is not None:
                self.nums[num.get(w("numId"), "")] = (ref.get(w("val"), ""), overrides)
        for abstract_id, style in links.items():  # Word's list styles: the levels live with the style's list
            target = self.nums.get((numbering_styles or {}).get(style, ""))
            if target and not self.abstract.get(abstract_id) and target[0] in self.abstract:
                self.abstract[abstract_id] = self.abstract[target[0]]
                self.shared[abstract_id] = target[0]  # one list: they count together

    def level(self, num_id: str, ilvl: int) -> Level | None:
        found = self.nums.get(num_id)
        return self.abstract.get(found[0], {}).get(ilvl) if found else None

    def next_label(self, num_id: str, ilvl: int) -> tuple[str, int, Level] | None:
        """Count one paragraph of list ``num_id`` at level ``ilvl``: (label text, its number, the level)."""
        found = self.nums.get(num_id)
        if not found:
            return None
        abstract_id, overrides = found
        levels = self.abstract.get(abstract_id, {})
        if ilvl not in levels:
            return None
        counters = self.counters.setdefault(self.shared.get(abstract_id, abstract_id), {})
        if num_id not in self.started:  # a list instance with its own start numbers
            self.started.add(num_id)
            for lvl_index, start in overrides.items():
                counters[lvl_index] = start - 1
        counters[ilvl] = counters.get(ilvl, levels[ilvl].start - 1) + 1
        for deeper in [k for k in counters if k > ilvl]:
            del counters[deeper]
        level = levels[ilvl]

        def number(m: re.Match[str]) -> str:
            k = int(m[1]) - 1
            value = counters.get(k, levels.get(k, Level()).start)
            fmt = "decimal" if level.legal else levels.get(k, Level()).fmt
            return format_number(value, fmt)

        return re.sub(r"%(\d)", number, level.text), counters[ilvl], level


def is_markdown_list(level: Level, ilvl: int) -> bool:
    """A level Markdown can say as it is: bullets, or a plain "1." / "1)" counter of its own level."""
    return level.fmt == "bullet" or (level.fmt == "decimal" and level.text in (f"%{ilvl + 1}.", f"%{ilvl + 1})"))


# -- reading the document ----------------------------------------------------------------------------

def _text(el: Any) -> str:
    """The text a reader sees in ``el``: not deleted text, not the text of its text boxes."""
    return "".join(t.text or "" for t in el.iter(w("t"))
                   if not any(a.tag == w("txbxContent") for a in t.iterancestors()))


def _snippet(text: str, width: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


@dataclass
class StyleInfo:
    name: str
    based_on: str | None
    outline: int | None  # 0-based outline level
    num: tuple[str, int] | None  # numId, ilvl


def _style_elements(doc: Any, kind: str) -> list[Any]:
    """The <w:style> elements of one type ("paragraph", "numbering") in styles.xml."""
    try:
        root = doc.styles.element
    except Exception:  # a document without styles.xml
        return []
    return [style for style in root.findall(w("style")) if style.get(w("type")) == kind]


def _styles(doc: Any) -> dict[str, StyleInfo]:
    found: dict[str, StyleInfo] = {}
    for style in _style_elements(doc, "paragraph"):
        name_el, based_el = style.find(w("name")), style.find(w("basedOn"))
        ppr = style.find(w("pPr"))
        outline = num = None
        if ppr is not None:
            ol = ppr.find(w("outlineLvl"))
            if ol is not None and (ol.get(w("val")) or "").isdigit():
                outline = int(ol.get(w("val")) or "9")
            numpr = ppr.find(w("numPr"))
            if numpr is not None and numpr.find(w("numId")) is not None:
                ilvl = numpr.find(w("ilvl"))
                num = (numpr.find(w("numId")).get(w("val"), "0"),
                       int(ilvl.get(w("val"), "0")) if ilvl is not None else 0)
        found[style.get(w("styleId"), "")] = StyleInfo(
            name=name_el.get(w("val"), "") if name_el is not None else "",
            based_on=based_el.get(w("val")) if based_el is not None else None, outline=outline, num=num)
    return found


def _numbering_styles(doc: Any) -> dict[str, str]:
    """Numbering styles (Word's list styles): style id -> the numId in their paragraph properties."""
    found: dict[str, str] = {}
    for style in _style_elements(doc, "numbering"):
        num = style.find(f"{w('pPr')}/{w('numPr')}/{w('numId')}")
        if num is not None:
            found[style.get(w("styleId"), "")] = num.get(w("val"), "")
    return found


def _heading_level(style_id: str | None, styles: dict[str, StyleInfo], direct: int | None) -> int | None:
    """1-based heading level of a paragraph: its own outline level, its style's name or outline level."""
    if direct is not None:
        return direct + 1 if direct < 6 else None
    seen: set[str] = set()
    while style_id and style_id in styles and style_id not in seen:
        seen.add(style_id)
        info = styles[style_id]
        m = re.fullmatch(r"(?i)heading\s*([1-6])|标题\s*([1-6])", info.name.strip())
        if m:
            return int(m[1] or m[2])
        if info.outline is not None:
            return info.outline + 1 if info.outline < 6 else None
        style_id = info.based_on
    return None


def _style_numbering(style_id: str | None, styles: dict[str, StyleInfo]) -> tuple[str, int] | None:
    seen: set[str] = set()
    while style_id and style_id in styles and style_id not in seen:
        seen.add(style_id)
        if styles[style_id].num is not None:
            return styles[style_id].num
        style_id = styles[style_id].based_on
    return None


def _set_numbering(ppr: Any, num_id: str, ilvl: int) -> None:
    from lxml import etree

    numpr = ppr.find(w("numPr"))
    if numpr is None:
        numpr = etree.SubElement(ppr, w("numPr"))
        ppr.remove(numpr)
        # numPr comes after pStyle, keepNext, keepLines, pageBreakBefore, framePr, widowControl in the schema
        anchor = None
        for tag in ("pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl"):
            found = ppr.find(w(tag))
            if found is not None:
                anchor = found
        if anchor is not None:
            anchor.addnext(numpr)
        else:
            ppr.insert(0, numpr)
    for child in list(numpr):
        numpr.remove(child)
    etree.SubElement(numpr, w("ilvl")).set(w("val"), str(ilvl))
    etree.SubElement(numpr, w("numId")).set(w("val"), num_id)


def _prepend_text(paragraph: Any, text: str) -> None:
    from lxml import etree

    run = etree.Element(w("r"))
    t = etree.SubElement(run, w("t"))
    t.text = text
    t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    ppr = paragraph.find(w("pPr"))
    if ppr is not None:
        ppr.addnext(run)
    else:
        paragraph.insert(0, run)


class _Prepared:
    """The document's XML, prepared for mammoth; what could not be carried over, by paragraph."""

    def __init__(self, doc: Any, split_level: int) -> None:
        self.doc = doc
        self.body = doc.element.body
        self.styles = _styles(doc)
        self.notices: list[str] = []
        self.chapter_labels: list[str] = []  # the numbers Word showed before the chapter headings
        self.split_level = split_level
        numbering_xml = None
        with contextlib.suppress(NotImplementedError, KeyError, AttributeError):  # no numbering part
            numbering_xml = doc.part.numbering_part.element
        self.numbering = Numbering(numbering_xml, _numbering_styles(doc))
        self.paragraphs = [p for p in self.body.iter(w("p")) if not self._in_textbox(p)]
        self.index = {id(p): i + 1 for i, p in enumerate(self.paragraphs)}

    @staticmethod
    def _in_textbox(el: Any) -> bool:
        return any(a.tag == w("txbxContent") for a in el.iterancestors())

    def where(self, el: Any) -> str:
        """'paragraph 12 ("The first words…")' for the body paragraph holding ``el``."""
        p = el if el.tag == w("p") and not self._in_textbox(el) else None
        if p is None:
            for a in el.iterancestors():
                if a.tag == w("p") and not self._in_textbox(a):
                    p = a
                    break
        if p is None:
            return "the document"
        return f'paragraph {self.index.get(id(p), "?")} ("{_snippet(_text(p))}")'

    def note(self, el: Any, message: str) -> None:
        self.notices.append(f"{self.where(el)}: {message}")

    # each step ------------------------------------------------------------------------------------

    def run(self) -> None:
        self.comments()
        self.tracked_changes()
        self.unsupported()
        self.text_boxes()
        self.numbered_paragraphs()

    def comments(self) -> None:
        texts: dict[str, tuple[str, str]] = {}
        try:
            for comment in self.doc.comments:
                texts[str(comment.comment_id)] = (comment.author or "someone", comment.text)
        except Exception:  # no comments part, or one python-docx cannot read
            pass
        for start in self.body.iter(w("commentReference")):
            author, text = texts.get(start.get(w("id"), ""), ("someone", ""))
            self.note(start, f'a comment by {author} ("{_snippet(text, 60)}") was not carried over')

    def tracked_changes(self) -> None:
        seen: dict[int, list[str]] = {}
        anchors: dict[int, Any] = {}
        for tag, kind in (("ins", "insertion"), ("del", "deletion"), ("moveFrom", "move"), ("moveTo", "move")):
            for el in self.body.iter(w(tag)):
                if el.getparent() is not None and el.getparent().tag == w("rPr"):
                    continue  # a paragraph mark's change: counted with its text
                p = el if el.tag == w("p") else next((a for a in el.iterancestors(w("p"))), el)
                seen.setdefault(id(p), []).append(kind)
                anchors[id(p)] = p
        for key, kinds in seen.items():
            counted = ", ".join(f"{kinds.count(k)} {k}{'s' if kinds.count(k) > 1 else ''}"
                                for k in dict.fromkeys(kinds))
            self.note(anchors[key], f"tracked changes ({counted}) were taken as accepted; "
                                    "accept or reject them in Word and import again to be sure")

    def unsupported(self) -> None:
        for data in self.body.iter(f"{{{NS['a']}}}graphicData"):
            uri = data.get("uri", "")
            if uri == DIAGRAM_URI:
                text = self._diagram_text(data)
                self.note(data, "SmartArt was not carried over" + (f' (its text: "{_snippet(text, 80)}")'
                                                                    if text else ""))
            elif uri == CHART_URI:
                self.note(data, "a chart was not carried over (paste it into Word as a picture and import again)")
        for el in self.body.iter(w("object")):
            self.note(el, "an embedded object was not carried over")
        for el in self.body.iter(f"{{{NS['m']}}}oMath"):
            if el.getparent() is not None and el.getparent().tag == f"{{{NS['m']}}}oMathPara":
                continue
            self.note(el, "an equation was not carried over")
        for el in self.body.iter(f"{{{NS['m']}}}oMathPara"):
            self.note(el, "an equation was not carried over")
        toc = [p for p in self.paragraphs if self._style_name(p).lower().startswith("toc ")]
        if toc:
            self.notices.append(f"{self.where(toc[0])}: Word's table of contents ({len(toc)} lines) was left out; "
                                "the handbook makes its own")

    def _diagram_text(self, data: Any) -> str:
        rel = data.find("dgm:relIds", NS)
        if rel is None:
            return ""
        try:
            part = self.doc.part.related_parts[rel.get(f"{{{NS['r']}}}dm")]
            from lxml import etree

            root = etree.fromstring(part.blob)
            return " / ".join(t.text for t in root.iter(f"{{{NS['a']}}}t") if t.text)
        except Exception:  # the text is a courtesy in the report only
            return ""

    def _style_name(self, p: Any) -> str:
        style = p.find(f"{w('pPr')}/{w('pStyle')}")
        sid = style.get(w("val")) if style is not None else None
        return self.styles[sid].name if sid in self.styles else ""

    def text_boxes(self) -> None:
        """The text of each text box follows its paragraph; the box itself goes."""
        boxes: list[Any] = []
        for content in self.body.iter(w("txbxContent")):
            holder = None
            for a in content.iterancestors():
                if a.tag in (f"{{{NS['mc']}}}AlternateContent", w("pict")):
                    holder = a  # the outermost such element is kept
                if a.tag == w("r"):
                    break
            holder = holder if holder is not None else content
            if not any(holder is b for b in boxes):
                boxes.append(holder)
        for holder in boxes:
            if self._in_textbox(holder):
                continue  # a box inside a box goes with the outer one
            paragraph = next(holder.iterancestors(w("p")), None)
            content = next(holder.iter(w("txbxContent")), None)
            if paragraph is None or content is None:
                continue
            text = "".join(t.text or "" for t in content.iter(w("t")))
            self.note(paragraph, f'a text box ("{_snippet(text, 60)}"): its text follows the paragraph as '
                                 "ordinary paragraphs; its frame and position were not carried over")
            anchor = paragraph
            for child in content:
                if child.tag in (w("p"), w("tbl")):
                    moved = copy.deepcopy(child)
                    anchor.addnext(moved)
                    anchor = moved
            parent = holder.getparent()
            if parent is not None:
                parent.remove(holder)

    def numbered_paragraphs(self) -> None:
        for p in list(self.body.iter(w("p"))):
            ppr = p.find(w("pPr"))
            style_el = ppr.find(w("pStyle")) if ppr is not None else None
            style_id = style_el.get(w("val")) if style_el is not None else None
            numpr = ppr.find(w("numPr")) if ppr is not None else None
            num: tuple[str, int] | None = None
            if numpr is not None and numpr.find(w("numId")) is not None:
                ilvl_el = numpr.find(w("ilvl"))
                num = (numpr.find(w("numId")).get(w("val"), "0"),
                       int(ilvl_el.get(w("val"), "0")) if ilvl_el is not None else 0)
            else:
                num = _style_numbering(style_id, self.styles)
            if num is None or num[0] == "0":
                continue
            counted = self.numbering.next_label(*num)
            if counted is None:
                continue
            label, value, level = counted
            outline = ppr.find(w("outlineLvl")) if ppr is not None else None
            direct = int(outline.get(w("val"), "9")) if outline is not None else None
            heading = _heading_level(style_id, self.styles, direct)
            if ppr is None:
                from lxml import etree

                ppr = etree.Element(w("pPr"))
                p.insert(0, ppr)
            if heading is None and is_markdown_list(level, num[1]):
                _prepend_text(p, f"{START_MARK}{value}{END_MARK}")  # the list keeps its numbers
                continue
            top = self.numbering.level(num[0], 0)
            if heading is None and num[1] > 0 and top is not None and is_markdown_list(top, 0) and label:
                # "a)" under "1.": it stays in its item (a paragraph of it), with its number as text
                space = "" if level.suffix == "nothing" or label[-1] in FULL_WIDTH_CLOSERS else " "
                _prepend_text(p, f"{LABEL_MARK}{label}{space}{LABEL_END}")
                continue
            _set_numbering(ppr, "0", 0)  # no list: the number is text now (or, for a chapter, dropped)
            if heading is not None and heading <= self.split_level:
                self.chapter_labels.append(label)  # the handbook prints chapter numbers itself
                continue
            if level.fmt == "bullet" or not label:
                continue
            space = "" if level.suffix == "nothing" or label[-1] in FULL_WIDTH_CLOSERS else " "
            _prepend_text(p, label + space)

    def heading_style_map(self) -> list[str]:
        """mammoth style-map lines for every paragraph style that is a heading (by name or outline level)."""
        lines = ["p[style-name='Title'] => p.doc-title:fresh",
                 "p[style-name='Subtitle'] => p.doc-subtitle:fresh",
                 "p[style-name='Quote'] => blockquote > p:fresh",
                 "p[style-name='Intense Quote'] => blockquote > p:fresh"]
        for sid, info in self.styles.items():
            if not info.name or "'" in info.name:
                continue
            if info.name.lower().startswith("toc "):
                lines.append(f"p[style-name='{info.name}'] => !")
                continue
            level = _heading_level(sid, self.styles, None)
            if level is not None:
                lines.append(f"p[style-name='{info.name}'] => h{level}:fresh")
        return lines


def _page_furniture(doc: Any) -> list[str]:
    """Text in the page headers and footers: not carried over (the handbook prints its own)."""
    found: list[str] = []
    for section in doc.sections:
        for kind in ("header", "footer", "first_page_header", "first_page_footer", "even_page_header",
                     "even_page_footer"):
            try:
                part = getattr(section, kind)
                if part.is_linked_to_previous:
                    continue
                text = _snippet(" ".join(p.text for p in part.paragraphs), 60)
            except Exception:  # a header python-docx cannot read: nothing to say about it
                continue
            label = kind.replace("_", " ")
            if text and f'"{text}"' not in " ".join(found):
                found.append(f'the page {label}\'s text ("{text}") was not carried over (the handbook prints its '
                             "own running heads and page numbers)")
    return found


# -- converting --------------------------------------------------------------------------------------

def to_docx(path: Path, workdir: Path) -> Path:
    """A .docx made by LibreOffice (headless) from .odt, .doc, .wps, .rtf."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise HandbookError(f"{path}: LibreOffice is needed to read {path.suffix} files and is not installed "
                            f"(Debian: apt-get install {LIBREOFFICE_PACKAGE}); or save the document as .docx "
                            "in your word processor and import that")
    profile = workdir / "lo-profile"
    command = [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
               "--convert-to", "docx:MS Word 2007 XML", "--outdir", str(workdir), str(path.resolve())]
    log.debug("running %s", command)
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=SOFFICE_SECONDS,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise HandbookError(f"{path}: LibreOffice did not convert it within {SOFFICE_SECONDS} s") from exc
    result = workdir / (path.stem + ".docx")
    if done.returncode != 0 or not result.is_file():
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise HandbookError(f"{path}: LibreOffice could not convert it to .docx"
                            + (f" ({detail[-1]})" if detail else "") + "; is it a word-processor document?")
    return result


def read_word(path: Path, split_level: int) -> WordResult:
    """The HTML of a word-processor document, its images, its title and what was not carried over."""
    suffix = path.suffix.lower()
    if suffix in CONVERTED_BY_LIBREOFFICE:
        with tempfile.TemporaryDirectory(prefix="handbook-import-") as tmp:
            return _read_docx(to_docx(path, Path(tmp)), split_level, shown=path)
    return _read_docx(path, split_level, shown=path)


def _read_docx(path: Path, split_level: int, shown: Path) -> WordResult:
    import docx
    import mammoth
    from docx.opc.exceptions import PackageNotFoundError

    try:
        doc = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        raise HandbookError(f"{shown}: not a Word document that can be read ({exc})") from exc
    except Exception as exc:  # zipfile.BadZipFile, lxml syntax errors: a broken file, named
        raise HandbookError(f"{shown}: not a Word document that can be read ({type(exc).__name__}: {exc})") from exc
    prepared = _Prepared(doc, split_level)
    prepared.run()
    buffer = io.BytesIO()
    doc.save(buffer)
    buffer.seek(0)

    result = WordResult(html="", title=(doc.core_properties.title or "").strip())  # unless Word's Title style says
    counter = [0]

    def image(img: Any) -> dict[str, str]:
        counter[0] += 1
        with img.open() as stream:
            data = stream.read()
        src = f"word-image-{counter[0]}"
        result.images[src] = WordImage(src, data, img.content_type or "", (img.alt_text or "").strip())
        return {"src": src}

    converted = mammoth.convert_to_html(buffer, style_map="\n".join(prepared.heading_style_map()),
                                        convert_image=mammoth.images.img_element(image),
                                        include_default_style_map=True)
    lost = []
    for message in converted.messages:
        log.debug("mammoth: %s", message.message)
        if message.type == "warning" and ("ignored" in message.message or message.message.startswith("Could not")):
            lost.append(f"{message.message.rstrip('.')} (not carried over)")
    result.html = converted.value
    result.notices = prepared.notices + _page_furniture(doc) + list(dict.fromkeys(lost))
    result.chapter_labels = prepared.chapter_labels
    return result
