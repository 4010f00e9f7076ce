"""``handbook serve``: a live print preview of one edition in the browser.

The main thread watches the project and renders the preview, a second thread builds the PDFs,
and a small HTTP server (stdlib, one thread per request) shows:

``/``             the preview: a toolbar with the build's state and its files, the edition drawn as
                  sheets of paper, and pictures of the printed pages;
``/_/preview``    the edition's print HTML (its stylesheets and images inlined), with a screen
                  stylesheet that draws every part of the book as a sheet of the page size;
``/_/events``     server-sent events: the state as JSON, sent on connect and after every change;
``/_/state``      the same JSON, once;
anything else     a file of the output folder (dist/ unless ``--out``), never anything above it.

A save runs two steps. First the project is loaded and the print HTML rendered (a fraction of a
second): the page shows the new text at once, or the problems with file and line. Then the PDF
thread builds the PDFs and page pictures (incremental, so only what changed; one build at a time,
never holding up the text) and the toolbar follows. Nothing stops the server but Ctrl+C (or
SIGTERM); a broken file only puts its problems on the page.
"""

from __future__ import annotations

import hashlib
import json
import logging
import mimetypes
import re
import secrets
import signal
import socket
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from .builder import BuildOptions, build, edition_out_dir
from .errors import ConfigError, HandbookError, Problem
from .model import Edition
from .output import human_size
from .project import list_departments, load_project
from .results import Output

log = logging.getLogger(__name__)

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
MAX_UPLOAD = 50 * 1024 * 1024  # a dropped document (Word files with photographs run to tens of MB)
TOKEN_HEADER = "X-Handbook-Token"
DEBOUNCE_MS = 150  # a save is usually several file events within a few milliseconds
KEEPALIVE_SECONDS = 15.0
HIDDEN_OUTPUTS = (".print.html", ".png")  # not listed as files (the pictures have their own place)

Say = Callable[[str, str], None]  # (message, kind: "start" | "info" | "ok" | "warn" | "error")


# -- the state shown in the page -------------------------------------------------------------------

