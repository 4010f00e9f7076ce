"""Real word-processor documents, made in the test run: python-docx writes them, LibreOffice converts them.

python-docx has no call for Word's numbering definitions, footnotes or hyperlinks: those parts are
written through its XML API, as Word itself would store them.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

from docx import Document
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import parse_xml
from docx.shared import Mm
from lxml import etree
from PIL import Image, ImageDraw

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NSDECL = f'xmlns:w="{W}" xmlns:r="{R}"'
FOOTNOTES_CT = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"


def qn(tag: str) -> str:
    return f"{{{W}}}{tag}"


def png(width: int, height: int, colour: tuple[int, int, int], label: str = "") -> bytes:
    """A PNG picture: a coloured field with a dark band (so it is recognisable in a page picture)."""
    picture = Image.new("RGB", (width, height), colour)
    draw = ImageDraw.Draw(picture)
    draw.rectangle([0, height // 3, width, height // 3 + height // 6], fill=(20, 20, 60))
    if label:
        draw.text((8, 8), label, fill=(255, 255, 255))
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


class WordDocument:
    """A python-docx Document with the parts python-docx cannot write: numbering, footnotes, links."""

    def __init__(self) -> None:
        self.doc = Document()
        self.footnotes: Any = None
        self._next_footnote = 1
        self._next_num = 90

    # numbering ---------------------------------------------------------------------------------------
    def numbering(self, *levels: tuple[str, str], start: int = 1) -> str:
        """A new list definition: ``(numFmt, lvlText)`` per level; returns its numId."""
        numbering = self.doc.part.numbering_part.element
        num_id = str(self._next_num)
        self._next_num += 1
        lvls = "".join(
            f'<w:lvl w:ilvl="{i}"><w:start w:val="{start}"/><w:numFmt w:val="{fmt}"/>'
            f'<w:lvlText w:val="{text}"/><w:lvlJc w:val="left"/>'
            f'<w:pPr><w:ind w:left="{420 * (i + 1)}" w:hanging="420"/></w:pPr></w:lvl>'
            for i, (fmt, text) in enumerate(levels))
        abstract = parse_xml(f'<w:abstractNum {NSDECL} w:abstractNumId="{num_id}">'
                             f'<w:multiLevelType w:val="hybridMultilevel"/>{lvls}</w:abstractNum>')
        first_num = numbering.find(qn("num"))
        if first_num is not None:
            first_num.addprevious(abstract)
        else:
            numbering.append(abstract)
        numbering.append(parse_xml(f'<w:num {NSDECL} w:numId="{num_id}"><w:abstractNumId w:val="{num_id}"/></w:num>'))
        return num_id

    def numbered(self, text: str, num_id: str, level: int = 0, style: str | None = None) -> Any:
        paragraph = self.doc.add_paragraph(text, style=style)
        ppr = paragraph._p.get_or_add_pPr()
        numpr = parse_xml(f'<w:numPr {NSDECL}><w:ilvl w:val="{level}"/><w:numId w:val="{num_id}"/></w:numPr>')
        style_el = ppr.find(qn("pStyle"))
        if style_el is not None:
            style_el.addnext(numpr)
        else:
            ppr.insert(0, numpr)
        return paragraph

    # footnotes ---------------------------------------------------------------------------------------
    def footnote(self, paragraph: Any, text: str) -> None:
        """A footnote at the end of ``paragraph``, in a real footnotes part."""
        if self.footnotes is None:
            xml = (f'<w:footnotes {NSDECL}>'
                   '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
                   '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/>'
                   '</w:r></w:p></w:footnote></w:footnotes>')
            part = Part(PackURI("/word/footnotes.xml"), FOOTNOTES_CT, xml.encode(), self.doc.part.package)
            self.doc.part.relate_to(part, RT.FOOTNOTES)
            self.footnotes = part
        number = self._next_footnote
        self._next_footnote += 1
        root = etree.fromstring(self.footnotes.blob)
        root.append(etree.fromstring(
            f'<w:footnote {NSDECL} w:id="{number}"><w:p><w:pPr><w:pStyle w:val="FootnoteText"/></w:pPr>'
            f'<w:r><w:rPr><w:vertAlign w:val="superscript"/></w:rPr><w:footnoteRef/></w:r>'
            f'<w:r><w:t xml:space="preserve"> {text}</w:t></w:r></w:p></w:footnote>'))
        self.footnotes._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
        paragraph._p.append(parse_xml(
            f'<w:r {NSDECL}><w:rPr><w:vertAlign w:val="superscript"/></w:rPr>'
            f'<w:footnoteReference w:id="{number}"/></w:r>'))

    # links, pictures, boxes --------------------------------------------------------------------------
    def link(self, paragraph: Any, text: str, url: str) -> None:
        rid = self.doc.part.relate_to(url, RT.HYPERLINK, is_external=True)
        paragraph._p.append(parse_xml(
            f'<w:hyperlink {NSDECL} r:id="{rid}"><w:r><w:rPr><w:u w:val="single"/></w:rPr>'
            f'<w:t xml:space="preserve">{text}</w:t></w:r></w:hyperlink>'))

    def picture(self, data: bytes, alt: str, width_mm: float = 60) -> Any:
        self.doc.add_picture(io.BytesIO(data), width=Mm(width_mm))
        paragraph = self.doc.paragraphs[-1]
        for doc_pr in paragraph._p.iter("{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}docPr"):
            doc_pr.set("descr", alt)
        return paragraph

    def text_box(self, paragraph: Any, text: str) -> None:
        """A legacy (VML) text box anchored in ``paragraph``, as Word 2003 and WPS write them."""
        paragraph._p.append(parse_xml(
            f'<w:r {NSDECL} xmlns:v="urn:schemas-microsoft-com:vml"><w:pict>'
            '<v:shape id="box1" type="#_x0000_t202" style="width:120pt;height:40pt">'
            f'<v:textbox><w:txbxContent><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:txbxContent>'
            '</v:textbox></v:shape></w:pict></w:r>'))

    def smartart(self, paragraph: Any, texts: list[str]) -> None:
        """A SmartArt diagram in ``paragraph``: its drawing and its data part with ``texts``, as Word stores them."""
        a = "http://schemas.openxmlformats.org/drawingml/2006/main"
        dgm = "http://schemas.openxmlformats.org/drawingml/2006/diagram"
        points = "".join(f'<dgm:pt modelId="{i + 1}"><dgm:t><a:bodyPr/><a:p><a:r><a:t>{t}</a:t></a:r></a:p>'
                         f"</dgm:t></dgm:pt>" for i, t in enumerate(texts))
        data = (f'<dgm:dataModel xmlns:dgm="{dgm}" xmlns:a="{a}"><dgm:ptLst>{points}</dgm:ptLst></dgm:dataModel>')
        part = Part(PackURI("/word/diagrams/data1.xml"),
                    "application/vnd.openxmlformats-officedocument.drawingml.diagramData+xml", data.encode(),
                    self.doc.part.package)
        rid = self.doc.part.relate_to(part, RT.DIAGRAM_DATA)
        paragraph._p.append(parse_xml(
            f'<w:r {NSDECL} xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
            f'xmlns:a="{a}" xmlns:dgm="{dgm}"><w:drawing><wp:inline><wp:extent cx="5486400" cy="3200400"/>'
            '<wp:docPr id="77" name="Diagram 1"/><a:graphic>'
            f'<a:graphicData uri="{dgm}"><dgm:relIds r:dm="{rid}"/></a:graphicData>'
            "</a:graphic></wp:inline></w:drawing></w:r>"))

    def tracked(self, paragraph: Any, inserted: str, deleted: str) -> None:
        paragraph._p.append(parse_xml(
            f'<w:ins {NSDECL} w:id="901" w:author="Editor" w:date="2026-01-01T00:00:00Z">'
            f'<w:r><w:t xml:space="preserve">{inserted}</w:t></w:r></w:ins>'))
        paragraph._p.append(parse_xml(
            f'<w:del {NSDECL} w:id="902" w:author="Editor" w:date="2026-01-01T00:00:00Z">'
            f'<w:r><w:delText xml:space="preserve">{deleted}</w:delText></w:r></w:del>'))

    def save(self, path: Path) -> Path:
        self.doc.save(str(path))
        return path


def libreoffice(source: Path, fmt: str, outdir: Path) -> Path:
    """Convert ``source`` with Debian's LibreOffice (headless): fmt is "odt", "doc", "docx", ..."""
    soffice = shutil.which("soffice")
    assert soffice, "LibreOffice is missing: `make setup` installs libreoffice-writer-nogui"
    outdir.mkdir(parents=True, exist_ok=True)
    profile = outdir / ".lo-profile"
    done = subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                           "--convert-to", fmt, "--outdir", str(outdir), str(source)],
                          capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
    result = outdir / f"{source.stem}.{fmt.split(':')[0]}"
    assert done.returncode == 0 and result.is_file(), done.stderr + done.stdout
    return result


