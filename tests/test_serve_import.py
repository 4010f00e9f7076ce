"""``handbook serve``: a document dropped on the preview is imported, and only from the preview page.

The endpoint writes into the project and any web page the user visits can send requests to
localhost, so each refusal is tried over raw HTTP (wrong Host, foreign or missing Origin, missing or
wrong token, oversize, file names that climb out) and from a page of another origin in the browser;
the drop itself is made in Debian's chromium, driven by Playwright.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from test_serve import Server, get
from wordfiles import handbook_document

from handbook.newproject import create_project

TOKEN = re.compile(r'const TOKEN = "([^"]+)";')


@pytest.fixture(scope="module")
def importing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("serve-import") / "project"
    create_project(root)
    running = Server(root)
    running.wait_until_ready()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return handbook_document(tmp_path_factory.mktemp("word") / "handbook.docx").read_bytes()


def project_files(server: Server) -> list[str]:
    root = server.project
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if p.is_file() and not p.relative_to(root).as_posix().startswith("dist/"))


def token_of(server: Server) -> str:
    status, _, page = get(server.url, "/")
    assert status == 200
    found = TOKEN.search(page.decode())
    assert found, "the preview page carries its token"
    return found[1]


def post(url: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, object]]:
    """A raw POST: the headers exactly as given (Host included), nothing added but Content-Length."""
    hostname, port = url.split("//")[1].rstrip("/").rsplit(":", 1)
    connection = http.client.HTTPConnection(hostname, int(port), timeout=60)
    try:
        connection.putrequest("POST", path, skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        if "Content-Length" not in headers:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # refused before the body was read
            connection.send(body)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def good_headers(server: Server) -> dict[str, str]:
    host = server.url.split("//")[1].rstrip("/")
    return {"Host": host, "Origin": f"http://{host}", "X-Handbook-Token": token_of(server),
            "Content-Type": "application/octet-stream"}


# ---------------------------------------------------------------------------------------------------
# refusals over HTTP

@pytest.mark.parametrize(("change", "status", "says"), [
    ({"Host": "attacker.example:8000"}, 403, "(Host)"),
    ({"Host": "192.168.1.5:8000"}, 403, "(Host)"),
    ({"Origin": "http://attacker.example"}, 403, "(Origin)"),
    ({"Origin": "null"}, 403, "(Origin)"),
    ({"Origin": None}, 403, "(Origin)"),
    ({"Origin": "http://localhost:1"}, 403, "(Origin)"),
    ({"X-Handbook-Token": None}, 403, "(token)"),
    ({"X-Handbook-Token": "not-the-token"}, 403, "(token)"),
    ({"Content-Length": str(60 * 1024 * 1024)}, 413, "at most 50.0 MB"),
])
def test_requests_not_from_the_preview_page_are_refused(importing: Server, document: bytes,
                                                        change: dict[str, str | None], status: int, says: str) -> None:
    before = project_files(importing)
    headers = {**good_headers(importing), **change}
    sent = {k: v for k, v in headers.items() if v is not None}
    code, answer = post(importing.url, "/_/import?name=handbook.docx", document, sent)
    assert code == status, answer
    assert says in str(answer["error"])
    assert project_files(importing) == before, "nothing written"


@pytest.mark.parametrize("name", [
    "../../evil.docx", "..%2F..%2Fevil.docx", "%2E%2E%2Fevil.docx", "/etc/evil.docx", "..\\evil.docx",
    "sub/evil.docx", ".hidden.docx", "evil.exe", "", "C:evil.docx", "evil%00.docx",
])
def test_file_names_that_climb_out_or_are_not_documents_are_refused(importing: Server, document: bytes,
                                                                    name: str, tmp_path: Path) -> None:
    before = project_files(importing)
    code, answer = post(importing.url, f"/_/import?name={name}", document, good_headers(importing))
    assert code == 400, answer
    assert project_files(importing) == before
    assert not (importing.project.parent / "evil.docx").exists()


# ---------------------------------------------------------------------------------------------------
# in the browser

def test_a_page_of_another_origin_cannot_import(importing: Server, page: Page) -> None:
    """What a web site the user visits could try: a 'simple' POST (no preflight), and one with the header."""
    before = project_files(importing)
    page.goto("about:blank")
    results = page.evaluate("""async (url) => {
        const out = [];
        for (const headers of [{}, {"X-Handbook-Token": "guessed"}]) {
          try {
            const r = await fetch(url + "_/import?name=x.txt", {method: "POST", body: "第一章 总则\\n正文", headers});
            out.push(r.status);
          } catch (e) { out.push("blocked"); }
        }
        return out;
    }""", importing.url)
    assert results == ["blocked", "blocked"], results  # the server answers 403; the browser hides even that
    assert project_files(importing) == before


def test_a_document_dropped_on_the_preview_becomes_chapters(importing: Server, page: Page, document: bytes) -> None:
    page.goto(importing.url)
    sheets = page.frame_locator("#frames iframe.current")
    expect(sheets.locator(".cover-title")).to_have_text("Acting with Integrity", timeout=30_000)
    transfer = page.evaluate_handle("""(b64) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], "廉洁手册.docx",
          {type: "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}));
        return transfer;
    }""", base64.b64encode(document).decode())
    page.dispatch_event("#frames", "dragenter", {"dataTransfer": transfer})
    expect(page.locator("#dropzone")).to_be_visible()
    page.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})
    report = page.locator("#imported")
    # The starter project has a chapter "Gifts and hospitality" too: the document's is not written over it.
    expect(report).to_contain_text("Imported 廉洁手册.docx: 2 chapters written, 1 kept", timeout=60_000)
    expect(page.locator("#dropzone")).to_be_hidden()
    expect(report.locator("li.written")).to_have_count(2)
    expect(report.locator("li.written").first).to_have_text('wrote content/03-廉洁从业手册.md  '
                                                            '"廉洁从业手册" (not numbered)')
    expect(report.locator("li.kept")).to_have_text("kept content/01-gifts-and-hospitality.md: it exists and differs "
                                                   "from the document (edits are kept); --force overwrites it")
    expect(report.locator("li.notice", has_text="a comment by Li")).to_have_count(1)
    content = importing.project / "content"
    assert (content / "04-第一章-总则.md").is_file()
    assert "Suppliers, applicants and partners" in (content / "01-gifts-and-hospitality.md").read_text(encoding="utf-8")
    assert not (content / "01-gifts-and-hospitality").exists(), "nor its picture"
    # The preview follows the new chapters by itself.
    expect(sheets.locator("h1.chapter-title", has_text="第一章 总则")).to_have_count(1, timeout=30_000)
    expect(page.locator("#status.ready")).to_be_visible(timeout=90_000)

    # Dropped again: the files are there; nothing is overwritten.
    page.locator("#import-file").set_input_files(files=[{
        "name": "廉洁手册.docx", "mimeType": "application/octet-stream", "buffer": document}])
    expect(report).to_contain_text("Imported 廉洁手册.docx: 0 chapters written, 1 kept", timeout=60_000)
    expect(report.locator("li.unchanged")).to_have_count(2)
