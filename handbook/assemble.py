"""Parts rendered as separate documents (:mod:`handbook.parts`) -> one PDF, with pypdf.

Each part's pages up to its part end; its bookmarks, named destinations (what internal links point
at: a link to another part's anchor finds it here) and page boxes carried over with their pages;
then what one document's finishers write for the whole book: the page labels (i, ii... then
1, 2...), the viewer preferences, the metadata of the first part (the same ``<head>`` in every
part: title, author, dates, language) and a file identifier made from the parts.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    ByteStringObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PartPdf:
    """A rendered part and how many of its pages belong to the book (the rest is its part end)."""

    data: bytes
    keep: int


def _page_index(reader: PdfReader) -> dict[int, int]:
    return {page.indirect_reference.idnum: i for i, page in enumerate(reader.pages)
            if page.indirect_reference is not None}


def _dest_page(dest: Any, pages: dict[int, int]) -> int | None:
    dest = dest.get_object() if isinstance(dest, IndirectObject) else dest
    if not isinstance(dest, ArrayObject) or not dest or not isinstance(dest[0], IndirectObject):
        return None
    return pages.get(dest[0].idnum)


def _xyz(writer: PdfWriter, page: int, dest: Any) -> ArrayObject:
    """A destination of a part (``[page /XYZ x y zoom]``) on the book's page ``page``."""
    dest = dest.get_object() if isinstance(dest, IndirectObject) else dest
    return ArrayObject([writer.pages[page].indirect_reference, *dest[1:]])


@dataclass
class _Item:
    title: str
    page: int
    dest: Any
    count: int
    children: list[_Item]


def _outline(reader: PdfReader, pages: dict[int, int], keep: int, offset: int) -> list[_Item]:
    root: Any = reader.trailer["/Root"].get_object()
    outlines = root.get("/Outlines")
    if outlines is None:
        return []

    def walk(node: Any) -> list[_Item]:
        items = []
        while node is not None:
            node = node.get_object()
            page = _dest_page(node.get("/Dest"), pages)
            children = walk(node.get("/First"))
            if page is not None and page < keep:
                items.append(_Item(str(node["/Title"]), offset + page, node["/Dest"],
                                   int(node.get("/Count", 0)), children))
            node = node.get("/Next")
        return items

    return walk(outlines.get_object().get("/First"))


def _names(tree: Any) -> list[tuple[str, Any]]:
    """The (name, destination) pairs of a name tree."""
    if tree is None:
        return []
    tree = tree.get_object()
    found = []
    names = tree.get("/Names")
    if names is not None:
        names = names.get_object()
        found += [(str(names[i]), names[i + 1]) for i in range(0, len(names) - 1, 2)]
    for kid in tree.get("/Kids", []):
        found += _names(kid)
    return found


def _outline_items(writer: PdfWriter, items: list[_Item], parent: IndirectObject) -> int:
    """Outline items as WeasyPrint writes them (``/Dest`` arrays, ``/Count`` negative when closed)
    under ``parent``; their number, the open ones' children counted."""
    refs: list[IndirectObject] = []
    count = len(items)
    for item in items:
        node = DictionaryObject({NameObject("/Title"): TextStringObject(item.title),
                                 NameObject("/Dest"): _xyz(writer, item.page, item.dest)})
        ref = writer._add_object(node)
        children = _outline_items(writer, item.children, ref) if item.children else 0
        node[NameObject("/Count")] = NumberObject(children if item.count >= 0 else -children)
        if item.count >= 0:
            count += children
        node[NameObject("/Parent")] = parent
        if refs:
            node[NameObject("/Prev")] = refs[-1]
            previous: Any = refs[-1].get_object()
            previous[NameObject("/Next")] = ref
        refs.append(ref)
    if refs:
        target: Any = parent.get_object()
        target[NameObject("/First")], target[NameObject("/Last")] = refs[0], refs[-1]
    return count


def join(parts: Sequence[PartPdf], *, front_pages: int, duplex: str | None = None) -> bytes:
    """The parts' pages as one PDF, as one document's render would have written it."""
    writer = PdfWriter()
    outline: list[_Item] = []
    dests: dict[str, ArrayObject] = {}
    first: PdfReader | None = None
    for part in parts:
        reader = PdfReader(io.BytesIO(part.data))
        first = first or reader
        pages = _page_index(reader)
        offset = len(writer.pages)
        for i in range(part.keep):
            writer.add_page(reader.pages[i])
        catalog_in: Any = reader.trailer["/Root"].get_object()
        names = catalog_in.get("/Names")
        for name, dest in _names(names.get_object().get("/Dests") if names is not None else None):
            page = _dest_page(dest, pages)
            if page is not None and page < part.keep and name not in dests:  # the first one, as one document
                dests[name] = _xyz(writer, offset + page, dest)
        outline += _outline(reader, pages, part.keep, offset)
    if first is None:
        raise ValueError("no parts")

    catalog = writer._root_object
    if outline:
        root = DictionaryObject()
        root_ref = writer._add_object(root)
        root[NameObject("/Count")] = NumberObject(_outline_items(writer, outline, root_ref))
        catalog[NameObject("/Outlines")] = root_ref
    if dests:
        flat = ArrayObject()
        for name in sorted(dests):
            flat += [TextStringObject(name), dests[name]]
        catalog[NameObject("/Names")] = DictionaryObject({NameObject("/Dests"): DictionaryObject(
            {NameObject("/Names"): flat})})
    source: Any = first.trailer["/Root"].get_object()
    if "/Lang" in source:
        catalog[NameObject("/Lang")] = TextStringObject(str(source["/Lang"]))
    prefs = DictionaryObject({NameObject("/DisplayDocTitle"): BooleanObject(True),
                              NameObject("/PrintScaling"): NameObject("/None")})
    if duplex in ("long-edge", "short-edge"):
        prefs[NameObject("/Duplex")] = NameObject("/DuplexFlipLongEdge" if duplex == "long-edge"
                                                  else "/DuplexFlipShortEdge")
    catalog[NameObject("/ViewerPreferences")] = prefs
    if front_pages > 0:
        catalog[NameObject("/PageLabels")] = DictionaryObject({NameObject("/Nums"): ArrayObject([
            NumberObject(0), DictionaryObject({NameObject("/S"): NameObject("/r")}),
            NumberObject(front_pages), DictionaryObject({NameObject("/S"): NameObject("/D")})])})
    info = first.trailer.get("/Info")
    if info is not None:
        writer.add_metadata({str(k): str(v) for k, v in info.get_object().items()})
    digest = hashlib.sha256(b"".join(hashlib.sha256(p.data).digest() + str(p.keep).encode() for p in parts))
    identifier = ByteStringObject(digest.hexdigest()[:32].encode())
    writer._ID = ArrayObject([identifier, identifier])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
