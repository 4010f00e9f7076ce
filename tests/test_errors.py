"""Clear errors: every bad input fails the build with exit code 1 and a ``path:line: message``,
before anything is rendered where it can be, without a traceback, and the previous PDFs stay
byte-identical.

One good project is built once (module scope); each case copies it with its ``dist/``, breaks one
thing, builds again through the CLI and compares the bytes of every PDF.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner, Result
from conftest import MINIMAL_SETTINGS, chapter, make_project, write_tree

from handbook.cli import main

# ----------------------------------------------------------------------------------------------
# A server that must never be asked for anything


class Recorder(http.server.BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        Recorder.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """``http://127.0.0.1:PORT`` of a server that records every request it gets."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def no_requests(server: str) -> Iterator[str]:
    Recorder.requests.clear()
    yield server
    assert Recorder.requests == [], f"the test server was asked for {Recorder.requests}"


# ----------------------------------------------------------------------------------------------
# The good project, built once

DEPARTMENT = "name: Finance Office\n"


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with one department, built: dist/handbook.pdf and dist/finance/handbook.pdf."""
    root = make_project(tmp_path_factory.mktemp("good") / "project", {
        "departments": {"finance": {"department.yaml": DEPARTMENT}},
        "content": {"cards.yaml": "size: id-1\ncards: []\n"},
    })
    result = cli("--project", str(root), "build", "--only", "handbook")
    assert result.exit_code == 0, result.output
    assert (root / "dist" / "handbook.pdf").is_file() and (root / "dist" / "finance" / "handbook.pdf").is_file()
    return root


@pytest.fixture
def project(good: Path, tmp_path: Path) -> Path:
    """A copy of the good project, its dist/ included."""
    root = tmp_path / "project"
    shutil.copytree(good, root, symlinks=True)
    return root


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def pdfs(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted((root / "dist").rglob("*.pdf"))}


def no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the first line of ``text`` containing ``needle``."""
    for n, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return n
    raise AssertionError(f"{needle!r} not in {text!r}")


# ----------------------------------------------------------------------------------------------
# The table of bad inputs


@dataclass(frozen=True)
class Case:
    """Break the project (``breaks(root, server)``) and expect ``where`` and ``message`` in the output."""

    breaks: Callable[[Path, str], None]
    where: str  # "path:line" (a regex for the line when it cannot be fixed in advance)
    message: str
    check: bool = True  # `handbook check` finds it too
    server: bool = False  # the case points at the test server


def settings(old: str, new: str) -> Callable[[Path, str], None]:
    def apply(root: Path, server: str) -> None:
        assert old in MINIMAL_SETTINGS
        (root / "handbook.yaml").write_text(MINIMAL_SETTINGS.replace(old, new), encoding="utf-8")
    return apply


def files(spec: dict[str, object]) -> Callable[[Path, str], None]:
    """Files to write (SERVER in their text is replaced by the test server's address)."""
    def serve(value: object, server: str) -> object:
        if isinstance(value, dict):
            return {k: serve(v, server) for k, v in value.items()}
        return value.replace("SERVER", server) if isinstance(value, str) else value

    def apply(root: Path, server: str) -> None:
        write_tree(root, serve(spec, server))  # type: ignore[arg-type]
    return apply


def body(text: str) -> Callable[[Path, str], None]:
    """The first chapter's body (SERVER is replaced by the test server's address)."""
    def apply(root: Path, server: str) -> None:
        write_tree(root, {"content": {"01-first-point.md": chapter(
            "First point", text.replace("SERVER", server), summary="S.", reminder="R.")}})
    return apply


def style(text: str) -> Callable[[Path, str], None]:
    def apply(root: Path, server: str) -> None:
        (root / "styles" / "zz-extra.css").write_text(text.replace("SERVER", server), encoding="utf-8")
    return apply


