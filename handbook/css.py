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
