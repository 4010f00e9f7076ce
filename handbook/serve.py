"""``handbook serve``: a live print preview of one edition in the browser.

A :class:`handbook.liveserver.LiveServer` does the HTTP, the events and the watching; this module
gives it the rebuild callback (:meth:`Preview.refresh`) and what its page shows:

``/``             the preview: a toolbar with the build's state and its files, the edition drawn as
                  sheets of paper, and pictures of the printed pages;
``/_/preview``    the edition's ``preview`` HTML (:func:`handbook.render.handbook_html`: the print
                  HTML standing alone, drawn as sheets of the page size);
``/_/import``     ``POST``: a document dropped on the page, imported into the project;
anything else     a file of the output folder (dist/ unless ``--out``), never anything above it.

A save runs two steps. First the project is read once (:func:`handbook.builder.snapshot`) and the
preview HTML rendered from it (a fraction of a second): the page shows the new text at once, or the
problems with file and line. Then the PDF thread builds the PDFs and page pictures from the same
snapshot (incremental, so only what changed; one build at a time, never holding up the text) and
the toolbar follows. Nothing stops the server but Ctrl+C (or SIGTERM); a broken file only puts its
problems on the page.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from importlib import resources
from pathlib import Path
from typing import Any

from .builder import BuildOptions, Snapshot, build, edition_out_dir, snapshot
from .errors import ConfigError, HandbookError, Problem
from .liveserver import Action, LiveServer, LiveState
from .model import Edition
from .output import human_size
from .project import Loaded, department_slug, list_departments, require_departments
from .render import handbook_html
from .results import Output

log = logging.getLogger(__name__)

MAX_UPLOAD = 50 * 1024 * 1024  # a dropped document (Word files with photographs run to tens of MB)
TOKEN_HEADER = "X-Handbook-Token"
PREVIEW = "/_/preview"
HIDDEN_OUTPUTS = (".print.html", ".png")  # not listed as files (the pictures have their own place)

Say = Callable[[str, str], None]  # (message, kind: "start" | "info" | "ok" | "warn" | "error")


class Preview:
    """What the page shows, shared by the watcher (main thread), the PDF thread and the request threads."""

    def __init__(self, root: Path, out: Path, slug: str | None, say: Say = lambda m, k: None) -> None:
        self.root = root
        self.out = out
        self.slug = slug
        self.say = say
        self.options = BuildOptions(out=out, departments=(slug,) if slug else (), organisation=slug is None, jobs=1)
        self.importing = threading.Lock()  # one import at a time (chapter numbers)
        self.lock = threading.Lock()
        self.generation = 0  # changes to the project seen so far
        self.changed = time.perf_counter()  # when the latest one was seen
        self.read: Snapshot | None = None  # the project as the latest good preview read it: the PDFs' input
        self.shown = False  # a preview was rendered (kept, greyed, while the project is broken)
        self.pdfs_wanted = threading.Event()
        self.live = LiveState(
            edition=slug or "organisation-wide", title="", phase="starting", preview="", stale=False, problems=[],
            warnings=[], files=[], pictures=[], finished="", seconds=None,
            # The PDFs and pictures listed are those of the last good build; out of date while a
            # rebuild runs and after a failed one (never removed: a failed build keeps them on disk).
            outputs_stale=False, outputs_built="")
        self.live.publish(pages={PREVIEW: (waiting_page(), "text/html")})

    @property
    def state(self) -> dict[str, Any]:
        return self.live.values()

    @property
    def page(self) -> bytes:
        """The current preview HTML (nothing before the first good one)."""
        found = self.live.page(PREVIEW)
        return found[0] if found and self.shown else b""

    # Building -------------------------------------------------------------------------------------
    #
    # The main thread renders the preview HTML after every change (a fraction of a second); the PDF
    # thread builds the PDFs and pictures, one build at a time, and reports only a build that saw
    # the latest change. So the text in the browser never waits for WeasyPrint.

    def start(self) -> None:
        threading.Thread(target=self._pdf_loop, name="handbook-pdfs", daemon=True).start()

    def close(self) -> None:
        self.live.close()

    def refresh(self) -> bool:
        """Read the project, render the preview and ask for the PDFs; False when the project is broken."""
        start = time.perf_counter()
        with self.lock:
            self.generation += 1
            self.changed = start
        self.live.publish(phase="building", outputs_stale=self._have_outputs())
        try:
            read = snapshot(self.root, self.options)
            edition, warnings = self._edition(read.loaded)
            page = handbook_html(edition, target="preview", out_dir=edition_out_dir(self.out, self.slug)).encode()
        except HandbookError as exc:
            return self._failed(problem_lines(exc))
        except Exception as exc:  # a bug: keep serving, say what happened
            log.exception("preview failed")
            return self._failed([f"internal error: {type(exc).__name__}: {exc} (run with --debug)"])
        title = edition.department.name if edition.department else edition.settings.title
        with self.lock:
            self.read = read
        self.shown = True
        self.live.publish(pages={PREVIEW: (page, "text/html")}, preview=hashlib.sha256(page).hexdigest()[:16],
                          phase="pdf", title=title, stale=False, problems=[], warnings=warnings)
        self.say(f"preview updated ({time.perf_counter() - start:.1f} s); building the PDFs", "info")
        self.pdfs_wanted.set()
        return True

    def _pdf_loop(self) -> None:
        while not self.live.closed:
            if not self.pdfs_wanted.wait(0.5):
                continue
            self.pdfs_wanted.clear()
            with self.lock:
                generation = self.generation
            self.build_pdfs(generation)

    def build_pdfs(self, generation: int) -> None:
        """Build the edition's PDFs and pictures; the state says so if nothing changed meanwhile."""
        problems: list[str] = []
        warnings: list[str] = []
        changes: dict[str, Any] = {}
        with self.lock:
            read = self.read
        try:
            report = build(self.root, self.options, read=read)
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
        with self.lock:
            latest = generation == self.generation and not self.pdfs_wanted.is_set()
            seconds = time.perf_counter() - self.changed
        if latest:
            known = self.live.values()["warnings"]
            changes.update(outputs_stale=bool(problems) and self._have_outputs())
            changes.update(phase="failed" if problems else "ready", problems=problems,
                           warnings=known + [w for w in warnings if w not in known],
                           finished=time.strftime("%H:%M:%S"), seconds=round(seconds, 1))
        self.live.publish(**changes)
        if not latest:
            return
        if problems:
            self.say("build failed:\n  " + "\n  ".join(problems), "error")
        else:
            self.say(f"PDFs and pictures up to date, {seconds:.1f} s after the change", "ok")

    def _edition(self, loaded: Loaded) -> tuple[Edition, list[str]]:
        if loaded.failed:
            errors = [p for ps in loaded.failed.values() for p in ps]
            raise ConfigError("", errors or [Problem("handbook.yaml", None, "the project could not be loaded")])
        if not loaded.editions:
            raise ConfigError(f"no edition '{self.slug or 'organisation-wide'}' in this project")
        return loaded.editions[0], [str(p) for p in dict.fromkeys(loaded.warnings)]

    def _have_outputs(self) -> bool:
        values = self.live.values()
        return bool(values["files"] or values["pictures"])

    def _failed(self, problems: list[str]) -> bool:
        with self.lock:
            seconds = time.perf_counter() - self.changed
        self.live.publish(phase="failed", problems=problems, stale=self.shown, finished=time.strftime("%H:%M:%S"),
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


# -- importing a dropped document ----------------------------------------------------------------------

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


def import_action(preview: Preview) -> Action:
    """``POST /_/import?name=FILE``: the body is a dropped document, imported into the project.

    Besides the server's checks (this computer, this page, its token): at most MAX_UPLOAD, and a
    plain file name of a kind ``handbook import`` reads."""
    return Action(
        "importing", lambda query, data: run_import(preview, query["name"], data), MAX_UPLOAD,
        check=lambda query: upload_name_refused(query.get("name", "")),
        too_large=lambda length: (f"the document is {human_size(length)}; at most {human_size(MAX_UPLOAD)} "
                                  "can be dropped here (use handbook import on the command line)"))


# -- the page ----------------------------------------------------------------------------------------

FAVICON = (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect x="3" y="1" width="10" '
           b'height="14" rx="1" fill="#7a1f1f"/><rect x="5" y="4" width="6" height="1" fill="#fff"/></svg>')


def waiting_page() -> bytes:
    return (b'<!DOCTYPE html><meta charset="utf-8"><body style="font:15px system-ui,sans-serif;color:#555;'
            b'background:#d9d6cf;display:grid;place-items:center;height:90vh">Building the preview\xe2\x80\xa6')


def shell_page(token: str, live: LiveState) -> bytes:
    _, state = live.snapshot()
    safe = state.replace("<", "\\u003c")  # JSON inside <script>
    shell = (resources.files("handbook") / "static" / "preview.html").read_text(encoding="utf-8")
    return shell.replace("__TOKEN__", json.dumps(token)).replace("__STATE__", safe).encode()


# -- serving -----------------------------------------------------------------------------------------

def serve(root: Path, *, slug: str | None = None, host: str = "127.0.0.1", port: int = 8000,
          out: Path | None = None, open_browser: bool = False, say: Say = lambda m, k: None) -> None:
    """Serve the preview of one edition until interrupted, rebuilding on every change."""
    root = root.resolve()
    out = (out or root / "dist").resolve()
    if slug is not None:
        require_departments([slug], [department_slug(f) for f in list_departments(root)])
    out.mkdir(parents=True, exist_ok=True)
    preview = Preview(root, out, slug, say)
    try:
        server = LiveServer((host, port), preview.live, out, page_name="the preview page", token_header=TOKEN_HEADER)
    except OSError as exc:
        raise HandbookError(f"cannot listen on {host}:{port}: {exc.strerror or exc}"
                            + ("; another program uses the port, try --port 8001" if port else "")) from exc
    server.page("/", lambda: (shell_page(server.token, preview.live), "text/html"))
    server.page("/favicon.ico", lambda: (FAVICON, "image/svg+xml"))
    server.action("/_/import", import_action(preview))
    server.start()
    say(f"serving the {slug or 'organisation-wide'} edition at {server.url}  (Ctrl+C to stop)", "start")
    if open_browser:
        import webbrowser

        webbrowser.open(server.url)

    def changed(paths: list[Path]) -> None:
        names = sorted({_shown(p, root) for p in paths if p.exists()} or {_shown(p, root) for p in paths})
        say(f"changed: {', '.join(names[:4])}{' …' if len(names) > 4 else ''}", "info")
        preview.refresh()

    try:
        preview.start()
        server.watch(root, changed, ignore=[out], first=preview.refresh)
    finally:
        server.stop()


def _shown(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path)