# The first chapter's body starts on line 7 (---, title, summary, reminder, ---, blank line): "Text.",
# a blank line, then the line under test.
BODY = "content/01-first-point.md:9"
SETTINGS_LINE = {key: line_of(MINIMAL_SETTINGS, key + ":") for key in
                 ("title", "subtitle", "date", "keywords", "contact")}


def huge_image(root: Path, server: str) -> None:
    from PIL import Image

    Image.new("1", (8000, 6000)).save(root / "content" / "big.png")  # 48 megapixels, a few KB
    body("Text.\n\n![A chart](big.png)\n")(root, server)


def secret_link(target: str) -> Callable[[Path, str], None]:
    def apply(root: Path, server: str) -> None:
        secret = root.parent / "secret.txt"
        secret.write_text("not for the handbook", encoding="utf-8")
        os.symlink(secret, root / target)
    return apply


def both(*steps: Callable[[Path, str], None]) -> Callable[[Path, str], None]:
    def apply(root: Path, server: str) -> None:
        for step in steps:
            step(root, server)
    return apply


CASES: dict[str, Case] = {
    "malformed YAML": Case(settings("subtitle: A test edition", "subtitle: Rules: eight"),
                           f"handbook.yaml:{SETTINGS_LINE['subtitle']}", "needs quotes"),
    "unclosed bracket": Case(settings("keywords: [testing, integrity]", "keywords: [testing, integrity"),
                             f"handbook.yaml:{SETTINGS_LINE['keywords']}", "YAML syntax error"),
    "a tab": Case(settings('contact: {hotline: "12345", email: test@example.org}',
                           "contact:\n\temail: test@example.org"),
                  f"handbook.yaml:{SETTINGS_LINE['contact'] + 1}", "a tab is used for indentation"),
    "wrong type": Case(settings("keywords: [testing, integrity]", "keywords: {a: b}"),
                       f"handbook.yaml:{SETTINGS_LINE['keywords']}", "keywords: input should be a valid list"),
    "not a date": Case(settings("date: 2026-01-15", "date: next tuesday"),
                       f"handbook.yaml:{SETTINGS_LINE['date']}", "'next tuesday' is not a date"),
    "impossible date": Case(settings("date: 2026-01-15", "date: 2026-13-45"),
                            f"handbook.yaml:{SETTINGS_LINE['date']}", "'2026-13-45' is not a date"),
    "unknown key": Case(settings("keywords:", "colour: {primary: '#000000'}\nkeywords:"),
                        f"handbook.yaml:{SETTINGS_LINE['keywords']}", "colour: unknown key; did you mean colors?"),
    "bad colour": Case(settings("keywords:", "colors: {primary: red}\nkeywords:"),
                       f"handbook.yaml:{SETTINGS_LINE['keywords']}", "colors.primary: 'red' is not a colour"),
    "bad page size": Case(settings("keywords:", "page_size: b5\nkeywords:"),
                          f"handbook.yaml:{SETTINGS_LINE['keywords']}", "page_size: got 'b5'"),
    "empty title": Case(settings("title: Scratch Handbook", "title: ''"),
                        f"handbook.yaml:{SETTINGS_LINE['title']}", "title: must not be empty"),
    "null title": Case(settings("title: Scratch Handbook", "title:"),
                       f"handbook.yaml:{SETTINGS_LINE['title']}", "title: required, but empty"),
    "bad card size": Case(files({"content": {"cards.yaml": "sheet: a4\nsize: huge\ncards: []\n"}}),
                          "content/cards.yaml:2", "'huge' is not a card size"),
    "card too big for the sheet": Case(files({"content": {"cards.yaml": 'size: "190 x 50 mm"\n'}}),
                                       "content/cards.yaml:1", "does not fit"),
    "unknown card key": Case(files({"content": {"cards.yaml": "size: id-1\nduplx: long-edge\n"}}),
                             "content/cards.yaml:2", "duplx: unknown key; did you mean duplex?"),
    "front matter unknown key": Case(files({"content": {"01-first-point.md": "---\ntitle: First\nsumary: x\n---\n"}}),
                                     "content/01-first-point.md:3", "did you mean summary?"),
    "front matter wrong type": Case(files({"content": {"01-first-point.md":
                                                       "---\ntitle: First\nreminder: R.\nnumbered: perhaps\n---\n"}}),
                                    "content/01-first-point.md:4", "numbered:"),
    "two chapters with one number": Case(files({"content": {"01-another.md": chapter("Another", reminder="R.")}}),
                                         "content/01-first-point.md:1", "chapter number 1 is also used by"),
    "missing logo": Case(files({"departments": {"finance": {"department.yaml": DEPARTMENT + "logo: logo.png\n"}}}),
                         "departments/finance/department.yaml:2", "image 'logo.png' not found"),
    "logo outside the project": Case(
        files({"departments": {"finance": {"department.yaml": DEPARTMENT + "logo: ../../../secret.png\n"}}}),
        "departments/finance/department.yaml:2", "points outside the project"),
    "unknown colour in a department": Case(
        files({"departments": {"finance": {"department.yaml": DEPARTMENT + "colors: {primry: '#123456'}\n"}}}),
        "departments/finance/department.yaml:2", "did you mean primary?"),
    "../ in an excluded chapter slug": Case(
        files({"departments": {"finance": {"department.yaml":
                                           DEPARTMENT + "chapters:\n  exclude:\n    - ../01-first-point\n"}}}),
        "departments/finance/department.yaml:4", "no chapter '../01-first-point'"),
    "../ in an image path": Case(body("Text.\n\n![Secret](../../secret.png)\n"), BODY, "points outside the project"),
    "absolute image path": Case(body("Text.\n\n![Passwords](/etc/passwd)\n"), BODY, "is an absolute path"),
    "file:///etc/passwd as an image": Case(body("Text.\n\n![Passwords](file:///etc/passwd)\n"), BODY,
                                           "file: URLs are refused"),
    "file:///etc/passwd as a link": Case(body("Text.\n\n[Passwords](file:///etc/passwd)\n"), BODY,
                                         "file: links are refused"),
    "file:///etc/passwd in a raw <img>": Case(body('Text.\n\n<img src="file:///etc/passwd" alt="x">\n'), BODY,
                                              "file: URLs are refused"),
    "an attachment": Case(body('Text.\n\n<a rel="attachment" href="file:///etc/passwd">passwords</a>\n'), BODY,
                          "file: links are refused"),
    "an attachment outside the project": Case(body('Text.\n\n<a rel="attachment" href="../../secret.txt">s</a>\n'),
                                              BODY, "points outside the project"),
    "file:///etc/passwd in a summary": Case(
        files({"content": {"01-first-point.md": chapter("First point", "Text.", summary="'![x](file:///etc/passwd)'",
                                                        reminder="R.")}}),
        "content/01-first-point.md:3", "summary: 'file:///etc/passwd'"),
    "javascript: link": Case(body("Text.\n\n[Click](javascript:alert(1))\n"), BODY, "javascript: links are refused"),
    "an http image": Case(body("Text.\n\n![Tracker](SERVER/pixel.png)\n"), BODY, "is not fetched", server=True),
    "an http image in raw HTML": Case(body('Text.\n\n<p>Raw <img src="SERVER/raw.png"></p>\n'), BODY, "is not fetched",
                                      server=True),
    "an https image without --allow-remote": Case(body("Text.\n\n![Remote](https://example.invalid/x.png)\n"),
                                                  BODY, "--allow-remote"),
    "an SVG image that fetches over http": Case(
        both(files({"content": {"chart.svg": '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
                                             '<image href="SERVER/from-svg.png" width="5" height="5"/></svg>'}}),
             body("Text.\n\n![Chart](chart.svg)\n")),
        BODY, "chart.svg refers to", server=True),
    "a data: SVG that fetches over http": Case(
        body("Text.\n\n![Chart](data:image/svg+xml,%3Csvg%20xmlns=%22http://www.w3.org/2000/svg%22%3E"
             "%3Cimage%20href=%22SERVER/from-data.png%22/%3E%3C/svg%3E)\n"),
        BODY, "remote resources are not fetched", server=True),
    "a stylesheet url() over http": Case(style("body {\n  background: url(SERVER/x.png);\n}\n"),
                                         "styles/zz-extra.css:2", "remote resources are not fetched", server=True),
    "a stylesheet @import over http": Case(style('@import "SERVER/x.css";\nbody { color: black }\n'),
                                           "styles/zz-extra.css:1", "remote resources are not fetched", server=True),
    "a stylesheet @import url() over http": Case(
        style("/* a comment\n   over two lines */\n@import url(SERVER/y.css);\n"),
        "styles/zz-extra.css:3", "remote resources are not fetched", server=True),
    "a stylesheet url() with file:": Case(style("h1 { background: url('file:///etc/passwd') }\n"),
                                          "styles/zz-extra.css:1", "file: URLs are refused"),
    "a stylesheet url() outside the project": Case(style("h1 { background: url(../../secret.png) }\n"),
                                                   "styles/zz-extra.css:1", "points outside the project"),
    "a symlink out as an image": Case(both(secret_link("content/photo.png"), body("Text.\n\n![Photo](photo.png)\n")),
                                      BODY, "points outside the project"),
    "a symlink out in a stylesheet url()": Case(
        both(secret_link("styles/paper.png"), style("body { background: url(paper.png) }\n")),
        "styles/zz-extra.css:1", "points outside the project"),
    "a symlink out as a stylesheet": Case(secret_link("styles/zz-extra.css"), "styles/zz-extra.css",
                                          "points outside the project"),
    "a symlink out as a template": Case(
        both(secret_link("templates/partials/secret.html.j2"),
             files({"templates": {"partials": {"toc.html.j2": "{% include 'partials/secret.html.j2' %}\n"}}})),
        "templates/partials/secret.html.j2", "points outside the project"),
    "a symlink out as a chapter": Case(secret_link("content/05-secret.md"), "content/05-secret.md",
                                       "points outside the project"),
    "a huge image": Case(huge_image, BODY, "8000 x 6000 pixels"),
    "a template reaching for __class__": Case(
        files({"templates": {"partials": {"toc.html.j2": "<nav>\n{{ ''.__class__.__mro__ }}\n</nav>\n"}}}),
        "templates/partials/toc.html.j2:2", "not allowed in a template"),
    "a template reaching for the file system": Case(
        files({"departments": {"finance": {"templates": {"partials": {"toc.html.j2":
                                                                      "{{ department.folder.parent.parent }}\n"}}}}}),
        "departments/finance/templates/partials/toc.html.j2:1", "undefined: no 'folder' here"),
    "a template making a huge string": Case(
        files({"templates": {"partials": {"toc.html.j2": "\n{{ 'x' * 10000000000 }}\n"}}}),
        "templates/partials/toc.html.j2:2", "too large for a template"),
}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_bad_input_fails_with_file_and_line_and_keeps_the_previous_pdfs(case: Case, project: Path,
                                                                        no_requests: str) -> None:
    before = pdfs(project)
    case.breaks(project, no_requests)
    result = cli("--project", str(project), "build", "--only", "handbook")
    assert result.exit_code == 1, result.output
    no_traceback(result)
    assert re.search(rf"(?m)^{case.where}(:\d+)?: .*{re.escape(case.message)}", result.output), result.output
    assert pdfs(project) == before
    assert not list((project / "dist").rglob("*.tmp"))


