"""YAML files read with the line of every key, so problems can name ``path:line``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import Location, Problem, Severity
from .model import SourceText

Loc = tuple[str | int, ...]


@dataclass
class YamlDoc:
    """A parsed YAML document: its data and the 1-based line of every key path."""

    path: Path
    shown: str  # the path as the user reads it
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)
    offset: int = 0  # lines before the YAML text in its file (front matter)
    text: str = ""  # the YAML text as read
    starts: dict[Loc, int] = field(default_factory=dict)  # where each string value's text starts

    def value_line(self, loc: Loc) -> int:
        """The line where the text of the string value at ``loc`` starts: the line after a ``|`` or
        ``>`` (a block scalar), else its key's line."""
        return self.starts[loc] + self.offset if loc in self.starts else self.line_of(loc)

    def texts(self) -> list[SourceText]:
        """Every string value with the line it is written on; a value written over several lines (a
        block scalar, a folded string) gives each of its lines at its own line."""
        lines = self.text.splitlines()
        found: list[SourceText] = []
        for loc, value in _strings(self.data):
            line = self.value_line(loc)
            if "\n" not in value.strip():
                found.append(SourceText(self.shown, line, value))
                continue
            n = line - self.offset - 1
            for part in value.split("\n"):
                if part.strip():
                    at = next((i for i in range(max(n, 0), len(lines)) if part.strip() in lines[i]), None)
                    if at is not None:
                        n = at
                    found.append(SourceText(self.shown, (at + self.offset + 1) if at is not None else line, part))
        return found

    def line_of(self, loc: Loc) -> int:
        """The line of the deepest known key on ``loc`` (1 when nothing is known)."""
        for n in range(len(loc), -1, -1):
            if loc[:n] in self.lines:
                return self.lines[loc[:n]] + self.offset
        return 1 + self.offset

    def locations(self) -> dict[Loc, Location]:
        """Where every key and item is written."""
        return {loc: Location(self.shown, line + self.offset) for loc, line in self.lines.items()}

    def problem(self, loc: Loc, message: str, severity: Severity = Severity.ERROR) -> Problem:
        return Problem(self.shown, self.line_of(loc), message, severity)


def _strings(data: Any, loc: Loc = ()) -> Iterator[tuple[Loc, str]]:
    if isinstance(data, str):
        yield loc, data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from _strings(value, (*loc, str(key)))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _strings(value, (*loc, i))


MAX_NODES = 100_000  # keys and items, aliases included: no "billion laughs" through the walk


class _Loader(yaml.SafeLoader):
    """The safe loader, but an impossible date (2026-13-45) stays a string for the schema to report
    with its key and line, instead of escaping as a bare ValueError."""

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError):
            return self.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)

# Where PyYAML's "context" mark is the better place to point at: the line that opened the
# construct that was never finished ("just words" without a colon, a '[' never closed).
_CONTEXT_FIRST = ("while scanning a simple key", "while parsing a flow", "while scanning a quoted scalar",
                  "while scanning a block scalar")


class _TooLarge(Exception):
    pass


def _walk(node: yaml.Node, loc: Loc, doc: YamlDoc, problems: list[Problem], seen_nodes: set[int] | None = None,
          budget: list[int] | None = None) -> None:
    """Record the line of every key and item, and where each string's text starts. A node reached
    twice (a YAML alias, or a cycle) is walked once, so the walk is linear in the size of the text."""
    seen_nodes = set() if seen_nodes is None else seen_nodes
    budget = [MAX_NODES] if budget is None else budget
    if id(node) in seen_nodes:
        return
    seen_nodes.add(id(node))
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooLarge
    if isinstance(node, yaml.ScalarNode):
        # A block scalar's text starts on the line after its indicator ("back: |").
        doc.starts[loc] = node.start_mark.line + 1 + (node.style in ("|", ">"))
    elif isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                problems.append(Problem(doc.shown, line + doc.offset,
                                        f"'{key}' appears twice; keep one of them"))
            seen.add(key)
            doc.lines[(*loc, key)] = line
            _walk(value_node, (*loc, key), doc, problems, seen_nodes, budget)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            doc.lines[(*loc, i)] = item.start_mark.line + 1
            _walk(item, (*loc, i), doc, problems, seen_nodes, budget)


