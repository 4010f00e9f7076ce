"""Department templates cannot run code, read files or exhaust the machine.

Three layers:

* every attribute of every object a template sees, enumerated from the real context of a real
  edition (and of Jinja's own objects: loop, self, namespace, cycler, joiner, macros), read and
  called from a template: only the allow-list answers, and it answers with plain data;
* a table of escape attempts, each a department's template in one scratch project built through
  the CLI: each fails alone with its template's path and line, no traceback, nothing runs (a marker
  file is not created), nothing is read (a secret outside the project is in no output);
* a table of templates that grow a string, a list or a loop, built in a subprocess under a memory
  limit: each stops with its path and line and a limit message.
"""

from __future__ import annotations

import re
import resource
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
import pytest
from click.testing import CliRunner
from conftest import make_project
from markupsafe import Markup

from handbook.cli import main
from handbook.errors import TemplateError
from handbook.plain import Function, Items, Record, to_data
from handbook.project import load_project
from handbook.render import card_pages, context
from handbook.theme import TemplateLimits, allowed_attribute, environment, render_template

TOKEN = f"SECRET{uuid.uuid4().hex[:12].upper()}"


def _cover(expression: str) -> str:
    """A department handbook template whose line 3 holds ``expression``."""
    return '{% extends "base/handbook.html.j2" %}\n{% block cover %}\n' + expression + "\n{% endblock %}\n"


# ----------------------------------------------------------------------------------------------
# 1. What a template sees: enumerated


