"""The structure tree of tagged PDFs (pdf/ua-1, pdf/a-3a): what WeasyPrint's tagging leaves out.

Part of the WeasyPrint boundary, installed by ``pdf.py`` like ``cjk.py``. WeasyPrint 70 names each
structure element after its HTML element (``nav`` and ``aside`` become ``NonStruct``), builds the
elements of running headers and page numbers without linking them into the tree (their text is
then neither content nor an artifact), and tags the dots of a ``leader()`` as text. :func:`install`
wraps the one function that builds the tree (``weasyprint.pdf.tags._build_box_tree``, pinned
``weasyprint>=70,<71``) so that, read from the HTML:

- ``data-pdf-role="TOC"`` (``TOCI``, ``Sect``, ``Note``, ``Lbl``, ``Reference``...) names the
  element's structure type; ``title`` or ``aria-label`` on it becomes its ``/T``;
- ``data-pdf-artifact`` (or ``aria-hidden="true"``, or ``alt=""`` on an image: decorative) makes the
  element's content an artifact: drawn, never read (the leader dots and page numbers of the contents);
- margin boxes (running headers, page numbers) become ``/Artifact /Pagination`` content;
- a ``leader()`` is an artifact wherever it is;
- ``lang`` on an element is its ``/Lang``; ``scope`` on a ``th`` its ``/Scope`` (``Column`` by
  default);

and :func:`finish` (a finisher, run before the PDF is written) rewrites the marked content of
those artifacts in the page streams. A structure element left out of the tree is emptied.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from . import patching

log = logging.getLogger(__name__)

ROLES = frozenset({"TOC", "TOCI", "Sect", "Div", "Note", "Lbl", "Reference", "Caption", "BlockQuote",
                   "Index", "Private", "Art", "Part", "P", "Span", "NonStruct"})
_NOT_TWICE = frozenset({"h1", "h2", "h3", "h4", "h5", "h6", "p"})
_PENDING = "_handbook_artifacts"  # on the pydyf.PDF: {page index: {mcid: artifact type or ""}}


def _html_element(box: Any) -> Any:
    element = getattr(box, "element", None)
    tag = getattr(box, "element_tag", None)
    if element is None or tag is None or "::" in tag:  # pseudo-elements share their parent's element
        return None
    if type(getattr(box, "style", None)).__name__ == "AnonymousStyle":  # an anonymous box: its parent's
        return None
    return element


def _blank_texts(box: Any, boxes: Any, tag_map: Any) -> set[int]:
    """The MCIDs of the box's own text boxes that hold only white space (between inline elements)."""
    found = set()
    for child in getattr(box, "children", ()):
        for text in child.children if isinstance(child, boxes.LineBox) else (child,):
            if isinstance(text, boxes.TextBox) and not text.text.strip() and text in tag_map:
                found.add(tag_map[text]["mcid"])
    return found


def _artifact_kind(box: Any, boxes: Any) -> str | None:
    """"Pagination" for a margin box, "" for another artifact, None for content."""
    if isinstance(box, boxes.MarginBox):
        return "Pagination"
    if getattr(box, "is_leader", False):
        return ""
    element = _html_element(box)
    if element is not None and (element.get("data-pdf-artifact") is not None
                                or element.get("aria-hidden") == "true"
                                or (element.tag == "img" and element.get("alt") == "")):  # decorative
        return ""
    return None


# WeasyPrint's function this module wraps, with its parameters as the wrapper passes them on.
RELIES_ON: dict[str, tuple[str, ...]] = {
    "weasyprint.pdf.tags:_build_box_tree": ("box", "parent", "pdf", "page_number", "nums", "annotations", "tags"),
}


def signature_problems() -> list[str]:
    """What differs between :data:`RELIES_ON` and the installed WeasyPrint (empty: the wrapper fits)."""
    return patching.signature_problems(RELIES_ON)


def install() -> None:
    """Teach WeasyPrint's tagging the roles, artifacts and attributes above (once per process)."""
    patching.install_once("PDF tagging", RELIES_ON, _patch)


