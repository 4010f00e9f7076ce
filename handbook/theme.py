"""Template search path -> a sandboxed Jinja environment.

First match wins: the department's ``templates/``, then the project's. ``base/NAME`` always
reaches the project's version, so a department template can ``{% extends "base/handbook.html.j2" %}``
and override one block. Templates run sandboxed with autoescape and ``StrictUndefined``: they
cannot reach Python internals, and an undefined variable is an error naming the file and line.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import threading
import traceback
import types
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import jinja2
import jinja2.debug
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.environment import TemplateModule
from jinja2.runtime import BlockReference, LoopContext, Macro
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import Cycler, Joiner, Namespace
from markupsafe import Markup

from . import deadline
from .assets import inside
from .errors import Problem, TemplateError, TimeLimitExpired, display_path
from .numerals import roman
from .plain import Function, Items, Record, size_of

MONTHS = {
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"],
}


def format_date(value: dt.date, language: str = "en") -> str:
    """A date as a reader writes it: "1 November 2026", "2026年11月1日"."""
    if language.lower().startswith("zh"):
        return f"{value.year}年{value.month}月{value.day}日"
    return f"{value.day} {MONTHS['en'][value.month - 1]} {value.year}"


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
        if filename is not None and not inside(Path(filename), self.root):
            raise jinja2.exceptions.SecurityError(
                f"template '{template}' points outside the project (a symbolic link?)")
        return source

    def list_templates(self) -> list[str]:
        return sorted(set(self.chain.list_templates()))


MAX_POWER_BITS = 4096  # the size of a whole number a template may make (``*``, ``**``)
MAX_TEMPLATE_SECONDS = 60.0  # one render of one template (with its includes); `handbook check` too
MAX_TEMPLATE_CHARS = 32_000_000  # the output of one render, and any value a template makes on the way
MAX_TEMPLATE_STEPS = 5_000_000  # loop iterations and filters (1 each) and calls (10 each) in one render
CALL_STEPS = 50  # what calling a macro, a block or a recursive loop counts (each renders template code)
ITEM_SIZE = 32  # what one item of a list a template makes counts for, in characters (its memory, roughly)

_budget = threading.local()


@dataclass(frozen=True)
class TemplateLimits:
    """What one render may use: time, characters (its output and every value it makes), steps."""

    seconds: float = MAX_TEMPLATE_SECONDS
    chars: int = MAX_TEMPLATE_CHARS
    steps: int = MAX_TEMPLATE_STEPS


class TemplateTimeout(Exception):
    """A template ran longer than its time limit (checked at every call and loop step it makes)."""


class TemplateTooLarge(Exception):
    """A template made (or was about to make) a value or an output beyond its limits."""


# ------------------------------------------------------------------------------------------------
# The allow-list: what a template may read and call. Everything else is refused.

STR_METHODS = frozenset({
    "capitalize", "casefold", "center", "count", "endswith", "expandtabs", "find", "index", "isalnum",
    "isalpha", "isdecimal", "isdigit", "islower", "isnumeric", "isspace", "istitle", "isupper", "join",
    "ljust", "lower", "lstrip", "partition", "removeprefix", "removesuffix", "replace", "rfind", "rindex",
    "rjust", "rpartition", "rsplit", "rstrip", "split", "splitlines", "startswith", "strip", "swapcase",
    "title", "upper", "zfill"})
MARKUP_METHODS = frozenset({"striptags", "unescape"})
MAPPING_METHODS = frozenset({"items", "keys", "values", "get"})
DATE_ATTRIBUTES = frozenset({"year", "month", "day", "isoformat", "weekday", "isoweekday"})
LOOP_ATTRIBUTES = frozenset({"index", "index0", "revindex", "revindex0", "first", "last", "length", "depth",
                             "depth0", "previtem", "nextitem", "cycle", "changed"})
CYCLER_ATTRIBUTES = frozenset({"next", "current", "reset"})


def allowed_attribute(obj: Any, attr: str) -> bool:
    """May a template read ``obj.attr``? (Keys of mappings are read as items, not through this.)"""
    if attr.startswith("_"):
        return False
    if isinstance(obj, str):
        return attr in STR_METHODS or (isinstance(obj, Markup) and attr in MARKUP_METHODS)
    if isinstance(obj, (Record, dict)):
        return attr in MAPPING_METHODS
    if type(obj) is dt.date:
        return attr in DATE_ATTRIBUTES
    if isinstance(obj, LoopContext):
        return attr in LOOP_ATTRIBUTES
    if isinstance(obj, Cycler):
        return attr in CYCLER_ATTRIBUTES
    if isinstance(obj, BlockReference):
        return attr == "super"
    # What the template itself set ({% set ns.x %}) or exported ({% import %}).
    return isinstance(obj, (Namespace, TemplateModule))


def _describe(obj: Any) -> str:
    name = getattr(obj, "__name__", None)
    owner = getattr(obj, "__self__", None)
    if name and owner is not None and not isinstance(owner, types.ModuleType):
        return f"{type(owner).__name__}.{name}()"
    if name:
        return f"{name}()"
    return f"a {type(obj).__name__}"


# ------------------------------------------------------------------------------------------------
# Sizes: how many characters a value makes when written out, found before it is made.


_SCALARS = (int, float, bool, type(None))


def flat_size(value: Any, budget: int, memo: dict[int, int] | None = None) -> int:
    """Characters ``value`` makes as text (a list counts its items, shared ones each time); stops
    counting past ``budget``. Plain data knows its size; only what a template made is walked, and a
    list shared in several places is walked once (``memo``: its size by identity, in this count)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, (Record, Items)):
        return size_of(value)
    if isinstance(value, jinja2.Undefined):  # inside a list: an error, not the word "Undefined"
        value._fail_with_undefined_error()
    if isinstance(value, bool) or value is None:
        return 5
    if isinstance(value, int):
        return value.bit_length() // 3 + 2
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        memo = {} if memo is None else memo
        known = memo.get(id(value))
        if known is not None:
            return known
        total = 2 + ITEM_SIZE * len(value)
        if total > budget:
            return total
        for item in (value.items() if isinstance(value, dict) else value):
            if type(item) in _SCALARS:  # the common case, without a call
                total += 24
            elif type(item) is str:
                total += len(item)
            else:
                total += flat_size(item, budget - total, memo)
            if total > budget:
                return total
        memo[id(value)] = total
        return total
    return 24