class Preview:
    """What the page shows, shared by the watcher (main thread), the PDF thread and the request threads."""

    def __init__(self, root: Path, out: Path, slug: str | None, say: Say = lambda m, k: None) -> None:
        self.root = root
        self.out = out
        self.slug = slug
        self.say = say
        self.instance = secrets.token_hex(4)  # a restarted server makes open pages reload
        self.token = secrets.token_urlsafe(32)  # in the preview page only: a request to import must carry it
        self.importing = threading.Lock()  # one import at a time (chapter numbers)
        self.cond = threading.Condition()
        self.version = 0
        self.closed = False
        self.generation = 0  # changes to the project seen so far
        self.changed = time.perf_counter()  # when the latest one was seen
        self.pdfs_wanted = threading.Event()
        self.page = b""  # the current preview HTML
        self.state: dict[str, Any] = {
            "instance": self.instance, "edition": slug or "organisation-wide", "title": "",
            "phase": "starting", "preview": "", "stale": False, "problems": [], "warnings": [],
            "files": [], "pictures": [], "finished": "", "seconds": None,
            # The PDFs and pictures listed are those of the last good build; out of date while a
            # rebuild runs and after a failed one (never removed: a failed build keeps them on disk).
            "outputs_stale": False, "outputs_built": "",
        }

    # Shared state ---------------------------------------------------------------------------------

    def publish(self, page: bytes | None = None, **changes: Any) -> None:
        with self.cond:
            if page is not None:
                self.page = page
                changes["preview"] = hashlib.sha256(page).hexdigest()[:16]
            self.state.update(changes)
            self.version += 1
            self.cond.notify_all()

    def snapshot(self) -> tuple[int, str]:
        with self.cond:
            return self.version, json.dumps(self.state)

    def wait(self, version: int, timeout: float) -> int:
        """Block until the state differs from ``version`` (or ``timeout``); the current version."""
        with self.cond:
            self.cond.wait_for(lambda: self.version != version or self.closed, timeout)
            return self.version

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    # Building -------------------------------------------------------------------------------------
    #
    # The main thread renders the preview HTML after every change (a fraction of a second); the PDF
    # thread builds the PDFs and pictures, one build at a time, and reports only a build that saw
    # the latest change. So the text in the browser never waits for WeasyPrint.

    def start(self) -> None:
        threading.Thread(target=self._pdf_loop, name="handbook-pdfs", daemon=True).start()

    def refresh(self) -> bool:
        """Render the preview after a change and ask for the PDFs; False when the project is broken."""
        start = time.perf_counter()
        with self.cond:
            self.generation += 1
            self.changed = start
        with self.cond:
            have_outputs = bool(self.state["files"] or self.state["pictures"])
        self.publish(phase="building", outputs_stale=have_outputs)
        try:
            edition, warnings = self._load()
            page = preview_html(edition, edition_out_dir(self.out, self.slug)).encode("utf-8")
        except HandbookError as exc:
            return self._failed(problem_lines(exc))
        except Exception as exc:  # a bug: keep serving, say what happened
            log.exception("preview failed")
            return self._failed([f"internal error: {type(exc).__name__}: {exc} (run with --debug)"])
        title = edition.department.name if edition.department else edition.settings.title
        self.publish(page, phase="pdf", title=title, stale=False, problems=[], warnings=warnings)
        self.say(f"preview updated ({time.perf_counter() - start:.1f} s); building the PDFs", "info")
        self.pdfs_wanted.set()
        return True

    def _pdf_loop(self) -> None:
        while not self.closed:
            if not self.pdfs_wanted.wait(0.5):
                continue
            self.pdfs_wanted.clear()
            with self.cond:
                generation = self.generation
            self.build_pdfs(generation)

    def build_pdfs(self, generation: int) -> None:
        """Build the edition's PDFs and pictures; the state says so if nothing changed meanwhile."""
        problems: list[str] = []
        warnings: list[str] = []
        changes: dict[str, Any] = {}
        try:
            report = build(self.root, BuildOptions(out=self.out, departments=(self.slug,) if self.slug else (),
                                                   organisation=self.slug is None, jobs=1))
            problems = [str(p) for ps in report.failed.values() for p in ps]
            warnings = [str(p) for p in dict.fromkeys(report.warnings)]
            pictures: list[Output] = []
            if report.ok:
                from .pictures import pictures_for

                try:
                    pictures = pictures_for(report.outputs)
                except HandbookError as exc:
                    warnings += problem_lines(exc)
            if report.ok:
                changes = {"files": self._files(report.outputs), "pictures": self._files(pictures, pictures=True),
                           "outputs_built": time.strftime("%H:%M:%S")}
        except HandbookError as exc:
            problems = problem_lines(exc)
        except Exception as exc:  # a bug: keep serving, say what happened
            log.exception("build failed")
            problems = [f"internal error: {type(exc).__name__}: {exc} (run with --debug)"]
        with self.cond:
            latest = generation == self.generation and not self.pdfs_wanted.is_set()
            known = self.state["warnings"]
            seconds = time.perf_counter() - self.changed
        if latest:
            with self.cond:
                have_outputs = bool(self.state["files"] or self.state["pictures"])
            changes.update(outputs_stale=bool(problems) and have_outputs)
            changes.update(phase="failed" if problems else "ready", problems=problems,
                           warnings=known + [w for w in warnings if w not in known],
                           finished=time.strftime("%H:%M:%S"), seconds=round(seconds, 1))
        self.publish(**changes)
        if not latest:
            return
        if problems:
            self.say("build failed:\n  " + "\n  ".join(problems), "error")
        else:
            self.say(f"PDFs and pictures up to date, {seconds:.1f} s after the change", "ok")

    def _load(self) -> tuple[Edition, list[str]]:
        loaded = load_project(self.root, only=[self.slug] if self.slug else [], organisation=self.slug is None)
        if loaded.failed:
            errors = [p for ps in loaded.failed.values() for p in ps]
            raise ConfigError("", errors or [Problem("handbook.yaml", None, "the project could not be loaded")])
        if not loaded.editions:
            raise ConfigError(f"no edition '{self.slug or 'organisation-wide'}' in this project")
        return loaded.editions[0], [str(p) for p in dict.fromkeys(loaded.warnings)]

    def _failed(self, problems: list[str]) -> bool:
        with self.cond:
            stale = bool(self.page)
            seconds = time.perf_counter() - self.changed
        self.publish(phase="failed", problems=problems, stale=stale, finished=time.strftime("%H:%M:%S"),
                     seconds=round(seconds, 1))
        self.say("build failed:\n  " + "\n  ".join(problems), "error")
        return False

    def _files(self, outputs: list[Output], pictures: bool = False) -> list[dict[str, Any]]:
        files = []
        for o in outputs:
            if not pictures and o.path.name.endswith(HIDDEN_OUTPUTS):
                continue
            try:
                rel = o.path.resolve().relative_to(self.out)
                stamp = o.path.stat().st_mtime_ns
            except (ValueError, OSError):
                continue
            files.append({"name": o.path.name, "url": f"/{rel.as_posix()}?v={stamp}", "pages": o.pages,
                          "size": human_size(o.size)})
        return files