def _patch() -> None:
    import pydyf
    from weasyprint.formatting_structure import boxes
    from weasyprint.layout.absolute import AbsolutePlaceholder
    from weasyprint.pdf import tags

    original = tags._build_box_tree

    @functools.wraps(original, assigned=())  # __wrapped__: signature_problems() sees the original
    def build(box: Any, parent: Any, pdf: Any, page_number: int, nums: dict[int, Any],
              annotations: list[Any], tag_map: Any) -> Any:
        real = box._box if isinstance(box, AbsolutePlaceholder) else box
        kind = _artifact_kind(real, boxes)
        if kind is not None:
            before = set(nums)
            element_html = _html_element(real)
            decorative = element_html is not None and element_html.tag == "img"
            if decorative:  # WeasyPrint would log a missing alternative text for an artifact
                element_html.set("alt", "-")
            try:
                elements = list(original(box, parent, pdf, page_number, nums, annotations, tag_map))
            finally:
                if decorative:
                    element_html.set("alt", "")
            page = _pending(pdf, page_number)
            for mcid in set(nums) - before:
                page[mcid] = kind
                nums[mcid] = "null"  # the parent tree keeps one entry per MCID
            for element in elements:
                _empty(element)
            return
        element_html = _html_element(real)
        role = element_html.get("data-pdf-role") if element_html is not None else None
        if role is not None and role not in ROLES:
            log.warning("unknown data-pdf-role %r ignored", role)
            role = None
        saved = None
        if (real.element_tag in _NOT_TWICE and isinstance(real, boxes.BlockBox)
                and type(real.style).__name__ == "AnonymousStyle"):
            # An anonymous block inside a heading or paragraph (next to a block child) is not a
            # second heading or paragraph.
            saved, real.element_tag = real.element_tag, None
        elif real.element_tag == "li" and (role is not None or parent.get("S") not in ("/L", "/LI", "/LBody")):
            # A list item without a bullet is wrapped in LI/LBody by WeasyPrint: tagged as a
            # plain block, it gets the role alone (and so do its anonymous blocks).
            saved, real.element_tag = real.element_tag, "div"
        blank = _blank_texts(real, boxes, tag_map)
        try:
            for element in original(box, parent, pdf, page_number, nums, annotations, tag_map):
                if element_html is not None and real.element_tag not in ("html", "body"):
                    _attributes(element, element_html, role, pydyf)
                if blank and element.get("K") is not None:
                    _drop_blanks(element, blank, nums, _pending(pdf, page_number), pdf)
                    blank = set()
                if element.get("S") == "/Link" and parent.get("S") == "/Link":
                    # Generated text in a link ("see p. 3" after it): part of the same link.
                    _merge_link(element, parent, nums, annotations, pdf)
                    continue
                if element.get("S") == "/LI":
                    if not element["K"]:  # the rest of an item begun on an earlier page: nothing here
                        _empty(element)
                        continue
                    _list_body(element, pdf, pydyf)
                yield element
        finally:
            if saved is not None:
                real.element_tag = saved

    tags._build_box_tree = build


def _pending(pdf: Any, page_number: int) -> dict[int, str]:
    pending = getattr(pdf, _PENDING, None)
    if pending is None:
        pending = {}
        setattr(pdf, _PENDING, pending)
    page: dict[int, str] = pending.setdefault(page_number, {})
    return page


def _drop_blanks(element: Any, blank: set[int], nums: dict[int, Any], page: dict[int, str], pdf: Any) -> None:
    """White space between inline elements: an artifact, not an empty Span in the tree."""
    for mcid in blank:
        ref = nums.get(mcid)
        if ref is None:
            continue
        for holder in (element, *(pdf.objects[_number(k)] for k in element["K"] if isinstance(k, (bytes, str)))):
            kids = holder.get("K") if isinstance(holder, dict) else None
            if kids is None:
                continue
            target = mcid if holder.get("S") == "/Link" and mcid in kids else ref
            if target in kids:
                kids.remove(target)
                if target == ref:
                    _empty(pdf.objects[_number(ref)])
                nums[mcid] = "null"
                page[mcid] = ""
                break