def _limits() -> TemplateLimits:
    limits = getattr(_budget, "limits", None)
    return limits if isinstance(limits, TemplateLimits) else TemplateLimits()


def _too_large(size: int, what: str) -> TemplateTooLarge:
    limit = _limits().chars
    return TemplateTooLarge(f"{what} would make more than {limit:,} characters (at least {size:,}); the limit "
                            "is limits.template_characters in handbook.yaml")


def check_size(value: Any, what: str = "a value") -> Any:
    """``value``, or TemplateTooLarge if it is larger than a template may make."""
    kind = type(value)
    if kind in _SCALARS or ((kind is Markup or kind is str) and len(value) < 4096):
        return value  # small: nothing to measure
    limit = _limits().chars
    size = flat_size(value, limit)
    if size > limit:
        raise _too_large(size, what)
    return value


def _expect(size: int, what: str) -> None:
    if size > _limits().chars:
        raise _too_large(size, what)


def _step(n: int = 1) -> None:
    """Count work; stop a render that runs past its time or its steps."""
    steps = getattr(_budget, "steps", 0) + n
    _budget.steps = steps
    if steps < getattr(_budget, "check_at", 0):
        return  # the clock and the limit are read every 256 steps
    _budget.check_at = steps + 256
    deadline.check()  # the template's own time, and the edition's (handbook.deadline)
    limit = _limits().steps
    if steps > limit:
        raise TemplateTooLarge(f"more than {limit:,} loop steps and calls in one template; the limit is "
                               "limits.template_steps in handbook.yaml")


