"""Nothing leaked: WeasyPrint reads only files inside the project and data: URLs, through one
fetcher; raw HTML in Markdown cannot run, embed or fetch anything; and a secret file outside the
project never reaches a PDF or a web page, whatever route a project tries.
"""

from __future__ import annotations

import http.server
import os
import re
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import chapter, make_project, pdftotext
from pypdf import PdfReader
from pypdf.generic import StreamObject

from handbook.cli import main
from handbook.content import AssetRules, render_markdown
from handbook.pdf import ProjectFetcher

TOKEN = f"SECRET{uuid.uuid4().hex[:12].upper()}"
CONTROL = f"CONTROL{uuid.uuid4().hex[:12].upper()}"


def svg_text(text: str) -> str:
    return ('<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40">'
            f'<text x="5" y="25" font-size="14">{text}</text></svg>')


# ----------------------------------------------------------------------------------------------
# Reading everything a PDF holds


def pdf_payload(path: Path) -> bytes:
    """The raw bytes of a PDF and every stream in it, decompressed (text, images, attachments)."""
    raw = path.read_bytes()
    parts = [raw]
    reader = PdfReader(path)
    size = int(reader.trailer["/Size"])
    for number in range(1, size):
        try:
            obj = reader.get_object(number)
        except Exception:  # a free entry in the cross-reference table
            continue
        if isinstance(obj, StreamObject):
            try:
                parts.append(obj.get_data())
            except Exception:  # an image filter pypdf does not decode: its raw bytes are in ``raw``
                continue
    return b"\n".join(parts)


def leaked(dist: Path, token: str) -> list[str]:
    """Every output in ``dist`` whose text or bytes hold ``token``."""
    found = []
    for path in sorted(p for p in dist.rglob("*") if p.is_file()):
        if path.suffix == ".pdf":
            if token in pdftotext(path) or token.encode() in pdf_payload(path):
                found.append(str(path))
        elif token.encode() in path.read_bytes():
            found.append(str(path))
    return found


# ----------------------------------------------------------------------------------------------
# The project: every department tries one route to the secret


