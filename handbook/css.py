"""Stylesheets read as CSS (tinycss2, the tokenizer WeasyPrint itself uses), never by regular expressions.

Comments, strings and escapes (``\\66 ile:`` is ``file:``) are what a CSS parser makes of them, so a
reference cannot hide from a check that WeasyPrint would then follow.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import tinycss2


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
