"""Template search path -> a sandboxed Jinja environment.

First match wins: the department's ``templates/``, then the project's. ``base/NAME`` always
reaches the project's version, so a department template can ``{% extends "base/handbook.html.j2" %}``
and override one block. Templates run sandboxed with autoescape and ``StrictUndefined``: they
cannot reach Python internals, and an undefined variable is an error naming the file and line.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
import os
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path, PurePath
from typing import Any

import jinja2
import jinja2.debug
from jinja2.sandbox import SandboxedEnvironment

from .errors import Problem, TemplateError, TimeLimitExpired, display_path

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
            source = self.project.get_source(environment, template[len("base/"):])
        else:
            source = self.chain.get_source(environment, template)
        filename = source[1]
        if filename is not None:
            real = Path(os.path.realpath(filename))
            if not real.is_relative_to(Path(os.path.realpath(self.root))):
                raise jinja2.exceptions.SecurityError(
                    f"template '{template}' points outside the project (a symbolic link?)")
        return source

    def list_templates(self) -> list[str]:
        return sorted(set(self.chain.list_templates()))


MAX_REPEAT = 1_000_000  # items or characters a template may make with ``*`` (a string, a list)
MAX_POWER_BITS = 4096  # the size of a number a template may make with ``**``
PATH_ATTRIBUTES = frozenset({"name", "stem", "suffix"})  # all a template may ask of a path
MAX_TEMPLATE_SECONDS = 60.0  # one render of one template (with its includes); `handbook check` too

_deadline = threading.local()


class TemplateTimeout(Exception):
    """A template ran longer than MAX_TEMPLATE_SECONDS (checked at every call it makes)."""


class ProjectSandbox(SandboxedEnvironment):
    """Jinja's sandbox, closed further: no file system access through paths in the context, no
    string, list or number so large that rendering runs out of memory, and no render that runs for
    ever (every call a template makes, ``range()`` included, checks the time)."""

    intercepted_binops = frozenset({"*", "**"})

    def call(__self, __context: jinja2.runtime.Context, __obj: Any, *args: Any,
             **kwargs: Any) -> Any:
        deadline = getattr(_deadline, "at", None)
        if deadline is not None and time.monotonic() > deadline:
            raise TemplateTimeout
        return super().call(__context, __obj, *args, **kwargs)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, PurePath) and attr not in PATH_ATTRIBUTES:
            return False
        return bool(super().is_safe_attribute(obj, attr, value))

    def call_binop(self, context: jinja2.runtime.Context, operator_: str, left: Any, right: Any) -> Any:
        if operator_ == "*":
            for seq, n in ((left, right), (right, left)):
                if (isinstance(seq, (str, list, tuple, bytes)) and isinstance(n, int)
                        and max(len(seq), 1) * n > MAX_REPEAT):
                    raise jinja2.exceptions.SecurityError(
                        f"repeating a sequence {n} times is more than a template may make")
            return operator.mul(left, right)
        if operator_ == "**":
            if (isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1
                    and right * abs(left).bit_length() > MAX_POWER_BITS):
                raise jinja2.exceptions.SecurityError("a number too large for a template")
            return operator.pow(left, right)
        return super().call_binop(context, operator_, left, right)


@functools.lru_cache(maxsize=64)
def environment(dirs: tuple[Path, ...], root: Path) -> jinja2.Environment:
    """A sandboxed environment over the search path (cached: one per search path per process)."""
    env = ProjectSandbox(
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
    outer = getattr(_deadline, "at", None)
    _deadline.at = time.monotonic() + MAX_TEMPLATE_SECONDS
    try:
        return env.get_template(name).render(**context)
    except TemplateTimeout as exc:
        where, line = template_location(exc, root)
        raise TemplateError("", [Problem(where, line, f"still rendering after {MAX_TEMPLATE_SECONDS:g} s: "
                                                      "does the template loop for ever?")]) from exc
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
    except MemoryError as exc:
        where, line = template_location(exc, root)
        raise TemplateError("", [Problem(where, line, "the template made something too large for memory")]) from exc
    except (TypeError, ValueError, AttributeError, ZeroDivisionError, OverflowError) as exc:
        where, line = template_location(exc, root)
        raise TemplateError("", [Problem(where, line, f"template error: {exc}")]) from exc
    except TimeLimitExpired as exc:
        # The edition's time limit (builder.time_limit) stopped a template that loops for ever: say where.
        if exc.problems:
            raise
        # Not an Exception, so Jinja did not map the traceback to template lines: do it here.
        where, line = template_location(jinja2.debug.rewrite_traceback_stack(), root)
        if where == "templates":
            raise
        raise TimeLimitExpired(exc.message, [Problem(where, line, "time ran out while rendering this template "
                                                                  "(does it loop for ever?)")]) from exc
    finally:
        _deadline.at = outer