def _int(value: Any, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


_PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[a-zA-Z%]")


def percent_size(fmt: str, args: Any) -> int:
    """An upper bound of the characters ``fmt % args`` makes: widths and precisions count."""
    budget = _limits().chars
    size = len(fmt) + flat_size(args, budget)
    values = list(args) if isinstance(args, (tuple, list)) else [args]
    for m in _PERCENT.finditer(fmt):
        for part in (m[1], m[2]):
            if part == "*":
                size += abs(_int(values[0] if values else 0)) if values else 0
                values = values[1:]
            elif part:
                size += int(part) if len(part) < 12 else budget + 1
        size += 24  # a number written out
    return size


def _count(haystack: str, needle: Any) -> int:
    return haystack.count(needle) if isinstance(needle, str) and needle else len(haystack) + 1


def call_size(obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    """An upper bound of what calling a string method makes, known before the call."""
    budget = _limits().chars
    owner = getattr(obj, "__self__", None)
    name = getattr(obj, "__name__", "")
    size = sum(flat_size(a, budget) for a in (*args, *kwargs.values()))
    if isinstance(owner, str):
        n = len(owner)
        if name in {"center", "ljust", "rjust", "zfill"}:
            return max(n, _int(args[0] if args else kwargs.get("width"))) + size
        if name == "expandtabs":
            return n * max(1, _int(args[0] if args else kwargs.get("tabsize"), 8)) + size
        if name == "replace" and len(args) >= 2:
            count = _count(owner, args[0])
            if len(args) > 2 and _int(args[2], -1) >= 0:
                count = min(count, _int(args[2]))
            new, old = args[1], args[0]
            grow = len(new) - len(old) if isinstance(new, str) and isinstance(old, str) else 0
            return n + count * max(grow, 0)
        if name == "join" and args:
            items = args[0]
            if isinstance(items, (str, list, tuple, Items)):
                return size + n * len(items)
            return size + n * budget  # an iterator: its length is not known
        if name in {"split", "rsplit", "splitlines"}:
            sep = args[0] if args else kwargs.get("sep")
            return n + 26 * (_count(owner, sep) if isinstance(sep, str) else n + 1)
        return 3 * n + size  # case changes: at most three characters for one
    return size


ESCAPING_FILTERS = frozenset({"e", "escape", "forceescape", "urlize", "tojson", "xmlattr", "pprint", "urlencode"})


def filter_size(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    """An upper bound of what a filter makes, known before it runs."""
    budget = _limits().chars
    sizes = [flat_size(a, budget) for a in (*args, *kwargs.values())]
    size = sum(sizes)
    value = args[0] if args else None
    n = sizes[0] if sizes else 0
    lines = value.count("\n") + 1 if isinstance(value, str) else 1
    if name in ESCAPING_FILTERS:
        return 6 * size
    if name == "center":
        return max(n, _int(args[1] if len(args) > 1 else kwargs.get("width"), 80)) + size
    if name == "indent":
        width = args[1] if len(args) > 1 else kwargs.get("width", 4)
        width_len = len(width) if isinstance(width, str) else _int(width, 4)
        return n + lines * width_len + size
    if name == "format" and isinstance(value, str):
        return percent_size(value, tuple(args[1:]) or kwargs)
    if name == "replace" and len(args) >= 3 and isinstance(value, str):
        count = _count(value, args[1])
        new, old = args[2], args[1]
        grow = len(str(new)) - len(str(old))
        return n + count * max(grow, 0)
    if name == "join" and value is not None:
        sep = args[1] if len(args) > 1 else kwargs.get("d", "")
        try:
            items = len(value)
        except TypeError:
            items = budget
        return size + len(str(sep)) * items
    if name == "wordwrap":
        wrap = kwargs.get("wrapstring") or (args[4] if len(args) > 4 else "\n")
        width = max(1, _int(args[1] if len(args) > 1 else kwargs.get("width"), 79))
        return n + len(str(wrap)) * (n // width + 1) + size
    if name == "sum" and value is not None:
        return size * max(1, len(value) if isinstance(value, (list, tuple, Items)) else 1)
    if name == "batch":
        fill = args[2] if len(args) > 2 else kwargs.get("fill_with")
        count = _int(args[1] if len(args) > 1 else kwargs.get("linecount"), 1)
        return size + (count * (flat_size(fill, budget) + 2) if fill is not None else 0)
    if name == "list" and isinstance(value, str):
        return 26 * n  # a list of characters
    return size


def _guard_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` with its size known before it runs and checked after, counted as a step."""
    pass_arg = getattr(func, "jinja_pass_arg", None)
    skip = 1 if pass_arg is not None else 0

    @functools.wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _step()
        _expect(filter_size(name, args[skip:], kwargs), f"the filter |{name}")
        return check_size(func(*args, **kwargs), f"the filter |{name}")

    return guarded


def guard_loop(iterable: Any) -> Iterator[Any]:
    """The items of a ``{% for %}`` loop, each one a step (so nested loops cannot run for ever)."""
    for item in iterable:
        _step()
        yield item


class CheckedNamespace(Namespace):
    """``namespace()``: what a template stores in it is held to the size limit."""

    def __setitem__(self, name: str, value: Any) -> None:
        check_size(value, f"namespace value {name!r}")
        super().__setitem__(name, value)


def checked_parts(parts: tuple[Any, ...]) -> tuple[Any, ...]:
    """The operands of ``~``, their total size known before they are joined."""
    budget = _limits().chars
    _expect(sum(flat_size(p, budget) for p in parts), "joining with ~")
    return parts


class _CodeGenerator(CodeGenerator):
    """Jinja's code generator, with ``~`` measured before it joins."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            func_name = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            func_name = "markup_join"
        else:
            func_name = "str_join"
        self.write(f"{func_name}(environment.checked_parts((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write(")))")


class ProjectSandbox(SandboxedEnvironment):
    """Jinja's sandbox made an allow-list (templates are handed plain data, :mod:`handbook.plain`,
    and may call only the methods named above), with every way to grow a value measured before it
    grows: calls, operators, filters, ``~``, namespaces, loops and the output itself."""

    code_generator_class = _CodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%", "-", "/", "//"})
    intercepted_unops = frozenset({"-", "+"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.checked_parts = checked_parts
        del self.globals["lipsum"]
        self.globals["namespace"] = CheckedNamespace
        self._callable_globals = tuple(self.globals.values())
        self.filters = {name: _guard_filter(name, f) for name, f in self.filters.items()}
        self.filters["loop_guard"] = guard_loop

    def _generate(self, source: nodes.Template, name: str | None, filename: str | None,
                  defer_init: bool = False) -> str:
        for loop in source.find_all(nodes.For):  # every loop counts its steps
            loop.iter = nodes.Filter(loop.iter, "loop_guard", [], [], None, None, lineno=loop.iter.lineno)
        return str(super()._generate(source, name, filename, defer_init))

    def unsafe_undefined(self, obj: Any, attribute: str) -> jinja2.Undefined:
        raise jinja2.exceptions.SecurityError(
            f"{type(obj).__name__}.{attribute} is unsafe: templates may read only plain data")

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(obj, type):  # dict["x"] would make a typing alias: classes have no items
            return self.unsafe_undefined(obj, str(argument))
        return super().getitem(obj, argument)

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, type):
            return self.unsafe_undefined(obj, attribute)
        return super().getattr(obj, attribute)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return allowed_attribute(obj, attr)

    def is_safe_callable(self, obj: Any) -> bool:
        if isinstance(obj, (Macro, Function, LoopContext, Joiner, BlockReference)):
            return True
        if any(obj is g for g in self._callable_globals):
            return True
        owner = getattr(obj, "__self__", None)
        if isinstance(obj, (types.BuiltinMethodType, types.MethodType)) and owner is not None \
                and not isinstance(owner, (types.ModuleType, type)):
            return allowed_attribute(owner, getattr(obj, "__name__", "_"))
        return False

    def wrap_str_format(self, value: Any) -> None:
        return None  # str.format / format_map are not on the allow-list (the |format filter is)

    def call(__self, __context: jinja2.runtime.Context, __obj: Any, *args: Any,
             **kwargs: Any) -> Any:
        _step(CALL_STEPS if isinstance(__obj, (Macro, LoopContext, BlockReference)) else 10)
        if isinstance(__obj, jinja2.Undefined):
            __obj._fail_with_undefined_error()
        if not __self.is_safe_callable(__obj):
            raise jinja2.exceptions.SecurityError(f"calling {_describe(__obj)} is not allowed")
        _expect(call_size(__obj, args, kwargs), f"calling {_describe(__obj)}")
        return check_size(__context.call(__obj, *args, **kwargs), f"calling {_describe(__obj)}")

    def call_binop(self, context: jinja2.runtime.Context, operator_: str, left: Any, right: Any) -> Any:
        _step()
        budget = _limits().chars
        if operator_ in {"*", "**"} and isinstance(left, int) and isinstance(right, int):
            bits = (right * max(abs(left).bit_length(), 1) if operator_ == "**" and right > 0 and abs(left) > 1
                    else abs(left).bit_length() + abs(right).bit_length() if operator_ == "*" else 0)
            if bits > MAX_POWER_BITS:
                raise TemplateTooLarge(f"a number of more than {MAX_POWER_BITS} bits is too large for a template")
        elif operator_ == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(n, int) and not isinstance(seq, (int, float)):
                    _expect(flat_size(seq, budget) * max(n, 0), "repeating with *")
        elif operator_ == "+":
            _expect(flat_size(left, budget) + flat_size(right, budget), "adding with +")
        elif operator_ == "%" and isinstance(left, str):
            _expect(percent_size(left, right), "formatting with %")
        result = super().call_binop(context, operator_, left, right)
        return check_size(result, f"the operator {operator_}")


class _Undefined(jinja2.StrictUndefined):
    """StrictUndefined that names the keys a mapping has, instead of its Python type."""

    @property
    def _undefined_message(self) -> str:
        obj = self._undefined_obj
        if isinstance(obj, Record) and self._undefined_hint is None:
            keys = ", ".join(sorted(str(k) for k in obj))
            return f"no {self._undefined_name!r} here (there is: {keys})"
        return str(super()._undefined_message)


@functools.lru_cache(maxsize=64)
def environment(dirs: tuple[Path, ...], root: Path) -> jinja2.Environment:
    """A sandboxed environment over the search path (cached: one per search path per process)."""
    env = ProjectSandbox(
        loader=_Loader(dirs, root),
        autoescape=True,
        undefined=_Undefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_finalize,
    )
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "default": _json_value}
    env.filters["date"] = _guard_filter("date", format_date)
    env.filters["roman"] = _guard_filter("roman", roman)
    return env


def _json_value(value: Any) -> Any:
    """``|tojson`` of plain data: records as objects, items as arrays, dates as ISO text."""
    if isinstance(value, Record):
        return {str(k): v for k, v in value.items() if not isinstance(v, Function)}
    if isinstance(value, Items):
        return list(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot be written as JSON")


def _finalize(value: Any) -> Any:
    """Every ``{{ value }}`` a template writes: measured before it becomes text."""
    return check_size(value, "writing this value")


def _render(template: jinja2.Template, context: Mapping[str, Any], limit: int) -> str:
    """The template's output, stopped (at the template line writing it) once it passes ``limit``."""
    parts: list[str] = []
    total = 0
    stream = cast(Generator[str, None, None], template.generate(**context))
    chunks: list[str] = []
    for part in stream:
        total += len(part)
        parts.append(part)
        if len(parts) >= 4096:  # many small strings cost more memory than one long one
            chunks.append("".join(parts))
            parts.clear()
        if total > limit:
            parts.clear()
            chunks.clear()
            stream.throw(TemplateTooLarge(
                f"the template writes more than {limit:,} characters; the limit is "
                "limits.template_characters in handbook.yaml"))
    return "".join(chunks) + "".join(parts)


def template_location(exc: BaseException, root: Path) -> tuple[str, int | None]:
    """The template file and line where a rendering error happened."""
    if isinstance(exc, jinja2.TemplateSyntaxError) and exc.filename:
        return display_path(exc.filename, root), exc.lineno
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith(".j2") or "/templates/" in frame.filename:
            return display_path(frame.filename, root), frame.lineno
    return "templates", None


def render_template(dirs: tuple[Path, ...], root: Path, name: str, context: Mapping[str, Any],
                    limits: TemplateLimits | None = None) -> str:
    """Render ``name`` from the search path; errors name the template file and line."""
    env = environment(dirs, root)
    limits = limits or TemplateLimits(seconds=MAX_TEMPLATE_SECONDS)
    outer = (getattr(_budget, "steps", 0), getattr(_budget, "limits", None), getattr(_budget, "check_at", 0))
    _budget.steps = 0
    _budget.check_at = 0
    _budget.limits = limits
    try:
        deadline.check("")  # what runs now is a template, not WeasyPrint (for a timeout's message)
        with deadline.limit(limits.seconds, lambda _: TemplateTimeout()):
            return _render(env.get_template(name), context, limits.chars)
    except TemplateTimeout as exc:
        where, line = template_location(exc, root)
        raise TemplateError("", [Problem(where, line, f"still rendering after {limits.seconds:g} s: "
                                                      "does the template loop for ever? (the limit is "
                                                      "limits.template_seconds in handbook.yaml)")]) from exc
    except TemplateTooLarge as exc:
        where, line = template_location(exc, root)
        raise TemplateError("", [Problem(where, line, f"too large for a template: {exc}")]) from exc
    except jinja2.TemplateNotFound as exc:
        where, line = template_location(exc, root)
        raise TemplateError("", [Problem(where, line,
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
        # The edition's time limit (deadline.edition_limit) stopped a template that loops for ever: say where.
        if exc.problems:
            raise
        # Not an Exception, so Jinja did not map the traceback to template lines: do it here.
        where, line = template_location(jinja2.debug.rewrite_traceback_stack(), root)
        if where == "templates":
            raise
        raise TimeLimitExpired(exc.message, [Problem(where, line, "time ran out while rendering this template "
                                                                  "(does it loop for ever?)")]) from exc
    finally:
        _budget.steps, _budget.limits, _budget.check_at = outer