def problem_lines(exc: HandbookError) -> list[str]:
    lines = [str(p) for p in exc.problems]
    if exc.message and (exc.message not in lines):
        lines.append(exc.message)
    return lines or ["the build failed (no details)"]


# -- the edition as HTML, drawn as sheets ----------------------------------------------------------

_BASE = re.compile(r"<base\b[^>]*>", re.I)
_LINK = re.compile(r"<link\b[^>]*\brel=[\"']?stylesheet[\"']?[^>]*>", re.I)
_HREF = re.compile(r"\bhref=[\"']([^\"']+)[\"']", re.I)
_CSS_URL = re.compile(r"url\(\s*([\"']?)([^\"')]+)\1\s*\)")

SHEETS_CSS = """
/* handbook serve: every part of the book drawn as a sheet of its page size (screen only). */
@media screen {
  html { background: #d9d6cf; }
  body { margin: 0 !important; padding: 32px 24px 72px !important; max-width: none !important; }
  body > :not(main):not(script):not(style), main > * {
    box-sizing: border-box; width: var(--page-width, 148mm); min-height: var(--page-height, 210mm);
    margin: 0 auto 32px !important; padding: 20mm 17mm 22mm 19mm; background: var(--paper, #fff); position: relative;
    box-shadow: 0 1px 2px rgba(0, 0, 0, .16), 0 8px 24px rgba(0, 0, 0, .14);
  }
  main { display: block; margin: 0; padding: 0; }
  a[href^="#"]:hover { text-decoration: underline; }
}
"""


def _inline_stylesheet(tag: re.Match[str], root: Path) -> str:
    from .render import data_url, local_file

    href = _HREF.search(tag[0])
    path = local_file(href[1], root, root) if href else None
    if path is None:
        return ""
    css = path.read_text(encoding="utf-8", errors="replace")

    def url(m: re.Match[str]) -> str:
        found = local_file(m[2].strip(), path.parent, root)
        return f'url("{data_url(found)}")' if found else m[0]

    return f"<style>\n{_CSS_URL.sub(url, css)}\n</style>"


def preview_html(edition: Edition, out_dir: Path) -> str:
    """The edition's print HTML, standing alone (stylesheets and images inlined), drawn as sheets."""
    from .render import handbook_html, inline_images

    root = edition.root.resolve()
    page = handbook_html(edition, target="print", out_dir=out_dir)
    page = _BASE.sub("", page, count=1)
    page = _LINK.sub(lambda m: _inline_stylesheet(m, root), page)
    page = inline_images(page, root)
    extra = f'<style id="handbook-serve-sheets">{SHEETS_CSS}</style>\n'
    at = page.lower().rfind("</head>")
    return page[:at] + extra + page[at:] if at >= 0 else extra + page


# -- HTTP --------------------------------------------------------------------------------------------

class PreviewServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], preview: Preview) -> None:
        self.preview = preview
        if ":" in address[0]:
            self.address_family = socket.AF_INET6  # --host ::1
        super().__init__(address, Handler)