@pytest.mark.parametrize("case", [c for c in CASES.values() if c.check],
                         ids=[name for name, c in CASES.items() if c.check])
def test_check_reports_the_same_problem(case: Case, project: Path, no_requests: str) -> None:
    case.breaks(project, no_requests)
    result = cli("--project", str(project), "check")
    assert result.exit_code == 1, result.output
    no_traceback(result)
    assert re.search(rf"(?m)^{case.where}(:\d+)?: .*{re.escape(case.message)}", result.output), result.output


# ----------------------------------------------------------------------------------------------
# Every problem at once


def test_all_problems_of_all_files_are_reported_together(project: Path) -> None:
    text = MINIMAL_SETTINGS.replace("date: 2026-01-15", "date: soon") + "colour: {}\n"
    (project / "handbook.yaml").write_text(text, encoding="utf-8")
    write_tree(project, {"content": {
        "01-first-point.md": "---\ntitle: First\nsumary: x\n---\n\n![x](missing.png)\n",
        "02-second-point.md": "---\ntitle: 'Second'\nnumbered: perhaps\n---\n",
    }})
    result = cli("--project", str(project), "build")
    assert result.exit_code == 1
    for expected in (f"handbook.yaml:{line_of(text, 'date:')}: date:",
                     f"handbook.yaml:{line_of(text, 'colour:')}: colour: unknown key; did you mean colors?",
                     "content/01-first-point.md:3: sumary: unknown key",
                     "content/01-first-point.md:6: image 'missing.png' not found",
                     "content/02-second-point.md:3: numbered:"):
        assert expected in result.output, result.output


