"""A live server: a versioned state, server-sent events and HTTP for a page that follows a rebuild.

It knows nothing about what is built (as MkDocs' ``livereload``): the caller gives it a rebuild
callback (:meth:`LiveServer.watch`), the folder whose files it serves, the pages it answers at fixed
paths and the actions a POST may run. What it answers:

``/_/events``     server-sent events: the state as JSON (``event: state``, ``id:`` its version), on
                  connect and after every change;
``/_/state``      the same JSON, once;
a published page  what the caller published with the state (:meth:`LiveState.publish`), so a page
                  and the state naming it change together;
a page            what the caller's function returns, made per request (:meth:`LiveServer.page`);
an action         ``POST``: open to the server's own page only (:meth:`LiveServer.action`);
anything else     a file of the served folder, never anything hidden or above it.

The state carries ``instance``, new for every server, so an open page reloads after a restart.

Any web page the user visits can send requests to this computer, so a server on a loopback address
answers only to loopback host names (against DNS rebinding), and an action runs only for a request
with a loopback ``Host`` (whatever address the server listens on), an ``Origin`` equal to that host,
the per-server token that only the caller's own page carries (in ``token_header``: a foreign page
cannot read it, and the custom header forces a CORS preflight this server never grants), a
``Content-Length`` within the action's limit and a query the action accepts; only then is the body read.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import re
import secrets
import signal
import socket
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

log = logging.getLogger(__name__)

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
KEEPALIVE_SECONDS = 15.0
DEBOUNCE_MS = 150  # a save is usually several file events within a few milliseconds

Page = tuple[bytes, str]  # (body, content type)


class LiveState:
    """A JSON state and the pages published with it, versioned: every change wakes the event streams."""

    def __init__(self, **values: Any) -> None:
        self.instance = secrets.token_hex(4)  # a restarted server makes open pages reload
        self._cond = threading.Condition()
        self._values: dict[str, Any] = {"instance": self.instance, **values}
        self._pages: dict[str, Page] = {}
        self.version = 0
        self.closed = False

    def publish(self, pages: Mapping[str, Page] | None = None, **changes: Any) -> int:
        """Change the state (and the pages at these paths) at once; the new version."""
        with self._cond:
            self._pages.update(pages or {})
            self._values.update(changes)
            self.version += 1
            self._cond.notify_all()
            return self.version

    def values(self) -> dict[str, Any]:
        """A copy of the state."""
        with self._cond:
            return dict(self._values)

    def page(self, path: str) -> Page | None:
        with self._cond:
            return self._pages.get(path)

    def snapshot(self) -> tuple[int, str]:
        """The version and the state as JSON, taken together."""
        with self._cond:
            return self.version, json.dumps(self._values)

    def wait(self, version: int, timeout: float) -> int:
        """Block until the state differs from ``version`` (or ``timeout``, or :meth:`close`); the current version."""
        with self._cond:
            self._cond.wait_for(lambda: self.version != version or self.closed, timeout)
            return self.version

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()


@dataclass(frozen=True)
class Action:
    """What a ``POST`` to one path does, for the server's own page only.

    ``check`` refuses a query before the body is read (a message, or None); ``run`` gets the query
    and the body and answers a status and JSON."""

    name: str  # what it does, in refusals: "importing"
    run: Callable[[dict[str, str], bytes], tuple[HTTPStatus, dict[str, Any]]]
    max_bytes: int
    check: Callable[[dict[str, str]], str | None] = lambda query: None
    too_large: Callable[[int], str] = lambda length: f"the request has {length:,} bytes; that is too large"


class LiveServer(ThreadingHTTPServer):
    """The HTTP server (stdlib, one thread per request) over a :class:`LiveState` and a folder."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], state: LiveState, folder: Path,
                 page_name: str = "this server's page", token_header: str = "X-Live-Token") -> None:
        self.state = state
        self.folder = folder.resolve()
        self.page_name = page_name  # in refusals: "open to the preview page only"
        self.token = secrets.token_urlsafe(32)  # in the caller's page only: an action must carry it
        self.token_header = token_header
        self.pages: dict[str, Callable[[], Page]] = {}
        self.actions: dict[str, Action] = {}
        self.serving: threading.Thread | None = None
        if ":" in address[0]:
            self.address_family = socket.AF_INET6  # --host ::1
        super().__init__(address, _Handler)

    def page(self, path: str, make: Callable[[], Page]) -> None:
        """Answer ``GET path`` with what ``make`` returns at the time."""
        self.pages[path] = make

    def action(self, path: str, action: Action) -> None:
        self.actions[path] = action

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else str(host)
        return f"http://{f'[{name}]' if ':' in name else name}:{port}/"

    def start(self) -> None:
        self.serving = threading.Thread(target=self.serve_forever, args=(0.1,), name="live-server", daemon=True)
        self.serving.start()

    def stop(self) -> None:
        self.state.close()  # ends the event streams
        if self.serving is not None:
            self.shutdown()  # (waits for serve_forever: only when it was started)
        self.server_close()

    def watch(self, root: Path, rebuild: Callable[[list[Path]], object], *, ignore: Sequence[Path] = (),
              first: Callable[[], object] | None = None, debounce_ms: int = DEBOUNCE_MS,
              stop: threading.Event | None = None) -> None:
        """Call ``first`` (the first build), then ``rebuild`` with the changed paths after every change
        under ``root`` (hidden files and the usual caches aside), until Ctrl+C or SIGTERM, both raised
        as KeyboardInterrupt (or ``stop`` is set)."""
        from watchfiles import DefaultFilter
        from watchfiles import watch as watch_files

        class Visible(DefaultFilter):
            def __call__(self, change: Any, path: str) -> bool:
                return super().__call__(change, path) and not Path(path).name.startswith(".")

        def interrupt(signum: int, frame: object) -> None:
            raise KeyboardInterrupt  # SIGTERM stops the server as cleanly as Ctrl+C

        in_main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, interrupt) if in_main else None
        try:
            if first is not None:
                first()
            for changes in watch_files(root, watch_filter=Visible(ignore_paths=[str(p) for p in ignore]),
                                       debounce=debounce_ms, step=50, stop_event=stop):
                rebuild([Path(p) for _, p in changes])
        finally:
            if in_main and previous is not None:
                signal.signal(signal.SIGTERM, previous)