class Handler(BaseHTTPRequestHandler):
    server: PreviewServer
    server_version = "handbook-serve"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def do_HEAD(self) -> None:
        self.do_GET(head=True)

    def do_GET(self, head: bool = False) -> None:
        if not self._host_allowed():
            return self._send(HTTPStatus.FORBIDDEN, b"this preview answers to localhost only\n", "text/plain")
        path = urlsplit(self.path).path
        preview = self.server.preview
        if path == "/":
            return self._send(HTTPStatus.OK, shell_page(preview), "text/html", head)
        if path == "/_/preview":
            with preview.cond:
                page = preview.page or waiting_page()
            return self._send(HTTPStatus.OK, page, "text/html", head)
        if path == "/_/state":
            return self._send(HTTPStatus.OK, preview.snapshot()[1].encode(), "application/json", head)
        if path == "/_/events" and not head:
            return self._events()
        if path == "/favicon.ico":
            return self._send(HTTPStatus.OK, FAVICON, "image/svg+xml", head)
        file = output_file(preview.out, path)
        if file is None:
            return self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain", head)
        self._send(HTTPStatus.OK, file.read_bytes(), mimetypes.guess_type(file.name)[0]
                   or "application/octet-stream", head)

    def do_POST(self) -> None:
        """``/_/import?name=FILE``: the body is a dropped document, imported into the project.

        This writes into the project, and any web page the user visits can send requests to localhost,
        so every one of these must hold: a local host name (whatever address the server listens on),
        an Origin that is this page's own, the token embedded in the preview page, a size under
        MAX_UPLOAD, and a plain file name of a kind ``handbook import`` reads.
        """
        if urlsplit(self.path).path != "/_/import":
            return self._refuse(HTTPStatus.NOT_FOUND, "not found")
        host = (self.headers.get("Host") or "").strip()
        if not host or not _local_name(host):
            return self._refuse(HTTPStatus.FORBIDDEN, "importing is open to this computer only (Host)")
        origin = self.headers.get("Origin")
        if origin is None or origin.strip().lower() != f"http://{host.lower()}":
            return self._refuse(HTTPStatus.FORBIDDEN, "importing is open to the preview page only (Origin)")
        preview = self.server.preview
        if not secrets.compare_digest((self.headers.get(TOKEN_HEADER) or "").encode(), preview.token.encode()):
            return self._refuse(HTTPStatus.FORBIDDEN, "importing is open to the preview page only (token); "
                                                      "reload the page")
        length_header = self.headers.get("Content-Length") or ""
        if not length_header.isdigit():
            return self._refuse(HTTPStatus.LENGTH_REQUIRED, "the request has no Content-Length")
        length = int(length_header)
        if length > MAX_UPLOAD:
            return self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                                f"the document is {human_size(length)}; at most {human_size(MAX_UPLOAD)} "
                                "can be dropped here (use handbook import on the command line)")
        query = dict(parse_qsl(urlsplit(self.path).query))
        name = query.get("name", "")
        why = upload_name_refused(name)
        if why:
            return self._refuse(HTTPStatus.BAD_REQUEST, why)
        data = self.rfile.read(length)
        if len(data) != length:
            return self._refuse(HTTPStatus.BAD_REQUEST, "the document arrived incomplete")
        status, result = run_import(preview, name, data)
        self._send(status, json.dumps(result, ensure_ascii=False).encode(), "application/json")

    def _refuse(self, status: HTTPStatus, message: str) -> None:
        log.info("import refused (%s): %s", status.value, message)
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
        preview = self.server.preview
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        seen = -1
        try:
            self.wfile.write(b"retry: 1000\n\n")
            while not preview.closed:
                current = preview.wait(seen, KEEPALIVE_SECONDS)
                if current == seen:
                    self.wfile.write(b": keep-alive\n\n")
                else:
                    seen, state = preview.snapshot()
                    self.wfile.write(f"event: state\ndata: {state}\n\n".encode())
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass


def _local_name(host: str) -> bool:
    """Is a Host header's name this computer's (localhost, 127.x, ::1), whatever the port?"""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.strip("[]").lower()
    return name in LOOPBACK_NAMES or bool(re.fullmatch(r"127(\.\d{1,3}){3}", name))


def upload_name_refused(name: str) -> str | None:
    """Why a dropped document's name is refused, or None: a plain file name, of a kind import reads."""
    from .importer import SUFFIXES

    if not name or len(name) > 200:
        return "the document needs a file name (at most 200 characters)"
    if any(c in name for c in "/\\\0:") or name.startswith(".") or name in ("..", "."):
        return f"{name!r} is not a plain file name"
    if Path(name).suffix.lower() not in SUFFIXES:
        return f"{name}: import reads {', '.join(sorted(SUFFIXES))}"
    return None


