"""YAML files read with the line of every key, so problems can name ``path:line``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import Problem

Loc = tuple[str | int, ...]


@dataclass
class YamlDoc:
    """A parsed YAML document: its data and the 1-based line of every key path."""

    path: Path
    shown: str  # the path as the user reads it
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)
    offset: int = 0  # lines before the YAML text in its file (front matter)

    def line_of(self, loc: Loc) -> int:
        """The line of the deepest known key on ``loc`` (1 when nothing is known)."""
        for n in range(len(loc), -1, -1):
            if loc[:n] in self.lines:
                return self.lines[loc[:n]] + self.offset
        return 1 + self.offset

    def problem(self, loc: Loc, message: str, severity: str = "error") -> Problem:
        return Problem(self.shown, self.line_of(loc), message, severity)


def _walk(node: yaml.Node, loc: Loc, lines: dict[Loc, int], problems: list[Problem], shown: str,
          offset: int) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                problems.append(Problem(shown, line + offset,
                                        f"'{key}' appears twice; keep one of them"))
            seen.add(key)
            lines[(*loc, key)] = line
            _walk(value_node, (*loc, key), lines, problems, shown, offset)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*loc, i)] = item.start_mark.line + 1
            _walk(item, (*loc, i), lines, problems, shown, offset)


def parse_yaml(text: str, path: Path, shown: str, offset: int = 0) -> tuple[YamlDoc | None, list[Problem]]:
    """Parse ``text``; on failure return ``None`` and problems that name the line."""
    problems: list[Problem] = []
    for n, raw_line in enumerate(text.splitlines(), start=1):
        stripped = raw_line.lstrip(" ")
        if stripped.startswith("\t"):
            problems.append(Problem(shown, n + offset,
                                    "a tab is used for indentation; YAML needs spaces"))
    if problems:
        return None, problems
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        lineno = (mark.line + 1) if mark else 1
        what = exc.problem or "malformed YAML"
        hint = ""
        if "mapping values are not allowed" in what:
            hint = " (a value containing ': ' needs quotes)"
        elif "could not find expected ':'" in what:
            hint = " (every setting is written 'key: value')"
        return None, [Problem(shown, lineno + offset, f"YAML syntax error: {what}{hint}")]
    except yaml.YAMLError as exc:  # pragma: no cover - PyYAML raises marked errors for text input
        return None, [Problem(shown, 1 + offset, f"YAML error: {exc}")]
    finally:
        loader.dispose()
    doc = YamlDoc(path, shown, data, {}, offset)
    if node is not None:
        _walk(node, (), doc.lines, problems, shown, 0)
    return doc, problems


def read_yaml(path: Path, shown: str) -> tuple[YamlDoc | None, list[Problem]]:
    """Read and parse a YAML file."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(shown, None, f"not UTF-8 text ({exc.reason}); save the file as UTF-8")]
    except OSError as exc:
        return None, [Problem(shown, None, f"cannot read: {exc.strerror}")]
    return parse_yaml(text, path, shown)