class _Handler(BaseHTTPRequestHandler):
    server: LiveServer
    server_version = "live-server"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def do_HEAD(self) -> None:
        self.do_GET(head=True)

    def do_GET(self, head: bool = False) -> None:
        if not self._host_allowed():
            return self._send(HTTPStatus.FORBIDDEN, b"this server answers to localhost only\n", "text/plain")
        path = urlsplit(self.path).path
        state = self.server.state
        if path == "/_/events" and not head:
            return self._events()
        if path == "/_/state":
            return self._send(HTTPStatus.OK, state.snapshot()[1].encode(), "application/json", head)
        found = state.page(path) or (self.server.pages[path]() if path in self.server.pages else None)
        if found is not None:
            return self._send(HTTPStatus.OK, found[0], found[1], head)
        file = folder_file(self.server.folder, path)
        if file is None:
            return self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain", head)
        self._send(HTTPStatus.OK, file.read_bytes(), mimetypes.guess_type(file.name)[0]
                   or "application/octet-stream", head)

    def do_POST(self) -> None:
        action = self.server.actions.get(urlsplit(self.path).path)
        if action is None:
            return self._refuse(action, HTTPStatus.NOT_FOUND, "not found")
        host = (self.headers.get("Host") or "").strip()
        if not host or not local_name(host):
            return self._refuse(action, HTTPStatus.FORBIDDEN, f"{action.name} is open to this computer only (Host)")
        page = self.server.page_name
        origin = self.headers.get("Origin")
        if origin is None or origin.strip().lower() != f"http://{host.lower()}":
            return self._refuse(action, HTTPStatus.FORBIDDEN, f"{action.name} is open to {page} only (Origin)")
        token = (self.headers.get(self.server.token_header) or "").encode()
        if not secrets.compare_digest(token, self.server.token.encode()):
            return self._refuse(action, HTTPStatus.FORBIDDEN, f"{action.name} is open to {page} only (token); "
                                                              "reload the page")
        length_header = self.headers.get("Content-Length") or ""
        if not length_header.isdigit():
            return self._refuse(action, HTTPStatus.LENGTH_REQUIRED, "the request has no Content-Length")
        length = int(length_header)
        if length > action.max_bytes:
            return self._refuse(action, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, action.too_large(length))
        query = dict(parse_qsl(urlsplit(self.path).query))
        why = action.check(query)
        if why:
            return self._refuse(action, HTTPStatus.BAD_REQUEST, why)
        data = self.rfile.read(length)
        if len(data) != length:
            return self._refuse(action, HTTPStatus.BAD_REQUEST, "the request arrived incomplete")
        status, result = action.run(query, data)
        self._send(status, json.dumps(result, ensure_ascii=False).encode(), "application/json")

    def _refuse(self, action: Action | None, status: HTTPStatus, message: str) -> None:
        log.info("%s refused (%s): %s", action.name if action else "POST", status.value, message)
        self.close_connection = True  # the body (if any) is not read
        self._send(status, json.dumps({"error": message}, ensure_ascii=False).encode(), "application/json")

    def _host_allowed(self) -> bool:
        """Against DNS rebinding: a server on a loopback address answers only to loopback names."""
        bound = self.server.server_address[0]
        if bound not in LOOPBACK_NAMES and not str(bound).startswith("127."):
            return True
        host = self.headers.get("Host")
        if host is None:
            return True
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        name = name.strip("[]").lower()
        return name in LOOPBACK_NAMES or name.startswith("127.") or name == str(bound)

    def _send(self, status: HTTPStatus, body: bytes, kind: str, head: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", f"{kind}; charset=utf-8" if kind.startswith("text/") else kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _events(self) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        try:
            for message in events(self.server.state):
                self.wfile.write(message)
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass


def events(state: LiveState, keepalive: float = KEEPALIVE_SECONDS) -> Iterator[bytes]:
    """The event stream of ``state``: the state now, then after every change (a comment when idle)."""
    yield b"retry: 1000\n\n"
    seen = -1
    while not state.closed:
        current = state.wait(seen, keepalive)
        if current == seen:
            yield b": keep-alive\n\n"
        elif not state.closed:
            seen, values = state.snapshot()
            yield f"event: state\nid: {seen}\ndata: {values}\n\n".encode()


def local_name(host: str) -> bool:
    """Is a Host header's name this computer's (localhost, 127.x, ::1), whatever the port?"""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.strip("[]").lower()
    return name in LOOPBACK_NAMES or bool(re.fullmatch(r"127(\.\d{1,3}){3}", name))


def folder_file(folder: Path, url_path: str) -> Path | None:
    """The file of ``folder`` (resolved) a URL names, or None: nothing hidden, nothing outside."""
    parts = unquote(url_path).split("/")
    if any(part in ("..", ".") or part.startswith(".") or "\\" in part or "\0" in part for part in parts):
        return None
    parts = [p for p in parts if p]
    if not parts:
        return None
    path = folder.joinpath(*parts).resolve()
    if not path.is_relative_to(folder) or not path.is_file():
        return None
    return path