def run_import(preview: Preview, name: str, data: bytes) -> tuple[HTTPStatus, dict[str, Any]]:
    """Import a dropped document exactly as ``handbook import`` does (never overwriting), into the edition shown."""
    import tempfile

    from .importer import import_files

    with preview.importing, tempfile.TemporaryDirectory(prefix="handbook-drop-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            report = import_files(preview.root, [path], department=preview.slug)
        except HandbookError as exc:
            message = "\n".join(problem_lines(exc)).replace(str(path), name)
            preview.say(f"import of {name} failed: {message}", "error")
            return HTTPStatus.UNPROCESSABLE_ENTITY, {"error": message}
    result = report.as_dict(preview.root)
    written = [w["path"] for w in result["written"]]
    preview.say(f"imported {name}: " + (", ".join(written) if written else "nothing new written"), "ok")
    return HTTPStatus.OK, {"name": name, **result}


def output_file(out: Path, url_path: str) -> Path | None:
    """The file of the output folder a URL names, or None: nothing hidden, nothing outside."""
    parts = unquote(url_path).split("/")
    if any(part in ("..", ".") or part.startswith(".") or "\\" in part or "\0" in part for part in parts):
        return None
    parts = [p for p in parts if p]
    if not parts:
        return None
    path = out.joinpath(*parts).resolve()
    if not path.is_relative_to(out) or not path.is_file():
        return None
    return path


# -- the page ----------------------------------------------------------------------------------------

FAVICON = (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect x="3" y="1" width="10" '
           b'height="14" rx="1" fill="#7a1f1f"/><rect x="5" y="4" width="6" height="1" fill="#fff"/></svg>')


def waiting_page() -> bytes:
    return (b'<!DOCTYPE html><meta charset="utf-8"><body style="font:15px system-ui,sans-serif;color:#555;'
            b'background:#d9d6cf;display:grid;place-items:center;height:90vh">Building the preview\xe2\x80\xa6')


def shell_page(preview: Preview) -> bytes:
    _, state = preview.snapshot()
    safe = state.replace("<", "\\u003c")  # JSON inside <script>
    shell = (resources.files("handbook") / "static" / "preview.html").read_text(encoding="utf-8")
    return shell.replace("__TOKEN__", json.dumps(preview.token)).replace("__STATE__", safe).encode()




# -- watching ----------------------------------------------------------------------------------------

def serve(root: Path, *, slug: str | None = None, host: str = "127.0.0.1", port: int = 8000,
          out: Path | None = None, open_browser: bool = False, say: Say = lambda m, k: None) -> None:
    """Serve the preview of one edition until interrupted, rebuilding on every change."""
    from watchfiles import DefaultFilter, watch

    root = root.resolve()
    out = (out or root / "dist").resolve()
    if slug is not None:
        known = [f.name for f in list_departments(root)]
        if slug not in known:
            raise ConfigError(f"no department '{slug}' (departments/{slug}/ does not exist); "
                              f"known: {', '.join(known) or 'none'}")
    out.mkdir(parents=True, exist_ok=True)
    preview = Preview(root, out, slug, say)
    try:
        server = PreviewServer((host, port), preview)
    except OSError as exc:
        raise HandbookError(f"cannot listen on {host}:{port}: {exc.strerror or exc}"
                            + ("; another program uses the port, try --port 8001" if port else "")) from exc
    thread = threading.Thread(target=server.serve_forever, name="handbook-serve", daemon=True)
    thread.start()
    bound_host, bound_port = server.server_address[:2]
    if isinstance(bound_host, bytes):
        bound_host = bound_host.decode()
    shown_host = f"[{bound_host}]" if ":" in bound_host else bound_host
    url = f"http://{shown_host}:{bound_port}/"
    say(f"serving the {slug or 'organisation-wide'} edition at {url}  (Ctrl+C to stop)", "start")
    if open_browser:
        import webbrowser

        webbrowser.open(url)

    class ProjectFilter(DefaultFilter):
        """The project's files, not the output folder, hidden files or the usual caches."""

        def __call__(self, change: Any, path: str) -> bool:
            return super().__call__(change, path) and not Path(path).name.startswith(".")

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # SIGTERM stops the server as cleanly as Ctrl+C

    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, interrupt) if in_main else None
    try:
        preview.start()
        preview.refresh()
        for changes in watch(root, watch_filter=ProjectFilter(ignore_paths=[str(out)]), debounce=DEBOUNCE_MS,
                             step=50):
            paths = [Path(p) for _, p in changes]
            names = sorted({_shown(p, root) for p in paths if p.exists()} or {_shown(p, root) for p in paths})
            say(f"changed: {', '.join(names[:4])}{' …' if len(names) > 4 else ''}", "info")
            preview.refresh()
    finally:
        if in_main and previous is not None:
            signal.signal(signal.SIGTERM, previous)
        preview.close()
        server.shutdown()
        server.server_close()


def _shown(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path)
