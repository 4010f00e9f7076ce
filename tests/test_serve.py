"""``handbook serve``: the live preview, in a real browser (Debian's chromium driven by Playwright).

The server runs as a real subprocess on a free port; the tests edit the project's files as a person
would and wait for the page to follow.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import CHROMIUM, PROJECTS, pdftotext
from playwright.sync_api import Page, expect

from handbook.cli import main
from handbook.liveserver import folder_file
from handbook.newproject import create_project

needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(),
                                    reason="needs Debian's chromium at /usr/bin/chromium (`make setup` installs it)")
URL = re.compile(r"serving the \S+ edition at (http://127\.0\.0\.1:\d+/)")


class Server:
    """``handbook serve`` in a subprocess; its output is collected as it comes."""

    def __init__(self, project: Path, *args: str) -> None:
        self.project = project
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "handbook.cli", "--project", str(project), "serve", "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.url = self.wait_for_output(URL, 30)[1]

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_output(self, pattern: re.Pattern[str], seconds: float) -> re.Match[str]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = pattern.search(self.output)
            if found:
                return found
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"no {pattern.pattern!r} in the server's output:\n{self.output}")

    def state(self) -> dict[str, object]:
        status, _, body = get(self.url, "/_/state")
        assert status == 200
        result: dict[str, object] = json.loads(body)
        return result

    def wait_until_ready(self, seconds: float = 60) -> dict[str, object]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            state = self.state()
            if state["phase"] in ("ready", "failed"):
                return state
            time.sleep(0.1)
        raise AssertionError(f"the build did not finish:\n{self.output}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.reader.join(5)
        return self.process.returncode


def get(url: str, path: str, host: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """A raw GET: the path is sent exactly as given (no client-side normalisation of '..')."""
    address = url.split("//")[1].rstrip("/")
    hostname, port = address.rsplit(":", 1)
    connection = http.client.HTTPConnection(hostname, int(port), timeout=10)
    try:
        connection.putrequest("GET", path, skip_host=host is not None)
        if host is not None:
            connection.putheader("Host", host)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("serve") / "project"
    create_project(root)
    running = Server(root)
    yield running
    code = running.stop()
    assert code == 0, running.output
    assert running.output.rstrip().endswith("stopped")


def replace_in(path: Path, old: str, new: str) -> str:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    return text


# ---------------------------------------------------------------------------------------------------
# in the browser


@needs_chromium
def test_the_preview_follows_a_saved_chapter(server: Server, page: Page, tmp_path: Path) -> None:
    page.goto(server.url)
    sheets = page.frame_locator("#frames iframe.current")
    expect(sheets.locator("h1.chapter-title").first).to_contain_text("Why this handbook", timeout=30_000)
    expect(page.locator("#status.ready")).to_be_visible(timeout=60_000)
    expect(page.locator("#files a", has_text="handbook.pdf")).to_be_visible()
    expect(page.locator("#pages img")).to_have_count(4)
    assert not (server.project / "dist" / "finance").exists(), "only the organisation-wide edition is built"

    # The versions the page's event stream delivers (the SSE ids), as a second listener on the page sees them.
    page.evaluate("""() => { window.versions = []; new EventSource("/_/events")
        .addEventListener("state", (e) => window.versions.push(Number(e.lastEventId))); }""")
    page.wait_for_function("window.versions.length > 0")
    before = page.evaluate("Math.max(...window.versions)")
    chapter = server.project / "content" / "01-gifts-and-hospitality.md"
    original = replace_in(chapter, "Suppliers, applicants and partners", "Freshly saved: suppliers and partners")
    try:
        expect(sheets.locator("article.chapter").nth(1)).to_contain_text("Freshly saved: suppliers", timeout=10_000)
        first = page.evaluate("Math.max(...window.versions)")
        assert first > before, "the save reached the page as a new version of the state"
        # A second save, perhaps while the PDFs are being built: the text follows it too.
        replace_in(chapter, "Freshly saved: suppliers", "Saved again: suppliers")
        expect(sheets.locator("article.chapter").nth(1)).to_contain_text("Saved again: suppliers", timeout=10_000)
        assert page.evaluate("Math.max(...window.versions)") > first
        expect(page.locator("#status.ready")).to_be_visible(timeout=60_000)
        assert page.locator("#problems").is_hidden()
        versions = page.evaluate("window.versions")
        assert versions == sorted(set(versions)), "each event is a newer version"
        # The PDF the page lists is the one of the last save.
        pdf_url = page.locator("#files a", has_text="handbook.pdf").get_attribute("href") or ""
        status, _, body = get(server.url, pdf_url)
        assert status == 200
        (tmp_path / "served.pdf").write_bytes(body)
        text = " ".join(pdftotext(tmp_path / "served.pdf").split())
        assert "Saved again: suppliers" in text and "Freshly saved" not in text
    finally:
        chapter.write_text(original, encoding="utf-8")
    expect(sheets.locator("article.chapter").nth(1)).not_to_contain_text("Freshly saved", timeout=10_000)


@needs_chromium
def test_a_broken_yaml_file_shows_its_problem_until_it_is_fixed(server: Server, page: Page) -> None:
    page.goto(server.url)
    sheets = page.frame_locator("#frames iframe.current")
    expect(sheets.locator(".cover-title")).to_have_text("Acting with Integrity", timeout=30_000)

    settings = server.project / "handbook.yaml"
    original = replace_in(settings, "title: Acting with Integrity", "title: [Acting with Integrity")
    try:
        problems = page.locator("#problems")
        expect(problems).to_be_visible(timeout=10_000)
        expect(problems).to_contain_text(re.compile(r"handbook\.yaml:\d+: YAML syntax error"))
        expect(page.locator("#status")).to_contain_text("Build failed")
        expect(page.locator("#frames.stale")).to_have_count(1)
        assert server.process.poll() is None, "the server keeps running"
    finally:
        settings.write_text(original.replace("title: Acting with Integrity", "title: Acting with Integrity Again"),
                            encoding="utf-8")
    expect(page.locator("#problems")).to_be_hidden(timeout=10_000)
    expect(sheets.locator(".cover-title")).to_have_text("Acting with Integrity Again", timeout=10_000)
    expect(page.locator("#frames.stale")).to_have_count(0)
    settings.write_text(original, encoding="utf-8")
    expect(sheets.locator(".cover-title")).to_have_text("Acting with Integrity", timeout=10_000)


# ---------------------------------------------------------------------------------------------------
# over HTTP


@pytest.fixture(scope="module")
def finance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("serve-finance") / "project"
    create_project(root)
    running = Server(root, "--department", "finance")
    running.wait_until_ready()
    yield running
    running.stop()


def test_a_department_edition_is_served_with_its_files(finance: Server) -> None:
    state = finance.state()
    assert state["edition"] == "finance" and state["title"] == "Finance Department"
    assert state["phase"] == "ready", state["problems"]
    files = {f["name"]: f["url"] for f in state["files"]}
    assert files["handbook.pdf"].startswith("/finance/handbook.pdf?v=")
    status, headers, body = get(finance.url, files["handbook.pdf"])
    assert status == 200 and headers["Content-Type"] == "application/pdf" and body.startswith(b"%PDF-")
    assert [p["name"] for p in state["pictures"]] == [
        "handbook-1.png", "handbook-2.png", "handbook-3.png", "handbook-4.png", "cards-1.png", "cards-2.png"]
    status, _, preview = get(finance.url, "/_/preview")
    assert status == 200
    assert b"Payments" in preview and b"Finance Department" in preview
    assert b'rel="stylesheet"' not in preview and b"<base" not in preview, "stylesheets are inlined"


def test_it_listens_on_loopback_only_by_default(finance: Server) -> None:
    assert finance.url.startswith("http://127.0.0.1:")


@pytest.mark.parametrize("path", [
    "/../handbook.yaml", "/%2e%2e/handbook.yaml", "/..%2fhandbook.yaml", "/finance/../../handbook.yaml",
    "/%2e%2e%2f%2e%2e%2fetc/passwd", "/content/01-gifts-and-hospitality.md", "/finance/.handbook-state.json",
    "/..\\handbook.yaml", "/%00", "/finance",
])
def test_only_files_of_the_output_folder_are_served(finance: Server, path: str) -> None:
    status, _, body = get(finance.url, path)
    assert status == 404, path
    assert b"integrity" not in body.lower()


def test_other_host_names_are_refused(finance: Server) -> None:
    """A DNS-rebinding page cannot read the preview."""
    assert get(finance.url, "/_/state", host="attacker.example:80")[0] == 403
    assert get(finance.url, "/_/state", host="localhost")[0] == 200


def test_output_file_resolves_inside_the_folder_only(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    (out / "finance").mkdir(parents=True)
    (out / "finance" / "handbook.pdf").write_bytes(b"%PDF-")
    (tmp_path / "secret.txt").write_text("no", encoding="utf-8")
    (out / "link.txt").symlink_to(tmp_path / "secret.txt")
    assert folder_file(out.resolve(), "/finance/handbook.pdf") == (out / "finance" / "handbook.pdf").resolve()
    assert folder_file(out.resolve(), "/link.txt") is None
    assert folder_file(out.resolve(), "/finance/%2e%2e/%2e%2e/secret.txt") is None
    assert folder_file(out.resolve(), "/") is None


def test_an_unknown_department_is_refused_before_serving(tmp_path: Path) -> None:
    create_project(tmp_path / "p")
    result = CliRunner().invoke(main, ["--project", str(tmp_path / "p"), "serve", "-d", "nowhere", "--port", "0"])
    assert result.exit_code == 1
    assert "no department 'nowhere'" in result.output and "finance" in result.output


def test_the_preview_knows_departments_by_their_slug_as_build_does(tmp_path: Path) -> None:
    """A folder in any script with its own ``slug:`` is served (and listed) by that slug, not the folder's name."""
    root = tmp_path / "p"
    create_project(root)
    (root / "departments" / "finance").rename(root / "departments" / "财务")
    yaml_file = root / "departments" / "财务" / "department.yaml"
    yaml_file.write_text("slug: money\n" + yaml_file.read_text(encoding="utf-8"), encoding="utf-8")
    result = CliRunner().invoke(main, ["--project", str(root), "serve", "-d", "finance", "--port", "0"])
    assert result.exit_code == 1
    assert "no department 'finance'" in result.output and "known: money" in result.output