RED_PEN = png(300, 150, (200, 40, 40), "pen")


def handbook_document(path: Path) -> Path:
    """The Word document an office would have: a title, a preface with a footnote, a Chinese chapter with
    Word's own "一、" / "（一）" numbering, and an English chapter with lists, a table, a link, a second
    footnote, a picture, a text box, a comment and tracked changes."""
    d = WordDocument()
    doc = d.doc
    doc.core_properties.title = ""
    doc.add_paragraph("廉洁从业手册", style="Title")
    preface = doc.add_paragraph("本手册写给每一位员工。")
    d.footnote(preface, "依据公司二〇二六年一号文件。")
    doc.add_heading("第一章 总则", level=1)
    p = doc.add_paragraph()
    p.add_run("加粗").bold = True
    p.add_run("与")
    p.add_run("斜体").italic = True
    p.add_run("。")
    chinese = d.numbering(("chineseCounting", "%1、"), ("chineseCounting", "（%2）"))
    d.numbered("总体要求", chinese, 0)
    d.numbered("遵守法律", chinese, 1)
    d.numbered("诚实守信", chinese, 1)
    d.numbered("适用范围", chinese, 0)
    doc.add_heading("Gifts and hospitality", level=1)
    doc.add_paragraph("Refuse gifts from anyone whose interests you could affect.")
    steps = d.numbering(("decimal", "%1."), ("lowerLetter", "%2)"))
    d.numbered("Say no politely", steps, 0)
    d.numbered("Explain the rule", steps, 1)
    d.numbered("Register it", steps, 0)
    doc.add_paragraph("Between the steps.")
    d.numbered("Tell your manager", steps, 0)
    bullets = d.numbering(("bullet", "•"))
    d.numbered("a pen or a calendar", bullets, 0)
    d.numbered("a meal or a ticket", bullets, 0)
    doc.add_heading("What to register", level=2)
    table = doc.add_table(rows=3, cols=2)
    for r, row in enumerate([("Gift", "Value"), ("Pen", "5"), ("Dinner", "80")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    p = doc.add_paragraph("See ")
    d.link(p, "the register", "https://example.org/register")
    d.footnote(p, "Kept by the integrity office.")
    d.picture(RED_PEN, "A red pen")
    p = doc.add_paragraph("Anchor paragraph with a box.")
    d.text_box(p, "Boxed advice")
    p = doc.add_paragraph("Changed text")
    d.tracked(p, " inserted", " removed")
    doc.add_comment(p.runs[0], text="Check this", author="Li")
    return d.save(path)