def test_a_department_error_does_not_stop_the_other_editions(project: Path) -> None:
    write_tree(project, {
        "departments": {"audit": {"department.yaml": "name: Audit\nlogo: nowhere.png\n"}},
        "content": {"02-second-point.md": chapter("Second point, revised", reminder="R.")},
    })
    before = pdfs(project)
    result = cli("--project", str(project), "build", "--only", "handbook")
    assert result.exit_code == 1
    assert "departments/audit/department.yaml:2: logo: image 'nowhere.png' not found" in result.output
    assert "build failed for: audit" in result.output
    after = pdfs(project)
    assert after["dist/handbook.pdf"] != before["dist/handbook.pdf"]  # rebuilt with the new chapter
    assert after["dist/finance/handbook.pdf"] != before["dist/finance/handbook.pdf"]
    assert not (project / "dist" / "audit").exists()


# ----------------------------------------------------------------------------------------------
# Runaway input: limits with a clear message


def test_a_template_that_loops_for_ever_is_stopped_by_the_time_limit(project: Path, monkeypatch) -> None:
    import handbook.builder

    write_tree(project, {"templates": {"partials": {"toc.html.j2":
        "<nav>\n{% for a in range(100000) %}{% for b in range(100000) %}{% for c in range(100000) %}"
        "{% endfor %}{% endfor %}{% endfor %}\n</nav>\n"}}})
    # Steps out of reach, so the edition's time limit is the one that stops it (on a fast machine
    # the default step limit came first).
    settings = project / "handbook.yaml"
    assert "limits:" not in settings.read_text(encoding="utf-8")
    with settings.open("a", encoding="utf-8") as f:
        f.write("limits:\n  template_steps: 1000000000000\n")
    before = pdfs(project)
    monkeypatch.setattr(handbook.builder, "BuildOptions",
                        functools.partial(handbook.builder.BuildOptions, max_seconds=4))
    result = cli("--project", str(project), "build", "--only", "handbook", "--jobs", "1")
    assert result.exit_code == 1, result.output
    no_traceback(result)
    assert "stopped after 4 s" in result.output
    assert re.search(r"(?m)^templates/partials/toc\.html\.j2:2: time ran out", result.output), result.output
    assert pdfs(project) == before