def test_shell_completion_offers_the_department_slugs(tmp_path: Path) -> None:
    create_project(tmp_path / "p")
    env = {**os.environ, "_HANDBOOK_COMPLETE": "bash_complete", "COMP_WORDS": "handbook serve -d f",
           "COMP_CWORD": "3"}
    script = Path(sys.executable).parent / "handbook"  # the installed console script: its name picks the variable
    done = subprocess.run([script], cwd=tmp_path / "p", env=env, capture_output=True, text=True, timeout=30)
    assert done.stdout.split() == ["plain,finance"], done.stderr


# ---------------------------------------------------------------------------------------------------
# the state behind the page, in process


def test_a_failed_pdf_build_is_shown_over_a_current_preview(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from handbook import serve
    from handbook.builder import BuildReport
    from handbook.errors import Problem

    root = tmp_path / "p"
    create_project(root)
    preview = serve.Preview(root.resolve(), (root / "dist").resolve(), None)
    assert preview.refresh()
    assert preview.state["phase"] == "pdf" and b"Gifts and hospitality" in preview.page
    failed = BuildReport(failed={"organisation-wide": [Problem("content/cards.yaml", 9, "card 4 of 4 (back): "
                                                               "the text overflows by 3.2 mm")]})
    monkeypatch.setattr(serve, "build", lambda root, options, read=None: failed)
    preview.pdfs_wanted.clear()  # as the PDF thread does before it builds
    preview.build_pdfs(preview.generation)
    assert preview.state["phase"] == "failed"
    assert preview.state["problems"] == ["content/cards.yaml:9: card 4 of 4 (back): the text overflows by 3.2 mm"]
    assert preview.state["stale"] is False, "the text is current; only the PDFs failed"


def test_a_pdf_build_overtaken_by_a_change_does_not_speak_for_it(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from handbook import serve
    from handbook.builder import BuildReport

    root = tmp_path / "p"
    create_project(root)
    preview = serve.Preview(root.resolve(), (root / "dist").resolve(), None)
    preview.refresh()
    started = preview.generation
    (root / "handbook.yaml").write_text("title: [broken\n", encoding="utf-8")
    assert not preview.refresh()
    monkeypatch.setattr(serve, "build", lambda root, options, read=None: BuildReport())
    preview.pdfs_wanted.clear()
    preview.build_pdfs(started)
    assert preview.state["phase"] == "failed" and preview.state["stale"] is True
    assert any(p.startswith("handbook.yaml:1:") for p in preview.state["problems"])


@needs_chromium
def test_last_good_pdfs_and_pictures_stay_marked_out_of_date_while_a_build_fails(server: Server, page: Page) -> None:
    page.goto(server.url)
    expect(page.locator("#status.ready")).to_be_visible(timeout=60_000)
    expect(page.locator("#pages img")).to_have_count(4)
    expect(page.locator("#outdated")).to_be_hidden()
    pdf_link = page.locator("#files a", has_text="handbook.pdf")
    expect(pdf_link).to_be_visible()
    good_pdf = (server.project / "dist" / "handbook.pdf").read_bytes()

    def images_loaded() -> bool:
        return bool(page.evaluate("[...document.querySelectorAll('#pages img')]"
                                  ".every(i => i.complete && i.naturalWidth > 0)"))

    chapter = server.project / "content" / "01-gifts-and-hospitality.md"
    # A good change: while its PDFs are made, the last ones stay, said to be out of date.
    original = replace_in(chapter, "Suppliers, applicants and partners", "Suppliers, applicants and their partners")
    expect(page.locator("#outdated")).to_contain_text("being rebuilt", timeout=10_000)
    expect(pdf_link).to_be_visible()
    expect(page.locator("#pages img")).to_have_count(4)
    expect(page.locator("#status.ready")).to_be_visible(timeout=60_000)
    expect(page.locator("#outdated")).to_be_hidden()
    good_pdf = (server.project / "dist" / "handbook.pdf").read_bytes()
    # A character no configured font has: the text preview shows it, the PDF build fails on it.
    replace_in(chapter, "Suppliers, applicants and their partners", "Suppliers \U00013000 and partners")
    try:
        expect(page.locator("#status")).to_contain_text("Build failed", timeout=60_000)
        expect(page.locator("#problems")).to_contain_text("U+13000")
        # The last good PDF and pictures are still there, shown, and said to be out of date.
        expect(page.locator("#outdated")).to_be_visible()
        expect(page.locator("#outdated")).to_contain_text("last good build")
        expect(page.locator("aside.outdated")).to_have_count(1)
        expect(pdf_link).to_be_visible()
        expect(page.locator("#pages img")).to_have_count(4)
        page.wait_for_function("[...document.querySelectorAll('#pages img')].every(i => i.complete)")
        assert images_loaded(), "a picture of the last good build is broken"
        status, _, body = get(server.url, pdf_link.get_attribute("href", timeout=1000) or "")
        assert status == 200 and body == good_pdf
    finally:
        chapter.write_text(original, encoding="utf-8")
    # Fixed: rebuilt, the marks go away, the pictures are new and whole.
    expect(page.locator("#status.ready")).to_be_visible(timeout=60_000)
    expect(page.locator("#outdated")).to_be_hidden()
    expect(page.locator("aside.outdated")).to_have_count(0)
    page.wait_for_function("[...document.querySelectorAll('#pages img')].every(i => i.complete)")
    assert images_loaded()


def test_the_preview_target_is_the_print_html_standing_alone(fixture_project: Callable[[str], Path]) -> None:
    """render.py's ``preview`` target: what templates see is the print HTML's, with no <base>, the
    stylesheets inlined (their url()s as data: URLs) and the sheets drawn; a real law as the text."""
    from handbook.project import load_project
    from handbook.render import handbook_html

    root = fixture_project("chinese-law")
    shutil.copy(PROJECTS / "every-kind-of-name" / "content" / "images" / "dot.png", root / "styles" / "paper.png")
    (root / "styles" / "handbook-paper.css").write_text(
        '/* url("not-a-file.png") */ .cover { background: url( "paper.png" ) no-repeat; }\n'
        "@media print { .toc { background-image: url(paper.png); } }\n", encoding="utf-8")
    loaded = load_project(root, only=[], organisation=True)
    assert not loaded.failed, loaded.failed
    edition = loaded.editions[0]
    preview = handbook_html(edition, target="preview", out_dir=root / "dist")
    printed = handbook_html(edition, target="print", out_dir=root / "dist")

    assert "<base" in printed and '<link rel="stylesheet" href="styles/handbook-paper.css">' in printed
    assert "<base" not in preview and 'rel="stylesheet"' not in preview
    png = data_url_of(root / "styles" / "paper.png")
    assert preview.count(f'url("{png}")') == 2, "both url()s of the stylesheet inlined"
    assert '/* url("not-a-file.png") */' in preview, "a comment stays a comment"
    assert '<style id="handbook-serve-sheets">' in preview and "@media screen" in preview
    assert 'class="handbook size-a5 target-print' in preview, "templates see the print target"
    body = re.compile(r"<body.*</body>", re.S)
    assert body.search(preview)[0] == body.search(printed)[0]  # type: ignore[index]
    assert "第一条" in preview


def data_url_of(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def test_a_save_reads_the_project_once_and_its_text_does_not_wait_for_the_pdfs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from handbook import builder, project, serve

    reads: list[object] = []

    def counted(*args: object, **kwargs: object) -> project.Loaded:
        reads.append(args)
        return project.load_project(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builder, "load_project", counted)
    monkeypatch.setattr(serve, "load_project", counted, raising=False)
    root = tmp_path / "p"
    create_project(root)
    pdf = root / "dist" / "handbook.pdf"
    preview = serve.Preview(root.resolve(), (root / "dist").resolve(), None)
    versions = [preview.live.version]

    assert preview.refresh()
    versions.append(preview.live.version)
    assert preview.state["phase"] == "pdf" and b"Suppliers, applicants and partners" in preview.page
    assert preview.pdfs_wanted.is_set() and not pdf.exists(), "the text is published before any PDF is built"
    preview.pdfs_wanted.clear()  # as the PDF thread does before it builds
    preview.build_pdfs(preview.generation)
    versions.append(preview.live.version)
    assert preview.state["phase"] == "ready", preview.state["problems"]
    assert "Suppliers, applicants and partners" in " ".join(pdftotext(pdf).split())
    assert len(reads) == 1, "the preview and the PDFs of one save come from one read of the project"

    replace_in(root / "content" / "01-gifts-and-hospitality.md", "Suppliers, applicants and partners",
               "Saved once: suppliers and partners")
    assert preview.refresh()
    versions.append(preview.live.version)
    assert b"Saved once: suppliers" in preview.page and preview.state["phase"] == "pdf"
    assert "Saved once" not in pdftotext(pdf), "the PDF is not built yet"
    preview.pdfs_wanted.clear()
    preview.build_pdfs(preview.generation)
    versions.append(preview.live.version)
    assert preview.state["phase"] == "ready" and "Saved once: suppliers" in " ".join(pdftotext(pdf).split())
    assert len(reads) == 2
    assert versions == sorted(set(versions)), "every step is a new version of the state"