def _unprintable(exc: yaml.reader.ReaderError, text: str, shown: str, offset: int) -> Problem:
    line = text.count("\n", 0, max(exc.position, 0)) + 1
    return Problem(shown, line + offset, f"a control character (#x{exc.character:04x}) is not allowed in "
                                         "YAML text; delete it")


# A key followed by a full-width colon (title：总则), or a colon followed by a full-width space
# (title:\u3000总则): YAML reads either as plain text, not as a setting.
_FULL_WIDTH_KEY = re.compile(r"^\s*(?:-\s+)?[\w\u4e00-\u9fff-]+\s*：")
_FULL_WIDTH_SPACE_AFTER = re.compile(r"^\s*(?:-\s+)?[\w-]+:\u3000")
_BLOCK_SCALAR = re.compile(r":\s*[|>][-+0-9]*\s*(?:#.*)?$")


def full_width_problems(text: str, shown: str, offset: int = 0) -> list[Problem]:
    """Lines that a Chinese input method has written with a full-width colon or space where YAML
    needs the half-width ones (lines of a ``|`` or ``>`` text block are left alone)."""
    problems = []
    block_indent: int | None = None
    for n, line in enumerate(text.splitlines(), start=1):
        indent = len(line) - len(line.lstrip(" "))
        if block_indent is not None:
            if not line.strip() or indent > block_indent:
                continue
            block_indent = None
        if line.startswith("\u3000") or line.lstrip(" ").startswith("\u3000"):
            problems.append(Problem(shown, n + offset, "the line is indented with a full-width space (\u3000); "
                                                       "YAML needs ordinary spaces"))
        elif _FULL_WIDTH_KEY.match(line):
            problems.append(Problem(shown, n + offset, "'：' is a full-width colon; YAML needs the half-width "
                                                       "':' and a space after it (write 'title: ...')"))
        elif _FULL_WIDTH_SPACE_AFTER.match(line):
            problems.append(Problem(shown, n + offset, "a full-width space (\u3000) follows the ':'; YAML needs "
                                                       "an ordinary space after it"))
        if _BLOCK_SCALAR.search(line):
            block_indent = indent
    return problems


def parse_yaml(text: str, path: Path, shown: str, offset: int = 0) -> tuple[YamlDoc | None, list[Problem]]:
    """Parse ``text``; on failure return ``None`` and problems that name the line."""
    problems: list[Problem] = []
    for n, raw_line in enumerate(text.splitlines(), start=1):
        stripped = raw_line.lstrip(" ")
        if stripped.startswith("\t"):
            problems.append(Problem(shown, n + offset,
                                    "a tab is used for indentation; YAML needs spaces"))
    problems += full_width_problems(text, shown, offset)
    if problems:
        return None, sorted(problems, key=lambda p: p.line or 0)
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:  # checked when the loader is made: a control character
        return None, [_unprintable(exc, text, shown, offset)]
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark is not None and (exc.context or "").startswith(_CONTEXT_FIRST):
            mark = exc.context_mark
        lineno = (mark.line + 1) if mark else 1
        what = exc.problem or "malformed YAML"
        hint = ""
        if "mapping values are not allowed" in what:
            hint = " (a value containing ': ' needs quotes)"
        elif "could not find expected ':'" in what:
            hint = " (every setting is written 'key: value')"
        return None, [Problem(shown, lineno + offset, f"YAML syntax error: {what}{hint}")]
    except yaml.reader.ReaderError as exc:
        return None, [_unprintable(exc, text, shown, offset)]
    except yaml.YAMLError as exc:  # pragma: no cover - PyYAML raises marked errors for text input
        return None, [Problem(shown, 1 + offset, f"YAML error: {exc}")]
    except RecursionError:
        return None, [Problem(shown, 1 + offset, "YAML nested too deeply")]
    finally:
        loader.dispose()
    doc = YamlDoc(path, shown, data, {}, offset, text)
    if node is not None:
        try:
            _walk(node, (), doc, problems)
        except (_TooLarge, RecursionError):
            return None, [Problem(shown, 1 + offset, f"YAML too large or nested too deeply (more than "
                                                     f"{MAX_NODES} keys and items)")]
    return doc, problems


def read_yaml(path: Path, shown: str) -> tuple[YamlDoc | None, list[Problem]]:
    """Read and parse a YAML file (UTF-8; another encoding is named in the error)."""
    from .textfile import read_text

    text, problems = read_text(path, shown)
    if text is None:
        return None, problems
    return parse_yaml(text, path, shown)