def test_check_stops_a_template_that_loops_for_ever(project: Path) -> None:
    write_tree(project, {"templates": {"partials": {"toc.html.j2":
        "<nav>\n{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}\n</nav>\n"}}})
    settings = project / "handbook.yaml"
    settings.write_text(settings.read_text() + "limits: {template_seconds: 1, template_steps: 1000000000}\n")
    result = cli("--project", str(project), "check")
    assert result.exit_code == 1, result.output
    no_traceback(result)
    assert re.search(r"(?m)^templates/partials/toc\.html\.j2:2: still rendering after 1 s", result.output), \
        result.output


def test_the_time_limit_through_the_builder(project: Path) -> None:
    from handbook.builder import BuildOptions, build

    write_tree(project, {"templates": {"partials": {"toc.html.j2":
        "{% for a in range(100000) %}{% for b in range(100000) %}{{ a }}{% endfor %}{% endfor %}\n"}}})
    # The loop never ends, so the limit only has to outlast the work before the contents template (loading,
    # Markdown): 1 s did not on a loaded CI machine, where the time ran out before any template had begun.
    # The steps out of reach, so that the time limit is the one that stops it.
    with (project / "handbook.yaml").open("a", encoding="utf-8") as f:
        f.write("limits:\n  template_steps: 1000000000000\n")
    report = build(project, BuildOptions(only=("handbook",), max_seconds=4, departments=("finance",)))
    assert set(report.failed) == {"finance"}
    text = "\n".join(str(p) for p in report.failed["finance"])
    assert "stopped after 4 s" in text and "templates/partials/toc.html.j2:1" in text, text