@pytest.fixture(scope="module")
def seen(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A project with a department (logo, colours, contact, cards) and the context its templates get."""
    base = tmp_path_factory.mktemp("seen")
    root = make_project(base / "project", {"departments": {"audit": {
        "department.yaml": "name: Audit Office\nlogo: logo.svg\ncolors: {primary: '#123456'}\n"
                           "contact: {hotline: '999', note: Call us.}\n",
        "logo.svg": '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
    }}})
    project = load_project(root)
    edition = next(e for e in project.editions if e.slug == "audit")
    pages, _ = card_pages(edition, "sheets")
    ctx = context(edition, target="print", out_dir=root / "dist", document="cards",
                  extra={"pages": pages, "scale": {(1, "front"): 0.9}})
    return root, ctx


def walk(value: Any, path: str, seen_ids: set[int]) -> Iterator[tuple[str, Any]]:
    """Every value reachable from ``value``, with the template expression that reaches it."""
    if id(value) in seen_ids:
        return
    seen_ids.add(id(value))
    yield path, value
    if isinstance(value, Record):
        for key, item in value.items():
            sub = f"{path}.{key}" if isinstance(key, str) and key.isidentifier() else f"{path}[{key!r}]"
            yield from walk(item, sub, seen_ids)
    elif isinstance(value, Items):
        for i, item in enumerate(value):
            yield from walk(item, f"{path}[{i}]", seen_ids)
            if i >= 2:
                break


PLAIN = (str, int, float, bool, type(None), Record, Items, Function, Markup)


def test_the_context_is_plain_data_and_holds_no_path_of_the_machine(seen: tuple[Path, dict[str, Any]]) -> None:
    root, ctx = seen
    values = [(p, v) for name, value in ctx.items() for p, v in walk(value, name, set())]
    assert len(values) > 100
    import datetime as dt

    for path, value in values:
        assert isinstance(value, PLAIN) or type(value) is dt.date, (path, type(value))
        if isinstance(value, str):
            assert str(root) not in value, path
            assert str(root.resolve()) not in value, path
    assert ctx["department"]["logo"] == "departments/audit/logo.svg"
    assert "folder" not in ctx["department"]


def test_the_converter_refuses_what_it_does_not_know(tmp_path: Path) -> None:
    class Live:
        def run(self) -> None: ...

    for bad in (tmp_path, Live(), {1, 2}, b"bytes", open, {"a": [tmp_path]}):
        with pytest.raises(TypeError, match="a template cannot be given"):
            to_data(bad)


def _objects(ctx: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """A template expression per kind of object a template can hold, with the context it needs."""
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for name, value in ctx.items():
        for path, item in walk(value, name, set()):
            found.setdefault(type(item).__name__, (path, ctx))
    return found


JINJA_OBJECTS = {  # Jinja's own objects, made inside a template: "{% ... %}{{ X.NAME }}"
    "loop": "{% for x in [1, 2] %}{{ loop.NAME }}{% endfor %}",
    "self": "{{ self.NAME }}",
    "namespace": "{% set ns = namespace(a=1) %}{{ ns.NAME }}",
    "cycler": "{% set c = cycler(1, 2) %}{{ c.NAME }}",
    "joiner": "{% set j = joiner(',') %}{{ j.NAME }}",
    "macro": "{% macro m() %}x{% endmacro %}{{ m.NAME }}",
    "caller": "{% macro m() %}{{ caller.NAME }}{% endmacro %}{% call m() %}x{% endcall %}",
    "range": "{{ range.NAME }}",
    "dict": "{{ dict.NAME }}",
    "namespace-class": "{{ namespace.NAME }}",
    "block": "{% block b %}x{% endblock %}{{ self.b.NAME }}",
    "list": "{{ [1].NAME }}",
    "template-dict": "{{ {'a': 1}.NAME }}",
    "int": "{{ (1).NAME }}",
    "items-view": "{{ handbook.items().NAME }}",
}


def _render(root: Path, source: str, ctx: dict[str, Any]) -> str:
    env = environment((root / "templates",), root)
    return str(env.from_string(source).render(**ctx))


def _refused(root: Path, source: str, ctx: dict[str, Any]) -> bool:
    try:
        _render(root, source, ctx)
    except (jinja2.exceptions.SecurityError, jinja2.UndefinedError):
        return True
    except (TypeError, ValueError, AttributeError):
        return True  # the call failed before reaching anything (e.g. wrong arguments to an allowed method)
    return False


ALL_NAMES = sorted({n for t in (str, Markup, Record, Items, Function, dict, list, int, float, type, object,
                                  jinja2.runtime.LoopContext, jinja2.runtime.Macro, jinja2.utils.Cycler,
                                  jinja2.utils.Joiner, jinja2.runtime.TemplateReference,
                                  jinja2.runtime.BlockReference)
                    for n in dir(t)}
                   | {"parse_raw", "parse_file", "model_validate_json", "copy", "json", "dict", "folder",
                      "raw", "read_text", "open", "joinpath", "parent", "mro", "func_globals", "gi_frame",
                      "cr_frame", "f_globals", "tb_frame", "fromkeys", "update", "pop", "setdefault",
                      "append", "clear", "format", "format_map", "encode", "translate", "maketrans",
                      "strftime", "replace", "ctime", "timetuple", "mapping", "_fn", "_data", "_items",
                      "_size", "_name"})


def test_every_attribute_of_every_object_a_template_sees_is_refused_unless_allowed(
        seen: tuple[Path, dict[str, Any]]) -> None:
    root, ctx = seen
    objects = _objects(ctx)
    assert {"Record", "Items", "str", "Markup", "date", "Function", "int", "float"} <= set(objects), objects
    checked = 0
    for kind, (path, _) in objects.items():
        for name in ALL_NAMES:
            for source in ("{{ X.NAME }}", "{{ X['NAME'] }}", "{{ X|attr('NAME') }}", "{{ X.NAME() }}"):
                template = source.replace("X", path).replace("NAME", name)
                obj = eval_path(ctx, path)
                allowed = allowed_attribute(obj, name) or (isinstance(obj, Record) and name in obj)
                if not allowed:
                    assert _refused(root, template, ctx), (kind, template)
                    checked += 1
    assert checked > 3000


def eval_path(ctx: dict[str, Any], path: str) -> Any:
    env = jinja2.Environment()
    return env.compile_expression(path)(**ctx)


@pytest.mark.parametrize("kind", list(JINJA_OBJECTS))
def test_every_attribute_of_jinjas_own_objects_is_refused_unless_allowed(
        seen: tuple[Path, dict[str, Any]], kind: str) -> None:
    root, ctx = seen
    allowed_by_kind = {"loop": {"index", "index0", "revindex", "revindex0", "first", "last", "length", "depth",
                                "depth0", "previtem", "nextitem", "cycle", "changed"},
                       "cycler": {"next", "current", "reset"}, "namespace": {"a"},
                       "template-dict": {"items", "keys", "values", "get", "a"}, "block": {"super"},
                       "items-view": set()}.get(kind, set())
    refused = 0
    for name in ALL_NAMES:
        if name in allowed_by_kind:
            continue
        for form in (".NAME", ".NAME()", "|attr('NAME')"):
            template = JINJA_OBJECTS[kind].replace(".NAME", form.replace("NAME", name))
            if kind == "self" and not name.startswith("_") and form != ".NAME()":
                continue  # self.<block name> is a block; an unknown one is undefined when written
            assert _refused(root, template, ctx), template
            refused += 1
    assert refused > 300


def test_allowed_methods_return_plain_data(seen: tuple[Path, dict[str, Any]]) -> None:
    root, ctx = seen
    assert _render(root, "{{ handbook.title.upper() }}", ctx) == "SCRATCH HANDBOOK"
    assert _render(root, "{{ handbook.date.isoformat() }}", ctx) == "2026-01-15"
    assert _render(root, "{{ handbook.contact.line(labels.hotline) }}", ctx) == "Hotline 999"
    assert _render(root, "{{ handbook.colors.get('primary') }}", ctx) == "#123456"
    assert _render(root, "{{ handbook.keywords|join(', ') }}", ctx) == "testing, integrity"
    assert _render(root, "{{ scale.get((1, 'front'), 1.0) }}", ctx) == "0.9"
    assert _render(root, "{% for k, v in department.colors.items() %}{{ k }}{% endfor %}", ctx).startswith("primary")
    assert _render(root, "{{ handbook.contact|tojson }}", ctx) == (
        '{"address": null, "email": null, "hotline": "999", "note": "Call us.", "web": null}')
    assert '"date": "2026-01-15"' in _render(root, "{{ handbook|tojson }}", ctx)


# ----------------------------------------------------------------------------------------------
# 2. Escape attempts, built through the CLI


def escapes(secret: Path, marker: Path) -> dict[str, str]:
    """slug -> expression (line 3 of the department's handbook template)."""
    pickle = f"cos\\nsystem\\n(S'touch {marker}'\\ntR."
    return {
        "parse-raw-pickle": f'{{{{ handbook.parse_raw("{pickle}", proto="pickle", allow_pickle=True) }}}}',
        "parse-file": f'{{{{ handbook.parse_file("{secret}") }}}}',
        "class-parse-file": f'{{{{ handbook.__class__.parse_file("{secret}") }}}}',
        "model-validate": '{{ handbook.model_validate_json("{}") }}',
        "contact-self": "{{ handbook.contact.line.__self__ }}",
        "contact-fn": "{{ handbook.contact.line._fn.__globals__ }}",
        "contact-line-object": "{{ handbook.contact.line(handbook) }}",
        "format-class": '{{ "{0.__class__.__mro__}".format(handbook) }}',
        "format-globals": '{{ "{0.get.__globals__}".format(handbook) }}',
        "format-map": '{{ "{title.__class__}".format_map(handbook) }}',
        "format-filter-class": '{{ "%s"|format(handbook.__class__) }}',
        "percent-class": '{{ "%s" % handbook.get.__func__ }}',
        "attr-filter": '{{ handbook|attr("__class__") }}',
        "attr-filter-dict": '{{ handbook|attr("_data") }}',
        "map-attribute": '{{ chapters|map(attribute="__class__")|list }}',
        "map-attr-filter": '{{ chapters|map("attr", "__init__")|list }}',
        "selectattr-private": '{{ chapters|selectattr("_items")|list }}',
        "sort-attribute": '{{ chapters|sort(attribute="__class__.__name__")|list }}',
        "cycler-globals": "{{ cycler.__init__.__globals__.os.system('touch " + str(marker) + "') }}",
        "joiner-globals": "{{ joiner.__init__.__globals__ }}",
        "namespace-globals": "{{ namespace.__init__.__globals__['__builtins__'] }}",
        "lipsum-globals": "{{ lipsum.__globals__['os'].popen('id').read() }}",
        "range-self": "{{ range.__self__ }}",
        "dict-fromkeys": "{{ dict.fromkeys([1]) }}",
        "dict-mro": "{{ dict.mro() }}",
        "loop-class": "{% for c in chapters %}{{ loop.__class__.__init__.__globals__ }}{% endfor %}",
        "loop-iterator": "{% for c in chapters %}{{ loop._iterator }}{% endfor %}",
        "self-context": "{{ self._TemplateReference__context }}",
        "self-globals": "{{ self.__init__.__globals__ }}",
        "macro-func": "{% macro m() %}{% endmacro %}{{ m._func.__globals__ }}",
        "namespace-attrs": "{% set ns = namespace() %}{{ ns._Namespace__attrs }}",
        "date-class": "{{ handbook.date.__class__.today() }}",
        "date-replace": "{{ handbook.date.replace(year=1).ctime() }}",
        "string-subclasses": "{{ ''.__class__.__base__.__subclasses__() }}",
        "tuple-class": "{{ ().__class__.__bases__ }}",
        "str-join-self": "{{ ''.join.__self__ }}",
        "str-encode": "{{ handbook.title.encode('utf-8') }}",
        "department-folder": "{{ department.folder|string }}",
        "department-raw": "{{ department.raw }}",
        "record-data": "{{ handbook._data }}",
        "items-view-mapping": "{{ handbook.items()._mapping }}",
        "dict-update": "{% set d = dict(a=1) %}{{ d.update(b=2) }}",
        "list-append": "{% set l = [1] %}{{ l.append(2) }}",
        "config-global": "{{ config.items() }}",
        "request-global": "{{ request.application.__globals__ }}",
        "import-absolute": f'{{% import "{secret}" as s %}}{{{{ s }}}}',
        "include-dotdot": '{% include "../../../../secret.txt" %}',
        "include-base-dotdot": '{% include "base/../../secret.txt" %}',
        "extends-absolute-in-block": f'{{% include "{secret}" ignore missing %}}{{{{ handbook.__class__ }}}}',
        "set-class-then-call": "{% set c = handbook.__class__ %}{{ c.parse_file('x') }}",
    }


@pytest.fixture(scope="module")
def escape_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Path, dict[str, str]]:
    base = tmp_path_factory.mktemp("escape")
    secret = base / "secret.txt"
    secret.write_text(f"The password is {TOKEN}\n", encoding="utf-8")
    marker = base / "MARKER"
    table = escapes(secret, marker)
    departments: dict[str, Any] = {"control": {"department.yaml": "name: Control\n"}}
    for slug, expression in table.items():
        departments[slug] = {"department.yaml": f"name: Team {slug}\n",
                             "templates": {"handbook.html.j2": _cover(expression)}}
    root = make_project(base / "project", {"departments": departments})
    result = CliRunner().invoke(main, ["--project", str(root), "build", "--only", "handbook", "--jobs", "2",
                                       "--save-html"])
    return root, result.output, marker, table


def test_every_escape_fails_with_its_template_path_and_line(
        escape_build: tuple[Path, str, Path, dict[str, str]]) -> None:
    root, output, _, table = escape_build
    assert "Traceback" not in output
    for slug in table:
        pattern = rf"(?m)^departments/{re.escape(slug)}/templates/handbook\.html\.j2:3: "
        assert re.search(pattern, output), (slug, output)
        assert not (root / "dist" / slug / "handbook.pdf").exists(), slug
    failed = re.search(r"build failed for: ([^(]*)", output)
    assert failed, output
    assert {n.strip() for n in failed[1].split(",")} == set(table)
    assert (root / "dist" / "control" / "handbook.pdf").is_file()


def test_no_escape_runs_reads_or_leaks(escape_build: tuple[Path, str, Path, dict[str, str]]) -> None:
    root, output, marker, _ = escape_build
    assert not marker.exists()
    assert TOKEN not in output
    for path in (root / "dist").rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path
            assert str(root).encode() not in path.read_bytes(), path
    assert "<" not in "".join(line.split(": ", 1)[-1] for line in output.splitlines()
                              if line.startswith("departments/") and "object at 0x" in line)


# ----------------------------------------------------------------------------------------------
# 3. Growing without bound: under a memory limit, in a subprocess

GROWTH = {  # slug -> expression on line 3
    "center": "{{ 'x'.center(10**9) }}",
    "ljust": "{{ handbook.title.ljust(2000000000) }}",
    "rjust-loop": "{% set ns = namespace(s='ab') %}{% for i in range(60) %}{% set ns.s = ns.s.rjust(ns.s|length * 2) %}"
                  "{% endfor %}{{ ns.s|length }}",
    "zfill": "{{ '1'.zfill(999999999) }}",
    "expandtabs": "{{ ('\t' * 1000).expandtabs(10**7) }}",
    "percent-width": "{{ '%999999999s' % 'x' }}",
    "percent-star": "{{ '%*d' % (10**9, 1) }}",
    "percent-precision": "{{ '%.999999999f' % 1.5 }}",
    "format-filter-width": "{{ '%0999999999d'|format(7) }}",
    "concat-doubling": "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"
                       "{{ ns.s|length }}",
    "plus-doubling": "{% set ns = namespace(s=handbook.title) %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}"
                     "{% endfor %}",
    "list-doubling": "{% set ns = namespace(l=[1]) %}{% for i in range(40) %}{% set ns.l = ns.l + ns.l %}{% endfor %}",
    "nested-doubling": "{% set ns = namespace(t=[1]) %}{% for i in range(60) %}{% set ns.t = [ns.t, ns.t] %}"
                       "{% endfor %}{{ ns.t }}",
    "nested-doubling-join": "{% set ns = namespace(t=['ab']) %}{% for i in range(60) %}{% set ns.t = [ns.t, ns.t] %}"
                            "{% endfor %}{{ ns.t|join }}",
    "many-tilde": "{% set s = 'x' * 900000 %}{{ " + " ~ ".join(["s"] * 40) + " }}",
    "range-nested": "{% for a in range(100000) %}{% for b in range(100000) %}{% for c in range(100000) %}"
                    "{% endfor %}{% endfor %}{% endfor %}",
    "range-output": "{% for a in range(100000) %}{% for b in range(100000) %}{{ handbook.title * 100 }}{% endfor %}"
                    "{% endfor %}",
    "join-large": "{{ (range(100000)|list) * 9 | join('x' * 100) }}",
    "join-method": "{{ ('x' * 100000).join(range(100000)|map('string')) }}",
    "replace-filter": "{{ ('a' * 100000)|replace('a', 'b' * 100000) }}",
    "replace-method": "{{ ('a' * 100000).replace('', 'bbbbbbbbbbbbbbbbbbbb' * 1000) }}",
    "recursion": "{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}{{ m(0) }}",
    "recursion-fanout": "{% macro m(n) %}{% if n < 64 %}{{ m(n + 1) }}{{ m(n + 1) }}{% endif %}{% endmacro %}"
                        "{{ m(0) }}",
    "recursive-loop": "{% for x in [[1]] recursive %}{{ loop([x, x]) }}{% endfor %}",
    "star": "{{ [1, 2, 3] * 100000000 }}",
    "star-nested": "{{ [[1] * 1000000] * 1000 }}",
    "power": "{{ 10 ** 100000000 }}",
    "int-squaring": "{% set ns = namespace(n=3) %}{% for i in range(40) %}{% set ns.n = ns.n * ns.n %}{% endfor %}",
    "center-filter": "{{ 'x'|center(10**9) }}",
    "indent-filter": "{{ ('a\\n' * 100000)|indent(100000) }}",
    "wordwrap": "{{ ('ab ' * 1000000)|wordwrap(1, wrapstring='x' * 100000) }}",
    "sum-lists": "{{ ([[1] * 1000000] * 1000)|sum(start=[]) }}",
    "batch-fill": "{{ [1]|batch(1000000000, fill_with='x')|list }}",
    "list-of-chars": "{{ ('x' * 30000000)|list }}",
    "escape-blowup": "{{ ('&' * 20000000)|e }}",
    "tojson": "{{ ('<' * 20000000)|tojson }}",
    "split-many": "{{ (',' * 30000000).split(',') }}",
}


@pytest.fixture(scope="module")
def growth_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict[str, float]]:
    base = tmp_path_factory.mktemp("growth")
    departments: dict[str, Any] = {}
    for slug, expression in GROWTH.items():
        departments[slug] = {"department.yaml": f"name: Team {slug}\n",
                             "templates": {"handbook.html.j2": _cover(expression)}}
    root = make_project(base / "project", {"departments": departments})
    limit = 1500 * 1024 * 1024  # address space: the interpreter, WeasyPrint's libraries and the render
    code = (f"import resource, sys; resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit})); "
            "from handbook.cli import main; sys.exit(main())")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run([sys.executable, "-c", code, "--project", str(root), "check"],
                          capture_output=True, text=True, timeout=900)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    figures = {"seconds": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
               "peak_mb": after.ru_maxrss / 1024, "exit": proc.returncode}
    print(f"growth table: {len(GROWTH)} templates checked in {figures['seconds']:.1f} s of CPU, "
          f"peak {figures['peak_mb']:.0f} MB resident")
    return root, proc.stdout + proc.stderr, figures


def test_every_growing_template_stops_with_its_path_line_and_a_limit(
        growth_build: tuple[Path, str, dict[str, float]]) -> None:
    _, output, figures = growth_build
    assert figures["exit"] == 1, output
    assert "Traceback" not in output and "MemoryError" not in output, output
    for slug in GROWTH:
        pattern = (rf"(?m)^departments/{re.escape(slug)}/templates/handbook\.html\.j2:3: "
                   r"(too large for a template|template recursion too deep|still rendering after"
                   r"|time ran out while rendering this template)")
        assert re.search(pattern, output), (slug, output)


def test_the_limits_are_settings(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project", {"templates": {"partials": {
        "toc.html.j2": "{{ 'x' * 5000 }}\n"}}})
    project = load_project(root)
    edition = project.editions[0]
    with pytest.raises(TemplateError) as failed:
        render_template(edition.template_dirs, root, "handbook.html.j2",
                        context(edition, target="print", out_dir=root / "dist", document="handbook"),
                        TemplateLimits(chars=4000))
    assert str(failed.value.problems[0]).startswith("templates/partials/toc.html.j2:1: too large for a template")
