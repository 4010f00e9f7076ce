"""Template search path -> a sandboxed Jinja environment.

First match wins: the department's ``templates/``, then the project's. ``base/NAME`` always
reaches the project's version, so a department template can ``{% extends "base/handbook.html.j2" %}``
and override one block. Templates run sandboxed with autoescape and ``StrictUndefined``: they
cannot reach Python internals, and an undefined variable is an error naming the file and line.
"""

from __future__ import annotations

import datetime as dt
import functools
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from .errors import Problem, TemplateError, display_path

MONTHS = {
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"],
}


def format_date(value: dt.date, language: str = "en") -> str:
    """A date as a reader writes it: "1 November 2026", "2026年11月1日"."""
    if language.lower().startswith("zh"):
        return f"{value.year}年{value.month}月{value.day}日"
    return f"{value.day} {MONTHS['en'][value.month - 1]} {value.year}"


def _roman(n: int) -> str:
    out = ""
    for value, sym in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                       (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= value:
            out += sym
            n -= value
    return out


class _Loader(jinja2.BaseLoader):
    """Department templates, then project templates; ``base/`` reaches the project's."""

    def __init__(self, dirs: tuple[Path, ...], root: Path) -> None:
        self.dirs = dirs
        self.root = root
        self.project = jinja2.FileSystemLoader(str(dirs[-1]))
        self.chain = jinja2.FileSystemLoader([str(d) for d in dirs])

    def get_source(self, environment: jinja2.Environment, template: str
                   ) -> tuple[str, str | None, Callable[[], bool] | None]:
        if template.startswith("base/"):
            return self.project.get_source(environment, template[len("base/"):])
        return self.chain.get_source(environment, template)

    def list_templates(self) -> list[str]:
        return sorted(set(self.chain.list_templates()))


@functools.lru_cache(maxsize=64)
def environment(dirs: tuple[Path, ...], root: Path) -> jinja2.Environment:
    """A sandboxed environment over the search path (cached: one per search path per process)."""
    env = SandboxedEnvironment(
        loader=_Loader(dirs, root),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["date"] = format_date
    env.filters["roman"] = _roman
    return env


def template_location(exc: BaseException, root: Path) -> tuple[str, int | None]:
    """The template file and line where a rendering error happened."""
    if isinstance(exc, jinja2.TemplateSyntaxError) and exc.filename:
        return display_path(exc.filename, root), exc.lineno
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith(".j2") or "/templates/" in frame.filename:
            return display_path(frame.filename, root), frame.lineno
    return "templates", None


def render_template(dirs: tuple[Path, ...], root: Path, name: str, context: Mapping[str, Any]) -> str:
    """Render ``name`` from the search path; errors name the template file and line."""
    env = environment(dirs, root)
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateNotFound as exc:
        raise TemplateError("", [Problem("templates", None,
                                         f"template '{exc.name}' not found in "
                                         + ", ".join(display_path(d, root) for d in dirs))]) from exc
    except jinja2.UndefinedError as exc:
        where, line = template_location(exc, root)
        raise TemplateError("", [Problem(where, line, f"undefined: {exc.message}")]) from exc
    except jinja2.exceptions.SecurityError as exc:
        where, line = template_location(exc, root)
        raise TemplateError("", [Problem(where, line, f"not allowed in a template: {exc}")]) from exc
    except jinja2.TemplateError as exc:
        where, line = template_location(exc, root)
        raise TemplateError("", [Problem(where, line, f"template error: {exc.message or exc}")]) from exc
    except RecursionError as exc:
        where, line = template_location(exc, root)
        raise TemplateError("", [Problem(where, line, "template recursion too deep")]) from exc
    except (TypeError, ValueError, AttributeError, ZeroDivisionError, OverflowError) as exc:
        where, line = template_location(exc, root)
        raise TemplateError("", [Problem(where, line, f"template error: {exc}")]) from exc