def test_too_many_pages(project: Path) -> None:
    from handbook.builder import BuildOptions, build

    before = pdfs(project)
    write_tree(project, {"content": {"02-second-point.md": chapter("Second", "Words.\n\n" * 400, reminder="R.")}})
    report = build(project, BuildOptions(only=("handbook",), max_pages=12))
    assert set(report.failed) == {"organisation-wide", "finance"}
    text = "\n".join(str(p) for p in report.failed["finance"])
    assert re.search(r"handbook has \d+ pages; the limit is 12", text), text
    assert pdfs(project) == before


def test_image_limits_are_settings_of_the_rules(project: Path) -> None:
    from PIL import Image

    from handbook.content import AssetRules, resolve_asset

    Image.new("RGB", (200, 100), "red").save(project / "content" / "small.png")
    assert resolve_asset("small.png", project / "content", AssetRules(project))[1] is None
    why = resolve_asset("small.png", project / "content", AssetRules(project, max_image_pixels=10_000))[1]
    assert why is not None and "200 x 100 pixels" in why
    why = resolve_asset("small.png", project / "content", AssetRules(project, max_image_bytes=10))[1]
    assert why is not None and "the limit is" in why


def test_a_huge_data_image_is_refused(project: Path) -> None:
    import base64
    import io

    from PIL import Image

    png = io.BytesIO()
    Image.new("1", (8000, 6000)).save(png, "PNG")
    data = base64.b64encode(png.getvalue()).decode()
    body(f"Text.\n\n![Chart](data:image/png;base64,{data})\n")(project, "")
    result = cli("--project", str(project), "build", "--only", "handbook")
    assert result.exit_code == 1
    assert f"{BODY}: image (data: URL) is 8000 x 6000 pixels" in result.output


def test_a_huge_image_in_a_stylesheet_is_refused_by_the_fetcher(project: Path) -> None:
    from PIL import Image

    Image.new("1", (8000, 6000)).save(project / "styles" / "paper.png")
    style("body { background: url(paper.png) }\n")(project, "")
    before = pdfs(project)
    result = cli("--project", str(project), "build", "--only", "handbook", "--jobs", "1")
    assert result.exit_code == 1
    no_traceback(result)
    assert "8000 x 6000 pixels" in result.output
    assert pdfs(project) == before


# ----------------------------------------------------------------------------------------------
# Warnings: shown with their stylesheet; --strict makes them errors


