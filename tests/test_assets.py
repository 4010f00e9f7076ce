"""The one asset policy (handbook/assets.py): what a URL in content, a stylesheet or an SVG may point at.

First the policy itself, as a table; then the whole build: a Markdown image, a stylesheet ``url()``
and an SVG ``<image>`` that point outside the project (``../``, an absolute path, ``file://``, a
symbolic link, http) each stop the build naming the file and line; with ``--allow-remote`` an https
resource from a local server is fetched and drawn.
"""

from __future__ import annotations

import http.server
import os
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner
from conftest import chapter, make_project
from pypdf import PdfReader

from handbook.assets import AssetRules, Reason, Refused, locate, svg_references
from handbook.cli import main
from handbook.packagefonts import FONTS


def _png(w: int = 4, h: int = 4, colour: str = "red") -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (w, h), colour).save(buffer, "PNG")
    return buffer.getvalue()


# ----------------------------------------------------------------------------------------------
# The policy, as a table


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A project with an image, a department, a link in and a link out, and a file outside it."""
    root = tmp_path / "project"
    (root / "content" / "img").mkdir(parents=True)
    (root / "content" / "img" / "a.png").write_bytes(_png())
    (root / "departments" / "finance" / "content").mkdir(parents=True)
    (root / "departments" / "finance" / "logo.png").write_bytes(_png())
    (tmp_path / "secret.png").write_bytes(_png())
    os.symlink(tmp_path / "secret.png", root / "content" / "out.png")
    os.symlink(root / "content" / "img" / "a.png", root / "content" / "in.png")
    return root


@dataclass(frozen=True)
class Row:
    url: str
    kind: str | None  # the target's kind, or None: refused
    reason: Reason | None = None
    base: str = "content"  # the folder the URL is written in, inside the project
    remote: bool = False  # --allow-remote
    fetching: bool = False  # as WeasyPrint hands URLs to the fetcher
    names: str | None = None  # the file it names, relative to the project


POLICY = {
    "a relative image": Row("img/a.png", "file", names="content/img/a.png"),
    "with a query and a fragment": Row("img/a.png?x=1#y", "file", names="content/img/a.png"),
    "percent-encoded": Row("img/%61.png", "file", names="content/img/a.png"),
    "a missing file inside (found missing later)": Row("img/none.png", "file", names="content/img/none.png"),
    "a department's own folder": Row("../logo.png", "file", base="departments/finance/content",
                                     names="departments/finance/logo.png"),
    "up and back in": Row("../content/img/a.png", "file", base="styles", names="content/img/a.png"),
    "a symlink staying inside": Row("in.png", "file", names="content/img/a.png"),
    "../ out of the project": Row("../../secret.png", None, Reason.OUTSIDE),
    "percent-encoded ../": Row("%2e%2e/%2e%2e/secret.png", None, Reason.OUTSIDE),
    "a symlink out": Row("out.png", None, Reason.OUTSIDE),
    "an absolute path": Row("/etc/passwd", None, Reason.ABSOLUTE),
    "a backslash path": Row("\\etc\\passwd", None, Reason.ABSOLUTE),
    "a Windows drive": Row("C:\\Windows\\win.ini", None, Reason.ABSOLUTE),
    "file:// in content": Row("file:///etc/passwd", None, Reason.SCHEME),
    "file:// to a project file, in content": Row("file://{root}/content/img/a.png", None, Reason.SCHEME),
    "file:// as WeasyPrint writes it": Row("file://{root}/content/img/a.png", "file", fetching=True,
                                           names="content/img/a.png"),
    "file:// outside, fetching": Row("file:///etc/passwd", None, Reason.OUTSIDE, fetching=True),
    "file:// through a symlink out, fetching": Row("file://{root}/content/out.png", None, Reason.OUTSIDE,
                                                   fetching=True),
    "file:// on another host": Row("file://otherhost{root}/content/img/a.png", None, Reason.REMOTE_FILE,
                                   fetching=True),
    "a relative URL, fetching": Row("img/a.png", None, Reason.SCHEME, fetching=True),
    "https without opt-in": Row("https://example.org/x.png", None, Reason.REMOTE),
    "https with opt-in": Row("https://example.org/x.png", "remote", remote=True),
    "https with opt-in, fetching": Row("https://example.org/x.png", "remote", remote=True, fetching=True),
    "plain http, even with opt-in": Row("http://example.org/x.png", None, Reason.REMOTE, remote=True),
    "HTTPS in capitals without opt-in": Row("HTTPS://example.org/x.png", None, Reason.REMOTE),
    "a data: URL": Row("data:image/png;base64,iVBORw0KGgo=", "data"),
    "a packaged font": Row("handbook:fonts/lato/Lato-Regular.ttf", "package"),
    "a packaged font, fetching": Row("handbook:fonts/lato/Lato-Regular.ttf", "package", fetching=True),
    "handbook: leaving the fonts": Row("handbook:fonts/../packagefonts.py", None, Reason.PACKAGE),
    "handbook: a licence, not a font": Row("handbook:fonts/lato/OFL.txt", None, Reason.PACKAGE),
    "ftp:": Row("ftp://example.org/x.png", None, Reason.SCHEME),
    "javascript:": Row("javascript:alert(1)", None, Reason.SCHEME),
    "a fragment": Row("#section", "fragment"),
    "empty": Row("", "fragment"),
}


@pytest.mark.parametrize("row", list(POLICY.values()), ids=list(POLICY))
def test_the_policy(tree: Path, row: Row) -> None:
    url = row.url.replace("{root}", str(tree))
    rules = AssetRules(tree, allow_remote=row.remote)
    if row.kind is None:
        with pytest.raises(Refused) as refused:
            locate(url, tree / row.base, rules, fetching=row.fetching)
        assert refused.value.reason is row.reason, refused.value.why
        assert str(tree.parent) not in refused.value.why  # never the build machine's paths
        return
    target = locate(url, tree / row.base, rules, fetching=row.fetching)
    assert target.kind == row.kind
    if row.names:
        assert target.path == (tree / row.names).resolve()
    if row.kind == "package":
        assert target.path is not None and target.path.is_relative_to(FONTS)


def test_one_file_outside_is_served_only_when_opted_in(tree: Path) -> None:
    """The PDF/X output intent: one named file outside the project, nothing beside it."""
    profile = tree.parent / "cmyk.icc"
    profile.write_bytes(b"profile")
    rules = AssetRules(tree, extra_files=(profile,))
    assert locate(profile.as_uri(), tree, rules, fetching=True).path == profile.resolve()
    with pytest.raises(Refused):
        locate(profile.as_uri(), tree, AssetRules(tree), fetching=True)
    with pytest.raises(Refused):
        locate((tree.parent / "secret.png").as_uri(), tree, rules, fetching=True)


SVG = """<?xml version="1.0"?>
<?xml-stylesheet href="sheet.css" type="text/css"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10">
  <image href="plain.png" width="5" height="5"/>
  <image xlink:href="xlink.png"
         width="5" height="5"/>
  <use href="other.svg#shape"/>
  <rect style="fill: url(&quot;styled.png&quot;)" width="1" height="1"/>
  <rect fill="url(filled.svg#pattern)" width="1" height="1"/>
  <rect fill="url(#local)" width="1" height="1"/>
  <style>
    @import "imported.css";
    rect { filter: url(
      filter.svg#f) }
  </style>
  <!-- <image href="a-comment.png"/> -->
</svg>
"""


def test_every_reference_an_svg_makes_is_found_with_its_line() -> None:
    """An attribute's line is where its start tag ends (libxml2's), a ``<style>`` rule's its own."""
    found = [(url, line) for url, line in svg_references(SVG.encode()) if not url.startswith("#")]
    assert found == [("sheet.css", 2), ("plain.png", 4), ("xlink.png", 6), ("other.svg#shape", 7),
                     ("styled.png", 8), ("filled.svg#pattern", 9), ("imported.css", 12), ("filter.svg#f", 13)]


# ----------------------------------------------------------------------------------------------
# The whole build: each way out stops it with the file and line


SECRET = "SECRET-ASSET-TOKEN"


def _svg_image(href: str) -> str:
    return ('<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20">\n'
            f'  <image href="{href}" width="20" height="20"/>\n</svg>\n')


ROUTES = ("dotdot", "absolute", "file-url", "symlink", "http")
PLACES = ("markdown", "css", "svg")


def _route(route: str, secret: Path, server: str) -> str:
    return {"dotdot": "../../secret.png", "absolute": str(secret), "file-url": secret.as_uri(),
            "symlink": "link.png", "http": f"{server}/tracker.png"}[route]


class Recorder(http.server.BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []
    body: ClassVar[bytes] = _png(8, 8, "blue")

    def do_GET(self) -> None:
        Recorder.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@pytest.fixture(scope="module")
def http_server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _project(base: Path, place: str, url: str) -> Path:
    """A project using ``url`` in one place: a chapter's image (line 8), a stylesheet's url()
    (line 2) or an SVG's <image> (line 2 of the SVG; the chapter uses the SVG on line 8)."""
    body = "Some text.\n\n![The picture](picture.svg)" if place == "svg" else (
        f"Some text.\n\n![The picture]({url})" if place == "markdown" else "Some text.")
    root = make_project(base / "project", {"content": {"03-pictures.md": chapter("Pictures", body,
                                                                                 reminder="R.")}})
    if place == "css":
        (root / "styles" / "zz-extra.css").write_text(f"h1 {{ color: black }}\n.cover {{ background: url({url}) }}\n",
                                                      encoding="utf-8")
    if place == "svg":
        (root / "content" / "picture.svg").write_text(_svg_image(url), encoding="utf-8")
    folder = root / ("styles" if place == "css" else "content")
    os.symlink(base / "secret.png", folder / "link.png")
    return root


WHERE = {"markdown": "content/03-pictures.md:8: ", "css": "styles/zz-extra.css:2: ",
         "svg": "content/03-pictures.md:8: image picture.svg refers to "}


WHY = {"dotdot": "points outside the project", "absolute": "is an absolute path", "file-url": "file: URLs are refused",
       "symlink": "points outside the project", "http": "is not fetched"}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("place", PLACES)
def test_a_way_out_stops_the_build_at_its_line(tmp_path: Path, http_server: str, place: str, route: str) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes(_png(3, 3, "black") + SECRET.encode())
    url = _route(route, secret, http_server)
    root = _project(tmp_path, place, url)
    Recorder.requests.clear()
    result = CliRunner().invoke(main, ["--project", str(root), "build", "--only", "handbook", "--jobs", "1"])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.startswith(WHERE[place])]
    assert lines, result.output
    assert repr(url)[:40] in lines[0] and WHY[route] in lines[0], lines[0]
    assert "Traceback" not in result.output and SECRET not in result.output
    assert not list((root / "dist").rglob("*.pdf"))
    assert Recorder.requests == []


# ----------------------------------------------------------------------------------------------
# With --allow-remote: https from a local server (a certificate made for the test and trusted
# through SSL_CERT_FILE), drawn in the PDF; plain http stays refused.


@pytest.fixture(scope="module")
def https_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run([shutil.which("openssl") or "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{httpd.server_address[1]}", cert
    httpd.shutdown()
    httpd.server_close()


def _images_drawn(pdf: Path) -> list[tuple[int, int]]:
    sizes = []
    for page in PdfReader(pdf).pages:
        sizes += [(image.image.width, image.image.height) for image in page.images if image.image is not None]
    return sizes


@pytest.mark.parametrize("place", PLACES)
def test_https_is_fetched_only_with_allow_remote(tmp_path: Path, https_server: tuple[str, Path],
                                                 monkeypatch: pytest.MonkeyPatch, place: str) -> None:
    address, cert = https_server
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    (tmp_path / "secret.png").write_bytes(_png())
    url = f"{address}/remote-{place}.png"
    root = _project(tmp_path, place, url)
    if place == "css":  # a box the background is drawn in
        (root / "styles" / "zz-extra.css").write_text(
            f"h1 {{ color: black }}\n.cover {{ background: url({url}) no-repeat }}\n", encoding="utf-8")
    Recorder.requests.clear()
    refused = CliRunner().invoke(main, ["--project", str(root), "build", "--only", "handbook", "--jobs", "1"])
    assert refused.exit_code == 1 and "--allow-remote" in refused.output, refused.output
    assert Recorder.requests == []
    built = CliRunner().invoke(main, ["--project", str(root), "build", "--only", "handbook", "--jobs", "1",
                                      "--allow-remote"])
    assert built.exit_code == 0, built.output
    assert f"/remote-{place}.png" in Recorder.requests
    assert (8, 8) in _images_drawn(root / "dist" / "handbook.pdf")


ESCAPED = {
    "an entity-quoted url() in style": '<rect style="fill: url(&quot;{url}&quot;)" width="1" height="1"/>',
    "a url() in a presentation attribute": '<rect fill="url({url}#p)" width="1" height="1"/>',
    "a CSS escape in <style>": '<style>rect {{ fill: url("\\66 ile:///etc/passwd") }}</style>',
    "an @import in <style>": '<style>@import "{url}";</style>',
    "an xml-stylesheet": None,
}


@pytest.mark.parametrize("name", list(ESCAPED))
def test_an_svg_cannot_hide_a_reference(tmp_path: Path, name: str) -> None:
    """What WeasyPrint would follow is read as XML and CSS, so quoting and escapes do not hide it."""
    from handbook.assets import svg_refused

    element = ESCAPED[name]
    head = '<?xml-stylesheet href="../secret.css"?>\n' if element is None else ""
    svg = (f'{head}<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">\n'
           f'{(element or "").format(url="../secret.png")}\n</svg>\n')
    why = svg_refused(svg.encode(), tmp_path / "project", AssetRules(tmp_path / "project"), "x.svg")
    assert why is not None and why.startswith("image x.svg refers to "), why
    assert f"(its line {1 if element is None else 2})" in why


# The shapes SVGs from drawing programs and documentation take: gradients and symbols referred to
# by #id (quoted or not, in attributes, in style= over several lines), a DOCTYPE with a PUBLIC DTD.
EVERYDAY_SVG = """<?xml version="1.0" standalone="no"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg viewBox="0 0 40 20" width="40mm" height="20mm" version="1.1" xmlns="http://www.w3.org/2000/svg"
     xmlns:xlink="http://www.w3.org/1999/xlink">
  <defs>
    <linearGradient id="warm" gradientTransform="rotate(90)">
      <stop offset="5%" stop-color="gold"/><stop offset="95%" style="stop-color:rgb(255,0,0);
stop-opacity:1"/>
    </linearGradient>
    <linearGradient id="warm-again" xlink:href="#warm"/>
    <symbol id="dot"><circle cx="2" cy="2" r="2"/></symbol>
    <style>.band { fill: url(#warm-again) }</style>
  </defs>
  <circle cx="5" cy="5" r="4" fill="url('#warm')"/>
  <ellipse cx="20" cy="10" rx="8" ry="5" style="fill:url(#warm)"/>
  <rect class="band" x="30" y="0" width="10" height="20"/>
  <use href="#dot" x="10" y="14"/>
  <a xlink:href="#dot"><text x="1" y="19" font-size="3">Everyday</text></a>
</svg>
"""


def test_an_everyday_svg_is_accepted_and_drawn(tmp_path: Path) -> None:
    """References within the SVG (#id) are not resources: nothing is refused, and the PDF has it."""
    from handbook.assets import svg_refused
    from handbook.builder import BuildOptions, build

    assert svg_refused(EVERYDAY_SVG.encode(), tmp_path, AssetRules(tmp_path), "everyday.svg") is None
    root = make_project(tmp_path / "project", {"content": {
        "everyday.svg": EVERYDAY_SVG,
        "03-pictures.md": chapter("Pictures", "Some text.\n\n![An everyday drawing](everyday.svg)", reminder="R.")}})
    report = build(root, BuildOptions(only=("handbook",)))
    assert report.ok, report.failed
    text = subprocess.run(["pdftotext", str(root / "dist" / "handbook.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "Everyday" in text
