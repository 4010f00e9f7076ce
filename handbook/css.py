"""Stylesheets read as CSS (tinycss2, the tokenizer WeasyPrint itself uses), never by regular expressions.

Comments, strings and escapes (``\\66 ile:`` is ``file:``) are what a CSS parser makes of them, so a
reference cannot hide from a check that WeasyPrint would then follow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import tinycss2
from tinycss2.serializer import serialize_identifier, serialize_string_value


def references(text: str) -> Iterator[tuple[str, int]]:
    """Every resource a stylesheet refers to: ``url()`` anywhere and ``@import "..."``, with its line."""
    yield from _walk(tinycss2.parse_stylesheet(text, skip_comments=True, skip_whitespace=True))


def value_references(nodes: Iterable[Any]) -> Iterator[str]:
    """The URLs in a list of component values (a declaration's value, an SVG attribute)."""
    yield from (url for url, _ in _walk(nodes))


def _walk(nodes: Iterable[Any]) -> Iterator[tuple[str, int]]:
    for node in nodes:
        kind = node.type
        if kind == "url":
            yield node.value, node.source_line
        elif kind == "function" and node.lower_name == "url":
            strings = [a for a in node.arguments if a.type == "string"]
            if strings:
                yield strings[0].value, node.source_line
        elif kind == "at-rule":
            if node.lower_at_keyword == "import":
                yield from ((a.value, a.source_line) for a in node.prelude if a.type == "string")
            yield from _walk(node.prelude)
            yield from _walk(node.content or ())
        elif kind in ("qualified-rule", "() block", "[] block", "{} block"):
            yield from _walk(getattr(node, "prelude", ()))
            yield from _walk(node.content)
        elif kind == "function":
            yield from _walk(node.arguments)
        elif kind == "declaration":
            yield from _walk(node.value)


def with_urls(text: str, replace: Callable[[str], str | None]) -> str:
    """The stylesheet with each ``url()`` that ``replace`` maps to a new URL rewritten (None: kept as written)."""
    return "".join(_rewritten(tinycss2.parse_component_value_list(text), replace))


_CLOSING = {"() block": ("(", ")"), "[] block": ("[", "]"), "{} block": ("{", "}")}


def _rewritten(nodes: Iterable[Any], replace: Callable[[str], str | None]) -> Iterator[str]:
    for node in nodes:
        kind = node.type
        url = None
        if kind == "url":
            url = node.value
        elif kind == "function" and node.lower_name == "url":
            strings = [a for a in node.arguments if a.type == "string"]
            url = strings[0].value if strings else None
        new = replace(url) if url is not None else None
        if new is not None:
            yield f'url("{serialize_string_value(new)}")'
        elif kind == "function":
            yield f"{serialize_identifier(node.name)}("
            yield from _rewritten(node.arguments, replace)
            yield ")"
        elif kind in _CLOSING:
            yield _CLOSING[kind][0]
            yield from _rewritten(node.content, replace)
            yield _CLOSING[kind][1]
        else:
            yield node.serialize()


def without_font_sources(text: str, drop: Callable[[str], bool]) -> str:
    """The stylesheet with every ``@font-face`` ``src`` entry whose ``url()`` ``drop`` matches left out
    (``url(...) format(...)`` goes with its comma); a ``src`` left empty loses its declaration."""
    rules = tinycss2.parse_stylesheet(text, skip_comments=False, skip_whitespace=False)
    return "".join(_font_face(rule, drop) if rule.type == "at-rule" and rule.lower_at_keyword == "font-face"
                   else rule.serialize() for rule in rules)


def _font_face(rule: Any, drop: Callable[[str], bool]) -> str:
    kept = []
    for declaration in tinycss2.parse_blocks_contents(rule.content or (), skip_comments=True, skip_whitespace=True):
        if declaration.type == "declaration" and declaration.lower_name == "src":
            entries = _split_commas(declaration.value)
            entries = [entry for entry in entries if not any(drop(url) for url in value_references(entry))]
            if not entries:
                continue
            value = ", ".join(tinycss2.serialize(entry).strip() for entry in entries)
            kept.append(f"src: {value}{' !important' if declaration.important else ''}")
        elif declaration.type == "declaration":
            kept.append(declaration.serialize().strip())
    return f"@font-face {{ {'; '.join(kept)}; }}" if kept else ""


def _split_commas(nodes: Iterable[Any]) -> list[list[Any]]:
    entries: list[list[Any]] = [[]]
    for node in nodes:
        if node.type == "literal" and node.value == ",":
            entries.append([])
        else:
            entries[-1].append(node)
    return [entry for entry in entries if any(n.type not in ("whitespace", "comment") for n in entry)]