def _merge_link(inner: Any, outer: Any, nums: dict[int, Any], annotations: list[Any], pdf: Any) -> None:
    """An inline box inside a link is a link annotation of its own in WeasyPrint, and a nested
    ``Link``: its content and annotation go to the enclosing ``Link`` (one link, two areas)."""
    for kid in inner["K"]:
        outer["K"].append(kid)
        if isinstance(kid, (bytes, str)):
            child = pdf.objects[_number(kid)]
            if isinstance(child, dict) and child.get("Type") == "/StructElem":
                child["P"] = outer.reference
    for mcid, ref in list(nums.items()):
        if ref == inner.reference:
            nums[mcid] = outer.reference
    for i, (ref, annotation) in enumerate(annotations):
        if ref == inner.reference:
            annotations[i] = (outer.reference, annotation)
    _empty(inner)


def _list_body(item: Any, pdf: Any, pydyf: Any) -> None:
    """A list item holds a label and a body: paragraphs of a loose list item (``<li><p>``), which
    WeasyPrint puts straight into the ``LI``, go into an ``LBody``."""
    kids = item["K"]
    loose = [k for k in kids if isinstance(k, (bytes, str))
             and pdf.objects[_number(k)].get("S") not in ("/Lbl", "/LBody")]
    if not loose:
        return
    body = pydyf.Dictionary({"Type": "/StructElem", "S": "/LBody", "K": pydyf.Array(), "P": item.reference})
    if "Pg" in item:
        body["Pg"] = item["Pg"]
    pdf.add_object(body)
    kept = pydyf.Array()
    for kid in kids:
        if kid in loose:
            if body.reference not in kept:
                kept.append(body.reference)
            body["K"].append(kid)
            pdf.objects[_number(kid)]["P"] = body.reference
        else:
            kept.append(kid)
    item["K"] = kept


def _empty(element: Any) -> None:
    """A structure element left out of the tree: no longer a StructElem."""
    element.clear()


def _attributes(element: Any, html: Any, role: str | None, pydyf: Any) -> None:
    if role is not None:
        element["S"] = f"/{role}"
    title = html.get("aria-label") or (html.get("title") if role is not None else None)
    if title and element.get("S") not in ("/Link", "/Figure"):
        element["T"] = pydyf.String(title)
    lang = html.get("lang")
    if lang and html.tag != "html":
        element["Lang"] = pydyf.String(lang)
    if element.get("S") == "/TH":
        scope = "/Row" if html.get("scope") == "row" else "/Column"
        attributes = element.get("A")
        if attributes is None:
            element["A"] = pydyf.Dictionary({"O": "/Table", "Scope": scope})
        else:
            attributes["Scope"] = scope


def finish(document: Any, pdf: Any) -> None:
    """Rewrite the marked content of artifacts in the page streams (a ``write_pdf`` finisher).

    ``/Span <</MCID n>> BDC`` becomes ``/Artifact <</Type /Pagination>> BDC`` (or ``/Artifact
    BMC``); their entries in the parent tree are already null."""
    import pydyf

    if "StructTreeRoot" in pdf.catalog:  # links print as they show (Matterhorn 28-...)
        for pdf_object in pdf.objects:
            if isinstance(pdf_object, dict) and pdf_object.get("Type") == "/Annot":
                pdf_object["F"] = 4
    pending: dict[int, dict[int, str]] = getattr(pdf, _PENDING, {}) or {}
    if not pending:
        return
    kids = pdf.pages["Kids"]
    for page_index, artifacts in pending.items():
        page = pdf.objects[kids[page_index * 3]]
        stream = pdf.objects[_number(page["Contents"])]
        items = stream.stream
        for i in range(len(items) - 2):
            props, op = items[i + 1], items[i + 2]
            if op != b"BDC" or not isinstance(props, dict) or "MCID" not in props:
                continue
            kind = artifacts.get(props["MCID"])
            if kind is None:
                continue
            items[i] = "/Artifact"
            items[i + 1] = pydyf.Dictionary({"Type": f"/{kind}"} if kind else {})
    setattr(pdf, _PENDING, {})


def _number(reference: Any) -> int:
    """The object number of a pydyf reference (``b"12 0 R"``)."""
    text = reference.decode() if isinstance(reference, bytes) else str(reference)
    return int(text.split()[0])
