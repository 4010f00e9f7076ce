"""User-facing errors. Every problem names its source: ``path:line: message``.

A :class:`HandbookError` is a user error: the CLI prints its message and exits 1, without a
traceback (``--debug`` shows one). Anything else is a bug.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import NamedTuple

import click


class Severity(StrEnum):
    """How bad a problem is; a string too, so messages and stored warnings read "error"/"warning"."""

    ERROR = "error"
    WARNING = "warning"


class Location(NamedTuple):
    """Where a problem is: a file as the user reads it, and a line (None: the whole file)."""

    path: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass(frozen=True, order=True)
class Problem:
    """One finding about the input, with the file and line it comes from."""

    path: str
    line: int | None
    message: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        prefix = "warning: " if self.severity is Severity.WARNING else ""
        return f"{self.location}: {prefix}{self.message}"

    @property
    def location(self) -> Location:
        return Location(self.path, self.line)

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


def display_path(path: Path | str, root: Path | None = None) -> str:
    """A path as the user should read it: relative to the project when it is inside."""
    p = Path(path)
    if root is not None:
        try:
            return str(p.resolve().relative_to(root.resolve()))
        except (ValueError, OSError, RuntimeError):
            pass
        # A symbolic link pointing out of the project: the link's own place in the project.
        for base in (root.absolute(), root.resolve()):
            try:
                return str(p.absolute().relative_to(base))
            except ValueError:
                pass
    return str(p)


class HandbookError(click.ClickException):
    """A user error: bad input, a failed render. Exit code 1."""

    exit_code = 1

    def __init__(self, message: str, problems: Iterable[Problem] = ()) -> None:
        self.problems = tuple(problems)
        super().__init__(message)

    def format_message(self) -> str:
        if not self.problems:
            return self.message
        lines = [str(p) for p in self.problems]
        return "\n".join([*lines, self.message]) if self.message else "\n".join(lines)


class ConfigError(HandbookError):
    """handbook.yaml, department.yaml or cards.yaml is not valid."""


class ContentError(HandbookError):
    """A chapter (front matter or Markdown) is not valid."""


class TemplateError(HandbookError):
    """A Jinja template failed to load or render."""


class TimeLimitExpired(BaseException):
    """An edition's time ran out. A BaseException, so that no ``except Exception`` inside WeasyPrint or
    Jinja swallows it; :func:`handbook.deadline.edition_limit` turns it into a :class:`RenderError`."""

    def __init__(self, message: str, problems: Iterable[Problem] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.problems = tuple(problems)


class RenderError(HandbookError):
    """WeasyPrint could not turn the HTML into a PDF, or the result broke a limit."""


class ResourceError(RenderError):
    """A resource outside the project (or a remote URL) was refused."""


class OutputError(HandbookError):
    """An output file could not be written (a read-only folder, a full disk, a file in the way)."""

