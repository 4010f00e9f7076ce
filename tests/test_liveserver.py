"""The generic live server (``handbook/liveserver.py``), on its own: a real server on a free port and a
real HTTP client (``http.client``, headers sent exactly as written), no handbook anywhere."""

from __future__ import annotations

import contextlib
import http.client
import json
import sys
import threading
import time
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest

from handbook.liveserver import Action, LiveServer, LiveState, events, folder_file, local_name


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    folder = tmp_path / "site"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "page.txt").write_text("a file of the folder\n", encoding="utf-8")
    (folder / ".hidden").write_text("hidden\n", encoding="utf-8")
    (tmp_path / "outside.txt").write_text("outside\n", encoding="utf-8")
    server = LiveServer(("127.0.0.1", 0), LiveState(phase="starting"), folder, token_header="X-Test-Token")
    server.start()
    yield server
    server.stop()


def address(server: LiveServer) -> tuple[str, int]:
    host, port = server.server_address[:2]
    return str(host), int(port)


def request(server: LiveServer, method: str, path: str, headers: dict[str, str] | None = None,
            body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """One request; ``headers`` exactly as given (Host included when given), Content-Length only if absent."""
    host, port = address(server)
    connection = http.client.HTTPConnection(host, port, timeout=20)
    headers = dict(headers or {})
    try:
        connection.putrequest(method, path, skip_host="Host" in headers, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        if method == "POST" and "Content-Length" not in headers:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders()
        if body:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # refused before the body was read
                connection.send(body)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


# -- serving -------------------------------------------------------------------------------------------

def test_published_pages_made_pages_state_and_folder_files_are_served(live: LiveServer) -> None:
    live.state.publish(pages={"/_/shown": (b"<p>version one</p>", "text/html")}, shown="one")
    live.page("/", lambda: (f"made with {live.state.values()['shown']}".encode(), "text/plain"))

    status, headers, body = request(live, "GET", "/_/shown")
    assert (status, headers["Content-Type"], body) == (200, "text/html; charset=utf-8", b"<p>version one</p>")
    assert headers["Cache-Control"] == "no-store" and headers["X-Content-Type-Options"] == "nosniff"
    assert request(live, "GET", "/")[2] == b"made with one"
    status, headers, body = request(live, "GET", "/_/state")
    state = json.loads(body)
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert state["shown"] == "one" and state["phase"] == "starting" and state["instance"] == live.state.instance
    assert request(live, "GET", "/sub/page.txt")[2] == b"a file of the folder\n"
    head = request(live, "HEAD", "/sub/page.txt")
    assert head[0] == 200 and head[1]["Content-Length"] == "21" and head[2] == b""

    live.state.publish(pages={"/_/shown": (b"<p>version two</p>", "text/html")}, shown="two")
    assert request(live, "GET", "/_/shown")[2] == b"<p>version two</p>"
    assert request(live, "GET", "/")[2] == b"made with two"


@pytest.mark.parametrize("path", ["/.hidden", "/%2e%2e/outside.txt", "/sub/../../outside.txt", "/..%2foutside.txt",
                                  "/sub", "/nothing.txt", "/sub\\page.txt", "/%00"])
def test_nothing_hidden_or_outside_the_folder_is_served(live: LiveServer, path: str) -> None:
    status, _, body = request(live, "GET", path)
    assert status == 404, path
    assert b"outside" not in body and b"hidden" not in body


def test_folder_file(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "b.pdf").write_bytes(b"%PDF-")
    assert folder_file(tmp_path, "/a/b.pdf") == tmp_path / "a" / "b.pdf"
    assert folder_file(tmp_path, "/a/%2e%2e/a/b.pdf") is None
    assert folder_file(tmp_path, "/") is None


# -- the event stream --------------------------------------------------------------------------------------

def read_event(response: http.client.HTTPResponse) -> dict[str, str]:
    """The next event of a stream (comments and the retry line skipped), as its fields."""
    fields: dict[str, str] = {}
    while True:
        line = response.readline().decode().rstrip("\n")
        if line == "":
            if "data" in fields:
                return fields
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(": ")
            fields[name] = value


def test_the_event_stream_sends_the_state_now_then_each_new_version(live: LiveServer) -> None:
    host, port = address(live)
    connection = http.client.HTTPConnection(host, port, timeout=20)
    try:
        connection.request("GET", "/_/events")
        response = connection.getresponse()
        assert response.status == 200 and response.getheader("Content-Type") == "text/event-stream"
        first = read_event(response)
        assert first["event"] == "state" and int(first["id"]) == live.state.version
        assert json.loads(first["data"])["phase"] == "starting"
        version = live.state.publish(phase="pdf", title="Second")
        second = read_event(response)
        assert int(second["id"]) == version > int(first["id"])
        assert json.loads(second["data"]) | {"instance": ""} == {"instance": "", "phase": "pdf", "title": "Second"}
        live.state.publish(phase="ready")
        third = read_event(response)
        assert int(third["id"]) > version and json.loads(third["data"])["phase"] == "ready"
    finally:
        connection.close()


def test_events_coalesce_changes_made_while_nobody_reads_and_end_when_closed() -> None:
    state = LiveState(count=0)
    stream = events(state, keepalive=0.05)
    assert next(stream) == b"retry: 1000\n\n"
    assert next(stream) == f'event: state\nid: 0\ndata: {{"instance": "{state.instance}", "count": 0}}\n\n'.encode()
    assert next(stream) == b": keep-alive\n\n"
    for n in range(1, 4):
        state.publish(count=n)
    assert b"id: 3\n" in next(stream) and state.version == 3
    state.close()
    assert list(stream) in ([], [b": keep-alive\n\n"])


def test_a_restarted_server_has_a_new_instance() -> None:
    assert LiveState().instance != LiveState().instance


# -- refusals: foreign names and pages -------------------------------------------------------------------

@pytest.mark.parametrize(("host", "status"), [
    ("attacker.example", 403), ("attacker.example:80", 403), ("192.168.1.5", 403), ("localhost.attacker.example", 403),
    ("localhost", 200), ("LOCALHOST:1234", 200), ("127.0.0.1", 200), ("127.8.9.10:80", 200), ("[::1]:80", 200),
])
def test_a_server_on_loopback_answers_to_loopback_names_only(live: LiveServer, host: str, status: int) -> None:
    """Against DNS rebinding: a page of another site, resolved to 127.0.0.1, still sends its own name."""
    assert request(live, "GET", "/_/state", {"Host": host})[0] == status
    assert request(live, "GET", "/sub/page.txt", {"Host": host})[0] == status


@pytest.fixture
def action(live: LiveServer) -> list[tuple[dict[str, str], bytes]]:
    calls: list[tuple[dict[str, str], bytes]] = []

    def run(query: dict[str, str], body: bytes) -> tuple[HTTPStatus, dict[str, Any]]:
        calls.append((query, body))
        return HTTPStatus.OK, {"got": len(body), "name": query["name"]}

    live.action("/_/do", Action("doing", run, 100, check=lambda q: None if q.get("name") == "ok" else "a bad name",
                                too_large=lambda n: f"{n} bytes is too many"))
    return calls


def good(live: LiveServer) -> dict[str, str]:
    host, port = address(live)
    return {"Host": f"{host}:{port}", "Origin": f"http://{host}:{port}", "X-Test-Token": live.token}


def test_an_action_runs_for_the_servers_own_page(live: LiveServer, action: list[tuple[dict[str, str], bytes]]) -> None:
    status, _, body = request(live, "POST", "/_/do?name=ok", good(live), b"twelve bytes")
    assert status == 200 and json.loads(body) == {"got": 12, "name": "ok"}
    assert action == [({"name": "ok"}, b"twelve bytes")]


@pytest.mark.parametrize(("change", "status", "says"), [
    ({"Host": "attacker.example:8000"}, 403, "doing is open to this computer only (Host)"),
    ({"Host": "10.0.0.1"}, 403, "(Host)"),
    ({"Host": ""}, 403, "(Host)"),
    ({"Origin": "http://attacker.example"}, 403, "doing is open to this server's page only (Origin)"),
    ({"Origin": "null"}, 403, "(Origin)"),
    ({"Origin": None}, 403, "(Origin)"),
    ({"Origin": "https://{host}"}, 403, "(Origin)"),
    ({"X-Test-Token": None}, 403, "(token); reload the page"),
    ({"X-Test-Token": "guessed"}, 403, "(token)"),
    ({"X-Handbook-Token": "{token}", "X-Test-Token": None}, 403, "(token)"),
    ({"Content-Length": "101"}, 413, "101 bytes is too many"),
    ({"Content-Length": "-1"}, 411, "no Content-Length"),
])
def test_an_action_refuses_other_pages_before_reading_the_body(
        live: LiveServer, action: list[tuple[dict[str, str], bytes]], change: dict[str, str | None], status: int,
        says: str) -> None:
    headers = good(live)
    for name, value in change.items():
        if value is None:
            headers.pop(name, None)
        else:
            headers[name] = value.format(host=headers["Host"], token=live.token)
    code, _, body = request(live, "POST", "/_/do?name=ok", headers, b"a body")
    assert code == status, body
    assert says in json.loads(body)["error"]
    assert action == [], "never run"


def test_an_action_refuses_a_query_it_does_not_accept(live: LiveServer,
                                                      action: list[tuple[dict[str, str], bytes]]) -> None:
    code, _, body = request(live, "POST", "/_/do?name=../x", good(live), b"a body")
    assert (code, json.loads(body)) == (400, {"error": "a bad name"})
    assert request(live, "POST", "/_/other?name=ok", good(live), b"a body")[0] == 404
    assert action == []


def test_local_name() -> None:
    assert all(map(local_name, ["localhost", "localhost:8000", "127.0.0.1:1", "127.1.2.3", "[::1]:8000", "[::1]"]))
    assert not any(map(local_name, ["127.0.0.1.example", "example.com", "0.0.0.0:80", "[::2]:80", "1127.0.0.1"]))


# -- watching --------------------------------------------------------------------------------------------

def test_watch_calls_first_then_rebuild_with_the_changed_files(tmp_path: Path) -> None:
    root = tmp_path / "project"
    (root / "out").mkdir(parents=True)
    server = LiveServer(("127.0.0.1", 0), LiveState(), root / "out")
    calls: list[list[Path]] = []
    first = threading.Event()
    stop = threading.Event()
    thread = threading.Thread(target=server.watch, args=(root, calls.append),
                              kwargs={"ignore": [root / "out"], "first": first.set, "stop": stop})
    thread.start()
    try:
        assert first.wait(30)
        saved = root / "chapter.md"
        deadline = time.monotonic() + 30
        while not any(saved in paths for paths in calls) and time.monotonic() < deadline:
            # Hidden files and the ignored folder change too: never reported.
            (root / ".chapter.md.swp").write_text("editor", encoding="utf-8")
            (root / "out" / "built.pdf").write_text("output", encoding="utf-8")
            saved.write_text("text", encoding="utf-8")
            time.sleep(0.3)
        assert any(saved in paths for paths in calls), calls
        reported = {p.name for paths in calls for p in paths}
        assert reported == {"chapter.md"}, reported
    finally:
        stop.set()
        thread.join(30)
        server.stop()  # never started: closes without waiting
    assert not thread.is_alive()


def test_the_live_server_knows_nothing_about_handbooks() -> None:
    """It imports only the standard library and watchfiles: what it serves is its caller's business."""
    import ast

    import handbook.liveserver

    tree = ast.parse(Path(handbook.liveserver.__file__).read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                 if node.module and node.level == 0}
    assert not [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level > 0]
    assert imported - set(sys.stdlib_module_names) == {"watchfiles"}