def test_weasyprint_warnings_name_the_stylesheet_and_line(project: Path) -> None:
    style("body {\n  colr: red;\n}\n")(project, "")
    result = cli("--project", str(project), "check")
    assert result.exit_code == 0, result.output
    assert re.search(r"(?m)^styles/zz-extra\.css:2: warning: WeasyPrint: .*colr", result.output), result.output
    result = cli("--project", str(project), "check", "--strict")
    assert result.exit_code == 1
    no_traceback(result)


def test_weasyprint_warnings_from_css_in_a_template_name_the_template_and_line(project: Path) -> None:
    toc = project / "templates" / "partials" / "toc.html.j2"
    toc.write_text('<style>\nh1 {\n  colr: red;\n}\n</style>\n<p style="widht: 3px">x</p>\n' + toc.read_text())
    result = cli("--project", str(project), "build", "--only", "handbook", "--jobs", "1")
    assert result.exit_code == 0, result.output
    assert "templates/partials/toc.html.j2:3: warning: WeasyPrint: Ignored `colr: red`" in result.output
    assert "templates/partials/toc.html.j2:6: warning: WeasyPrint: Ignored `widht: 3px`" in result.output


def test_strict_build_fails_on_a_warning_and_keeps_the_previous_pdfs(project: Path) -> None:
    style("body {\n  colr: red;\n}\n")(project, "")
    before = pdfs(project)
    result = cli("--project", str(project), "build", "--only", "handbook", "--strict")
    assert result.exit_code == 1
    assert "styles/zz-extra.css:2" in result.output
    assert pdfs(project) == before
    result = cli("--project", str(project), "build", "--only", "handbook")
    assert result.exit_code == 0, result.output
    assert "styles/zz-extra.css:2: warning:" in result.output


def test_removed_raw_html_is_a_warning_with_its_line(project: Path) -> None:
    body("Text.\n\n<script>alert(1)</script>\n\n<p onclick=\"x()\" style=\"color: red\">Hi</p>\n")(project, "")
    result = cli("--project", str(project), "check")
    assert result.exit_code == 0, result.output
    assert f"{BODY}: warning: <script> removed" in result.output
    assert "content/01-first-point.md:11: warning: onclick= removed" in result.output
    assert "content/01-first-point.md:11: warning: style= removed" in result.output
    assert cli("--project", str(project), "check", "--strict").exit_code == 1


# ----------------------------------------------------------------------------------------------
# Exit codes, and no traceback unless --debug


def test_success_is_exit_0(project: Path) -> None:
    assert cli("--project", str(project), "check").exit_code == 0
    assert cli("--project", str(project), "build").exit_code == 0


@pytest.mark.parametrize("args", [
    ["build", "--bogus"],
    ["build", "--only", "poster"],
    ["build", "--jobs", "0"],
    ["bogus-command"],
    ["new-department"],
])
def test_usage_errors_are_exit_2(project: Path, args: list[str]) -> None:
    result = cli("--project", str(project), *args)
    assert result.exit_code == 2, result.output
    no_traceback(result)


def test_an_unknown_department_slug_is_a_clear_error(project: Path) -> None:
    before = pdfs(project)
    for slug in ("../content", "nowhere"):
        result = cli("--project", str(project), "build", "-d", slug)
        assert result.exit_code == 1
        no_traceback(result)
        assert f"no department '{slug}'" in result.output
    assert pdfs(project) == before


def test_no_project_is_a_clear_error(tmp_path: Path) -> None:
    result = cli("--project", str(tmp_path), "build")
    assert result.exit_code == 1
    no_traceback(result)
    assert "no handbook.yaml found" in result.output


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_an_output_folder_that_cannot_be_written_is_a_clear_error(project: Path, tmp_path: Path,
                                                                  jobs: str) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the output folder should be", encoding="utf-8")
    result = cli("--project", str(project), "build", "--only", "handbook", "--jobs", jobs,
                 "--out", str(blocker / "dist"))
    assert result.exit_code == 1, result.output
    no_traceback(result)
    assert "cannot write" in result.output