@pytest.fixture(scope="module")
def attempt(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Build a project whose departments each try to read a secret outside the project.

    Returns the project and the build's output.
    """
    base = tmp_path_factory.mktemp("leak")
    secrets = base / "secrets"
    secrets.mkdir()
    (secrets / "secret.txt").write_text(f"The password is {TOKEN}\n", encoding="utf-8")
    (secrets / "secret.svg").write_text(svg_text(TOKEN), encoding="utf-8")
    (secrets / "secret.css").write_text(f'h1::after {{ content: "{TOKEN}"; }}\n', encoding="utf-8")
    (secrets / "05-secret.md").write_text(f"---\ntitle: Leaked\nreminder: R.\n---\n\n{TOKEN}\n", encoding="utf-8")

    def dept(name: str, **files: object) -> dict[str, object]:
        return {"department.yaml": f"name: {name}\n", **files}

    def body(text: str) -> dict[str, object]:
        return {"content": {"07-own.md": chapter("Own chapter", text, reminder="R.")}}

    root = make_project(base / "project", {
        "departments": {
            # Controls: a clean department, and one whose own SVG (inside the project) is printed.
            "clean": dept("Clean"),
            "control": dept("Control", **{"control.svg": svg_text(CONTROL)}, **body("![Control](../control.svg)")),
            "image-link": dept("Image Link", **body("![Photo](photo.svg)")),
            "image-dotdot": dept("Image Dotdot", **body("![Photo](../../../../secrets/secret.svg)")),
            "image-absolute": dept("Image Absolute", **body(f"![Photo]({secrets / 'secret.svg'})")),
            "image-file-url": dept("Image File", **body(f"<img src=\"file://{secrets / 'secret.svg'}\">")),
            "css-link": dept("Css Link", styles={"leak.css": "body { background: url(paper.svg) }\n"
                                                             "h1::before { content: url(paper.svg) }\n"}),
            "css-import": dept("Css Import", styles={"leak.css": "@import url(extra.css);\n"}),
            "css-import-abs": dept("Css Import Abs", styles={"leak.css": f"@import 'file://{secrets}/secret.css';\n"}),
            "css-font": dept("Css Font", styles={"leak.css": "@font-face { font-family: X; src: url(font.ttf) }\n"
                                                             "body { font-family: X }\n"}),
            "stylesheet-link": dept("Stylesheet Link"),
            "template-include": dept("Template Include", templates={"partials": {
                "toc.html.j2": "{% include 'partials/secret.html.j2' %}\n"}}),
            "template-html": dept("Template Html", templates={"partials": {"toc.html.j2": (
                f'<img src="file://{secrets}/secret.svg">'
                f'<link rel="attachment" href="file://{secrets}/secret.txt">'
                f'<a rel="attachment" href="../../../secrets/secret.txt">x</a>\n')}}),
            "template-folder": dept("Template Folder", templates={"partials": {"toc.html.j2": (
                "{{ department.folder.joinpath('../../../secrets/secret.txt').read_text() }}\n")}}),
            "chapter-link": dept("Chapter Link"),
            "logo-link": {"department.yaml": "name: Logo Link\nlogo: logo.svg\n"},
            "attachment": dept("Attachment", **body(
                '<a rel="attachment" href="secret.txt">the file</a> <link rel="attachment" href="secret.txt">')),
            "svg-reference": dept("Svg Reference", **{"chart.svg": (
                '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="200" '
                f'height="40"><image xlink:href="file://{secrets}/secret.svg" width="200" height="40"/></svg>')},
                **body("![Chart](../chart.svg)")),
        },
    })
    links = {
        "departments/image-link/content/photo.svg": secrets / "secret.svg",
        "departments/css-link/styles/paper.svg": secrets / "secret.svg",
        "departments/css-import/styles/extra.css": secrets / "secret.css",
        "departments/css-font/styles/font.ttf": secrets / "secret.txt",
        "departments/stylesheet-link/styles/leak.css": secrets / "secret.css",
        "departments/template-include/templates/partials/secret.html.j2": secrets / "secret.txt",
        "departments/chapter-link/content/05-secret.md": secrets / "05-secret.md",
        "departments/logo-link/logo.svg": secrets / "secret.svg",
        "departments/attachment/content/secret.txt": secrets / "secret.txt",
    }
    for link, target in links.items():
        (root / link).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, root / link)
    result = CliRunner().invoke(main, ["--project", str(root), "build", "--only", "handbook", "--jobs", "4"])
    return root, result.output


def test_the_leak_detector_finds_text_from_an_svg(attempt: tuple[Path, str]) -> None:
    root, _ = attempt
    assert leaked(root / "dist" / "control", CONTROL), "the control SVG's text should be in its PDF"


def test_the_secret_is_in_no_output(attempt: tuple[Path, str]) -> None:
    root, output = attempt
    assert list((root / "dist").rglob("*.pdf")), output
    assert leaked(root / "dist", TOKEN) == []


def test_only_the_clean_editions_are_built(attempt: tuple[Path, str]) -> None:
    root, output = attempt
    built = sorted(p.parent.name for p in (root / "dist").glob("*/handbook.pdf"))
    assert built == ["clean", "control"], output
    assert (root / "dist" / "handbook.pdf").is_file()
    failed = re.search(r"build failed for: ([^(]*)", output)
    assert failed, output
    names = {n.strip() for n in failed[1].split(",")}
    every = {p.name for p in (root / "departments").iterdir()} - {"clean", "control"}
    assert names == every, output


@pytest.mark.parametrize(("slug", "where"), [
    ("image-link", "departments/image-link/content/07-own.md:6: 'photo.svg' points outside the project"),
    ("image-dotdot", "departments/image-dotdot/content/07-own.md:6: '../../../../secrets/secret.svg' points outside"),
    ("image-absolute", "departments/image-absolute/content/07-own.md:6: "),
    ("image-file-url", "departments/image-file-url/content/07-own.md:6: "),
    ("css-link", "departments/css-link/styles/leak.css:1: 'paper.svg': points outside the project"),
    ("css-import", "departments/css-import/styles/leak.css:1: 'extra.css': points outside the project"),
    ("css-import-abs", "departments/css-import-abs/styles/leak.css:1: "),
    ("css-font", "departments/css-font/styles/leak.css:1: 'font.ttf': points outside the project"),
    ("stylesheet-link", "departments/stylesheet-link/styles/leak.css: points outside the project"),
    ("template-include", "departments/template-include/templates/partials/secret.html.j2: points outside"),
    ("template-html", "departments/template-html/templates/partials/toc.html.j2: resource refused: file://"),
    ("template-folder", "departments/template-folder/templates/partials/toc.html.j2:1: undefined: no 'folder' here"),
    ("chapter-link", "departments/chapter-link/content/05-secret.md: points outside the project"),
    ("logo-link", "departments/logo-link/department.yaml:2: logo: 'logo.svg' points outside the project"),
    ("attachment", "departments/attachment/content/07-own.md:6: link 'secret.txt' points outside the project"),
    ("svg-reference", "departments/svg-reference/content/07-own.md:6: image chart.svg refers to 'file://"),
])
def test_each_route_is_an_error_naming_its_file(attempt: tuple[Path, str], slug: str, where: str) -> None:
    _, output = attempt
    assert where in output, output


def test_the_secret_is_not_in_any_message(attempt: tuple[Path, str]) -> None:
    _, output = attempt
    assert TOKEN not in output


# ----------------------------------------------------------------------------------------------
# The fetcher


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_response(302)
            self.send_header("Location", "file:///etc/passwd")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", requests
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "img").mkdir(parents=True)
    (root / "img" / "a.png").write_bytes(_png(4, 4))
    (tmp_path / "secret.txt").write_text(TOKEN)
    os.symlink(tmp_path / "secret.txt", root / "img" / "link.png")
    return root


def _png(w: int, h: int) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("1", (w, h)).save(buffer, "PNG")
    return buffer.getvalue()


def test_the_fetcher_serves_project_files_and_data(tree: Path) -> None:
    fetcher = ProjectFetcher((tree,))
    assert fetcher.fetch((tree / "img" / "a.png").as_uri()).read() == _png(4, 4)
    assert fetcher.fetch("data:text/plain,hello").read() == b"hello"
    assert fetcher.blocked == []


@pytest.mark.parametrize("url", [
    "file:///etc/passwd",
    "file://{root}/img/../../secret.txt",
    "file://{root}/img/link.png",
    "file://otherhost{root}/img/a.png",
    "ftp://127.0.0.1/x.png",
    "https://example.invalid/x.png",
    "{server}/x.png",
    "file://{root}/img/missing.png",
])
def test_the_fetcher_refuses_everything_else(tree: Path, server: tuple[str, list[str]], url: str) -> None:
    address, requests = server
    url = url.replace("{root}", str(tree)).replace("{server}", address)
    fetcher = ProjectFetcher((tree,))
    with pytest.raises(ValueError, match="refused"):
        fetcher.fetch(url)
    assert [u for u, _ in fetcher.blocked] == [url]
    assert requests == []


def test_allow_remote_opens_https_only(tree: Path, server: tuple[str, list[str]]) -> None:
    address, requests = server
    fetcher = ProjectFetcher((tree,), allow_remote=True)
    with pytest.raises(ValueError, match="refused"):
        fetcher.fetch(f"{address}/plain-http.png")
    assert requests == []


def test_the_fetcher_follows_no_redirect(tree: Path, server: tuple[str, list[str]]) -> None:
    from urllib import request

    fetcher = ProjectFetcher((tree,), allow_remote=True)
    assert not any(isinstance(h, request.HTTPRedirectHandler) for h in fetcher.handlers)


def test_the_fetcher_refuses_a_huge_image(tree: Path) -> None:
    (tree / "img" / "big.png").write_bytes(_png(8000, 6000))
    fetcher = ProjectFetcher((tree,))
    with pytest.raises(ValueError, match="8000 x 6000 pixels"):
        fetcher.fetch((tree / "img" / "big.png").as_uri())
    fetcher = ProjectFetcher((tree,), max_bytes=10)
    with pytest.raises(ValueError, match="the limit is"):
        fetcher.fetch((tree / "img" / "a.png").as_uri())


def test_stylesheets_are_fetched_through_the_fetcher(tree: Path) -> None:
    """WeasyPrint's CSS() with our fetcher: an @import of a file outside is refused."""
    from handbook.pdf import stylesheet_warnings

    (tree / "styles").mkdir()
    (tree / "styles" / "a.css").write_text(f"@import url({(tree.parent / 'secret.txt').as_uri()});\n")
    problems = stylesheet_warnings(tree / "styles" / "a.css", tree)
    assert any("refused" in p.message or "Failed" in p.message for p in problems), problems


# ----------------------------------------------------------------------------------------------
# Raw HTML in Markdown


DANGEROUS = {
    "script": ("<script>alert('x')</script>", ["<script", "alert"]),
    "iframe": ('<iframe src="https://example.org"></iframe>', ["<iframe"]),
    "object": ('<object data="x.pdf"></object>', ["<object"]),
    "embed": ('<embed src="x.swf">', ["<embed"]),
    "link": ('<link rel="stylesheet" href="evil.css">', ["<link", "evil.css"]),
    "meta": ('<meta http-equiv="refresh" content="0; url=https://example.org">', ["<meta", "refresh"]),
    "base": ('<base href="file:///etc/">', ["<base", "file:///etc"]),
    "style": ("<style>body { background: url(x) }</style>", ["<style", "background"]),
    "event handler": ('<p onmouseover="steal()">Hi</p>', ["onmouseover", "steal"]),
    "img onerror": ('<img src="x" onerror="steal()">', ["onerror", "steal"]),
    "style attribute": ('<p style="background: url(https://example.org/x)">Hi</p>', ["style=", "example.org"]),
    "attachment": ('<a rel="attachment" href="notes.txt">notes</a>', ["attachment"]),
    "javascript link": ('<a href="javascript:alert(1)">x</a>', ["javascript:"]),
    "svg": ('<svg><image href="https://example.org/x.png"/></svg>', ["<svg", "<image"]),
    "form": ('<form action="https://example.org"><input name="x"></form>', ["<form", "<input"]),
    "srcset": ('<img src="a.png" srcset="https://example.org/x.png 2x">', ["srcset", "example.org"]),
}


@pytest.mark.parametrize(("html", "absent"), list(DANGEROUS.values()), ids=list(DANGEROUS))
def test_raw_html_cannot_run_embed_or_fetch(tmp_path: Path, html: str, absent: list[str]) -> None:
    (tmp_path / "a.png").write_bytes(_png(2, 2))
    out, _, _ = render_markdown(f"Text.\n\n{html}\n\nMore text.\n", source="x.md", base_dir=tmp_path,
                                       rules=AssetRules(tmp_path))
    for needle in absent:
        assert needle not in out, out
    assert "More text." in out


def test_markdown_links_and_images_are_checked_like_raw_html(tmp_path: Path) -> None:
    text = ("[a](javascript:alert(1)) [b](file:///etc/passwd) [c](https://example.org) [d](#ch-x) "
            "[e](mailto:a@example.org)\n\n![f](vbscript:x)\n")
    out, _, problems = render_markdown(text, source="x.md", base_dir=tmp_path, rules=AssetRules(tmp_path))
    assert [p.line for p in problems if p.is_error] == [1, 1, 3]
    assert "javascript:" not in out and "file:" not in out and "vbscript:" not in out
    assert 'href="https://example.org"' in out and 'href="#ch-x"' in out and "mailto:" in out


def test_https_images_only_with_allow_remote(tmp_path: Path) -> None:
    text = "![x](https://example.org/x.png)\n"
    _, _, problems = render_markdown(text, source="x.md", base_dir=tmp_path, rules=AssetRules(tmp_path))
    assert problems and "--allow-remote" in problems[0].message
    out, _, problems = render_markdown(text, source="x.md", base_dir=tmp_path,
                                       rules=AssetRules(tmp_path, allow_remote=True))
    assert not problems and 'src="https://example.org/x.png"' in out
    _, _, problems = render_markdown("![x](http://example.org/x.png)\n", source="x.md", base_dir=tmp_path,
                                     rules=AssetRules(tmp_path, allow_remote=True))
    assert problems, "plain http stays refused"


def test_stylesheet_references_are_read_as_css(tmp_path: Path) -> None:
    """Escapes decoded, comments skipped, nested rules read: what WeasyPrint would follow is what is checked."""
    from handbook.assets import AssetRules, stylesheet_problems

    root = tmp_path / "project"
    (root / "styles").mkdir(parents=True)
    css = root / "styles" / "theme.css"
    css.write_text('/* url(file:///etc/passwd) is only a comment */\n'
                   'body { color: black }\n'
                   '@media print {\n'
                   '  .cover { background: url("\\66 ile:///etc/passwd") }\n'
                   '}\n'
                   '@import "https://example.org/x.css";\n', encoding="utf-8")
    problems = stylesheet_problems(css, AssetRules(root=root))
    assert [(p.path, p.line) for p in problems] == [("styles/theme.css", 4), ("styles/theme.css", 6)]
    assert "file: URLs are refused" in problems[0].message
    assert "remote resources are not fetched" in problems[1].message