def test_an_output_in_the_way_is_a_clear_error(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "handbook.pdf").mkdir(parents=True)  # a folder where the PDF should go
    result = cli("--project", str(project), "build", "--only", "handbook", "--jobs", "1", "--out", str(out))
    assert result.exit_code == 1, result.output
    no_traceback(result)
    assert re.search(r"cannot write .*handbook\.pdf", result.output), result.output
    assert (out / "finance" / "handbook.pdf").is_file()  # the other edition is written
    assert not list(out.rglob("*.tmp"))


def test_an_unreadable_chapter_is_a_clear_error(project: Path) -> None:
    (project / "content" / "03-folder.md").mkdir()  # named like a chapter, but a folder
    (project / "content" / "03-folder.md" / "notes.txt").write_text("notes", encoding="utf-8")
    result = cli("--project", str(project), "build", "--only", "handbook")
    assert result.exit_code == 1
    no_traceback(result)
    assert "content/03-folder.md: cannot read" in result.output


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "handbook.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_a_user_error_shows_no_traceback_but_debug_does(project: Path) -> None:
    (project / "handbook.yaml").write_text(MINIMAL_SETTINGS + "colour: {}\n", encoding="utf-8")
    plain = _run("--project", str(project), "build", cwd=project)
    assert plain.returncode == 1
    assert "colour: unknown key; did you mean colors?" in plain.stderr
    assert "Traceback" not in plain.stderr + plain.stdout
    debug = _run("--debug", "--project", str(project), "build", cwd=project)
    assert debug.returncode == 1
    assert "Traceback" in debug.stderr


def test_a_render_error_in_a_worker_shows_no_traceback(project: Path) -> None:
    write_tree(project, {"templates": {"partials": {"toc.html.j2": "{{ ''.__class__ }}\n"}}})
    result = _run("--project", str(project), "build", "--jobs", "2", cwd=project)
    assert result.returncode == 1
    assert "templates/partials/toc.html.j2:1: not allowed in a template" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


# ----------------------------------------------------------------------------------------------
# Lines inside raw HTML blocks; file names that Markdown percent-encodes


def test_problems_in_a_raw_html_block_name_their_own_line(project: Path) -> None:
    body("Text.\n\n<div>\n<p>fine</p>\n<img src=\"file:///etc/passwd\">\n<script>\nx\n</script>\n</div>\n")(project, "")
    result = cli("--project", str(project), "check")
    assert result.exit_code == 1
    assert "content/01-first-point.md:11: 'file:///etc/passwd'" in result.output
    assert "content/01-first-point.md:12: warning: <script> removed" in result.output


def test_an_image_whose_name_has_spaces_and_accents_is_found(project: Path) -> None:
    from PIL import Image

    Image.new("RGB", (20, 10), "red").save(project / "content" / "café photo.png")
    body("Text.\n\n![Café](<café photo.png>)\n")(project, "")
    result = cli("--project", str(project), "build", "--only", "handbook", "--jobs", "1")
    assert result.exit_code == 0, result.output
    assert 'src="data:image/png;base64,' in (project / "dist" / "handbook.html").read_text(encoding="utf-8")
    body("Text.\n\n![Out](%2e%2e/%2e%2e/secret.png) ![Abs](%2Fetc%2Fpasswd)\n")(project, "")
    result = cli("--project", str(project), "check")
    assert result.exit_code == 1
    assert result.output.count("points outside the project") == 2, result.output


def test_an_output_folder_that_cannot_be_written_shows_no_traceback_with_workers(project: Path,
                                                                                 tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the output folder should be", encoding="utf-8")
    result = _run("--project", str(project), "build", "--only", "handbook", "--jobs", "2",
                  "--out", str(blocker / "dist"), cwd=project)
    assert result.returncode == 1
    assert "cannot write" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
